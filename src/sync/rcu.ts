// RCU (kernel/rcu/tree.c, tree_plugin.h, tree_stall.h): read-side sections, per-CPU quiescent states,
// grace periods, synchronize_rcu(), call_rcu() callbacks run from RCU_SOFTIRQ, and the RCU CPU stall
// detector with its messages. Flavour follows the preemption model: rcu_sched (non-preemptible RCU,
// NONE/VOLUNTARY) or rcu_preempt (FULL/LAZY). Simplification: grace-period start and end happen
// inline when the last quiescent state arrives (no rcu_gp kthread latency).
import { type KGen, PREEMPT_ENABLE, SCHEDULE, yieldPoint } from "../sim/effects.js";
import { type Cpu, type Machine, RCU_SOFTIRQ } from "../sim/machine.js";
import {
  CTX_HARDIRQ,
  CTX_TASK,
  type Ctx,
  HARDIRQ_OFFSET,
  TASK_UNINTERRUPTIBLE,
  type Task,
} from "../sim/task.js";

interface Callback {
  gp: number;
  fn: () => void;
  what: string;
}

/** An object whose memory is freed after a grace period (kfree_rcu); accesses after that are KASAN reports. */
export class RcuObject {
  freed = false;
  freedAt = -1;
  freedBy = "";
  constructor(readonly name: string) {}
}

const RCU_CB_NS = 80; // [est] cost of invoking one callback

export class Rcu {
  readonly flavour: "rcu_sched" | "rcu_preempt";
  /** Grace periods started / completed (the kernel's gp_seq, in units of one GP). */
  gpNum = 0;
  completed = 0;
  gpInProgress = false;
  gpStart = 0;
  readonly qsNeeded: boolean[];
  readonly blocked = new Set<Task>();
  private readonly callbacks: Callback[][];
  private readonly waiters: { task: Task; target: number }[] = [];
  private stallAt = Number.POSITIVE_INFINITY;
  stalls = 0;
  readonly gpDurations: number[] = [];
  uafReports = 0;

  constructor(private readonly m: Machine) {
    this.flavour = m.preemptible() ? "rcu_preempt" : "rcu_sched";
    this.qsNeeded = new Array(m.cfg.cpus).fill(false);
    this.callbacks = Array.from({ length: m.cfg.cpus }, () => []);
    m.hooks.qs.push((cpu, reason) => this.noteQs(cpu, reason));
    m.hooks.tick.push((k) => this.schedClockIrq(k));
    m.openSoftirq(RCU_SOFTIRQ, (k) => this.rcuCore(k));
  }

  /** rcu_read_lock() */
  readLock(k: Ctx): void {
    if (this.flavour === "rcu_sched") k.preemptDisable();
    k.task.rcuReadDepth++;
  }

  /** rcu_read_unlock(): a generator because it may be a preemption point (rcu_sched). */
  *readUnlock(k: Ctx): KGen<void> {
    const t = k.task;
    if (t.rcuReadDepth <= 0) throw new Error("rcu_read_unlock without rcu_read_lock");
    t.rcuReadDepth--;
    if (this.flavour === "rcu_sched") {
      yield PREEMPT_ENABLE;
      return;
    }
    if (t.rcuReadDepth === 0 && this.blocked.delete(t)) this.checkGpEnd();
  }

  /** call_rcu(): run fn after a full grace period, from RCU_SOFTIRQ on the calling CPU. */
  callRcu(cpu: number, what: string, fn: () => void): void {
    this.m.touch("rcu:gp");
    this.callbacks[cpu]!.push({ gp: this.gpNum + 1, fn, what });
    this.maybeStartGp();
  }

  /** kfree_rcu(): the object is freed after a grace period. */
  kfreeRcu(cpu: number, obj: RcuObject, by: string): void {
    this.callRcu(cpu, `kfree_rcu(${obj.name})`, () => {
      obj.freed = true;
      obj.freedAt = this.m.now;
      obj.freedBy = by;
    });
  }

