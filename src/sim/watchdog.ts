// The lockup detectors (kernel/watchdog.c, ~6.5 behaviour): the soft-lockup detector (per-CPU hrtimer
// every watchdog_thresh*2/5 s, the stopper thread's softlockup_fn touching it, reports after
// 2*watchdog_thresh), the hard-lockup (NMI) check, and the hung-task detector (kernel/hung_task.c).
import { type KGen, SCHEDULE } from "./effects.js";
import type { Cpu, Machine } from "./machine.js";
import { CTX_TASK, type Ctx, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, type Task } from "./task.js";

/** SOFTLOCKUP_DELAY_REPORT: touch_softlockup_watchdog() was called */
const SOFTLOCKUP_DELAY_REPORT = -1;
/** NUM_SAMPLE_PERIODS */
const NUM_SAMPLE_PERIODS = 5;

interface StopWork {
  name: string;
  fn: (k: Ctx) => KGen<void>;
}

export class Watchdogs {
  readonly touchTs: number[];
  readonly reportTs: number[];
  readonly hrtimerInterrupts: number[];
  private readonly hrtimerInterruptsSaved: number[];
  private readonly hardLockupWarned: boolean[];
  private readonly softlockupQueued: boolean[];
  private readonly softWatchdogWarn: boolean[];
  private readonly stopWork: StopWork[][];
  softLockups = 0;
  hardLockups = 0;
  hungTasks = 0;

  constructor(private readonly m: Machine) {
    const n = m.cfg.cpus;
    this.touchTs = new Array(n).fill(0);
    this.reportTs = new Array(n).fill(0);
    this.hrtimerInterrupts = new Array(n).fill(0);
    this.hrtimerInterruptsSaved = new Array(n).fill(0); // per-CPU zero, as hrtimer_interrupts_saved
    this.hardLockupWarned = new Array(n).fill(false);
    this.softlockupQueued = new Array(n).fill(false);
    this.softWatchdogWarn = new Array(n).fill(false);
    this.stopWork = Array.from({ length: n }, () => []);
  }

  /** get_softlockup_thresh(): 2 * watchdog_thresh (seconds) */
  get softlockupThreshS(): number {
    return 2 * this.m.cfg.watchdogThreshS;
  }

  /** sample_period in ns: threshold / NUM_SAMPLE_PERIODS */
  get samplePeriodNs(): number {
    return (this.softlockupThreshS * 1e9) / NUM_SAMPLE_PERIODS;
  }

  /** get_timestamp(): running_clock() >> 30, about one "second" per unit */
  timestamp(): number {
    return Math.floor(this.m.now / 2 ** 30);
  }

  start(): void {
    const m = this.m;
    if (m.cfg.watchdogThreshS > 0) {
      for (const c of m.cpus) {
        this.touchTs[c.id] = this.reportTs[c.id] = this.timestamp();
        this.armHrtimer(c.id, m.now + this.samplePeriodNs);
        if (m.cfg.nmiWatchdog) this.armNmi(c.id, m.now + m.cfg.watchdogThreshS * 1e9);
      }
    }
    if (m.cfg.hungTaskTimeoutS > 0) {
      m.createTask("khungtaskd", 0, (k) => this.khungtaskd(k), {});
    }
    if (m.cfg.wqWatchdogThreshS > 0) this.armWqWatchdog(m.now + m.cfg.wqWatchdogThreshS * 1e9);
  }

  private armHrtimer(cpu: number, at: number): void {
    this.m.hrtimer(cpu, at, "hrtimer", (k) => this.watchdogTimerFn(k, at));
  }

  /** stop_one_cpu_nowait(): queue work for the CPU's stopper thread (stop class beats everything). */
  stopOneCpuNowait(cpu: number, name: string, fn: (k: Ctx) => KGen<void>): void {
    this.stopWork[cpu]!.push({ name, fn });
    this.m.wakeUpProcess(this.m.cpus[cpu]!.stopper);
  }

  /** cpu_stopper_thread() */
  *stopperThread(k: Ctx): KGen<void> {
    const cpu = k.cpu.id;
    for (;;) {
      const w = this.stopWork[cpu]!.shift();
      if (w === undefined) {
        k.task.state = TASK_INTERRUPTIBLE;
        yield SCHEDULE;
        continue;
      }
      yield* k.call(w.name, w.fn(k));
    }
  }

