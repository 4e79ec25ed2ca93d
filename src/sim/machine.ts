// The simulated multi-CPU kernel: CPUs running contexts (task, softirq, hardirq) in virtual time,
// the scheduler and preemption models, interrupts and IPIs, softirqs, the tick, and the two drivers
// (timed and explore). Kernel-generic only: models live in src/mm and src/fs.

import {
  type DriverMode,
  defaultMachineConfig,
  type MachineConfig,
  validateMachineConfig,
} from "./config.js";
import {
  CALL,
  condResched,
  type Effect,
  type KGen,
  OP_BH_ENABLE,
  OP_COND_RESCHED,
  OP_ENTER_KERNEL,
  OP_IRQ_ENABLE,
  OP_MIGHT_SLEEP,
  OP_PREEMPT_ENABLE,
  OP_RET_TO_USER,
  OP_RUN_SOFTIRQ,
  OP_SCHEDULE,
  OP_SPIN,
  OP_YIELD,
  RUN_SOFTIRQ,
  SCHEDULE,
  type Step,
} from "./effects.js";
import { Hrtimer, HrtimerCpuBase, HrtimerInterrupt } from "./hrtimer.js";
import { Hypervisor, stealProfile } from "./hypervisor.js";
import { Rng } from "./prng.js";
import { EventQueue, type Handler, MAX_LANE } from "./queue.js";
import { HoldoffRecord } from "./stats.js";
import {
  CTX_HARDIRQ,
  CTX_NAMES,
  CTX_SOFTIRQ,
  CTX_TASK,
  Ctx,
  HARDIRQ_MASK,
  HARDIRQ_OFFSET,
  PREEMPT_MASK,
  type SchedPolicy,
  SOFTIRQ_DISABLE_OFFSET,
  SOFTIRQ_MASK,
  SOFTIRQ_OFFSET,
  TASK_DEAD,
  TASK_INTERRUPTIBLE,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  Task,
} from "./task.js";
import { TRACE_ALL, TRACE_MODEL, type TraceEvent, type TraceKind, type TraceSink } from "./trace.js";
import { Watchdogs } from "./watchdog.js";
import { WorkqueueSystem } from "./workqueue.js";

const CPU_IDLE = 0;
const CPU_RUNNING = 1;
const CPU_BURST = 2;
const CPU_SPIN = 3;
const CPU_READY = 4; // explore: paused at a yield point

/** Softirq vectors, in the kernel's order (include/linux/interrupt.h). */
export const SOFTIRQ_NAMES = [
  "HI",
  "TIMER",
  "NET_TX",
  "NET_RX",
  "BLOCK",
  "IRQ_POLL",
  "TASKLET",
  "SCHED",
  "HRTIMER",
  "RCU",
] as const;
export const HI_SOFTIRQ = 0;
export const TIMER_SOFTIRQ = 1;
export const BLOCK_SOFTIRQ = 4;
export const TASKLET_SOFTIRQ = 6;
export const RCU_SOFTIRQ = 9;
/** MAX_SOFTIRQ_TIME = msecs_to_jiffies(2), MAX_SOFTIRQ_RESTART = 10 (kernel/softirq.c) */
const MAX_SOFTIRQ_TIME_MS = 2;
const MAX_SOFTIRQ_RESTART = 10;

export type IrqHandler = (k: Ctx) => KGen<unknown>;
export type TaskFn = (k: Ctx) => KGen<unknown>;

/** A finding: a broken invariant of the modelled kernel, or a watchdog/BUG report. */
export interface Finding {
  /** Invariant or check name, e.g. "soft_lockup", "might_sleep", "lost_update". */
  kind: string;
  t: number;
  cpus: number[];
  message: string;
  /** Extra structured data (addresses, pids, values). Keys sorted when serialised. */
  details: Record<string, number | string | boolean>;
  /** Steps that led there (explore driver: the schedule's labels). */
  steps: string[];
}

/**
 * The finding kinds the engine and src/sync report whatever the model: the scheduler's and lockdep's
 * checks, the watchdogs, RCU, wait queues and workqueues. Each model adds its own (src/mm/oracle.ts
 * MM_FINDING_KINDS; src/fs/oracle.ts FS_INVARIANTS, reported as `fs:KIND`); `faultline check --kind`
 * accepts only these (src/scenario/checktarget.ts findingKindsOf).
 */
export const ENGINE_FINDING_KINDS = [
  "deadlock",
  "exit_atomic",
  "scheduling_while_atomic",
  "might_sleep",
  "lock_order_inversion",
  "use_after_free",
  "lost_wakeup",
  "rcu_stall",
  "soft_lockup",
  "hard_lockup",
  "hung_task",
  "workqueue_lockup",
] as const;
export type EngineFindingKind = (typeof ENGINE_FINDING_KINDS)[number];
/**
 * What Machine.report accepts: the engine's kinds, or a model's. The engine does not import the models
 * (CONTRIBUTING: each layer imports only the layers below it), so a model's kind is checked where the
 * model reports it (MmSim.finding takes an InvariantKind, FsOracle.violation an FsInvariantKind), and
 * test/check/kinds.test.ts checks that every kind named in src/ is in its list.
 */
export type FindingKind = EngineFindingKind | (string & {});

export interface DmesgLine {
  t: number;
  cpu: number;
  text: string;
}

/**
 * One pending interrupt on a CPU; also the queue event that delivers it when it is raised for later
 * (one object per interrupt, not a request and an event).
 */
export class IrqReq implements Handler {
  constructor(
    public cpu: Cpu,
    readonly name: string,
    /** The handler; null for the local timer interrupt of the CPU's hrtimer base (hrtimer_interrupt()). */
    readonly handler: IrqHandler | null,
    /** Trace flow from the sender (IPIs), 0: none. */
    readonly flow: number,
  ) {}
  fire(): void {
    this.cpu.m.deliverIrq(this.cpu, this);
  }
}

const ITER_DONE: IteratorResult<Step, unknown> = Object.freeze({ done: true, value: undefined });

const ITER_SCHEDULE: IteratorResult<Step, unknown> = Object.freeze({ done: false, value: SCHEDULE });

/**
 * One schedule_timeout() / schedule_hrtimeout() sleep, in one object: the sleeping task's code (an
 * iterator doing what the generator `{ arm the hrtimer; yield SCHEDULE; hrtimer_cancel }` would: the
 * first resume arms, the second, when the task runs again, cancels the timer if it has not fired and
 * moves the task's sleep sequence on) and, in the timed driver, the sleep's hrtimer_sleeper: a timer
 * on the CPU's hrtimer base whose function is hrtimer_wakeup() (run by hrtimer_interrupt(), see
 * src/sim/hrtimer.ts).
 */
class SleepWait extends Hrtimer implements Iterator<Step, void, unknown> {
  private armed = false;
  /** The sleep has returned (its iterator is done): the frame's next sleep may reuse this object. */
  ended = false;
  /** The sleep's sequence number (set when armed): its timer wakes only this sleep. */
  sleepSeq = 0;
  /** The sleeping task (k.task, kept here: the timer's function touches it without the frame). */
  readonly t: Task;
  constructor(
    readonly k: Ctx,
    /** Absolute expiry, or the sleep's length when `relative` (from the time of the first resume). */
    public ns: number,
    public relative: boolean,
  ) {
    super(k.task.cpu, null);
    this.t = k.task;
  }
  /** A new sleep in this object (one that has ended, its timer out of the base). */
  reuse(ns: number, relative: boolean): this {
    this.ns = ns;
    this.relative = relative;
    this.armed = false;
    this.ended = false;
    return this;
  }
  [Symbol.iterator](): this {
    return this;
  }
  next(): IteratorResult<Step, void> {
    if (this.ended) return ITER_DONE as IteratorResult<Step, void>;
    if (!this.armed) {
      this.armed = true;
      const m = this.k.m;
      m.armSleep(this, this.relative ? m.now + this.ns : this.ns);
      return ITER_SCHEDULE as IteratorResult<Step, void>;
    }
    // schedule_hrtimeout_range_clock(): hrtimer_cancel() once the task runs again (a no-op after expiry)
    if (this.enqueued) this.cpu.hrtimerBase.cancel(this);
    this.t.sleepSeq++;
    this.ended = true;
    return ITER_DONE as IteratorResult<Step, void>;
  }
  /** hrtimer_wakeup() (kernel/time/hrtimer.c): wake the sleeper if the timer's sleep is still its current one. */
  override wakeup(): void {
    const t = this.t;
    if (t.sleepSeq === this.sleepSeq) this.k.m.wakeUpProcess(t);
  }
  // a generator's return() and throw() at its `yield SCHEDULE`: it ends there, the timer not cancelled
  return(value?: unknown): IteratorResult<Step, void> {
    this.ended = true;
    return { done: true, value: value as undefined };
  }
  throw(e?: unknown): IteratorResult<Step, void> {
    throw e;
  }
}

/**
 * A FIFO taken from its head: slots [head, tail) hold the items, and taking the first moves the head
 * instead of shifting the array (100 woken sleepers, or a semaphore's 60 waiters, would be copied on
 * every take). The array is never truncated (truncating frees its backing store, and the next push
 * allocates one again: garbage on every empty-to-one transition); dead slots at the front are
 * compacted away once they are at least half of it.
 */
export class HeadQueue<T> implements Iterable<T> {
  protected readonly items: (T | null)[] = [];
  protected head = 0;
  protected tail = 0;
  get length(): number {
    return this.tail - this.head;
  }
  first(): T {
    return this.items[this.head]!;
  }
  push(x: T): void {
    if (this.head === this.tail) this.head = this.tail = 0;
    this.items[this.tail++] = x;
  }
  /** Take the first item (null: empty). */
  shift(): T | null {
    if (this.head === this.tail) return null;
    const q = this.items;
    const x = q[this.head]!;
    q[this.head++] = null;
    if (this.head === this.tail) this.head = this.tail = 0;
    else if (this.head >= 1024 && this.head * 2 >= this.tail) {
      // compact: move the live slots to the front
      const n = this.tail - this.head;
      for (let i = 0; i < n; i++) q[i] = q[this.head + i]!;
      for (let i = n; i < this.tail; i++) q[i] = null;
      this.head = 0;
      this.tail = n;
    }
    return x;
  }
  remove(x: T): void {
    const q = this.items;
    if (q[this.head] === x) {
      this.shift();
      return;
    }
    let i = this.head;
    while (i < this.tail && q[i] !== x) i++;
    if (i === this.tail) return;
    for (; i < this.tail - 1; i++) q[i] = q[i + 1]!;
    q[--this.tail] = null;
  }
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.tail; i++) yield this.items[i]!;
  }
}

