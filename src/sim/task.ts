// Tasks and execution contexts. A Ctx is one running instance of kernel code: the task context of a
// task, or a hardirq/softirq frame pushed on a CPU. Kernel model functions receive the Ctx as `k`,
// read `k.cpu` (smp_processor_id), `k.task` (current) and `k.m` (the machine), and keep a call
// stack of function names for call traces in watchdog reports.
import { CALL, type Effect, type KGen, type Step } from "./effects.js";
import type { Cpu, Machine } from "./machine.js";

export const TASK_RUNNING = 0;
export const TASK_INTERRUPTIBLE = 1;
export const TASK_UNINTERRUPTIBLE = 2;
export const TASK_DEAD = 64;

export const CTX_TASK = 0;
export const CTX_SOFTIRQ = 1;
export const CTX_HARDIRQ = 2;
export type CtxKind = typeof CTX_TASK | typeof CTX_SOFTIRQ | typeof CTX_HARDIRQ;
export const CTX_NAMES = ["task", "softirq", "hardirq"] as const;

export type SchedPolicy = "stop" | "fifo" | "normal" | "idle";

/** The held-locks list of a context that has not taken a lock yet (shared, never written). */
export const NO_LOCKS_HELD: { cls: string; site: string }[] = Object.freeze([]) as unknown as {
  cls: string;
  site: string;
}[];

export class Ctx {
  /** Function names, outermost first. */
  stack: string[] = [];
  gen: KGen<unknown> | null = null;
  /** Value sent into the generator at its next resume. */
  resume: unknown = undefined;
  /** CPU time (ns) still to consume before the generator is resumed. */
  remaining = 0;
  /** Busy-waiting (OP_SPIN) until kicked. */
  spinning = false;
  spinSince = 0;
  /** Explore driver: stopped at a yield point, waiting to be chosen. */
  paused = false;
  /** Name of the irq or softirq for irq frames. */
  name = "";
  /** A softirq frame run on irq exit (then the irq-exit preemption check follows it). */
  fromIrq = false;
  /** Interrupt state to restore when this irq frame ends. */
  savedIrqsOff = false;
  /** Last yield point passed (what the explore driver shows as the step's label). */
  site = "";
  /**
   * Locks held in this context, innermost last (lockdep; maintained by src/sync). NO_LOCKS_HELD
   * until the context first takes a lock (most interrupt frames never do: no array for them).
   */
  held: { cls: string; site: string }[] = NO_LOCKS_HELD;
  /** Trace: a flow waiting to end in this context (Machine.flowTo), 0: none. */
  flowIn = 0;
  /** The name of that flow (the lock handed over, "wakeup"): its end carries the same name. */
  flowInName = "";
  /** The generator subcall() hands to the CPU loop (set just before it yields CALL). */
  callee: KGen<unknown> | null = null;
  /** subcallFrom(): what the callee's first resume (by its caller) gave, for the CPU loop to go on with. */
  calleeFirst: IteratorResult<Step, unknown> | null = null;
  /**
   * subcallFrom() of a generator whose first resume made a subcall itself: the generators between
   * the caller and the innermost callee, innermost first (null or empty: none).
   */
  calleeVia: KGen<unknown>[] | null = null;
  /** Generators suspended in a subcall, outermost first (null until the frame first makes one). */
  callers: KGen<unknown>[] | null = null;
  /** The frame's last schedule_timeout()/schedule_hrtimeout() sleep object (Machine.sleepNs reuses it). */
  sleep: object | null = null;
  /** Trace (model level): start time of each stack entry pushed by enter()/call(), -1: not timed. */
  private starts: number[] | null = null;

  constructor(
    readonly m: Machine,
    readonly kind: number,
    public cpu: Cpu,
    public task: Task,
  ) {}

  /** smp_processor_id() */
  get cpuId(): number {
    return this.cpu.id;
  }

  /** in_atomic(): any preempt_count bit set */
  inAtomic(): boolean {
    return this.cpu.preemptCount !== 0;
  }

  /** irqs_disabled() */
  irqsDisabled(): boolean {
    return this.cpu.irqsOff;
  }

  /**
   * Run `g` to its end as `yield* g` would, as a sub-generator the CPU loop resumes directly:
   * `const r = (yield k.subcall(g)) as T`. The loop starts g at once and hands its return value
   * back at once (no step, no interrupt or time in between: the same steps, in the same order),
   * but each of g's yields then reaches the loop without resuming this generator on the way
   * (`yield*` resumes every level of the chain at every yield). For hot calls (a fault from a
   * user-access loop).
   */
  subcall(g: KGen<unknown>): Effect {
    this.callee = g;
    return CALL;
  }

  /**
   * subcall() of a generator the caller has already started: `r = g.next()` gave `r`, not done
   * (the caller started g itself, so that a g that ends at once costs no yield at all):
   * `const v = (yield k.subcallFrom(g, r)) as T`. The CPU loop goes on with `r` as if it had
   * started g itself (subcall starts g at once: nothing can happen in between).
   */
  subcallFrom(g: KGen<unknown>, r: IteratorResult<Step, unknown>): Effect {
    if (!r.done && r.value === CALL) {
      // g's first resume made a subcall of its own (callee and calleeFirst name that one): g waits
      // between this caller and it (the CPU loop pushes it after the caller, innermost last)
      (this.calleeVia ??= []).push(g);
      return CALL;
    }
    this.callee = g;
    this.calleeFirst = r;
    return CALL;
  }

