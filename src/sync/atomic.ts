// atomic_t / refcount_t on a modelled cache line (include/linux/atomic.h, include/linux/refcount.h):
// every read-modify-write is one access to the line (serialised with the other CPUs' accesses by
// CacheLine), a plain read takes a shared copy. The generator-free operations add their cost to the
// caller's running CPU time (`acc.cost`); the caller places the yield point before them. Every
// operation records its own access in the explore driver's step footprint (the atomic's key): a read
// as a read, a read-modify-write as a write; a reader-side update (`reader`: the caller's side of a
// reader/writer protocol, e.g. a VMA reader's vm_refcnt get and put) as a read while the atomic's
// `commuting` predicate holds (no writer excludes readers), since reader-side updates commute.
import type { Ctx } from "../sim/task.js";
import { CacheLine, type CostSink } from "./cacheline.js";

export class Atomic {
  readonly line: CacheLine;
  /** Footprint key for partial-order reduction (stable across runs). */
  readonly key: string;
  /**
   * While this holds for the current value, reader-side read-modify-writes commute with each other
   * (their callers' branches do not depend on the order) and are recorded as reads of the key; null:
   * every RMW is a write.
   */
  commuting: ((value: number) => boolean) | null = null;
  constructor(
    readonly name: string,
    instance?: string,
    public value = 0,
    line?: CacheLine,
  ) {
    this.key = `atomic:${instance ?? name}`;
    this.line = line ?? new CacheLine();
  }
}

/** atomic_read() / refcount_read(): a plain load. */
export function atomic_read(k: Ctx, a: Atomic, acc: CostSink): number {
  // a plain read of a commuting counter depends on the order of the updates: a write
  k.m.touch(a.key, a.commuting !== null);
  acc.cost += a.line.read(k);
  return a.value;
}

/** atomic_add_return() / refcount_add(): one RMW; returns the new value. */
export function atomic_add_return(k: Ctx, a: Atomic, d: number, acc: CostSink, reader = false): number {
  rmwTouch(k, a, reader);
  acc.cost += a.line.rmw(k);
  a.value += d;
  return a.value;
}

/**
 * __refcount_inc_not_zero_limited_acquire() (include/linux/refcount.h 6.15): a read, then the
 * cmpxchg only when the count is neither zero nor above `limit`. Returns the old value (the
 * increment happened iff 0 < old <= limit).
 */
export function refcount_inc_not_zero_limited(
  k: Ctx,
  a: Atomic,
  limit: number,
  acc: CostSink,
  reader = false,
): number {
  rmwTouch(k, a, reader);
  const old = a.value;
  if (old === 0 || old + 1 > limit) {
    acc.cost += a.line.read(k);
    return old;
  }
  acc.cost += a.line.rmw(k);
  a.value = old + 1;
  return old;
}

/** The footprint of a read-modify-write of `a`: a write, unless a reader-side one that commutes now. */
function rmwTouch(k: Ctx, a: Atomic, reader: boolean): void {
  const m = k.m;
  if (m.footprint === null) return;
  const c = a.commuting;
  m.touch(a.key, !reader || c === null || !c(a.value));
}