/** A run queue of the stop or FIFO class: tasks in order from the head. */
export class TaskQueue extends HeadQueue<Task> {
  /** Insert after every task of priority >= t.rtPrio (FIFO among equals). */
  insertByPrio(t: Task): void {
    if (this.head === this.tail) this.head = this.tail = 0;
    const q = this.items;
    let i = this.tail;
    while (i > this.head && q[i - 1]!.rtPrio < t.rtPrio) {
      q[i] = q[i - 1]!;
      i--;
    }
    q[i] = t;
    this.tail++;
  }
}

/** Hooks the sync layer (RCU) and models attach to. */
export interface MachineHooks {
  /** A quiescent state for RCU: context switch, idle, user mode, or cond_resched() (rcu_all_qs). */
  qs: ((cpu: Cpu, reason: string) => void)[];
  /** Called from every tick, in hardirq context, after the scheduler tick. */
  tick: ((k: Ctx) => void)[];
  /** Called when the machine turns from the timed driver to the explore driver (Machine.enterExplore). */
  explore: ((m: Machine) => void)[];
  /** Called when a run ends (final checks). */
  end: ((m: Machine) => void)[];
}

/** The explore driver's strategy: picks which enabled CPU takes the next step. */
/** Receives the shared-object accesses of the explore driver's current step (Machine.touch). */
export interface FootprintSink {
  touch(key: string, write: boolean): void;
  /**
   * A commutative update of `key` (Machine.touchUpdate): independent of other updates of the key,
   * dependent on its reads and writes. A sink without it records a write.
   */
  update?(key: string): void;
  /**
   * A lock the step takes free (Machine.touchHeldRead): a read of its key, unless the step ends with
   * it held (then the machine records a write). A sink without it records a write.
   */
  heldRead?(key: string): void;
}

export interface ExploreStrategy {
  choose(enabled: readonly number[], m: Machine): number;
}

export class Cpu implements Handler {
  preemptCount = 0;
  irqsOff = false;
  curr: Task;
  readonly idle: Task;
  /** Execution frames: [0] is the current task's context, irq frames above it. */
  readonly frames: Ctx[] = [];
  status = CPU_IDLE;
  token = 0;
  burstEnd = 0;
  /** When the current burst started (steal time: the work done is measured from here). */
  burstStart = 0;
  /** Pending interrupts, taken in order from pendingHead (a queue without Array.shift's copying). */
  pendingIrqs: (IrqReq | null)[] = [];
  pendingHead = 0;
  pendingTail = 0;
  softirqPending = 0;
  needResched = false;
  needReschedLazy = false;
  /** When need_resched was set and not yet honoured (-1: not set), and which context held off. */
  reschedSince = -1;
  reschedKind = CTX_TASK;
  readonly holdoff = new HoldoffRecord();
  /** Runnable tasks other than curr, per class (rqFair is a heap by vruntime, see fairPush). */
  readonly rqStop = new TaskQueue();
  readonly rqFifo = new TaskQueue();
  readonly rqFair: Task[] = [];
  minVruntime = 0;
  /** The tick runs: its event is queued (tickEvent), or it fired and its handler has yet to re-arm it. */
  tickArmed = false;
  /** Timed driver: the queue slot of this CPU's queued tick event (EventQueue.remove), or -1. */
  tickEvent = -1;
  ksoftirqd!: Task;
  stopper!: Task;
  /** Explore driver: something happened that lets this CPU take a step. */
  kicked = false;
  /** Timed driver: a kick (KickEvent) of this CPU is in the queue. */
  kickQueued = false;
  inDrive = false;
  /** Time consumed per context kind (ns), and idle time. */
  readonly busyNs = [0, 0, 0];
  /** busyNs when need_resched was set (to label a holdoff by the context that took most of it). */
  readonly reschedBusyNs = [0, 0, 0];
  nrSwitches = 0;
  hardirqCount = 0;
  softirqCount = 0;
  private burstFrame: Ctx | null = null;
  /** The CPU's hrtimer base (timed driver), its interrupt's hardirq frame (reused: it never nests) and code. */
  readonly hrtimerBase: HrtimerCpuBase;
  readonly hrtimerFrame: Ctx;
  readonly hrtimerInterrupt: HrtimerInterrupt;

  constructor(
    readonly m: Machine,
    readonly id: number,
  ) {
    this.idle = new Task(m, 0, `swapper/${id}`, this, "idle", 0, true);
    this.hrtimerFrame = new Ctx(m, CTX_HARDIRQ, this, this.idle);
    this.hrtimerFrame.name = "hrtimer";
    this.hrtimerBase = new HrtimerCpuBase(m, this, new IrqReq(this, "hrtimer", null, 0));
    this.hrtimerInterrupt = new HrtimerInterrupt(this.hrtimerBase, this.hrtimerFrame);
    this.idle.state = TASK_RUNNING;
    this.curr = this.idle;
    this.frames.push(this.idle.frame);
  }

  get top(): Ctx {
    return this.frames[this.frames.length - 1]!;
  }

  /** in_interrupt(): hardirq, softirq or bh-disabled */
  inInterrupt(): boolean {
    return (this.preemptCount & (HARDIRQ_MASK | SOFTIRQ_MASK)) !== 0;
  }

  /** Burst-end event. */
  fire(token: number): void {
    if (token !== this.token || this.status !== CPU_BURST) return;
    const f = this.burstFrame!;
    this.m.account(this, f, f.remaining);
    f.remaining = 0;
    this.burstFrame = null;
    this.status = CPU_RUNNING;
    this.m.drive(this);
  }

  /**
   * Start the top frame's burst (timed mode). Returns false when the burst was completed on the spot:
   * if it ends before every queued event (and within the run), nothing can happen in between, so
   * time simply advances to its end: the same result as the queue round trip, without it.
   */
  startBurst(f: Ctx): boolean {
    const m = this.m;
    const end = this.endOf(f.remaining);
    if (this.fastForward(f, f.remaining, end)) {
      f.remaining = 0;
      return false;
    }
    this.status = CPU_BURST;
    this.burstFrame = f;
    this.burstStart = m.now;
    this.burstEnd = end;
    this.m.queue.push(this.burstEnd, this.id, this, ++this.token);
    return true;
  }

  /** When a burst of `ns` of CPU time started now ends (later under the hypervisor's steal). */
  endOf(ns: number): number {
    const m = this.m;
    return m.hv === null ? m.now + ns : m.hv.finishAt(this.id, m.now, ns);
  }

  /**
   * A burst of `ns` on frame `f` ending at `end`, completed on the spot when it ends before every
   * queued event (and within the run): time advances to its end. False (nothing done) otherwise.
   */
  fastForward(f: Ctx, ns: number, end: number): boolean {
    const m = this.m;
    if (!(end < m.queue.peekTime() && end <= m.runUntil)) return false;
    m.now = end;
    m.account(this, f, ns);
    m.fastForwards++;
    return true;
  }

  /** An interrupt arrived while bursting: stop the burst, keep what is left on the frame. */
  splitBurst(): void {
    if (this.status !== CPU_BURST) return;
    const f = this.burstFrame!;
    const hv = this.m.hv;
    const left =
      hv === null
        ? this.burstEnd - this.m.now
        : f.remaining - hv.workBetween(this.id, this.burstStart, this.m.now);
    this.m.account(this, f, f.remaining - left);
    f.remaining = left;
    this.burstFrame = null;
    this.token++;
    this.status = CPU_RUNNING;
  }
}

/** "cpu:site" step labels, built once per (site, CPU) and machine: an explore run takes a label per step. */
class StepLabelCache {
  private readonly bySite = new Map<string, string[]>();
  label(cpu: number, site: string): string {
    let l = this.bySite.get(site);
    if (l === undefined) this.bySite.set(site, (l = []));
    return (l[cpu] ??= `${cpu}:${site}`);
  }
}

/**
 * A task's body before it first runs: the first resume calls the task's function (so it runs when the
 * task is first scheduled, not when it is created) and puts the generator in the frame, so that later
 * resumes go straight to it (no wrapping generator, one yield* level less per resume).
 */
class TaskStart {
  constructor(
    readonly f: Ctx,
    readonly fn: TaskFn,
  ) {}
  next(v: unknown): IteratorResult<Step, unknown> {
    const g = this.fn(this.f);
    this.f.gen = g;
    return g.next(v);
  }
}

/** The task has never run: its frame still holds the start of its body (state matching, src/check/state.ts). */
export function taskNotStarted(t: Task): boolean {
  return t.frame.gen instanceof TaskStart;
}

// The fair run queue: a binary min-heap ordered by (vruntime, pid), as the kernel's rbtree orders
// by vruntime (O(log n) per pick instead of a scan of every runnable task). A queued task's vruntime
// never changes while it is queued (only the running task's does), so the heap stays valid.
function fairLess(a: Task, b: Task): boolean {
  return a.vruntime < b.vruntime || (a.vruntime === b.vruntime && a.pid < b.pid);
}

function fairUp(q: Task[], i: number): void {
  const t = q[i]!;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!fairLess(t, q[p]!)) break;
    q[i] = q[p]!;
    i = p;
  }
  q[i] = t;
}

function fairDown(q: Task[], i: number): void {
  const n = q.length;
  const t = q[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && fairLess(q[c + 1]!, q[c]!)) c++;
    if (!fairLess(q[c]!, t)) break;
    q[i] = q[c]!;
    i = c;
  }
  q[i] = t;
}

function fairPush(q: Task[], t: Task): void {
  q.push(t);
  fairUp(q, q.length - 1);
}

function fairRemove(q: Task[], t: Task): void {
  const i = q[0] === t ? 0 : q.indexOf(t);
  if (i < 0) return;
  const last = q.pop()!;
  if (i === q.length) return;
  q[i] = last;
  fairDown(q, i);
  fairUp(q, i);
}

/** One-shot timer event. */
class TimerEvent implements Handler {
  constructor(readonly fn: () => void) {}
  fire(): void {
    this.fn();
  }
}

