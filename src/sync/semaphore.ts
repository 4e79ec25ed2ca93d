// Counting semaphores (kernel/locking/semaphore.c down(), up(), __down_common(), __up(), v5.10; the
// hand-off is the same from v2.6.26 to 6.x): down() takes a unit when count > 0, else queues at the tail of the wait
// list and sleeps; up() with waiters does not raise count but hands the unit to the first waiter
// (__up(): waiter->up = true; wake_up_process()), so waiters are served strictly in FIFO order.
// sem->lock is a raw spinlock taken with interrupts off, as in the kernel; semaphores themselves
// are not tracked by lockdep (neither are they in the kernel).
import { isFinished, type KGen, SCHEDULE } from "../sim/effects.js";
import { HeadQueue } from "../sim/machine.js";
import { type Ctx, TASK_UNINTERRUPTIBLE, type Task } from "../sim/task.js";
import {
  SpinLock,
  spin_lock_irq,
  spin_lock_irqsave,
  spin_unlock_irq,
  spin_unlock_irqrestore,
} from "./spinlock.js";

/** struct semaphore_waiter */
interface SemaphoreWaiter {
  task: Task;
  up: boolean;
}

/** struct semaphore: { raw_spinlock_t lock; unsigned int count; struct list_head wait_list; } */
export class Semaphore {
  count: number;
  readonly lock: SpinLock;
  /** The wait list, in FIFO order (up() takes the first). */
  readonly waitList = new HeadQueue<SemaphoreWaiter>();
  /** The waiters in FIFO order. */
  waiters(): SemaphoreWaiter[] {
    return [...this.waitList];
  }
  /** down() calls that had to sleep. */
  contended = 0;
  constructor(
    readonly name: string,
    count = 1,
    instance?: string,
  ) {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`Semaphore ${name}: count ${count}`);
    this.count = count;
    this.lock = new SpinLock(`&${name}->lock`, instance === undefined ? undefined : `${instance}->lock`);
  }
}

/**
 * down(): take a unit, sleeping (TASK_UNINTERRUPTIBLE) in FIFO order while none is free. Like the
 * spinlock's, its steps are done in place until one must go to the CPU loop (see spinlock.ts): an
 * uncontended down() whose steps all pass makes no generator.
 */
export function down(k: Ctx, sem: Semaphore, site: string): KGen<void> {
  const g = spin_lock_irqsave(k, sem.lock, site);
  return isFinished(g) ? downLocked(k, sem, site, g.value) : downAfterLock(k, sem, site, g);
}

function* downAfterLock(k: Ctx, sem: Semaphore, site: string, lock: KGen<boolean>): KGen<void> {
  const flags = yield* lock;
  yield* downLocked(k, sem, site, flags);
}

/** down() with sem->lock held (`flags`: the irq state spin_lock_irqsave() saved). */
function downLocked(k: Ctx, sem: Semaphore, site: string, flags: boolean): KGen<void> {
  if (sem.count > 0) {
    sem.count--;
    return spin_unlock_irqrestore(k, sem.lock, flags);
  }
  return downSleep(k, sem, site, flags);
}

/**
 * ___down_common(sem, TASK_UNINTERRUPTIBLE, MAX_SCHEDULE_TIMEOUT), entered and left with sem->lock
 * held, then down()'s spin_unlock_irqrestore(): one generator, so a sleeper's every resume goes
 * through one level less of yield* than with ___down_common() a generator of its own.
 */
function* downSleep(k: Ctx, sem: Semaphore, site: string, flags: boolean): KGen<void> {
  const waiter: SemaphoreWaiter = { task: k.task, up: false };
  sem.waitList.push(waiter);
  sem.contended++;
  for (;;) {
    k.task.state = TASK_UNINTERRUPTIBLE;
    yield* spin_unlock_irq(k, sem.lock);
    yield SCHEDULE;
    yield* spin_lock_irq(k, sem.lock, site);
    if (waiter.up) break;
  }
  yield* spin_unlock_irqrestore(k, sem.lock, flags);
}

/** down_trylock(): true when the unit could NOT be taken (the kernel's convention). */
export function* down_trylock(k: Ctx, sem: Semaphore, site: string): KGen<boolean> {
  const flags = yield* spin_lock_irqsave(k, sem.lock, site);
  const count = sem.count - 1;
  if (count >= 0) sem.count = count;
  yield* spin_unlock_irqrestore(k, sem.lock, flags);
  return count < 0;
}

/** up(): give the unit to the first waiter if any (__up), else raise count (steps in place as down()'s). */
export function up(k: Ctx, sem: Semaphore, site: string): KGen<void> {
  const g = spin_lock_irqsave(k, sem.lock, site);
  return isFinished(g) ? upLocked(k, sem, g.value) : upAfterLock(k, sem, g);
}

function* upAfterLock(k: Ctx, sem: Semaphore, lock: KGen<boolean>): KGen<void> {
  const flags = yield* lock;
  yield* upLocked(k, sem, flags);
}

/** up() with sem->lock held. */
function upLocked(k: Ctx, sem: Semaphore, flags: boolean): KGen<void> {
  const waiter = sem.waitList.shift();
  if (waiter === null) sem.count++;
  else {
    waiter.up = true;
    k.m.wakeUpProcess(waiter.task, sem.name);
  }
  return spin_unlock_irqrestore(k, sem.lock, flags);
}