  /** softlockup_fn(): the stopper got to run, so the CPU is not locked up. */
  private *softlockupFn(k: Ctx): KGen<void> {
    yield this.m.cfg.costs.softlockupFnNs;
    const cpu = k.cpu.id;
    this.touchTs[cpu] = this.reportTs[cpu] = this.timestamp();
    this.softlockupQueued[cpu] = false;
    this.softWatchdogWarn[cpu] = false;
  }

  /** touch_softlockup_watchdog() */
  touchSoftlockupWatchdog(cpu: number): void {
    this.reportTs[cpu] = SOFTLOCKUP_DELAY_REPORT;
  }

  /** watchdog_timer_fn(): the per-CPU hrtimer, in hardirq context. */
  private *watchdogTimerFn(k: Ctx, expiry: number): KGen<void> {
    const m = this.m;
    const c = k.cpu;
    const cpu = c.id;
    yield m.cfg.costs.hrtimerNs;
    this.hrtimerInterrupts[cpu]!++;
    // hrtimer_forward_now(): the next expiry is the first period boundary after now (a timer held
    // off by disabled irqs fires once, not once per missed period)
    let next = expiry + this.samplePeriodNs;
    while (next <= m.now) next += this.samplePeriodNs;
    this.armHrtimer(cpu, next);
    if (!this.softlockupQueued[cpu]) {
      this.softlockupQueued[cpu] = true;
      this.stopOneCpuNowait(cpu, "softlockup_fn", (sk) => this.softlockupFn(sk));
    }
    const now = this.timestamp();
    const period = this.reportTs[cpu]!;
    if (period === SOFTLOCKUP_DELAY_REPORT) {
      this.reportTs[cpu] = now;
      return;
    }
    // is_softlockup()
    if (!(now > period + this.softlockupThreshS)) return;
    const duration = now - this.touchTs[cpu]!;
    this.reportTs[cpu] = now;
    if (m.cfg.watchdogStyle === "once") {
      // 4.x: soft_watchdog_warn suppresses repeats until the CPU is touched again
      if (this.softWatchdogWarn[cpu]) return;
      this.softWatchdogWarn[cpu] = true;
    }
    this.reportSoftLockup(c, duration);
  }

  private reportSoftLockup(c: Cpu, duration: number): void {
    const m = this.m;
    const t = c.curr;
    const head = `watchdog: BUG: soft lockup - CPU#${c.id} stuck for ${duration}s! [${t.comm}:${t.pid}]`;
    const lines = [head, "Modules linked in:", ...this.regsDump(c, t, false)];
    for (const l of lines) m.printk(c.id, l);
    if (!m.taint.includes("L")) m.taint += "L";
    this.softLockups++;
    m.report({
      kind: "soft_lockup",
      cpus: [c.id],
      message: head,
      details: { cpu: c.id, pid: t.pid, comm: t.comm, stuck_s: duration },
    });
    if (m.cfg.softlockupPanic) {
      m.printk(c.id, "Kernel panic - not syncing: softlockup: hung tasks");
      m.stop("panic: softlockup");
    }
  }

  /**
   * show_regs(): the CPU/PID line, Hardware name, Workqueue, RIP and Call Trace of the interrupted
   * context. From the soft-lockup hrtimer that is the frame below the timer's hardirq; from the
   * hard-lockup NMI (`nmi`) it is the top frame itself, e.g. a completion running in hardirq.
   */
  private regsDump(c: Cpu, t: Task, nmi: boolean): string[] {
    const m = this.m;
    const taint = m.taint === "" ? "Not tainted" : `Tainted: G ${m.taint}`;
    const out = [`CPU: ${c.id} PID: ${t.pid} Comm: ${t.comm} ${taint} ${m.cfg.kernelRelease} #1`];
    out.push(`Hardware name: ${m.cfg.hardwareName}`);
    if (t.worker !== null && t.worker.currentFunc !== "")
      out.push(`Workqueue: ${t.worker.currentWq} ${t.worker.currentFunc}`);
    // the interrupted context: the frame below the watchdog's hardirq
    const frames = c.frames;
    const below = nmi
      ? frames[frames.length - 1]!
      : frames.length >= 2
        ? frames[frames.length - 2]!
        : frames[0]!;
    const rip =
      below.stack.length > 0 ? below.stack[below.stack.length - 1]! : t.isIdle ? "default_idle" : "?";
    out.push(`RIP: 0010:${rip}`);
    const trace = m.callTrace(c);
    // drop the watchdog's own hardirq frame: show_regs() prints the interrupted context
    const irqEnd = trace.indexOf(" </IRQ>");
    if (!nmi && frames[frames.length - 1]!.kind !== CTX_TASK && irqEnd > 0) trace.splice(1, irqEnd);
    out.push(...trace);
    return out;
  }