/** A deferred drive of a CPU (wake-ups and kicks from other CPUs are never run re-entrantly). */
class KickEvent implements Handler {
  constructor(readonly m: Machine) {}
  fire(cpu: number): void {
    const c = this.m.cpus[cpu]!;
    c.kickQueued = false;
    if (c.status === CPU_IDLE || c.status === CPU_SPIN || c.status === CPU_READY) this.m.drive(c);
  }
}

/** The hypervisor runs a stolen vCPU again. */
class StealResumeEvent implements Handler {
  constructor(
    readonly m: Machine,
    readonly cpu: Cpu,
  ) {}
  fire(): void {
    this.m.drive(this.cpu);
  }
}

export class Machine {
  readonly cfg: MachineConfig;
  readonly queue: EventQueue;
  now = 0;
  readonly cpus: Cpu[] = [];
  readonly tasks: Task[] = [];
  readonly dmesg: DmesgLine[] = [];
  readonly findings: Finding[] = [];
  readonly hooks: MachineHooks = { qs: [], tick: [], explore: [], end: [] };
  readonly wq: WorkqueueSystem;
  readonly watchdogs: Watchdogs;
  /** The hypervisor that steals the vCPUs (timed driver with a steal profile), else null. */
  readonly hv: Hypervisor | null;
  private traceSink: TraceSink | null = null;
  /** Tracing at TRACE_MODEL or above: models emit kernel-function slices, instants and flows. */
  modelTrace = false;
  /** Tracing at TRACE_ALL: also every user load and store. */
  traceAll = false;
  private nextFlow = 1;
  /** Where trace events go (null: not tracing); the sink's level sets modelTrace and traceAll. */
  get trace(): TraceSink | null {
    return this.traceSink;
  }
  set trace(s: TraceSink | null) {
    this.traceSink = s;
    const level = s === null ? 0 : (s.level ?? TRACE_MODEL);
    this.modelTrace = level >= TRACE_MODEL;
    this.traceAll = level >= TRACE_ALL;
  }
  /** Stop the run at the first finding (explore driver, race checking)... */
  stopOnFinding = false;
  /** ...that passes this filter (null: any finding). */
  stopFilter: ((f: Finding) => boolean) | null = null;
  stopped = false;
  stopReason = "";
  /**
   * The explore driver stopped at its step budget while a CPU could still move: the run did not end,
   * so end-of-run checks of things that must eventually happen (a leak: work nothing will finish)
   * cannot judge it.
   */
  cut = false;
  readonly tickNs: number;
  /** The driver: "timed", or "explore" (from the start, or after a warm start: enterExplore). */
  mode: DriverMode;
  /** Explore driver: chosen CPU per step. */
  readonly choices: number[] = [];
  /** Explore driver: label of each step (cpu:site). */
  readonly stepLabels: string[] = [];
  private strategy: ExploreStrategy | null = null;
  private readonly labelCache = new StepLabelCache();
  private nextPid = 1;
  private readonly softirqHandlers: (IrqHandler | null)[] = new Array(10).fill(null);
  private readonly kickEvent = new KickEvent(this);
  private readonly rngs = new Map<string, Rng>();
  private readonly jitterRng: Rng;
  private lastMightSleepReport = Number.NEGATIVE_INFINITY;
  private readonly tickHandlers: IrqHandler[] = [];
  private readonly tickEvents: Handler[] = [];
  /** Holdoff episodes longer than this are kept in holdoffEvents (for holdoff-over-time plots). */
  holdoffEventMinNs = 1_000_000;
  readonly holdoffEvents: { t: number; cpu: number; kind: string; ns: number }[] = [];
  /** Lock or yield sites switched off by the scenario ("what breaks if this lock goes?"). */
  readonly disabledSites = new Set<string>();
  /** Extension slots for lower layers attached to this machine (sync: lock stats, RCU, lockdep). */
  readonly ext: Record<string, unknown> = {};

  /** The object a lower layer keeps on this machine under `key`, created on first use. */
  extension<T>(key: string, create: (m: Machine) => T): T {
    let v = this.ext[key] as T | undefined;
    if (v === undefined) {
      v = create(this);
      this.ext[key] = v;
    }
    return v;
  }
  /**
   * Explore driver: where the shared objects the current step touches are recorded (for
   * partial-order reduction). Null when not recording. Keys are "kind:id" strings; a write
   * conflicts with any access.
   */
  footprint: FootprintSink | null = null;
  /** Bursts completed without a queue round trip (see Cpu.startBurst). */
  fastForwards = 0;
  /** End of the current timed run: fast-forwarding never passes it. */
  runUntil = Number.POSITIVE_INFINITY;
  /**
   * Kernel code passes its steps in place when the CPU loop would do them and resume it at once
   * (canPass); off, every step goes through the loop (the results are the same: a test compares).
   */
  passSteps: boolean;
  /** Steps run by the explore driver. */
  steps = 0;
  /** Generator resumptions of kernel code (tasks, irq and softirq frames), both drivers. */
  resumptions = 0;
  taint = "";
  /** The cost of running one hrtimer_sleeper's timer in hrtimer_interrupt() (src/sim/hrtimer.ts). */
  readonly hrtimerStep: IteratorResult<Step, unknown>;

  constructor(cfg: Partial<MachineConfig> = {}) {
    this.cfg = defaultMachineConfig(cfg);
    validateMachineConfig(this.cfg);
    if (this.cfg.cpus > MAX_LANE) throw new RangeError("too many CPUs for the event queue lanes");
    this.mode = this.cfg.mode;
    this.passSteps = this.cfg.passSteps;
    // explore runs are short-lived and keep few timers; timed runs grow as needed
    this.queue = new EventQueue(this.mode === "explore" ? 32 : 256);
    this.tickNs = Math.round(1e9 / this.cfg.hz);
    this.hrtimerStep = Object.freeze({ done: false, value: this.cfg.costs.hrtimerNs });
    this.jitterRng = this.rng("jitter");
    this.hv =
      this.mode === "timed" && this.cfg.steal !== "none"
        ? new Hypervisor(stealProfile(this.cfg.steal), (i) => this.rng(`steal.cpu${i}`), this.cfg.cpus)
        : null;
    for (let i = 0; i < this.cfg.cpus; i++) this.cpus.push(new Cpu(this, i));
    this.wq = new WorkqueueSystem(this);
    this.watchdogs = new Watchdogs(this);
    for (const c of this.cpus) this.bootCpu(c);
    if (this.mode === "timed") this.watchdogs.start();
  }

  // ---------------------------------------------------------------- randomness and time helpers

  /** The named PRNG stream of this run (independent per name, fixed by the seed). */
  rng(name: string): Rng {
    let r = this.rngs.get(name);
    if (r === undefined) {
      r = new Rng(this.cfg.seed, name);
      this.rngs.set(name, r);
    }
    return r;
  }

  /** A cost with the configured jitter applied (timed driver only; explore ignores time). */
  jit(ns: number): number {
    return this.cfg.jitter > 0 ? this.jitterRng.jitter(ns, this.cfg.jitter) : ns;
  }

  get jiffies(): number {
    return Math.floor(this.now / this.tickNs);
  }

  // ---------------------------------------------------------------- tracing and messages

  emit(kind: TraceKind, cpu: number, name: string, detail = "", a = 0, b = 0): void {
    const tr = this.traceSink;
    if (tr === null) return;
    const pid = cpu >= 0 ? this.cpus[cpu]!.curr.pid : 0;
    const e: TraceEvent = { t: this.now, cpu, kind, pid, name, detail, a, b };
    tr.event(e);
  }

  /** A trace event at time `t` (a model's own clock: now plus the CPU time it has used since its last yield). */
  emitAt(t: number, kind: TraceKind, cpu: number, name: string, detail = "", a = 0, b = 0): void {
    const tr = this.traceSink;
    if (tr === null) return;
    const pid = cpu >= 0 ? this.cpus[cpu]!.curr.pid : 0;
    tr.event({ t, cpu, kind, pid, name, detail, a, b });
  }

  /**
   * A kernel function `name` that ran on `cpu` from `start` to `end`, emitted when it returns (so the
   * stream stays in time order; `end` may lie ahead of now by the CPU time not yet charged).
   */
  slice(cpu: number, name: string, start: number, end = this.now, detail = ""): void {
    if (this.traceSink !== null) this.emit("slice", cpu, name, detail, start, end);
  }

  /** A counter track's new value (cpu >= 0: a per-CPU track). */
  counter(name: string, cpu: number, value: number): void {
    if (this.traceSink !== null) this.emit("counter", cpu, name, "", value);
  }

  /**
   * The start of a flow (a cause) in the context running on `cpu` now; returns its id for flowEnd
   * (0 when not tracing or not on a CPU).
   */
  flowStart(cpu: number, name: string): number {
    if (this.traceSink === null || cpu < 0) return 0;
    const id = this.nextFlow++;
    this.emit("flow_start", cpu, name, "", id, this.cpus[cpu]!.top.kind);
    return id;
  }

  /** The end of flow `id` (its effect) in the context running on `cpu` now. */
  flowEnd(cpu: number, name: string, id: number): void {
    if (id !== 0 && this.traceSink !== null)
      this.emit("flow_end", cpu, name, "", id, this.cpus[cpu]!.top.kind);
  }

  /** A flow from the context running now to context `to`, ended there by flowIn (lock hand-over, wake-up). */
  flowTo(to: Ctx, name: string): void {
    if (this.traceSink === null) return;
    const c = this.currentCpu;
    if (c === null) return;
    to.flowIn = this.flowStart(c.id, name);
    to.flowInName = name;
  }

  /** Ends the flow that flowTo left on `k` (if any), under the name it started with. */
  flowIn(k: Ctx): void {
    if (k.flowIn === 0) return;
    this.flowEnd(k.cpu.id, k.flowInName, k.flowIn);
    k.flowIn = 0;
  }

  /** printk: one dmesg line (the timestamp prefix is added when printed). */
  printk(cpu: number, text: string): void {
    this.dmesg.push({ t: this.now, cpu, text });
    this.emit("dmesg", cpu, "printk", text);
  }

  report(f: Omit<Finding, "t" | "steps" | "kind"> & { kind: FindingKind; steps?: string[] }): void {
    const finding: Finding = { ...f, t: this.now, steps: f.steps ?? this.stepLabels.slice(-64) };
    this.findings.push(finding);
    this.emit("model", f.cpus[0] ?? -1, `finding:${f.kind}`, f.message);
    if (this.stopOnFinding && (this.stopFilter === null || this.stopFilter(finding)))
      this.stop(`finding: ${f.kind}`);
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopReason = reason;
  }

