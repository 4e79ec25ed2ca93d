// Spinlocks (include/linux/spinlock.h, kernel/locking/qspinlock.c): FIFO hand-off among spinning
// waiters as the MCS queue gives, preemption disabled while held, _irqsave and _bh flavours.
// Every acquisition names its site; a scenario can switch a site off ("what breaks if this lock goes?").
import {
  BH_ENABLE,
  type Effect,
  finished,
  IRQ_ENABLE,
  type KGen,
  PREEMPT_ENABLE,
  SPIN,
  yieldPoint,
} from "../sim/effects.js";
import type { Ctx } from "../sim/task.js";
import { CacheLine, type CostSink } from "./cacheline.js";
import { type HeldLock, heldEntry, type Lockdep, lockdep } from "./lockdep.js";
import { type LockClassStat, lockStats } from "./lockstat.js";

export class SpinLock {
  owner: Ctx | null = null;
  /** Spinning contexts in MCS queue order (the lock goes to the first at unlock). */
  readonly waiters: Ctx[] = [];
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
  /** The last acquisition site and its yield point (most locks are taken at one or two sites). */
  lastSite = "";
  lastPoint: Effect | null = null;
  /** The site before the last one and its yield point. */
  prevSite = "";
  prevPoint: Effect | null = null;
  /** The machine's lockdep (looked up once), and the held-list entry of the last site. */
  lockdep: Lockdep | null = null;
  heldEntry: HeldLock | null = null;
  /** Explore driver: the step (Machine.steps) that took the lock free, as a read of its key; -1 none. */
  readAt = -1;
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

// Each lock and unlock does its steps in place where the CPU loop would resume it at once (Machine's
// pass*: the yield point, the lock word's cost, the enables) and returns `finished(ret)` when all of
// them passed: no generator is made. The first step that must go to the CPU loop returns a generator
// that yields it and goes on with the same step functions (lockWord, lockTake, unlockEnables), so the
// steps, their order and their times are those of one generator written straight through; with
// `passSteps` off (or in the explore driver) every step is yielded, as before. The flavours are plain
// functions that do their part before the lock (preemption, irqs, bh off) and return what the lock
// returns: `yield* spin_lock(...)` runs it at once.

/** spin_lock(): disables preemption, then takes the lock or spins in FIFO order. */
export function spin_lock(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.preemptDisable();
  return raw_spin_lock(k, lock, site, true, undefined);
}

/**
 * The site's yield point: the lock remembers its last two sites' (a lock taken at two sites in turn,
 * such as a semaphore's down() and up(), then costs no Map lookup per acquisition either).
 */
function sitePoint(lock: SpinLock, site: string): Effect {
  if (lock.lastSite !== site) {
    const p = lock.prevSite === site ? lock.prevPoint! : yieldPoint(site);
    lock.prevSite = lock.lastSite;
    lock.prevPoint = lock.lastPoint;
    lock.lastSite = site;
    lock.lastPoint = p;
  }
  return lock.lastPoint!;
}

/**
 * raw_spin_lock() at `site` (its yield point first when `point`): the lock word's RMW on its cache
 * line, lockdep's order check, then the lock or a FIFO spin until spin_unlock() hands it over.
 * Returns `ret` (the saved irq flags of the _irqsave flavour).
 */
function raw_spin_lock<T>(k: Ctx, lock: SpinLock, site: string, point: boolean, ret: T): KGen<T> {
  if (point) {
    const p = sitePoint(lock, site);
    if (!k.m.passPoint(k, p)) return lockAfterPoint(k, lock, site, p, ret);
  }
  return lockWord(k, lock, site, ret);
}

function* lockAfterPoint<T>(k: Ctx, lock: SpinLock, site: string, p: Effect, ret: T): KGen<T> {
  yield p;
  return yield* lockWord(k, lock, site, ret);
}

/** After the yield point: the footprint, the site switch, the lock word's RMW (its cost), then lockTake. */
function lockWord<T>(k: Ctx, lock: SpinLock, site: string, ret: T): KGen<T> {
  const m = k.m;
  if (m.disabledSites.size !== 0 && m.disabledSites.has(site)) {
    m.touch(lock.key);
    lock.skips.push(k);
    return finished(ret);
  }
  lockTouch(k, lock);
  const bounce = lock.line.bouncesFor(k);
  const cost = lock.line.rmw(k);
  if (cost > 0 && !m.passCost(k, cost)) return lockAfterCost(k, lock, site, bounce, cost, ret, null);
  return lockTake(k, lock, site, bounce, ret);
}

/**
 * The acquisition from its cost on (`cost` > 0: yield it, then lockOrder and the lock if free), or
 * from its spin (`cost` -1, `stats` given: lockTake found the lock taken): one generator for both,
 * so a contended lock whose cost had to go to the CPU loop makes one generator, not two.
 */
function* lockAfterCost<T>(
  k: Ctx,
  lock: SpinLock,
  site: string,
  bounce: boolean,
  cost: number,
  ret: T,
  stats: LockClassStat | null,
): KGen<T> {
  if (cost >= 0) {
    yield cost;
    stats = lockOrder(k, lock, site);
    if (lock.owner === null && lock.waiters.length === 0) {
      spinTake(k, lock, site, bounce, k.m.now);
      return ret;
    }
  }
  const since = spinBegin(k, lock, site);
  yield SPIN; // spin_unlock() hands the lock over and kicks us
  spinEnd(k, lock, site, since, bounce, stats!);
  return ret;
}

/**
 * The footprint of an acquisition (after the site switch): a lock taken free is a read of its key
 * until the step ends with it held (Machine.touchHeldRead): a step that takes and releases it leaves
 * the lock word as it found it, and commutes with another such step; one that has to spin (the
 * lock is held, or others spin) queues behind them, a write.
 */
function lockTouch(k: Ctx, lock: SpinLock): void {
  const m = k.m;
  if (m.footprint === null) return;
  if (lock.owner === null && lock.waiters.length === 0) {
    lock.readAt = m.steps;
    m.touchHeldRead(lock);
  } else m.touch(lock.key);
}

/** lock_stat's class, then lock_acquire(): lockdep validates the order before the lock is taken (and before any wait). */
function lockOrder(k: Ctx, lock: SpinLock, site: string): LockClassStat {
  const stats = (lock.stats ??= lockStats(k.m).get(lock.name));
  (lock.lockdep ??= lockdep(k.m)).acquire(k, lock.name, site, false, heldEntry(lock, lock.name, site));
  return stats;
}

/** After the lock word's cost: lockdep's order check, then the lock if it is free, else the spin. */
function lockTake<T>(k: Ctx, lock: SpinLock, site: string, bounce: boolean, ret: T): KGen<T> {
  const stats = lockOrder(k, lock, site);
  if (lock.owner === null && lock.waiters.length === 0) {
    spinTake(k, lock, site, bounce, k.m.now);
    return finished(ret);
  }
  return lockAfterCost(k, lock, site, bounce, -1, ret, stats);
}

/** The start of the FIFO spin: queued behind the other spinners; returns when it began. */
function spinBegin(k: Ctx, lock: SpinLock, site: string): number {
  const m = k.m;
  if (m.trace !== null) m.emit("contention_begin", k.cpu.id, lock.name, site);
  lock.waiters.push(k);
  return m.now;
}

/** The spin's end: spin_unlock() handed the lock over (lock_stat's contention, the hold time's start). */
function spinEnd(
  k: Ctx,
  lock: SpinLock,
  site: string,
  since: number,
  bounce: boolean,
  stats: LockClassStat,
): void {
  const m = k.m;
  stats.contended(site, m.now - since, bounce);
  stats.acquired(true);
  lock.heldSince = m.now;
  if (m.trace !== null) m.emit("contention_end", k.cpu.id, lock.name, site);
  if (k.flowIn !== 0) m.flowIn(k);
  if (m.trace !== null) m.emit("lock_acquired", k.cpu.id, lock.name, site);
}

/**
 * spin_lock() for a caller that has already passed the site's yield point (or has none there, such
 * as a caller whose generator-free spin_lock_fast() found the lock taken): preemption off, then the
 * lock, spinning in FIFO order if needed.
 */
export function spin_lock_nopoint(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.preemptDisable();
  return raw_spin_lock(k, lock, site, false, undefined);
}

/**
 * The uncontended end of every acquisition (queued_spin_lock's fast path, a successful trylock): the
 * owner, the hold time's start (`at`), lock_stat's acquisition (a cache-line bounce or not).
 */
function spinTake(k: Ctx, lock: SpinLock, site: string, bounce: boolean, at: number): void {
  lock.owner = k;
  lock.heldSince = at;
  (lock.stats ??= lockStats(k.m).get(lock.name)).acquired(bounce);
  if (k.m.trace !== null) k.m.emit("lock_acquired", k.cpu.id, lock.name, site);
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
  (lock.lockdep ??= lockdep(m)).acquire(k, lock.name, site, true);
  spinTake(k, lock, site, bounce, m.now);
  return true;
}

// What an unlock flavour does after raw_spin_unlock()
const THEN_PREEMPT_ENABLE = 0; // spin_unlock(), spin_unlock_irqrestore() with irqs off before
const THEN_IRQ_PREEMPT_ENABLE = 1; // spin_unlock_irq(), spin_unlock_irqrestore() with irqs on before
const THEN_BH_ENABLE = 2; // spin_unlock_bh()

/**
 * The start of every spin_unlock flavour: true when this context's acquisition was skipped (its site
 * switched off), after forgetting it; otherwise checks that the context holds the lock.
 */
function unlockSkipped(k: Ctx, lock: SpinLock): boolean {
  const skip = lock.skips.length > 0 ? lock.skips.indexOf(k) : -1;
  if (skip >= 0) {
    lock.skips.splice(skip, 1);
    return true;
  }
  if (lock.owner !== k) throw new Error(`spin_unlock(${lock.name}) by a context that does not hold it`);
  return false;
}

/**
 * The release of raw_spin_unlock() (kernel/locking/qspinlock.c queued_spin_unlock, after its yield
 * point), the one step both unlock forms run: the footprint, lock_stat's hold time (ending at
 * `now`), lockdep's release, then the hand-over to the first spinner, who sees the lock word change
 * (one cache-line transfer) once `delay` (the releaser's pending CPU time) has passed.
 */
function spinRelease(k: Ctx, lock: SpinLock, now: number, delay: number): void {
  const m = k.m;
  if (m.footprint !== null) {
    // released in the step that took it free: nobody else ran, the lock is as that step found it
    if (lock.readAt === m.steps && lock.waiters.length === 0) m.touch(lock.key, false);
    else m.touch(lock.key);
    lock.readAt = -1;
  }
  (lock.stats ??= lockStats(m).get(lock.name)).released(now - lock.heldSince);
  (lock.lockdep ??= lockdep(m)).release(k, lock.name);
  if (m.trace !== null) m.emit("lock_released", k.cpu.id, lock.name, "");
  const next = lock.waiters.shift();
  if (next === undefined) lock.owner = null;
  else {
    lock.owner = next;
    if (m.trace !== null) m.flowTo(next, lock.name);
    m.kickSpinner(next, delay + lock.line.rmw(next));
  }
}

/** raw_spin_unlock(): hand the lock to the first spinner or free it; then the flavour's enables. */
function raw_spin_unlock(k: Ctx, lock: SpinLock, then: number): KGen<void> {
  const m = k.m;
  if (!unlockSkipped(k, lock)) {
    if (!m.passPoint(k, lock.unlockPoint)) return unlockAfterPoint(k, lock, then);
    spinRelease(k, lock, m.now, 0);
  }
  return unlockEnables(k, then);
}

function* unlockAfterPoint(k: Ctx, lock: SpinLock, then: number): KGen<void> {
  yield lock.unlockPoint;
  spinRelease(k, lock, k.m.now, 0);
  yield* unlockEnables(k, then);
}

/** What the unlock flavour does after raw_spin_unlock(): local_bh_enable(), or local_irq_enable() and preempt_enable(). */
function unlockEnables(k: Ctx, then: number): KGen<void> {
  if (then === THEN_BH_ENABLE) return bhEnable();
  const m = k.m;
  if (then === THEN_IRQ_PREEMPT_ENABLE && !m.passIrqEnable(k)) return irqThenPreemptEnable(k);
  if (!m.passPreemptEnable(k)) return preemptEnable();
  return finished(undefined);
}

function* bhEnable(): KGen<void> {
  yield BH_ENABLE;
}

function* irqThenPreemptEnable(k: Ctx): KGen<void> {
  yield IRQ_ENABLE;
  if (!k.m.passPreemptEnable(k)) yield PREEMPT_ENABLE;
}

function* preemptEnable(): KGen<void> {
  yield PREEMPT_ENABLE;
}

/** spin_unlock() */
export function spin_unlock(k: Ctx, lock: SpinLock): KGen<void> {
  return raw_spin_unlock(k, lock, THEN_PREEMPT_ENABLE);
}

/** spin_lock_irqsave(): returns the saved irq state for spin_unlock_irqrestore(). */
export function spin_lock_irqsave(k: Ctx, lock: SpinLock, site: string): KGen<boolean> {
  const flags = k.localIrqSave();
  k.preemptDisable();
  return raw_spin_lock(k, lock, site, true, flags);
}

/** spin_unlock_irqrestore() */
export function spin_unlock_irqrestore(k: Ctx, lock: SpinLock, flags: boolean): KGen<void> {
  return raw_spin_unlock(k, lock, flags ? THEN_PREEMPT_ENABLE : THEN_IRQ_PREEMPT_ENABLE);
}

/** spin_lock_irq() */
export function spin_lock_irq(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.localIrqDisable();
  k.preemptDisable();
  return raw_spin_lock(k, lock, site, true, undefined);
}

/** spin_unlock_irq() */
export function spin_unlock_irq(k: Ctx, lock: SpinLock): KGen<void> {
  return raw_spin_unlock(k, lock, THEN_IRQ_PREEMPT_ENABLE);
}

/** spin_lock_bh(): softirqs off on this CPU, then the lock. */
export function spin_lock_bh(k: Ctx, lock: SpinLock, site: string): KGen<void> {
  k.localBhDisable();
  return raw_spin_lock(k, lock, site, true, undefined);
}

/** spin_unlock_bh(): pending softirqs run at the local_bh_enable(). */
export function spin_unlock_bh(k: Ctx, lock: SpinLock): KGen<void> {
  return raw_spin_unlock(k, lock, THEN_BH_ENABLE);
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
  if (m.disabledSites.size !== 0 && m.disabledSites.has(site)) {
    k.preemptDisable();
    m.touch(lock.key);
    lock.skips.push(k);
    return true;
  }
  if (lock.owner !== null || lock.waiters.length > 0) return false;
  k.preemptDisable();
  lockTouch(k, lock);
  const bounce = lock.line.bouncesFor(k);
  acc.cost += lock.line.rmw(k);
  (lock.lockdep ??= lockdep(m)).acquire(k, lock.name, site, false, heldEntry(lock, lock.name, site));
  spinTake(k, lock, site, bounce, m.now + acc.cost);
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
  if (!unlockSkipped(k, lock)) spinRelease(k, lock, m.now + acc.cost, acc.cost);
  const c = k.cpu;
  if (c.preemptCount === 1 && c.needResched && m.preemptible()) return true;
  c.preemptCount--;
  return false;
}
