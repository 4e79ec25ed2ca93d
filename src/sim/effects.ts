// What kernel coroutines yield. A plain number means "consume this many ns of CPU time in the current
// context" (the cheap, common case); everything else is an Effect object. Effects that cannot change
// anything but the current CPU's counters are plain method calls on the context instead (see Ctx).
export const OP_YIELD = 1; // a point where another CPU may act (explore: step boundary; timed: no-op)
export const OP_SCHEDULE = 2; // schedule(): switch away; the task sleeps if its state is not RUNNING
export const OP_COND_RESCHED = 3; // cond_resched()
export const OP_MIGHT_SLEEP = 4; // might_sleep(): debug check, and a resched point under VOLUNTARY
export const OP_PREEMPT_ENABLE = 5; // preempt_enable(): a preemption point under FULL/LAZY
export const OP_IRQ_ENABLE = 6; // local_irq_enable()/restore(): pending interrupts are taken here
export const OP_BH_ENABLE = 7; // local_bh_enable(): pending softirqs run here
export const OP_SPIN = 8; // busy-wait until Machine.kickSpinner() is called for this context
export const OP_RET_TO_USER = 9; // exit to user mode: resched if needed (lazy flag included)
export const OP_RUN_SOFTIRQ = 10; // ksoftirqd: run pending softirqs in a softirq frame on this task
export const OP_ENTER_KERNEL = 11; // user -> kernel (syscall or fault entry)
export const OP_CALL = 12; // run the frame's callee (Ctx.callee) as a sub-generator: see subcall()

export interface Effect {
  readonly op: number;
  /** Site name (yield points, lock sites) or debug location. */
  readonly site: string;
  readonly file: string;
  readonly line: number;
}

function eff(op: number, site = "", file = "", line = 0): Effect {
  return Object.freeze({ op, site, file, line });
}

export const SCHEDULE = eff(OP_SCHEDULE, "schedule");
export const PREEMPT_ENABLE = eff(OP_PREEMPT_ENABLE, "preempt_enable");
export const IRQ_ENABLE = eff(OP_IRQ_ENABLE, "local_irq_enable");
export const BH_ENABLE = eff(OP_BH_ENABLE, "local_bh_enable");
export const SPIN = eff(OP_SPIN, "spin");
export const RET_TO_USER = eff(OP_RET_TO_USER, "exit_to_user_mode");
export const ENTER_KERNEL = eff(OP_ENTER_KERNEL, "enter_from_user_mode");
export const RUN_SOFTIRQ = eff(OP_RUN_SOFTIRQ, "run_ksoftirqd");
export const YIELD = eff(OP_YIELD, "yield");
/** The effect subcall() yields (compared by identity in the CPU loop). */
export const CALL = eff(OP_CALL, "call");

const yieldPoints = new Map<string, Effect>();
/** A named yield point (interned: one object per name). */
export function yieldPoint(site: string): Effect {
  let e = yieldPoints.get(site);
  if (e === undefined) {
    e = eff(OP_YIELD, site);
    yieldPoints.set(site, e);
  }
  return e;
}

/** cond_resched() at a kernel source location (file:line appear in the might_sleep splat). */
export function condResched(file: string, line: number): Effect {
  return eff(OP_COND_RESCHED, "cond_resched", file, line);
}

/** might_sleep() at a kernel source location. */
export function mightSleep(file: string, line: number): Effect {
  return eff(OP_MIGHT_SLEEP, "might_sleep", file, line);
}

export type Step = number | Effect;
/** A kernel coroutine returning T. */
export type KGen<T = void> = Generator<Step, T, unknown>;

/**
 * The steps of a call that were all done in place (Machine.pass*), returning `value`: an iterator
 * that is done at once, so `yield* f` yields nothing and gives `value` (the src/sync primitives
 * return one instead of a generator when no step had to go to the CPU loop: no generator object
 * to make and resume). Shared instances for undefined, true and false (see `finished`).
 */
export class Finished<T> {
  readonly r: IteratorResult<Step, T>;
  constructor(readonly value: T) {
    this.r = Object.freeze({ done: true, value });
  }
  next(): IteratorResult<Step, T> {
    return this.r;
  }
  return(value: T): IteratorResult<Step, T> {
    return { done: true, value };
  }
  throw(e?: unknown): IteratorResult<Step, T> {
    throw e;
  }
  [Symbol.iterator](): this {
    return this;
  }
}

const FINISHED_VOID = new Finished<undefined>(undefined);
const FINISHED_TRUE = new Finished<boolean>(true);
const FINISHED_FALSE = new Finished<boolean>(false);

/** A call whose steps were all done in place, returning `value` (`yield*` it as the generator it stands for). */
export function finished<T>(value: T): KGen<T> {
  const f =
    value === undefined
      ? FINISHED_VOID
      : value === true
        ? FINISHED_TRUE
        : value === false
          ? FINISHED_FALSE
          : new Finished(value);
  return f as unknown as KGen<T>;
}

/** Did the call return `finished(...)` (all its steps done in place)? Its value is then `.value`. */
export function isFinished<T>(g: KGen<T>): g is KGen<T> & Finished<T> {
  return g instanceof Finished;
}