  /**
   * Record that the running step reads (write=false) or writes a shared object. Call it right after
   * the yield point that guards the access. Free in the timed driver.
   */
  touch(key: string, write = true): void {
    const fp = this.footprint;
    if (fp !== null) fp.touch(key, write);
  }

  /**
   * Record that the running step updates a shared object in a way that commutes with every other
   * update of it recorded so (any two of them, in either order, leave states no later step can tell
   * apart), while its reads and writes do not commute with it. Free in the timed driver.
   */
  touchUpdate(key: string): void {
    const fp = this.footprint;
    if (fp === null) return;
    if (fp.update !== undefined) fp.update(key);
    else fp.touch(key, true);
  }

  /**
   * Record that the running step takes a free lock `o` (its key) that it may release before the
   * step ends: a read of the key, which becomes a write if the step ends with `o` still locked
   * (Machine.step). A lock taken and released within one step leaves it as the step found it.
   */
  touchHeldRead(o: { readonly key: string; readonly locked: boolean }): void {
    const fp = this.footprint;
    if (fp === null) return;
    if (fp.heldRead === undefined) {
      fp.touch(o.key, true);
      return;
    }
    fp.heldRead(o.key);
    this.heldReads.push(o);
  }

  /** The locks the running step took as reads (touchHeldRead); those still locked at its end are writes. */
  private readonly heldReads: { readonly key: string; readonly locked: boolean }[] = [];

  private endHeldReads(): void {
    const fp = this.footprint;
    if (fp !== null) for (const o of this.heldReads) if (o.locked) fp.touch(o.key, true);
    this.heldReads.length = 0;
  }

  // ---------------------------------------------------------------- tasks

  /** Create a task pinned to `cpu` running `fn`; it starts runnable. */
  createTask(
    comm: string,
    cpu: number,
    fn: TaskFn,
    opts: {
      policy?: SchedPolicy;
      rtPrio?: number;
      kthread?: boolean;
      stack?: string[];
      start?: boolean;
    } = {},
  ): Task {
    const c = this.cpus[cpu];
    if (c === undefined) throw new RangeError(`createTask: no CPU ${cpu}`);
    const t = new Task(
      this,
      this.nextPid++,
      comm,
      c,
      opts.policy ?? "normal",
      opts.rtPrio ?? 0,
      opts.kthread ?? true,
    );
    t.frame.stack = opts.stack ?? (t.kthread ? ["ret_from_fork", "kthread"] : []);
    t.frame.gen = new TaskStart(t.frame, fn) as unknown as KGen<unknown>;
    t.vruntime = c.minVruntime;
    t.lastSwitchTime = this.now;
    this.tasks.push(t);
    if (opts.start === false) {
      t.state = TASK_INTERRUPTIBLE;
    } else {
      this.wakeUpProcess(t);
    }
    return t;
  }

  /** The task's function returned: do_exit(), the task dies and never runs again. */
  private taskExit(c: Cpu, t: Task): void {
    if (c.irqsOff || c.preemptCount !== 0) this.exitAtomic(t, c);
    t.exited = true;
    t.state = TASK_DEAD;
    this.schedule(c, false);
  }

  /**
   * do_exit() / make_task_dead() (kernel/exit.c, 5.x-6.x): a task that dies with irqs off or a raised
   * preempt_count gets a note, and the CPU is repaired so that it does not idle atomic for ever.
   */
  private exitAtomic(t: Task, c: Cpu): void {
    const notes: string[] = [];
    if (c.irqsOff) notes.push(`note: ${t.comm}[${t.pid}] exited with irqs disabled`);
    if (c.preemptCount !== 0)
      notes.push(`note: ${t.comm}[${t.pid}] exited with preempt_count ${c.preemptCount}`);
    for (const l of notes) this.printk(c.id, l);
    this.report({
      kind: "exit_atomic",
      cpus: [c.id],
      message: notes[0]!,
      details: { pid: t.pid, comm: t.comm, preempt_count: c.preemptCount, irqs_disabled: c.irqsOff },
    });
    c.irqsOff = false;
    c.preemptCount = 0;
  }

  /** Allocate the next pid without creating a task (for modelled fork). */
  allocPid(): number {
    return this.nextPid++;
  }

  // ---------------------------------------------------------------- scheduler

  /**
   * try_to_wake_up() (kernel/sched/core.c): returns false if the task was already running. `flow`
   * names the trace's arrow from the waker to the wake-up (the lock handed over, else "wakeup").
   */
  wakeUpProcess(t: Task, flow = "wakeup"): boolean {
    if (t.state === TASK_RUNNING && (t.onRq || t.cpu.curr === t)) return false;
    if (t.state === TASK_DEAD) return false;
    t.state = TASK_RUNNING;
    if (t.worker?.sleeping) this.wq.workerWaking(t);
    const c = t.cpu;
    if (this.footprint !== null) this.touch(`rq:${c.id}`);
    if (c.curr === t) return true; // woken before it got to schedule(): stays on the CPU
    this.enqueue(c, t);
    if (this.traceSink !== null) this.emit("sched_wakeup", c.id, t.comm, "", t.pid, c.id);
    if (this.traceSink !== null) this.flowTo(t.frame, flow);
    this.checkPreemptWakeup(c, t);
    return true;
  }

  private enqueue(c: Cpu, t: Task): void {
    if (t.onRq) return;
    t.onRq = true;
    if (this.traceSink !== null)
      this.counter("runnable", c.id, c.rqStop.length + c.rqFifo.length + c.rqFair.length + 1);
    if (t.policy === "stop") c.rqStop.push(t);
    else if (t.policy === "fifo") {
      c.rqFifo.insertByPrio(t);
    } else {
      // place_entity(): a waking fair task gets at least min_vruntime - half a slice
      const floor = c.minVruntime - this.sliceNs() / 2;
      if (t.vruntime < floor) t.vruntime = floor;
      fairPush(c.rqFair, t);
    }
  }

  private dequeue(c: Cpu, t: Task): void {
    if (!t.onRq) return;
    t.onRq = false;
    if (t.policy !== "stop" && t.policy !== "fifo") fairRemove(c.rqFair, t);
    else {
      (t.policy === "stop" ? c.rqStop : c.rqFifo).remove(t);
    }
    if (this.traceSink !== null)
      this.counter("runnable", c.id, c.rqStop.length + c.rqFifo.length + c.rqFair.length);
  }

  /** EEVDF base slice: 0.75 ms x (1 + ilog2(min(nCPU, 8))) (kernel/sched/fair.c, 6.6+). */
  sliceNs(): number {
    const n = Math.min(this.cfg.cpus, 8);
    return 750_000 * (1 + Math.floor(Math.log2(n)));
  }

  /** resched_curr() / resched_curr_lazy() */
  reschedCurr(c: Cpu, lazy: boolean): void {
    if (lazy && this.cfg.preempt === "lazy") {
      c.needReschedLazy = true;
      return;
    }
    this.setNeedResched(c);
  }

  private setNeedResched(c: Cpu): void {
    if (!c.needResched) {
      c.needResched = true;
      c.reschedSince = this.now;
      if (this.traceSink !== null) this.counter("need_resched", c.id, 1);
      // attribute the holdoff to the context that is holding the CPU (not the irq setting the flag)
      let i = c.frames.length - 1;
      if (i > 0 && c.frames[i]!.kind === CTX_HARDIRQ) i--;
      c.reschedKind = c.frames[i]!.kind;
      for (let k = 0; k < 3; k++) c.reschedBusyNs[k] = c.busyNs[k]!;
    }
    if (c.status === CPU_IDLE && !c.inDrive) this.kick(c);
  }

  private checkPreemptWakeup(c: Cpu, t: Task): void {
    const curr = c.curr;
    let preempt = false;
    let lazy = false;
    if (curr.isIdle) preempt = true;
    else if (t.policy === "stop") preempt = curr.policy !== "stop";
    else if (t.policy === "fifo")
      preempt = curr.policy === "normal" || (curr.policy === "fifo" && t.rtPrio > curr.rtPrio);
    else if (curr.policy === "normal") {
      // wakeup preemption of a fair task by a fair task: vruntime lead beyond the wakeup granularity
      const gran = this.sliceNs() / 3;
      preempt = curr.vruntime + (this.now - curr.execStart) - t.vruntime > gran;
      lazy = true;
    }
    if (!preempt) {
      if (c.status === CPU_IDLE) this.kick(c);
      return;
    }
    this.reschedCurr(c, lazy);
    // a remote CPU learns of it through the reschedule IPI (preempting at irq exit under FULL)
    if (c !== this.currentCpu && !curr.isIdle && !(lazy && this.cfg.preempt === "lazy")) {
      this.sendIpi(c.id, "RES", reschedIpi);
    } else if (c.status === CPU_IDLE) this.kick(c);
  }

  /** The CPU whose code is running right now (inside drive), or null when between events. */
  currentCpu: Cpu | null = null;

  private pickNext(c: Cpu): Task {
    if (c.rqStop.length > 0) return c.rqStop.first();
    if (c.rqFifo.length > 0) return c.rqFifo.first();
    // the fair task with the least (vruntime, pid): the heap's root
    const q = c.rqFair;
    return q.length === 0 ? c.idle : q[0]!;
  }

