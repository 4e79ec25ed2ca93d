// Read-write semaphores (kernel/locking/rwsem.c): many readers or one writer; a waiting writer
// blocks new readers (readers queue behind it, and read trylock fails while anyone waits); FIFO
// hand-off: a releasing owner grants the lock to the head waiter (a writer, or every queued reader,
// as rwsem_mark_wake() does since 5.3). Sleeping waiters; contention statistics per class.
import { type Effect, finished, type KGen, mightSleep, SCHEDULE, yieldPoint } from "../sim/effects.js";
import { type Ctx, TASK_UNINTERRUPTIBLE, type Task } from "../sim/task.js";
import { CacheLine, type CostSink } from "./cacheline.js";
import { removeAt } from "./list.js";
import { type HeldLock, heldEntry, type Lockdep, lockdep } from "./lockdep.js";
import { type LockClassStat, lockStats } from "./lockstat.js";

interface Waiter {
  task: Task;
  k: Ctx;
  write: boolean;
  granted: boolean;
  since: number;
  site: string;
}

const DOWN_MIGHT_SLEEP = mightSleep("kernel/locking/rwsem.c", 1526);

export class RwSemaphore {
  readers = 0;
  writer: Task | null = null;
  readonly waitList: Waiter[] = [];
  readonly line: CacheLine;
  writeSince = 0;
  readonly readSince: number[] = [];
  /** Tasks whose acquisition was skipped (site switched off), with the mode. */
  readonly skips: { task: Task; write: boolean }[] = [];
  /**
   * Footprint key for partial-order reduction: the instance's identity, stable across runs
   * (default: the class name, which is conservative when a class has many instances).
   */
  readonly key: string;
  /** lock_stat classes `name-R` / `name-W` (looked up once; a lock lives on one machine). */
  statsR: LockClassStat | null = null;
  statsW: LockClassStat | null = null;
  /** The releases' yield points (built once). */
  readonly upReadPoint: Effect;
  readonly upWritePoint: Effect;
  /** The last acquisition site and its yield point, and the machine's lockdep (looked up once). */
  lastSite = "";
  lastPoint: Effect | null = null;
  lockdep: Lockdep | null = null;
  /** The held-list entry of the last site (lockdep). */
  heldEntry: HeldLock | null = null;
  constructor(
    readonly name: string,
    instance?: string,
    /** The cache line of the count word (default its own; mm_struct's neighbours share mmap_lock's). */
    line?: CacheLine,
  ) {
    this.key = `rwsem:${instance ?? name}`;
    this.line = line ?? new CacheLine();
    this.upReadPoint = yieldPoint(`${name}:up_read`);
    this.upWritePoint = yieldPoint(`${name}:up_write`);
  }

  /** rwsem_is_locked() */
  get locked(): boolean {
    return this.writer !== null || this.readers > 0;
  }
  /** Anyone waiting (RWSEM_FLAG_WAITERS). */
  get hasWaiters(): boolean {
    return this.waitList.length > 0;
  }
}

function skipped(k: Ctx, sem: RwSemaphore, site: string, write: boolean, trylock: boolean): boolean {
  // Footprint: readers that get in at once commute with each other, so they count as reads of the
  // lock. A reader that must queue (a writer holds the lock or anyone waits) commutes with another
  // reader that must queue: the two orders leave the wait list with the two readers swapped, and
  // nothing tells them apart (every release grants all queued readers at once whatever their order,
  // grantReaders, and their wake-ups touch their own CPUs' run queues; a writer's place is the same),
  // so it is an update. Anything else that queues or excludes is a write.
  const busy = sem.writer !== null || sem.waitList.length > 0;
  if (busy && !write && !trylock) k.m.touchUpdate(sem.key);
  else k.m.touch(sem.key, write || busy);
  const off = k.m.disabledSites;
  if (off.size === 0 || !off.has(site)) return false;
  sem.skips.push({ task: k.task, write });
  return true;
}