  /** Push a function name on the call stack; pair with leave(). */
  enter(fn: string): void {
    this.stack.push(fn);
    if (this.m.modelTrace) this.markStart();
  }

  leave(): void {
    if (this.m.modelTrace) this.emitSlice();
    this.stack.pop();
  }

  /** Run a kernel function as a named call: its name is on the call stack while it runs (a trace slice). */
  *call<T>(fn: string, g: KGen<T>): KGen<T> {
    this.stack.push(fn);
    if (this.m.modelTrace) this.markStart();
    try {
      return yield* g;
    } finally {
      if (this.m.modelTrace) this.emitSlice();
      this.stack.pop();
    }
  }

  /**
   * `g` (a call of kernel function `fn`) as a trace slice, without a call-stack entry (so dmesg call
   * traces stay as they are); `g` itself when the model is not traced.
   */
  traced<T>(fn: string, g: KGen<T>): KGen<T> {
    return this.m.modelTrace ? this.slicing(fn, g) : g;
  }

  private *slicing<T>(fn: string, g: KGen<T>): KGen<T> {
    const t0 = this.m.now;
    try {
      return yield* g;
    } finally {
      this.m.slice(this.cpu.id, fn, t0, this.m.now);
    }
  }

  private markStart(): void {
    const s = (this.starts ??= []);
    s[this.stack.length - 1] = this.m.now;
  }

  /** The slice of the innermost stack entry, from its start to now. */
  private emitSlice(): void {
    const i = this.stack.length - 1;
    const s = this.starts;
    if (i < 0 || s === null) return;
    const t0 = s[i] ?? -1;
    if (t0 < 0) return;
    s[i] = -1;
    this.m.slice(this.cpu.id, this.stack[i]!, t0, this.m.now);
  }

  /** preempt_disable(): a plain counter update (preempt_enable() is an effect: it may preempt). */
  preemptDisable(): void {
    this.cpu.preemptCount++;
  }

  /** local_irq_disable() */
  localIrqDisable(): void {
    this.cpu.irqsOff = true;
  }

  /** local_irq_save(): returns the previous state for restore via IRQ_ENABLE or localIrqRestoreOff */
  localIrqSave(): boolean {
    const was = this.cpu.irqsOff;
    this.cpu.irqsOff = true;
    return was;
  }

  /** local_bh_disable() */
  localBhDisable(): void {
    this.cpu.preemptCount += SOFTIRQ_DISABLE_OFFSET;
  }
}

export const PREEMPT_MASK = 0x000000ff;
export const SOFTIRQ_OFFSET = 0x00000100;
export const SOFTIRQ_DISABLE_OFFSET = 0x00000200;
export const SOFTIRQ_MASK = 0x0000ff00;
export const HARDIRQ_OFFSET = 0x00010000;
export const HARDIRQ_MASK = 0x000f0000;
export const NMI_OFFSET = 0x00100000;

/** Per-task workqueue worker state (set for kworkers). */
export interface WorkerInfo {
  pool: unknown;
  /** Work function name while executing a work item (for "Workqueue: wq func" lines). */
  currentFunc: string;
  currentWq: string;
  sleeping: boolean;
  idle: boolean;
}

export class Task {
  state = TASK_RUNNING;
  onRq = false;
  readonly frame: Ctx;
  vruntime = 0;
  /** When the task last started running (for slice and runtime accounting). */
  execStart = 0;
  sliceExec = 0;
  sumExecNs = 0;
  nvcsw = 0;
  nivcsw = 0;
  /** Last time the task switched in or out, and the switch count the hung-task check saw. */
  lastSwitchTime = 0;
  lastSwitchCount = 0;
  hungReported = false;
  inUser = false;
  savedPreemptCount = 0;
  worker: WorkerInfo | null = null;
  /** Arbitrary per-task data for models (e.g. the mm of a user thread). */
  data: Record<string, unknown> = {};
  exited = false;
  /** Sequence of schedule_timeout() sleeps: a timer wakes only the sleep that armed it. */
  sleepSeq = 0;
  /** RCU read-side nesting of this task (rcu_preempt_depth / preempt-disabled sections). */
  rcuReadDepth = 0;
  /**
   * Explore driver, state matching (src/check/state.ts): set by the task's code right before a yield
   * at which its future depends on nothing but the shared state and this string (the loop state of a
   * workload between two operations); the machine clears it when it resumes the task.
   */
  quiescent: string | null = null;

  constructor(
    m: Machine,
    readonly pid: number,
    readonly comm: string,
    public cpu: Cpu,
    readonly policy: SchedPolicy,
    readonly rtPrio: number,
    readonly kthread: boolean,
  ) {
    this.frame = new Ctx(m, CTX_TASK, cpu, this);
  }

  get isIdle(): boolean {
    return this.policy === "idle";
  }
}
