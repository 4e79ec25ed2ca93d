// atomic_t / refcount_t on a modelled cache line (include/linux/atomic.h, include/linux/refcount.h):
// every read-modify-write is one access to the line (serialised with the other CPUs' accesses by
// CacheLine), a plain read takes a shared copy. The generator-free operations add their cost to the
// caller's running CPU time (`acc.cost`); the caller places the yield point before them.
import type { Ctx } from "../sim/task.js";
import { CacheLine, type CostSink } from "./cacheline.js";

export class Atomic {
  readonly line: CacheLine;
  /** Footprint key for partial-order reduction (stable across runs). */
  readonly key: string;
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
  acc.cost += a.line.read(k);
  return a.value;
}

/** atomic_add_return() / refcount_add(): one RMW; returns the new value. */
export function atomic_add_return(k: Ctx, a: Atomic, d: number, acc: CostSink): number {
  acc.cost += a.line.rmw(k);
  a.value += d;
  return a.value;
}

/**
 * __refcount_inc_not_zero_limited_acquire() (include/linux/refcount.h 6.15): a read, then the
 * cmpxchg only when the count is neither zero nor above `limit`. Returns the old value (the
 * increment happened iff 0 < old <= limit).
 */
export function refcount_inc_not_zero_limited(k: Ctx, a: Atomic, limit: number, acc: CostSink): number {
  const old = a.value;
  if (old === 0 || old + 1 > limit) {
    acc.cost += a.line.read(k);
    return old;
  }
  acc.cost += a.line.rmw(k);
  a.value = old + 1;
  return old;
}