function takeSkip(k: Ctx, sem: RwSemaphore, write: boolean): boolean {
  if (sem.skips.length === 0) return false;
  const i = sem.skips.findIndex((s) => s.task === k.task && s.write === write);
  if (i < 0) return false;
  sem.skips.splice(i, 1);
  return true;
}

function classStat(k: Ctx, sem: RwSemaphore, write: boolean): LockClassStat {
  if (write) return (sem.statsW ??= lockStats(k.m).get(`${sem.name}-W`));
  return (sem.statsR ??= lockStats(k.m).get(`${sem.name}-R`));
}

function acquired(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  bounce: boolean,
  trylock: boolean,
  at = k.m.now,
): void {
  const m = k.m;
  if (write) sem.writeSince = at;
  else sem.readSince.push(at);
  classStat(k, sem, write).acquired(bounce);
  if (trylock) (sem.lockdep ??= lockdep(m)).acquire(k, sem.name, site, true, heldEntry(sem, sem.name, site));
  if (m.trace !== null) m.emit("lock_acquired", k.cpu.id, sem.name, site, write ? 0 : 1);
}

/**
 * The one path of all four acquisitions: might_sleep() for the blocking forms, the yield point (when
 * `point`), the lock word's cache line, lockdep's order check, then the fast path, the trylock
 * failure, or the wait. A waiting writer blocks new readers: readers get in at once only with no
 * writer and no waiter. The steps are done in place until one must go to the CPU loop (Machine's
 * pass*): an acquisition whose steps all pass returns `finished(...)`, no generator; otherwise the
 * generator from that step on yields it and goes on with the same step functions (as spinlock.ts).
 */
function rwsemAcquire(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
  point: boolean,
): KGen<boolean> {
  if (!trylock && !k.m.passMightSleep(k)) return acquireAfterMightSleep(k, sem, site, write, point);
  return acquirePoint(k, sem, site, write, trylock, point);
}

function* acquireAfterMightSleep(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  point: boolean,
): KGen<boolean> {
  yield DOWN_MIGHT_SLEEP;
  return yield* acquirePoint(k, sem, site, write, false, point);
}

/** The site's yield point (when `point`), then acquireWord. */
function acquirePoint(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
  point: boolean,
): KGen<boolean> {
  if (point) {
    if (sem.lastSite !== site) {
      sem.lastSite = site;
      sem.lastPoint = yieldPoint(site);
    }
    const p = sem.lastPoint!;
    if (!k.m.passPoint(k, p)) return acquireAfterPoint(k, sem, site, write, trylock, p);
  }
  return acquireWord(k, sem, site, write, trylock);
}

function* acquireAfterPoint(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
  p: Effect,
): KGen<boolean> {
  yield p;
  return yield* acquireWord(k, sem, site, write, trylock);
}

/** The site switch, the count's RMW on its cache line (its cost), then acquireTake. */
function acquireWord(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
): KGen<boolean> {
  if (skipped(k, sem, site, write, trylock)) return finished(true);
  const bounce = sem.line.bouncesFor(k);
  const cost = sem.line.rmw(k);
  if (cost > 0 && !k.m.passCost(k, cost)) return acquireAfterCost(k, sem, site, write, trylock, bounce, cost);
  return acquireTake(k, sem, site, write, trylock, bounce);
}

/**
 * The acquisition from its cost on (`cost` > 0: yield it, then acquireTry), or from its wait (`cost`
 * -1: acquireTry said WAIT): one generator for both, so a contended acquisition whose cost had to
 * go to the CPU loop makes one generator, not two.
 */
function* acquireAfterCost(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
  bounce: boolean,
  cost: number,
): KGen<boolean> {
  if (cost >= 0) {
    yield cost;
    const r = acquireTry(k, sem, site, write, trylock, bounce);
    if (r !== WAIT) return r;
  }
  // rwsem_down_read_slowpath() / rwsem_down_write_slowpath(): queue, sleep until granted
  const w = waitBegin(k, sem, site, write);
  for (;;) {
    k.task.state = TASK_UNINTERRUPTIBLE;
    if (w.granted) break;
    yield SCHEDULE;
  }
  waitEnd(k, sem, site, write, bounce, w);
  return true;
}