  private armNmi(cpu: number, at: number): void {
    this.m.at(at, () => this.watchdogOverflowCallback(cpu));
  }

  /** watchdog_overflow_callback(): NMI every watchdog_thresh seconds; the hrtimer must have moved. */
  private watchdogOverflowCallback(cpu: number): void {
    const m = this.m;
    const cur = this.hrtimerInterrupts[cpu]!;
    if (cur === this.hrtimerInterruptsSaved[cpu]) {
      if (!this.hardLockupWarned[cpu]) {
        this.hardLockupWarned[cpu] = true;
        const c = m.cpus[cpu]!;
        const msg = `watchdog: Watchdog detected hard LOCKUP on cpu ${cpu}`;
        m.printk(cpu, msg);
        // watchdog_hardlockup_check(): the NMI prints the registers it interrupted
        for (const l of this.regsDump(c, c.curr, true)) m.printk(cpu, l);
        this.hardLockups++;
        m.report({ kind: "hard_lockup", cpus: [cpu], message: msg, details: { cpu } });
      }
    } else {
      this.hardLockupWarned[cpu] = false;
    }
    this.hrtimerInterruptsSaved[cpu] = cur;
    this.armNmi(cpu, m.now + m.cfg.watchdogThreshS * 1e9);
  }

  /** watchdog(): the khungtaskd loop (kernel/hung_task.c). */
  private *khungtaskd(k: Ctx): KGen<void> {
    const m = this.m;
    const timeoutNs = m.cfg.hungTaskTimeoutS * 1e9;
    for (;;) {
      yield* m.sleepNs(k, timeoutNs);
      yield 2000;
      this.checkHungUninterruptibleTasks(k.cpu.id, timeoutNs);
    }
  }

  /** check_hung_uninterruptible_tasks() / check_hung_task() */
  private checkHungUninterruptibleTasks(cpu: number, timeoutNs: number): void {
    const m = this.m;
    for (const t of m.tasks) {
      if (t.state !== TASK_UNINTERRUPTIBLE || t.exited) continue;
      const switches = t.nvcsw + t.nivcsw;
      if (switches !== t.lastSwitchCount) {
        t.lastSwitchCount = switches;
        t.lastSwitchTime = m.now;
        continue;
      }
      if (m.now - t.lastSwitchTime < timeoutNs || t.hungReported) continue;
      t.hungReported = true;
      this.hungTasks++;
      const secs = m.cfg.hungTaskTimeoutS;
      const head = `INFO: task ${t.comm}:${t.pid} blocked for more than ${secs} seconds.`;
      const lines = [
        head,
        `      ${m.taint === "" ? "Not tainted" : `Tainted: G ${m.taint}`} ${m.cfg.kernelRelease} #1`,
        `"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.`,
        `task:${t.comm.padEnd(15)} state:D stack:0     pid:${t.pid}  ppid:2      flags:0x00004000`,
        "Call Trace:",
        " <TASK>",
        " __schedule",
        " schedule",
        ...t.frame.stack
          .slice()
          .reverse()
          .map((s) => ` ${s}`),
        " </TASK>",
      ];
      for (const l of lines) m.printk(cpu, l);
      m.report({ kind: "hung_task", cpus: [t.cpu.id], message: head, details: { pid: t.pid, comm: t.comm } });
    }
  }

  private armWqWatchdog(at: number): void {
    const m = this.m;
    m.at(at, () => {
      m.wq.checkStalls(m.cfg.wqWatchdogThreshS * 1e9);
      // mod_timer(&wq_watchdog_timer, jiffies + thresh)
      this.armWqWatchdog(m.now + m.cfg.wqWatchdogThreshS * 1e9);
    });
  }

  /** Hooks for the per-tick work of the detectors (none needed beyond the hrtimers today). */
  tick(_k: Ctx): void {}
}