  /** __schedule(): `preempt` is true for involuntary preemption (the task stays runnable). */
  private schedule(c: Cpu, preempt: boolean): void {
    const prev = c.curr;
    if (this.footprint !== null) this.touch(`rq:${c.id}`);
    if (!preempt && c.preemptCount !== 0 && !prev.isIdle) {
      this.schedulingWhileAtomic(c, prev);
    }
    // rcu_note_context_switch() comes first, as in __schedule(): ending a grace period here may
    // wake prev itself, which must then stay runnable instead of being lost
    for (const q of this.hooks.qs) q(c, "context_switch");
    this.updateCurr(c);
    if (!prev.isIdle) {
      if (!preempt && prev.state !== TASK_RUNNING) {
        if (prev.worker !== null) this.wq.workerSleeping(prev);
      } else {
        this.enqueue(c, prev);
      }
    }
    this.honourResched(c);
    const next = this.pickNext(c);
    this.dequeue(c, next);
    if (next === prev) {
      if (prev.isIdle) this.enterIdle(c);
      return;
    }
    c.nrSwitches++;
    if (preempt) prev.nivcsw++;
    else prev.nvcsw++;
    prev.lastSwitchTime = this.now;
    next.lastSwitchTime = this.now;
    prev.savedPreemptCount = c.preemptCount;
    c.preemptCount = next.savedPreemptCount;
    // finish_task_switch() re-enables irqs: a task that slept with irqs off does not pass that on
    c.irqsOff = false;
    c.curr = next;
    next.cpu = c;
    const nf = next.frame;
    nf.cpu = c;
    c.frames[0] = nf;
    next.execStart = this.now;
    next.sliceExec = 0;
    if (this.traceSink !== null) {
      const prevState = prev.exited
        ? "X"
        : prev.state === TASK_RUNNING
          ? "R"
          : prev.state === TASK_UNINTERRUPTIBLE
            ? "D"
            : "S";
      this.emit("sched_switch", c.id, next.comm, prevState, prev.pid, next.pid);
    }
    if (nf.flowIn !== 0) this.flowIn(nf);
    if (next.isIdle) {
      this.enterIdle(c);
    } else {
      if (this.mode === "timed") nf.remaining += this.cfg.costs.contextSwitchNs;
      if (!c.tickArmed) this.armTick(c);
    }
  }

  private schedulingWhileAtomic(c: Cpu, prev: Task): void {
    const pc = c.preemptCount.toString(16).padStart(8, "0");
    this.printk(c.id, `BUG: scheduling while atomic: ${prev.comm}/${prev.pid}/0x${pc}`);
    this.report({
      kind: "scheduling_while_atomic",
      cpus: [c.id],
      message: `BUG: scheduling while atomic: ${prev.comm}/${prev.pid}/0x${pc}`,
      details: { pid: prev.pid, preempt_count: c.preemptCount },
    });
  }

  private enterIdle(c: Cpu): void {
    for (const q of this.hooks.qs) q(c, "idle");
  }

  /** Record the end of a holdoff episode: the CPU got its chance to reschedule. */
  private honourResched(c: Cpu): void {
    // holdoff is a timed-driver measurement: explore runs have no real time to hold off
    if (c.reschedSince >= 0 && this.mode === "timed") {
      const ns = this.now - c.reschedSince;
      // a hardirq or softirq that ran for most of the episode held the CPU off, whatever ran when
      // need_resched was set: label the holdoff with the context that took the most time in it
      let most = -1;
      for (let k = 0; k < 3; k++) {
        const d = c.busyNs[k]! - c.reschedBusyNs[k]!;
        if (d > most && d > 0) {
          most = d;
          c.reschedKind = k;
        }
      }
      c.holdoff.record(c.reschedKind, ns, this.now);
      if (ns >= this.holdoffEventMinNs && this.holdoffEvents.length < 100_000) {
        this.holdoffEvents.push({ t: c.reschedSince, cpu: c.id, kind: CTX_NAMES[c.reschedKind]!, ns });
      }
    }
    if (c.needResched && this.traceSink !== null) this.counter("need_resched", c.id, 0);
    c.reschedSince = -1;
    c.needResched = false;
    c.needReschedLazy = false;
  }

  /** update_curr(): charge the running fair task's vruntime. */
  private updateCurr(c: Cpu): void {
    const t = c.curr;
    if (t.isIdle) return;
    const d = this.now - t.execStart;
    if (d <= 0) return;
    t.execStart = this.now;
    t.sliceExec += d;
    if (t.policy === "normal") {
      t.vruntime += d;
      let min = t.vruntime;
      const q = c.rqFair;
      if (q.length > 0 && q[0]!.vruntime < min) min = q[0]!.vruntime;
      if (min > c.minVruntime) c.minVruntime = min;
    }
  }

  /** Time accounting of a finished (part of a) burst. */
  account(c: Cpu, f: Ctx, ns: number): void {
    if (ns <= 0) return;
    c.busyNs[f.kind] = c.busyNs[f.kind]! + ns;
    if (f.kind === CTX_TASK) f.task.sumExecNs += ns;
  }

  // ---------------------------------------------------------------- interrupts

  /** Raise a hardirq on `cpu` at time `at` (default now). */
  raiseIrq(cpu: number, name: string, handler: IrqHandler, at = this.now, flow = 0): void {
    const c = this.cpus[cpu]!;
    const req = new IrqReq(c, name, handler, flow);
    if (this.mode === "explore" || (c.inDrive && at <= this.now)) {
      this.deliverIrq(c, req);
      return;
    }
    // never drive another CPU synchronously from inside a step: its handler would run (and may
    // fast-forward time) in the middle of the caller's step; an irq due now goes through the queue
    this.queue.push(Math.max(at, this.now), cpu, req, 0);
  }

  /** Send an IPI: the target takes it after the IPI latency (explore: at its next step). */
  sendIpi(cpu: number, name: string, handler: IrqHandler): void {
    const flow =
      this.traceSink !== null && this.currentCpu !== null ? this.flowStart(this.currentCpu.id, name) : 0;
    this.raiseIrq(
      cpu,
      name,
      handler,
      this.now + (this.mode === "timed" ? this.cfg.costs.ipiLatencyNs : 0),
      flow,
    );
  }

  deliverIrq(c: Cpu, req: IrqReq): void {
    if (this.footprint !== null) this.touch(`rq:${c.id}`);
    c.pendingIrqs[c.pendingTail++] = req;
    if (c.inDrive) return; // the running loop takes it at its next check
    if (this.mode === "explore") {
      c.kicked = true;
      return;
    }
    this.drive(c);
  }

  private enterHardirq(c: Cpu, req: IrqReq): void {
    c.splitBurst();
    const below = c.top;
    if (below.spinning) this.accountSpin(c, below);
    let f: Ctx;
    if (req.handler === null) {
      // the local timer interrupt of the CPU's hrtimer base: hrtimer_interrupt() in the reused frame
      f = c.hrtimerFrame;
      if (f.gen !== null) throw new Error(`cpu ${c.id}: hrtimer interrupt nested in itself`);
      f.task = c.curr;
      f.gen = c.hrtimerInterrupt.begin() as unknown as KGen<unknown>;
    } else {
      f = new Ctx(this, CTX_HARDIRQ, c, c.curr);
      f.name = req.name;
      f.gen = req.handler(f);
    }
    f.savedIrqsOff = c.irqsOff;
    c.irqsOff = true;
    c.preemptCount += HARDIRQ_OFFSET;
    c.hardirqCount++;
    c.frames.push(f);
    f.remaining = this.mode === "timed" ? this.cfg.costs.irqEntryNs : 0;
    if (this.traceSink !== null) this.emit("irq_handler_entry", c.id, req.name);
    if (req.flow !== 0) this.flowEnd(c.id, req.name, req.flow);
  }

  private accountSpin(c: Cpu, f: Ctx): void {
    this.account(c, f, this.now - f.spinSince);
    f.spinSince = this.now;
  }

  /** raise_softirq(): mark pending; outside interrupt context wake ksoftirqd (kernel/softirq.c). */
  raiseSoftirq(cpu: number, nr: number): void {
    const c = this.cpus[cpu]!;
    c.softirqPending |= 1 << nr;
    if (c !== this.currentCpu) {
      // raised for another CPU (RCU callbacks): it runs at that CPU's next irq exit, or ksoftirqd if idle
      if (c.curr.isIdle) this.wakeUpProcess(c.ksoftirqd);
      return;
    }
    if (!c.inInterrupt()) this.wakeUpProcess(c.ksoftirqd);
  }

  /** open_softirq() */
  openSoftirq(nr: number, handler: IrqHandler): void {
    this.softirqHandlers[nr] = handler;
  }

  private pushSoftirqFrame(c: Cpu, fromIrq: boolean): void {
    const f = new Ctx(this, CTX_SOFTIRQ, c, c.curr);
    f.name = "softirq";
    f.fromIrq = fromIrq;
    f.gen = this.doSoftirq(f);
    c.preemptCount += SOFTIRQ_OFFSET;
    c.frames.push(f);
  }

  /** __do_softirq() (kernel/softirq.c): rounds bounded by MAX_SOFTIRQ_TIME, MAX_SOFTIRQ_RESTART, need_resched. */
  private *doSoftirq(k: Ctx): KGen<void> {
    const c = k.cpu;
    const budgetJiffies = Math.max(1, Math.ceil((MAX_SOFTIRQ_TIME_MS * 1e6) / this.tickNs));
    const end = this.jiffies + budgetJiffies;
    let restart = MAX_SOFTIRQ_RESTART;
    for (;;) {
      let pending = c.softirqPending;
      c.softirqPending = 0;
      c.irqsOff = false;
      while (pending !== 0) {
        const nr = 31 - Math.clz32(pending & -pending);
        pending &= ~(1 << nr);
        const h = this.softirqHandlers[nr];
        if (h === null || h === undefined) continue;
        const name = SOFTIRQ_NAMES[nr] ?? String(nr);
        c.softirqCount++;
        this.emit("softirq_entry", c.id, name, "", nr);
        k.stack = ["__do_softirq"];
        yield* h(k);
        this.emit("softirq_exit", c.id, name, "", nr);
      }
      c.irqsOff = true;
      if (c.softirqPending === 0) break;
      if (this.jiffies < end && !c.needResched && --restart > 0) continue;
      this.wakeUpProcess(c.ksoftirqd);
      break;
    }
  }

  /** irq_exit() + irqentry_exit(): softirqs, then the preemption check on return. */
  private irqExit(c: Cpu, f: Ctx): void {
    c.frames.pop();
    if (f.kind === CTX_HARDIRQ) {
      if (this.traceSink !== null) this.emit("irq_handler_exit", c.id, f.name);
      c.preemptCount -= HARDIRQ_OFFSET;
      c.irqsOff = f.savedIrqsOff;
      if (!c.inInterrupt() && c.softirqPending !== 0) {
        c.irqsOff = true;
        this.pushSoftirqFrame(c, true);
        return;
      }
    } else {
      c.preemptCount -= SOFTIRQ_OFFSET;
      c.irqsOff = false;
      if (!f.fromIrq) {
        // local_bh_enable(): do_softirq() then preempt_check_resched() (kernel/softirq.c)
        if (c.preemptCount === 0 && this.preemptible() && c.needResched && c.top.kind === CTX_TASK)
          this.schedule(c, true);
        return;
      }
    }
    const below = c.top;
    if (below.spinning) below.spinSince = this.now;
    if (below.kind !== CTX_TASK) return;
    this.irqReturnResched(c);
  }