  /** A read of an RCU-protected object: a freed one is reported as KASAN would report it. */
  access(k: Ctx, obj: RcuObject, fn: string): boolean {
    if (!obj.freed) return true;
    this.uafReports++;
    const m = this.m;
    const t = k.task;
    const head = `BUG: KASAN: slab-use-after-free in ${fn}`;
    const lines = [
      "==================================================================",
      head,
      `Read of size 8 at addr (${obj.name}) by task ${t.comm}/${t.pid}`,
      "",
      `Freed by task ${obj.freedBy} after an RCU grace period (${obj.name}, freed at ${(obj.freedAt / 1e9).toFixed(6)}s)`,
      "==================================================================",
    ];
    for (const l of lines) m.printk(k.cpu.id, l);
    m.report({
      kind: "use_after_free",
      cpus: [k.cpu.id],
      message: `${head}: ${obj.name} read by ${t.comm}/${t.pid} after its grace period`,
      details: { object: obj.name, freed_at: obj.freedAt, pid: t.pid },
    });
    return false;
  }

  /** synchronize_rcu(): sleep until a full grace period has elapsed. */
  *synchronize(k: Ctx): KGen<void> {
    yield yieldPoint("synchronize_rcu");
    k.m.touch("rcu:gp");
    const w = { task: k.task, target: this.gpNum + 1 };
    this.waiters.push(w);
    this.maybeStartGp();
    while (this.completed < w.target) {
      k.task.state = TASK_UNINTERRUPTIBLE;
      if (this.completed >= w.target) break;
      yield SCHEDULE;
    }
    k.task.state = 0;
  }

  /** Background call_rcu() traffic from the rest of the kernel, so that grace periods keep running. */
  startBackground(periodNs: number): void {
    const tick = () => {
      this.callRcu(0, "background", () => {});
      this.m.at(this.m.now + periodNs, tick);
    };
    this.m.at(this.m.now + periodNs, tick);
  }

  private maybeStartGp(): void {
    if (this.gpInProgress) return;
    const want =
      this.waiters.some((w) => w.target > this.completed) ||
      this.callbacks.some((l) => l.some((c) => c.gp > this.completed));
    if (!want) return;
    this.gpInProgress = true;
    this.gpNum++;
    this.gpStart = this.m.now;
    this.stallAt = this.m.now + this.m.cfg.rcuStallTimeoutS * 1e9;
    for (const c of this.m.cpus) {
      // idle and user-mode CPUs are in an extended quiescent state, unless an irq or softirq runs there
      this.qsNeeded[c.id] = !((c.curr.isIdle || c.curr.inUser) && c.top.kind === CTX_TASK);
    }
    this.checkGpEnd();
  }

  private noteQs(c: Cpu, reason: string): void {
    if (!this.gpInProgress || !this.qsNeeded[c.id]) return;
    this.m.touch("rcu:gp");
    if (reason === "context_switch" && c.curr.rcuReadDepth > 0) {
      if (this.flavour === "rcu_sched") return; // cannot happen legally; no QS
      this.blocked.add(c.curr); // rcu_note_context_switch(): preempted reader blocks the GP
    }
    if (reason === "rcu_all_qs" && c.curr.rcuReadDepth > 0) return;
    this.qsNeeded[c.id] = false;
    this.checkGpEnd();
  }