/** acquireTry(): the lock is taken, the acquisition must wait. */
const WAIT = 2;

/**
 * lockdep's order check, then the lock if it is free (true), the trylock's failure (false), or WAIT
 * (the caller queues and sleeps: waitBegin, waitEnd).
 */
function acquireTry(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
  bounce: boolean,
): boolean | typeof WAIT {
  if (!trylock) (sem.lockdep ??= lockdep(k.m)).acquire(k, sem.name, site, false);
  const free = sem.writer === null && sem.waitList.length === 0 && (!write || sem.readers === 0);
  if (free) {
    if (write) sem.writer = k.task;
    else sem.readers++;
    acquired(k, sem, site, write, bounce, trylock);
    return true;
  }
  if (trylock) return false;
  return WAIT;
}

/** After the count's cost: acquireTry, its result as finished(), or the wait (acquireAfterCost from the wait). */
function acquireTake(
  k: Ctx,
  sem: RwSemaphore,
  site: string,
  write: boolean,
  trylock: boolean,
  bounce: boolean,
): KGen<boolean> {
  const r = acquireTry(k, sem, site, write, trylock, bounce);
  if (r !== WAIT) return finished(r);
  return acquireAfterCost(k, sem, site, write, trylock, bounce, -1);
}

/** The slow path's start: the waiter queued at the tail of the wait list. */
function waitBegin(k: Ctx, sem: RwSemaphore, site: string, write: boolean): Waiter {
  const m = k.m;
  const w: Waiter = { task: k.task, k, write, granted: false, since: m.now, site };
  sem.waitList.push(w);
  if (m.trace !== null) m.emit("contention_begin", k.cpu.id, sem.name, site, write ? 0 : 1);
  return w;
}

/** The slow path's end: granted by a releaser (lock_stat's contention, the acquisition). */
function waitEnd(k: Ctx, sem: RwSemaphore, site: string, write: boolean, bounce: boolean, w: Waiter): void {
  const m = k.m;
  k.task.state = 0;
  classStat(k, sem, write).contended(site, m.now - w.since, bounce);
  if (m.trace !== null) m.emit("contention_end", k.cpu.id, sem.name, site, write ? 0 : 1);
  acquired(k, sem, site, write, true, false);
}

/** down_read() (also down_read_killable: signals are not modelled here) */
export function down_read(k: Ctx, sem: RwSemaphore, site: string): KGen<void> {
  return rwsemAcquire(k, sem, site, false, false, true) as KGen<unknown> as KGen<void>;
}

/** down_read_trylock(): fails if a writer holds it or anyone waits (RWSEM_READ_FAILED_MASK). */
export function down_read_trylock(k: Ctx, sem: RwSemaphore, site: string): KGen<boolean> {
  return rwsemAcquire(k, sem, site, false, true, true);
}

/** down_write() (also down_write_killable) */
export function down_write(k: Ctx, sem: RwSemaphore, site: string): KGen<void> {
  return rwsemAcquire(k, sem, site, true, false, true) as KGen<unknown> as KGen<void>;
}

/** down_write_trylock() */
export function down_write_trylock(k: Ctx, sem: RwSemaphore, site: string): KGen<boolean> {
  return rwsemAcquire(k, sem, site, true, true, true);
}

/** rwsem_wake() / rwsem_mark_wake(): hand the lock to the head waiter(s). */
function rwsemWake(k: Ctx, sem: RwSemaphore): void {
  const m = k.m;
  const head = sem.waitList[0];
  if (head === undefined || sem.writer !== null) return;
  if (head.write) {
    if (sem.readers > 0) return;
    sem.waitList.shift();
    sem.writer = head.task;
    head.granted = true;
    m.wakeUpProcess(head.task, sem.name);
    return;
  }
  grantReaders(k, sem);
}

