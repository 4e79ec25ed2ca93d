// Spinlocks (include/linux/spinlock.h, kernel/locking/qspinlock.c): FIFO hand-off among spinning
// waiters as the MCS queue gives, preemption disabled while held, _irqsave and _bh flavours.
// Every acquisition names its site; a scenario can switch a site off ("what breaks if this lock goes?").
import {
  BH_ENABLE,
  type Effect,
  IRQ_ENABLE,
  type KGen,
  PREEMPT_ENABLE,
  SPIN,
  yieldPoint,
} from "../sim/effects.js";
import type { Ctx } from "../sim/task.js";
import { CacheLine, type CostSink } from "./cacheline.js";
import { lockdep } from "./lockdep.js";
import { type LockClassStat, lockStats } from "./lockstat.js";

export class SpinLock {
  owner: Ctx | null = null;
  readonly waiters: { k: Ctx; since: number; site: string }[] = [];
  readonly line = new CacheLine();
  heldSince = 0;
  /** The lock_stat class of this lock (looked up once; a lock lives on one machine). */
  stats: LockClassStat | null = null;
  /** Contexts whose acquisition was skipped because the site is switched off. */
  readonly skips: Ctx[] = [];
  /**
   * Footprint key for partial-order reduction: the instance's identity, stable across runs
   * (default: the class name, which is conservative when a class has many instances).
   */
  readonly key: string;
  /** The unlock's yield point (interned once per lock, not per unlock). */
  readonly unlockPoint: Effect;
  constructor(
    readonly name: string,
    instance?: string,
  ) {
    this.key = `spinlock:${instance ?? name}`;
    this.unlockPoint = yieldPoint(`${name}:unlock`);
  }
  get locked(): boolean {
    return this.owner !== null;
  }
}

/** spin_lock(): disables preemption, then takes the lock or spins in FIFO order. */
export function* spin_lock(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.preemptDisable();
  yield* raw_spin_lock(k, lock, site);
}

function* raw_spin_lock(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  yield yieldPoint(site);
  yield* raw_spin_lock_at(k, lock, site);
}

/**
 * spin_lock() for a caller that has already passed the site's yield point (or has none there, such
 * as a caller whose generator-free spin_lock_fast() found the lock taken): preemption off, then the
 * lock, spinning in FIFO order if needed.
 */
export function* spin_lock_nopoint(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.preemptDisable();
  yield* raw_spin_lock_at(k, lock, site);
}

function* raw_spin_lock_at(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  const m = k.m;
  m.touch(lock.key);
  if (m.disabledSites.has(site)) {
    lock.skips.push(k);
    return;
  }
  const bounce = lock.line.bouncesFor(k);
  const cost = lock.line.rmw(k);
  if (cost > 0) yield cost;
  const stats = (lock.stats ??= lockStats(m).get(lock.name));
  // lock_acquire(): lockdep validates the order before the lock is taken (and before any wait)
  lockdep(m).acquire(k, lock.name, site, false);
  if (lock.owner === null && lock.waiters.length === 0) {
    lock.owner = k;
    lock.heldSince = m.now;
    stats.acquired(bounce);
    m.emit("lock_acquired", k.cpu.id, lock.name, site);
    return;
  }
  const since = m.now;
  m.emit("contention_begin", k.cpu.id, lock.name, site);
  lock.waiters.push({ k, since, site });
  yield SPIN; // spin_unlock() hands the lock over and kicks us
  stats.contended(site, m.now - since, bounce);
  stats.acquired(true);
  lock.heldSince = m.now;
  m.emit("contention_end", k.cpu.id, lock.name, site);
  if (k.flowIn !== 0) m.flowIn(k);
  m.emit("lock_acquired", k.cpu.id, lock.name, site);
}

/** spin_trylock() */
export function* spin_trylock(k: Ctx, lock: SpinLock, site: string): KGen<boolean> {
  const m = k.m;
  k.preemptDisable();
  yield yieldPoint(site);
  m.touch(lock.key);
  if (m.disabledSites.has(site)) {
    lock.skips.push(k);
    return true;
  }
  const bounce = lock.line.bouncesFor(k);
  const cost = lock.line.rmw(k);
  if (cost > 0) yield cost;
  if (lock.owner !== null || lock.waiters.length > 0) {
    yield PREEMPT_ENABLE;
    return false;
  }
  lock.owner = k;
  lock.heldSince = m.now;
  (lock.stats ??= lockStats(m).get(lock.name)).acquired(bounce);
  lockdep(m).acquire(k, lock.name, site, true);
  m.emit("lock_acquired", k.cpu.id, lock.name, site);
  return true;
}

function* raw_spin_unlock(k: Ctx, lock: SpinLock): KGen<void> {
  const m = k.m;
  const skip = lock.skips.indexOf(k);
  if (skip >= 0) {
    lock.skips.splice(skip, 1);
    return;
  }
  if (lock.owner !== k) throw new Error(`spin_unlock(${lock.name}) by a context that does not hold it`);
  yield lock.unlockPoint;
  m.touch(lock.key);
  (lock.stats ??= lockStats(m).get(lock.name)).released(m.now - lock.heldSince);
  lockdep(m).release(k, lock.name);
  m.emit("lock_released", k.cpu.id, lock.name, "");
  const next = lock.waiters.shift();
  if (next === undefined) {
    lock.owner = null;
    return;
  }
  lock.owner = next.k;
  if (m.trace !== null) m.flowTo(next.k, lock.name);
  // the waiter sees the lock word change: one cache-line transfer to it
  m.kickSpinner(next.k, lock.line.rmw(next.k));
}