  /** Return from interrupt to task context: to user mode, or preempt kernel code under FULL/LAZY. */
  private irqReturnResched(c: Cpu): void {
    const t = c.curr;
    if (t.isIdle) {
      if (c.needResched || c.rqFair.length + c.rqFifo.length + c.rqStop.length > 0) this.schedule(c, true);
      return;
    }
    if (t.inUser) {
      if (c.needResched || c.needReschedLazy) this.schedule(c, true);
      return;
    }
    if (this.preemptible() && c.preemptCount === 0 && c.needResched && !c.irqsOff) this.schedule(c, true);
  }

  /** Kernel code is preempted when preempt_count drops to 0 (PREEMPT, LAZY). */
  preemptible(): boolean {
    return this.cfg.preempt === "full" || this.cfg.preempt === "lazy";
  }

  // ---------------------------------------------------------------- the CPU loop

  /** Run the CPU's top context until it must wait (burst, spin, idle, explore pause). */
  drive(c: Cpu): void {
    if (c.inDrive) return;
    if (this.stopped) return;
    if (this.hv !== null) {
      // a stolen vCPU runs nothing: whatever wanted it (irq, wake-up, burst end) waits for it
      const at = this.hv.runnableAt(c.id, this.now);
      if (at > this.now) {
        this.queue.push(at, c.id, new StealResumeEvent(this, c), 0);
        return;
      }
    }
    c.inDrive = true;
    const prevCpu = this.currentCpu;
    this.currentCpu = c;
    c.kicked = false;
    // an interrupt delivered mid-burst: keep only the unspent part of the burst on the frame
    if (c.status === CPU_BURST) c.splitBurst();
    c.status = CPU_RUNNING;
    const timed = this.mode === "timed";
    try {
      for (let guard = 0; ; guard++) {
        if (guard > 50_000_000) throw new Error(`cpu ${c.id}: runaway loop without time passing`);
        if (c.pendingHead < c.pendingTail && !c.irqsOff) {
          const irqs = c.pendingIrqs;
          const req = irqs[c.pendingHead]!;
          irqs[c.pendingHead++] = null;
          if (c.pendingHead === c.pendingTail) {
            c.pendingHead = c.pendingTail = 0;
          } else if (c.pendingHead >= 1024) {
            irqs.copyWithin(0, c.pendingHead, c.pendingTail);
            c.pendingTail -= c.pendingHead;
            irqs.fill(null, c.pendingTail);
            c.pendingHead = 0;
          }
          this.enterHardirq(c, req);
          continue;
        }
        const f = c.top;
        if (f.remaining > 0) {
          if (timed) {
            // stopped from inside a step (a warm start's event): stop at this CPU's next cost
            if (this.stopped) return;
            if (c.startBurst(f)) return;
            guard = 0;
            continue;
          }
          f.remaining = 0;
        }
        if (f.spinning) {
          c.status = CPU_SPIN;
          return;
        }
        if (f.gen === null) {
          // the idle task
          if (c.rqStop.length + c.rqFifo.length + c.rqFair.length > 0) {
            this.schedule(c, false);
            continue;
          }
          // back in the idle loop (e.g. after an irq or softirq ran on the idle task): extended QS
          for (const q of this.hooks.qs) q(c, "idle");
          c.status = CPU_IDLE;
          this.stopTick(c);
          return;
        }
        if (f.paused) {
          c.status = CPU_READY;
          return;
        }
        if (f.task.quiescent !== null && f.kind === CTX_TASK) f.task.quiescent = null;
        let r = f.gen.next(f.resume);
        f.resume = undefined;
        this.resumptions++;
        // a subcall made or a subcall's generator ended: go on at once, as yield* would
        if (r.done ? f.callers !== null && f.callers.length !== 0 : r.value === CALL) r = this.subcalls(f, r);
        if (r.done) {
          f.gen = null;
          if (f.kind !== CTX_TASK) this.irqExit(c, f);
          else {
            this.taskExit(c, f.task);
            if (this.stopped) return;
          }
          continue;
        }
        const v = r.value;
        if (typeof v === "number") {
          if (v > 0 && timed) f.remaining = v;
          continue;
        }
        this.effect(c, f, v);
        if (this.stopped) return;
      }
    } finally {
      c.inDrive = false;
      this.currentCpu = prevCpu;
      if (c.status === CPU_RUNNING) c.status = CPU_READY;
    }
  }

  /**
   * Ctx.subcall: start the callee (`r` is CALL), or resume the caller with a callee's return value
   * (`r` done with callers waiting), as often as that repeats; the first other result is returned.
   */
  private subcalls(f: Ctx, r: IteratorResult<Step, unknown>): IteratorResult<Step, unknown> {
    for (;;) {
      if (r.done) {
        const cs = f.callers;
        if (cs === null || cs.length === 0) return r;
        f.gen = cs.pop()!;
        r = f.gen.next(r.value);
      } else if (r.value === CALL) {
        const cs = (f.callers ??= []);
        cs.push(f.gen!);
        const via = f.calleeVia;
        if (via !== null) while (via.length !== 0) cs.push(via.pop()!);
        f.gen = f.callee;
        f.callee = null;
        const first = f.calleeFirst;
        if (first !== null) {
          // subcallFrom: the caller started the callee; go on with what that gave
          f.calleeFirst = null;
          r = first;
          continue;
        }
        r = f.gen!.next(undefined);
      } else return r;
      this.resumptions++;
    }
  }

  private effect(c: Cpu, f: Ctx, e: Effect): void {
    switch (e.op) {
      case OP_YIELD:
        f.site = e.site;
        if (this.mode === "explore") f.paused = true;
        return;
      case OP_SCHEDULE:
        if (f.kind !== CTX_TASK) {
          this.bugSleepingInIrq(c, f, "schedule");
          return;
        }
        this.schedule(c, false);
        return;
      case OP_COND_RESCHED:
        this.condResched(c, f, e);
        return;
      case OP_MIGHT_SLEEP:
        this.mightSleepCheck(c, f, e, 0);
        if (this.cfg.preempt === "voluntary") this.condReschedNoCheck(c, f);
        return;
      case OP_PREEMPT_ENABLE:
        c.preemptCount--;
        if ((c.preemptCount & PREEMPT_MASK) === PREEMPT_MASK)
          throw new Error(`cpu ${c.id}: preempt_count underflow`);
        if (this.preemptsAt(c, f, c.preemptCount)) this.schedule(c, true);
        return;
      case OP_IRQ_ENABLE:
        c.irqsOff = false;
        // pending interrupts are taken by the loop; then the preemption check of the irq return
        return;
      case OP_BH_ENABLE:
        c.preemptCount -= SOFTIRQ_DISABLE_OFFSET;
        if (!c.inInterrupt() && c.softirqPending !== 0 && !c.irqsOff) this.pushSoftirqFrame(c, false);
        else if (c.preemptCount === 0 && this.preemptible() && c.needResched && f.kind === CTX_TASK)
          this.schedule(c, true);
        return;
      case OP_SPIN:
        f.spinning = true;
        f.spinSince = this.now;
        return;
      case OP_RET_TO_USER:
        f.task.inUser = true;
        for (const q of this.hooks.qs) q(c, "user");
        if (c.needResched || c.needReschedLazy) this.schedule(c, true);
        return;
      case OP_ENTER_KERNEL:
        f.task.inUser = false;
        return;
      case OP_RUN_SOFTIRQ:
        if (c.softirqPending !== 0) {
          c.irqsOff = true;
          this.pushSoftirqFrame(c, false);
        }
        return;
      default:
        throw new Error(`unknown effect op ${e.op}`);
    }
  }

  /** __cond_resched() (kernel/sched/core.c): meaningful only under NONE/VOLUNTARY. */
  private condResched(c: Cpu, f: Ctx, e: Effect): void {
    this.mightSleepCheck(c, f, e, 0);
    if (this.preemptible()) return;
    this.condReschedNoCheck(c, f);
  }

  private condReschedNoCheck(c: Cpu, f: Ctx): void {
    if (f.kind === CTX_TASK && c.preemptCount === 0 && c.needResched) {
      this.schedule(c, true);
      return;
    }
    if (!this.preemptible()) for (const q of this.hooks.qs) q(c, "rcu_all_qs");
  }

  /** __might_sleep() / __might_resched() (kernel/sched/core.c) with CONFIG_DEBUG_ATOMIC_SLEEP. */
  private mightSleepCheck(c: Cpu, f: Ctx, e: Effect, offset: number): void {
    if (!this.cfg.debugAtomicSleep || this.maySleep(c, offset)) return;
    this.bugSleepingInIrq(c, f, e.file ? `${e.file}:${e.line}` : e.site);
  }

  /** __might_resched()'s test: preempt_count as expected (`offset`), irqs on, no RCU read side. */
  private maySleep(c: Cpu, offset: number): boolean {
    // with PREEMPT_RCU an rcu_read_lock() section is invalid context too (rcu_preempt_depth())
    const rcuNest = this.preemptible() ? c.curr.rcuReadDepth : 0;
    return c.preemptCount === offset && !c.irqsOff && rcuNest === 0;
  }

  /**
   * preempt_enable() leaving preempt_count at `count`: a preemption point (preempt_schedule()) when
   * that is 0, the model is preemptible, a reschedule is due, and a task runs with irqs on.
   */
  private preemptsAt(c: Cpu, f: Ctx, count: number): boolean {
    return count === 0 && this.preemptible() && c.needResched && f.kind === CTX_TASK && !c.irqsOff;
  }