/** Grant every queued reader (up to the kernel's MAX_READERS_WAKEUP, not reached here); writers keep their places. */
function grantReaders(k: Ctx, sem: RwSemaphore): void {
  for (let i = 0; i < sem.waitList.length; ) {
    const w = sem.waitList[i]!;
    if (w.write) {
      i++;
      continue;
    }
    removeAt(sem.waitList, i);
    sem.readers++;
    w.granted = true;
    k.m.wakeUpProcess(w.task, sem.name);
  }
}

/** up_read() (steps in place as the acquisitions': a generator only from the first step the CPU loop must see) */
export function up_read(k: Ctx, sem: RwSemaphore): KGen<void> {
  if (takeSkip(k, sem, false)) return finished(undefined);
  return up(k, sem, false);
}

/** up_write() (steps in place as up_read()'s) */
export function up_write(k: Ctx, sem: RwSemaphore): KGen<void> {
  if (takeSkip(k, sem, true)) return finished(undefined);
  return up(k, sem, true);
}

/** up_read()/up_write(): the yield point, the count's RMW (its cost), then the release. */
function up(k: Ctx, sem: RwSemaphore, write: boolean): KGen<void> {
  if (!k.m.passPoint(k, write ? sem.upWritePoint : sem.upReadPoint)) return upAfterPoint(k, sem, write);
  return upWord(k, sem, write);
}

function* upAfterPoint(k: Ctx, sem: RwSemaphore, write: boolean): KGen<void> {
  yield write ? sem.upWritePoint : sem.upReadPoint;
  yield* upWord(k, sem, write);
}

/** After the yield point: the count's RMW (its cost), then upReadRelease/upWriteRelease. */
function upWord(k: Ctx, sem: RwSemaphore, write: boolean): KGen<void> {
  const m = k.m;
  if (write) {
    m.touch(sem.key);
    if (sem.writer !== k.task) throw new Error(`up_write(${sem.name}) by a task that does not hold it`);
  } else {
    // a reader leaving without waking anyone commutes with other readers
    m.touch(sem.key, sem.readers <= 1 && sem.waitList.length > 0);
    if (sem.readers <= 0) throw new Error(`up_read(${sem.name}) without readers`);
  }
  const cost = sem.line.rmw(k);
  if (cost > 0 && !m.passCost(k, cost)) return upAfterCost(k, sem, write, cost);
  upRelease(k, sem, write);
  return finished(undefined);
}

function* upAfterCost(k: Ctx, sem: RwSemaphore, write: boolean, cost: number): KGen<void> {
  yield cost;
  upRelease(k, sem, write);
}

function upRelease(k: Ctx, sem: RwSemaphore, write: boolean): void {
  if (write) upWriteRelease(k, sem);
  else upReadRelease(k, sem);
}

function upReadRelease(k: Ctx, sem: RwSemaphore): void {
  const m = k.m;
  sem.readers--;
  const since = sem.readSince.shift() ?? m.now;
  classStat(k, sem, false).released(m.now - since);
  (sem.lockdep ??= lockdep(m)).release(k, sem.name);
  if (m.trace !== null) m.emit("lock_released", k.cpu.id, sem.name, "", 1);
  if (sem.readers === 0) rwsemWake(k, sem);
}

function upWriteRelease(k: Ctx, sem: RwSemaphore): void {
  const m = k.m;
  sem.writer = null;
  classStat(k, sem, true).released(m.now - sem.writeSince);
  (sem.lockdep ??= lockdep(m)).release(k, sem.name);
  if (m.trace !== null) m.emit("lock_released", k.cpu.id, sem.name, "", 0);
  rwsemWake(k, sem);
}