  private checkGpEnd(): void {
    if (!this.gpInProgress) return;
    for (const q of this.qsNeeded) if (q) return;
    if (this.blocked.size > 0) return;
    this.gpInProgress = false;
    this.completed = this.gpNum;
    this.gpDurations.push(this.m.now - this.gpStart);
    this.stallAt = Number.POSITIVE_INFINITY;
    for (const c of this.m.cpus) {
      if (this.callbacks[c.id]!.some((cb) => cb.gp <= this.completed)) this.m.raiseSoftirq(c.id, RCU_SOFTIRQ);
    }
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      if (w.target <= this.completed) {
        this.waiters.splice(i, 1);
        this.m.wakeUpProcess(w.task);
      } else i++;
    }
    this.maybeStartGp();
  }

  /** rcu_core(): invoke this CPU's callbacks whose grace period has completed. */
  private *rcuCore(k: Ctx): KGen<void> {
    const list = this.callbacks[k.cpu.id]!;
    while (list.length > 0 && list[0]!.gp <= this.completed) {
      const cb = list.shift()!;
      yield RCU_CB_NS;
      cb.fn();
    }
  }

  /** rcu_sched_clock_irq(): quiescent states seen from the tick, and the stall check. */
  private schedClockIrq(k: Ctx): void {
    const c = k.cpu;
    if (this.flavour === "rcu_preempt" && this.gpInProgress && this.qsNeeded[c.id]) {
      const below = c.frames[c.frames.length - 2];
      if (
        below !== undefined &&
        below.kind === CTX_TASK &&
        c.curr.rcuReadDepth === 0 &&
        c.preemptCount === HARDIRQ_OFFSET
      ) {
        this.noteQs(c, "tick");
      }
    }
    this.maybeStartGp();
    this.checkCpuStall(c, k);
  }

  /** check_cpu_stall(): self-detected first, other CPUs RCU_STALL_RAT_DELAY (2 jiffies) later. */
  private checkCpuStall(c: Cpu, k: Ctx): void {
    const m = this.m;
    if (!this.gpInProgress || m.now < this.stallAt) return;
    const stalled = this.qsNeeded.map((q, i) => (q ? i : -1)).filter((i) => i >= 0);
    if (stalled.length === 0 && this.blocked.size === 0) return;
    const tJiffies = Math.floor((m.now - this.gpStart) / m.tickNs);
    const q = this.callbacks.reduce((n, l) => n + l.length, 0);
    const ticksThisGp = Math.floor((m.now - this.gpStart) / m.tickNs);
    if (this.qsNeeded[c.id]) {
      const lines = [
        `rcu: INFO: ${this.flavour} self-detected stall on CPU`,
        `rcu: \t${c.id}-....: (${ticksThisGp} ticks this GP) idle=0/1/0x4000000000000000 softirq=${c.softirqCount}/${c.softirqCount} fqs=0`,
        `\t(t=${tJiffies} jiffies g=${this.gpNum * 4 + 1} q=${q} ncpus=${m.cfg.cpus})`,
        ...this.stallTrace(c),
      ];
      this.emitStall(c.id, lines, [c.id], true);
    } else if (m.now >= this.stallAt + 2 * m.tickNs) {
      const lines = [
        `rcu: INFO: ${this.flavour} detected stalls on CPUs/tasks:`,
        ...stalled.map(
          (s) => `rcu: \t${s}-...!: (${ticksThisGp} ticks this GP) idle=0/1/0x4000000000000000 fqs=0`,
        ),
        ...[...this.blocked].map(
          (t) => `rcu: \tTasks blocked on level-0 rcu_node (CPUs 0-${m.cfg.cpus - 1}): P${t.pid}`,
        ),
        `\t(detected by ${c.id}, t=${tJiffies} jiffies, g=${this.gpNum * 4 + 1}, q=${q} ncpus=${m.cfg.cpus})`,
      ];
      this.emitStall(c.id, lines, stalled, false);
    }
    void k;
  }

  private stallTrace(c: Cpu): string[] {
    const m = this.m;
    const t = c.curr;
    const out = [
      `CPU: ${c.id} PID: ${t.pid} Comm: ${t.comm} ${m.taint === "" ? "Not tainted" : `Tainted: G ${m.taint}`} ${m.cfg.kernelRelease} #1`,
    ];
    const trace = m.callTrace(c);
    const irqEnd = trace.indexOf(" </IRQ>");
    if (c.frames[c.frames.length - 1]!.kind === CTX_HARDIRQ && irqEnd > 0) trace.splice(1, irqEnd);
    return [...out, ...trace];
  }

  private emitStall(cpu: number, lines: string[], cpus: number[], self: boolean): void {
    const m = this.m;
    for (const l of lines) m.printk(cpu, l);
    this.stalls++;
    // jiffies_stall = jiffies + 3 * rcu_jiffies_till_stall_check() + 3
    this.stallAt = m.now + 3 * m.cfg.rcuStallTimeoutS * 1e9 + 3 * m.tickNs;
    m.report({
      kind: "rcu_stall",
      cpus,
      message: lines[0]!,
      details: { self_detected: self, gp: this.gpNum, stalled_ms: Math.round((m.now - this.gpStart) / 1e6) },
    });
  }
}

/** The machine's RCU (created on first use). */
export function rcu(m: Machine): Rcu {
  return m.extension("rcu", (mm) => new Rcu(mm));
}