  private bugSleepingInIrq(c: Cpu, f: Ctx, where: string): void {
    const t = c.curr;
    const lines = [
      `BUG: sleeping function called from invalid context at ${where}`,
      `in_atomic(): ${c.preemptCount !== 0 ? 1 : 0}, irqs_disabled(): ${c.irqsOff ? 1 : 0}, non_block: 0, pid: ${t.pid}, name: ${t.comm}`,
      `preempt_count: ${c.preemptCount.toString(16)}, expected: 0`,
      ...(this.preemptible() ? [`RCU nest depth: ${t.rcuReadDepth}, expected: 0`] : []),
      ...this.callTrace(c),
    ];
    // rate limit: at most one report per second (prev_jiffy + HZ)
    if (this.now < this.lastMightSleepReport + 1e9) return;
    this.lastMightSleepReport = this.now;
    for (const l of lines) this.printk(c.id, l);
    if (!this.taint.includes("W")) this.taint += "W";
    this.report({
      kind: "might_sleep",
      cpus: [c.id],
      message: lines[0]!,
      details: {
        pid: t.pid,
        comm: t.comm,
        preempt_count: c.preemptCount,
        irqs_disabled: c.irqsOff,
        context: CTX_NAMES[f.kind]!,
      },
    });
  }

  /** Call Trace lines built from the CPU's frames (innermost first), as dump_stack() prints them. */
  callTrace(c: Cpu): string[] {
    const out = ["Call Trace:"];
    for (let i = c.frames.length - 1; i >= 0; i--) {
      const f = c.frames[i]!;
      const open = f.kind === CTX_TASK ? "<TASK>" : "<IRQ>";
      const close = f.kind === CTX_TASK ? "</TASK>" : "</IRQ>";
      if (f.kind === CTX_TASK && f.task.isIdle) {
        out.push(" <TASK>", " do_idle", " cpu_startup_entry", " </TASK>");
        continue;
      }
      out.push(` ${open}`);
      for (let j = f.stack.length - 1; j >= 0; j--) out.push(` ${f.stack[j]}`);
      out.push(` ${close}`);
    }
    return out;
  }

  // ---------------------------------------------------------------- steps passed in place

  /**
   * Can the running code of `k` pass a step in place, without yielding it to the CPU loop? Only in
   * the timed driver, with `passSteps` on, while `k` runs as its CPU's top frame inside the loop,
   * with nothing left to charge and no interrupt the loop would take first (none pending, or irqs
   * off), and the run not stopped: then the loop, given the step, would do it and resume `k` at
   * once, and the pass* methods below do the same thing in place (see the engine guide).
   */
  private canPass(k: Ctx): boolean {
    if (!this.passSteps || this.mode !== "timed" || this.stopped) return false;
    const c = k.cpu;
    return (
      c.inDrive &&
      this.currentCpu === c &&
      c.frames[c.frames.length - 1] === k &&
      k.remaining === 0 &&
      (c.pendingHead === c.pendingTail || c.irqsOff)
    );
  }

  /**
   * `yield ns` in place: true when the burst ends before every queued event and within the run (the
   * loop's startBurst() would complete it without a queue round trip, through the same
   * Cpu.fastForward, the hypervisor's steal included), after doing what it does. False: nothing was
   * done and the caller yields `ns`.
   */
  passCost(k: Ctx, ns: number): boolean {
    if (!this.canPass(k)) return false;
    const c = k.cpu;
    return ns <= 0 || c.fastForward(k, ns, c.endOf(ns));
  }

  /** `yield point` (an OP_YIELD effect) in place: the timed driver only notes the site. */
  passPoint(k: Ctx, point: Effect): boolean {
    if (!this.canPass(k)) return false;
    k.site = point.site;
    return true;
  }

  /** `yield PREEMPT_ENABLE` in place, when it is no preemption point (it would not call schedule()). */
  passPreemptEnable(k: Ctx): boolean {
    if (!this.canPass(k)) return false;
    const c = k.cpu;
    const pc = c.preemptCount - 1;
    if ((pc & PREEMPT_MASK) === PREEMPT_MASK) return false; // the loop reports the underflow
    if (this.preemptsAt(c, k, pc)) return false;
    c.preemptCount = pc;
    return true;
  }

  /** `yield IRQ_ENABLE` in place, when no interrupt is pending (the loop would take it next). */
  passIrqEnable(k: Ctx): boolean {
    if (!this.canPass(k)) return false;
    const c = k.cpu;
    if (c.pendingHead !== c.pendingTail) return false;
    c.irqsOff = false;
    return true;
  }

  /**
   * `yield mightSleep(...)` in place, when the debug check passes silently and the model is not
   * VOLUNTARY (where might_sleep() is a cond_resched()).
   */
  passMightSleep(k: Ctx): boolean {
    if (!this.canPass(k) || this.cfg.preempt === "voluntary") return false;
    return !this.cfg.debugAtomicSleep || this.maySleep(k.cpu, 0);
  }

  /** Wake a CPU that is idle or spinning so it runs now (never re-entrantly). */
  kick(c: Cpu): void {
    if (this.mode === "explore") {
      c.kicked = true;
      return;
    }
    // a kick already queued (for now: kicks are never for later) drives the CPU with what this one adds
    if (c.kickQueued) return;
    c.kickQueued = true;
    this.queue.push(this.now, c.id, this.kickEvent, c.id);
  }

  /** Release a context that is busy-waiting (OP_SPIN): it continues after `delayNs`. */
  kickSpinner(f: Ctx, delayNs = 0): void {
    if (!f.spinning) return;
    const c = f.cpu;
    if (c.top === f && c.status === CPU_SPIN) this.account(c, f, this.now - f.spinSince);
    f.spinning = false;
    if (this.mode === "timed" && delayNs > 0) f.remaining += delayNs;
    if (c.top === f) this.kick(c);
  }

  // ---------------------------------------------------------------- timers and the tick

  /** Run `fn` at absolute time `at` (engine-level timer; no CPU context). */
  at(at: number, fn: () => void): void {
    // explore driver: arming a timer changes what the time step (timeChoice) will fire
    if (this.footprint !== null) this.footprint.touch("timers", true);
    this.queue.push(Math.max(at, this.now), MAX_LANE, new TimerEvent(fn), 0);
  }

  /**
   * An hrtimer on `cpu`'s base expiring at `at` whose function `handler` runs in hrtimer_interrupt()'s
   * hardirq frame (timed driver; `name` is kept for the explore driver, where it is a plain irq now).
   */
  hrtimer(cpu: number, at: number, name: string, handler: IrqHandler): void {
    if (this.mode !== "timed") {
      this.raiseIrq(cpu, name, handler, Math.max(at, this.now));
      return;
    }
    const c = this.cpus[cpu]!;
    c.hrtimerBase.start(new Hrtimer(c, handler), Math.max(at, this.now));
  }

  /** schedule_timeout(): sleep for `ns` (TASK_INTERRUPTIBLE), woken by an hrtimer. */
  sleepNs(k: Ctx, ns: number): KGen<void> {
    return this.sleepWait(k, ns, true);
  }

  /**
   * The frame's sleep object: the last one again when it has ended and its timer is out of the base
   * (a task sleeps once at a time), else a new one (an allocation and its garbage per sleep less).
   */
  private sleepWait(k: Ctx, ns: number, relative: boolean): SleepWait {
    // timed driver only: the explore driver's state keys (src/check/state.ts) read every field
    if (this.mode !== "timed") return new SleepWait(k, ns, relative);
    const w = k.sleep as SleepWait | null;
    if (w?.ended && w.bucket === null) return w.reuse(ns, relative);
    const nw = new SleepWait(k, ns, relative);
    k.sleep = nw;
    return nw;
  }

  /**
   * schedule_hrtimeout() with HRTIMER_MODE_ABS (kernel/time/hrtimer.c): sleep (TASK_INTERRUPTIBLE)
   * until absolute virtual time `atNs`, woken by an hrtimer on the task's CPU. Timers due at the same
   * instant on one CPU fire in the order they were armed, in one hrtimer interrupt. (`yield*` it: the
   * sleep is armed at its first resume, as a generator's body would start there.)
   */
  sleepUntil(k: Ctx, atNs: number): KGen<void> {
    return this.sleepWait(k, atNs, false);
  }

  /** The start of a sleep (SleepWait's first resume): the task's state, then its hrtimer_sleeper started. */
  armSleep(w: SleepWait, atNs: number): void {
    const t = w.t;
    t.state = TASK_INTERRUPTIBLE;
    // the timer belongs to this sleep only: a task that returns from it cancels it (hrtimer_cancel)
    const seq = ++t.sleepSeq;
    if (this.mode === "timed") {
      const c = t.cpu;
      w.cpu = c;
      w.sleepSeq = seq;
      c.hrtimerBase.start(w, Math.max(atNs, this.now));
    } else {
      this.at(atNs, () => {
        if (t.sleepSeq === seq) this.wakeUpProcess(t);
      });
    }
  }

  /** hrtimer_interrupt() gave up after three retries (kernel/time/hrtimer.c: pr_warn_once). */
  hrtimerHang(c: Cpu, deltaNs: number): void {
    if (this.hrtimerHangWarned) return;
    this.hrtimerHangWarned = true;
    this.printk(c.id, `hrtimer: interrupt took ${deltaNs} ns`);
  }
  private hrtimerHangWarned = false;

  private armTick(c: Cpu): void {
    if (this.mode !== "timed") return;
    c.tickArmed = true;
    // a tick still queued (re-armed after the CPU left idle while the fired tick's handler was still
    // to run) is replaced: a CPU has one tick event at most
    if (c.tickEvent >= 0) this.queue.remove(c.tickEvent);
    const next = (Math.floor(this.now / this.tickNs) + 1) * this.tickNs;
    c.tickEvent = this.queue.push(next, c.id, this.tickEvents[c.id]!, 0);
  }

  /**
   * The CPU went idle: stop its tick, as tick_nohz_idle_stop_tick() does with NO_HZ_IDLE
   * (kernel/time/tick-sched.c: tick_nohz_stop_tick() cancels the sched_timer hrtimer, or moves it to
   * the next timer's expiry, which the CPU's hrtimer base programs here on its own). The queued tick
   * event is removed, not left to pop as a no-op; armTick() starts the tick again when the CPU leaves
   * idle (tick_nohz_idle_exit()).
   */
  private stopTick(c: Cpu): void {
    c.tickArmed = false;
    if (c.tickEvent >= 0) {
      this.queue.remove(c.tickEvent);
      c.tickEvent = -1;
    }
  }