/** spin_unlock() */
export function* spin_unlock(k: Ctx, lock: SpinLock): KGen<void> {
  yield* raw_spin_unlock(k, lock);
  yield PREEMPT_ENABLE;
}

/** spin_lock_irqsave(): returns the saved irq state for spin_unlock_irqrestore(). */
export function* spin_lock_irqsave(k: Ctx, lock: SpinLock, site: string): KGen<boolean> {
  const flags = k.localIrqSave();
  k.preemptDisable();
  yield* raw_spin_lock(k, lock, site);
  return flags;
}

/** spin_unlock_irqrestore() */
export function* spin_unlock_irqrestore(k: Ctx, lock: SpinLock, flags: boolean): KGen<void> {
  yield* raw_spin_unlock(k, lock);
  if (!flags) yield IRQ_ENABLE;
  yield PREEMPT_ENABLE;
}

/** spin_lock_irq() */
export function* spin_lock_irq(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.localIrqDisable();
  k.preemptDisable();
  yield* raw_spin_lock(k, lock, site);
}

/** spin_unlock_irq() */
export function* spin_unlock_irq(k: Ctx, lock: SpinLock): KGen<void> {
  yield* raw_spin_unlock(k, lock);
  yield IRQ_ENABLE;
  yield PREEMPT_ENABLE;
}

/** spin_lock_bh(): softirqs off on this CPU, then the lock. */
export function* spin_lock_bh(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.localBhDisable();
  yield* raw_spin_lock(k, lock, site);
}

/** spin_unlock_bh(): pending softirqs run at the local_bh_enable(). */
export function* spin_unlock_bh(k: Ctx, lock: SpinLock): KGen<void> {
  yield* raw_spin_unlock(k, lock);
  yield BH_ENABLE;
}

/**
 * The uncontended spin_lock() without a generator, for hot paths that keep their own running CPU
 * time (`acc.cost`, charged at their next yield): the same steps as spin_lock() after its yield point
 * (preemption off, the footprint, the site switch, the lock word's RMW on its cache line, lockdep,
 * lock_stat, the hold-time start), with the RMW's cost added to `acc.cost` instead of yielded.
 * Returns false, having done nothing, when the lock is held or has waiters: the caller then charges
 * its time and continues with `yield* spin_lock_nopoint(k, lock, site)`.
 */
export function spin_lock_fast(k: Ctx, lock: SpinLock, site: string, acc: CostSink): boolean {
  const m = k.m;
  if (m.disabledSites.has(site)) {
    k.preemptDisable();
    m.touch(lock.key);
    lock.skips.push(k);
    return true;
  }
  if (lock.owner !== null || lock.waiters.length > 0) return false;
  k.preemptDisable();
  m.touch(lock.key);
  const bounce = lock.line.bouncesFor(k);
  acc.cost += lock.line.rmw(k);
  lockdep(m).acquire(k, lock.name, site, false);
  lock.owner = k;
  lock.heldSince = m.now + acc.cost;
  (lock.stats ??= lockStats(m).get(lock.name)).acquired(bounce);
  m.emit("lock_acquired", k.cpu.id, lock.name, site);
  return true;
}

/**
 * spin_unlock() without a generator and without a yield point (the critical section ends inside the
 * caller's step): lockdep, the hold time (up to `now + acc.cost`), the hand-off to the next spinner
 * (kicked once the caller's pending time and the line transfer have passed). Returns true when the
 * caller must `yield PREEMPT_ENABLE` (this preempt_enable() reaches zero with a reschedule pending
 * under a preemptible model); otherwise the preemption count was dropped here.
 */
export function spin_unlock_fast(k: Ctx, lock: SpinLock, acc: CostSink): boolean {
  const m = k.m;
  const skip = lock.skips.length > 0 ? lock.skips.indexOf(k) : -1;
  if (skip >= 0) lock.skips.splice(skip, 1);
  else {
    if (lock.owner !== k) throw new Error(`spin_unlock(${lock.name}) by a context that does not hold it`);
    m.touch(lock.key);
    const now = m.now + acc.cost;
    (lock.stats ??= lockStats(m).get(lock.name)).released(now - lock.heldSince);
    lockdep(m).release(k, lock.name);
    m.emit("lock_released", k.cpu.id, lock.name, "");
    const next = lock.waiters.shift();
    if (next === undefined) lock.owner = null;
    else {
      lock.owner = next.k;
      m.kickSpinner(next.k, acc.cost + lock.line.rmw(next.k));
    }
  }
  const c = k.cpu;
  if (c.preemptCount === 1 && c.needResched && m.preemptible()) return true;
  c.preemptCount--;
  return false;
}