/** downgrade_write(): the writer becomes a reader; queued readers join it. */
export function* downgrade_write(k: Ctx, sem: RwSemaphore): KGen<void> {
  const m = k.m;
  const skip = sem.skips.findIndex((s) => s.task === k.task && s.write);
  if (skip >= 0) {
    sem.skips[skip] = { task: k.task, write: false };
    return;
  }
  yield yieldPoint(`${sem.name}:downgrade_write`);
  m.touch(sem.key);
  if (sem.writer !== k.task) throw new Error(`downgrade_write(${sem.name}) by a non-owner`);
  sem.writer = null;
  sem.readers++;
  lockStats(m)
    .get(`${sem.name}-W`)
    .released(m.now - sem.writeSince);
  sem.readSince.push(m.now);
  grantReaders(k, sem);
}

// ---------------------------------------------------------------- generator-free forms
// For hot paths that keep their own running CPU time (`acc.cost`, charged at their next yield) and
// place their own yield points: the same steps as the generator forms after their yield point, the
// atomics' costs added to `acc.cost`, the acquisition and hold times stamped at `now + acc.cost`.

/**
 * down_read_trylock() (kernel/locking/rwsem.c __down_read_trylock): the count is read first and the
 * cmpxchg only tried when no writer holds it and nobody waits (RWSEM_READ_FAILED_MASK), so a
 * failing trylock is a plain read of the line and a succeeding one an RMW.
 */
export function down_read_trylock_fast(k: Ctx, sem: RwSemaphore, site: string, acc: CostSink): boolean {
  if (skipped(k, sem, site, false, true)) return true;
  if (sem.writer !== null || sem.waitList.length > 0) {
    acc.cost += sem.line.read(k);
    return false;
  }
  const bounce = sem.line.bouncesFor(k);
  acc.cost += sem.line.rmw(k);
  sem.readers++;
  acquired(k, sem, site, false, bounce, true, k.m.now + acc.cost);
  return true;
}

/** up_read() (kernel/locking/rwsem.c): one atomic add on the count; the last reader wakes a waiting writer. */
export function up_read_fast(k: Ctx, sem: RwSemaphore, acc: CostSink): void {
  if (takeSkip(k, sem, false)) return;
  const m = k.m;
  m.touch(sem.key, sem.readers <= 1 && sem.waitList.length > 0);
  if (sem.readers <= 0) throw new Error(`up_read(${sem.name}) without readers`);
  acc.cost += sem.line.rmw(k);
  sem.readers--;
  const since = sem.readSince.shift() ?? m.now;
  classStat(k, sem, false).released(m.now + acc.cost - since);
  (sem.lockdep ??= lockdep(m)).release(k, sem.name);
  if (m.trace !== null) m.emit("lock_released", k.cpu.id, sem.name, "", 1);
  if (sem.readers === 0) rwsemWake(k, sem);
}

/**
 * down_write() for a caller that places its own yield point: might_sleep(), then the count's RMW,
 * and the wait in the queue when readers or a writer hold the lock.
 */
export function down_write_nopoint(k: Ctx, sem: RwSemaphore, site: string): KGen<void> {
  return rwsemAcquire(k, sem, site, true, false, false) as KGen<unknown> as KGen<void>;
}

/** up_write() without a generator (kernel/locking/rwsem.c): release the count, hand off to the waiters. */
export function up_write_fast(k: Ctx, sem: RwSemaphore, acc: CostSink): void {
  if (takeSkip(k, sem, true)) return;
  const m = k.m;
  m.touch(sem.key);
  if (sem.writer !== k.task) throw new Error(`up_write(${sem.name}) by a task that does not hold it`);
  acc.cost += sem.line.rmw(k);
  sem.writer = null;
  classStat(k, sem, true).released(m.now + acc.cost - sem.writeSince);
  (sem.lockdep ??= lockdep(m)).release(k, sem.name);
  if (m.trace !== null) m.emit("lock_released", k.cpu.id, sem.name, "", 0);
  rwsemWake(k, sem);
}