  private bootCpu(c: Cpu): void {
    const tickHandler: IrqHandler = (k) => this.tick(k);
    this.tickHandlers.push(tickHandler);
    // the tick's pending irq never changes: one per CPU
    const tickReq = new IrqReq(c, "timer", tickHandler, 0);
    this.tickEvents.push({
      // only a live tick is ever queued: stopTick() and armTick() take out the one they replace
      fire: () => {
        c.tickEvent = -1;
        this.deliverIrq(c, tickReq);
      },
    });
    c.ksoftirqd = this.createTask(`ksoftirqd/${c.id}`, c.id, (k) => this.runKsoftirqd(k), { start: false });
    c.stopper = this.createTask(`migration/${c.id}`, c.id, (k) => this.watchdogs.stopperThread(k), {
      policy: "stop",
      start: false,
    });
  }

  /** The scheduler tick (update_process_times + scheduler_tick), in hardirq context. */
  private *tick(k: Ctx): KGen<void> {
    const c = k.cpu;
    yield this.cfg.costs.tickNs;
    this.updateCurr(c);
    const t = c.curr;
    // rcu_sched_clock_irq(): a quiescent state only when the tick came straight from the idle loop or
    // user mode (rcu_is_cpu_rrupt_from_idle()), not from a softirq or irq running on the idle task
    const below = c.frames[c.frames.length - 2];
    if ((t.isIdle || t.inUser) && below !== undefined && below.kind === CTX_TASK)
      for (const q of this.hooks.qs) q(c, t.isIdle ? "idle" : "user");
    if (this.cfg.preempt === "lazy" && c.needReschedLazy) this.setNeedResched(c);
    if (t.policy === "normal" && t.sliceExec >= this.sliceNs() && c.rqFair.length > 0) {
      t.sliceExec = 0;
      this.reschedCurr(c, true);
    }
    for (const h of this.hooks.tick) h(k);
    this.watchdogs.tick(k);
    if (c.curr.isIdle && c.rqStop.length + c.rqFifo.length + c.rqFair.length === 0) this.stopTick(c);
    else this.armTick(c);
  }

  private *runKsoftirqd(k: Ctx): KGen<void> {
    const c = k.cpu;
    for (;;) {
      if (c.softirqPending === 0) {
        k.task.state = TASK_INTERRUPTIBLE;
        yield SCHEDULE;
        continue;
      }
      yield RUN_SOFTIRQ;
      yield KSOFTIRQD_COND_RESCHED;
    }
  }

  // ---------------------------------------------------------------- drivers

  /** Timed driver: run until virtual time `untilNs`, the queue drains, or stop(). */
  run(untilNs: number, maxEvents = Number.POSITIVE_INFINITY): void {
    if (this.mode !== "timed") throw new Error("run() is the timed driver; use explore() in explore mode");
    this.runUntil = untilNs;
    const q = this.queue;
    let budget = maxEvents;
    while (!this.stopped && budget-- > 0) {
      if (!q.pop(untilNs)) break;
      this.now = q.outTime;
      q.outHandler!.fire(q.outArg);
    }
    if (!this.stopped && q.peekTime() > untilNs) this.now = Math.max(this.now, untilNs);
  }

  /**
   * Explore driver: the choice that lets time pass, one past the last CPU. Taking it fires the
   * earliest pending timer (a sleep's expiry, an interval, an hrtimer), so a strategy can let a
   * timer expire at any point, as it can let any CPU take its next step: no workload that keeps
   * CPUs busy can hold a sleeping task back from the search.
   */
  get timeChoice(): number {
    return this.cpus.length;
  }

  /** CPUs that can take a step now, then timeChoice if a timer is pending (explore driver). */
  enabledCpus(): number[] {
    const out: number[] = [];
    for (const c of this.cpus) {
      if (c.status === CPU_READY || c.kicked) {
        out.push(c.id);
        continue;
      }
      if (c.status === CPU_IDLE && c.rqStop.length + c.rqFifo.length + c.rqFair.length > 0) out.push(c.id);
    }
    if (this.queue.size > 0) out.push(this.cpus.length);
    return out;
  }

  /** Take one step on CPU `cpu`, or let time pass to the earliest timer (timeChoice; explore driver). */
  step(cpu: number): void {
    if (cpu === this.cpus.length) {
      this.fireTimer();
      return;
    }
    const c = this.cpus[cpu]!;
    this.choices.push(cpu);
    this.steps++;
    const f = c.top;
    // the step starts at the yield point the CPU is paused at: label it with that site
    const label = this.labelCache.label(cpu, f.paused ? f.site : c.curr.isIdle ? "idle" : "run");
    this.stepLabels.push(label);
    if (this.traceSink !== null) this.emit("model", cpu, `step ${this.steps}`, label);
    f.paused = false;
    this.now += 1;
    this.drive(c);
    if (this.heldReads.length !== 0) this.endHeldReads();
  }

  /** The time step: virtual time jumps to the earliest timer, which fires (its wake-ups kick CPUs). */
  private fireTimer(): void {
    const cpu = this.cpus.length;
    this.choices.push(cpu);
    this.steps++;
    const label = this.labelCache.label(cpu, "timer");
    this.stepLabels.push(label);
    if (this.trace !== null) this.emit("model", -1, `step ${this.steps}`, label);
    if (this.footprint !== null) this.footprint.touch("timers", true);
    const q = this.queue;
    if (!q.pop()) throw new Error("explore: the time step was chosen with no timer pending");
    this.now = Math.max(this.now + 1, q.outTime);
    q.outHandler!.fire(q.outArg);
    if (this.heldReads.length !== 0) this.endHeldReads();
  }

  /**
   * Explore driver: a strategy picks the CPU of every step (or timeChoice, to fire the earliest
   * timer) until nothing is enabled, the step budget runs out, or the run stops. Time advances by
   * one unit per CPU step and jumps to a timer's expiry when the strategy lets it fire.
   */
  explore(strategy: ExploreStrategy, maxSteps: number): void {
    if (this.mode !== "explore") throw new Error("explore() needs mode 'explore'");
    this.strategy = strategy;
    for (const c of this.cpus) if (c.status !== CPU_READY) this.drive(c);
    while (!this.stopped && this.steps < maxSteps) {
      const en = this.enabledCpus();
      if (en.length === 0) break;
      const choice = this.strategy.choose(en, this);
      if (!en.includes(choice))
        throw new Error(`strategy chose CPU ${choice}, not enabled (${en.join(",")})`);
      this.step(choice);
    }
    if (!this.stopped && this.steps < maxSteps) this.checkDeadlock();
    else this.cut = !this.stopped && this.enabledCpus().length > 0;
  }

  /**
   * Warm start: after a timed run (stopped anywhere), go on in the explore driver from the state it
   * reached. Bursts in flight end now (their remaining time is dropped: the explore driver ignores
   * time), ticks stop, pending kicks become explore kicks, and the timers left (sleeps, hrtimers,
   * device completions) stay queued for the time step. Models turn off their timed fast paths
   * through hooks.explore. The timed run must have no watchdogs (they would fire as timers).
   */
  enterExplore(): void {
    if (this.mode !== "timed") throw new Error("enterExplore(): the machine is not in the timed driver");
    if (this.tasks.some((t) => t.comm === "khungtaskd") || this.cfg.watchdogThreshS > 0)
      throw new Error("enterExplore(): the timed run must have the watchdogs off");
    this.mode = "explore";
    for (const t of this.tasks) t.frame.sleep = null;
    this.stopped = false;
    this.stopReason = "";
    this.runUntil = Number.POSITIVE_INFINITY;
    for (const c of this.cpus) {
      if (c.status === CPU_BURST) c.splitBurst();
      for (const f of c.frames) f.remaining = 0;
      c.tickArmed = false;
      c.tickEvent = -1; // the loop below drops the queued tick events
    }
    // keep the timers, in their order; bursts, ticks and kicks belong to the timed driver
    const q = this.queue;
    const keep: { t: number; lane: number; h: Handler; arg: number }[] = [];
    while (q.pop()) {
      const h = q.outHandler!;
      if (h === this.kickEvent) {
        this.cpus[q.outArg]!.kicked = true;
        this.cpus[q.outArg]!.kickQueued = false;
      } else if (!(h instanceof Cpu) && !this.tickEvents.includes(h))
        keep.push({ t: q.outTime, lane: MAX_LANE, h, arg: q.outArg });
    }
    for (const e of keep) q.push(e.t, e.lane, e.h, e.arg);
    for (const h of this.hooks.explore) h(this);
  }

  /** Every CPU stuck: tasks blocked in D state or CPUs spinning with nothing left to run. */
  private checkDeadlock(): void {
    const spinning = this.cpus.filter((c) => c.status === CPU_SPIN).map((c) => c.id);
    const blocked = this.tasks.filter(
      (t) => t.state === TASK_UNINTERRUPTIBLE && !t.onRq && t.frame.gen !== null,
    );
    if (spinning.length > 0 || blocked.length > 0) {
      this.report({
        kind: "deadlock",
        cpus: spinning,
        message: `no CPU can make progress: ${spinning.length} spinning, ${blocked.length} tasks blocked (${blocked
          .slice(0, 8)
          .map((t) => `${t.comm}:${t.pid}`)
          .join(" ")})`,
        details: { spinning: spinning.length, blocked: blocked.length },
      });
    }
  }

  /** End of run: final checks by models and watchdogs. */
  finish(): void {
    for (const h of this.hooks.end) h(this);
  }

  /** dmesg as printed by `dmesg`: "[    1.234567] text". */
  formatDmesg(): string[] {
    return this.dmesg.map((l) => `${formatTimestamp(l.t)} ${l.text}`);
  }

  /** Names of tasks (for reports). */
  taskByPid(pid: number): Task | undefined {
    return this.tasks.find((t) => t.pid === pid);
  }

  /** Is the CPU executing in the given context kind right now? */
  topKind(cpu: number): number {
    return this.cpus[cpu]!.top.kind;
  }

  static readonly CTX_TASK = CTX_TASK;
  static readonly CTX_SOFTIRQ = CTX_SOFTIRQ;
  static readonly CTX_HARDIRQ = CTX_HARDIRQ;
}

/** printk timestamp: "[%5lu.%06lu]" */
export function formatTimestamp(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.floor((ns % 1e9) / 1e3);
  return `[${String(s).padStart(5, " ")}.${String(us).padStart(6, "0")}]`;
}

const KSOFTIRQD_COND_RESCHED = condResched("kernel/softirq.c", 0);

function* reschedIpi(_k: Ctx): KGen<void> {
  yield 100; // scheduler_ipi(): need_resched is already set; preemption happens on irq exit
}

export { TASK_DEAD, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE };
