// Execution contexts (task, softirq, hardirq), preempt_count and irqs, bursts split by interrupts,
// softirq budget and ksoftirqd, workqueues, and the scheduler.
import { describe, expect, it } from "vitest";
import {
  BH_ENABLE,
  BLOCK_SOFTIRQ,
  CTX_HARDIRQ,
  CTX_SOFTIRQ,
  CTX_TASK,
  type Ctx,
  condResched,
  HARDIRQ_OFFSET,
  IRQ_ENABLE,
  type KGen,
  MemoryTrace,
  PREEMPT_ENABLE,
  SCHEDULE,
  SOFTIRQ_DISABLE_OFFSET,
  SOFTIRQ_OFFSET,
  TASK_UNINTERRUPTIBLE,
  TIMER_SOFTIRQ,
  type WorkStruct,
} from "../../src/sim/index.js";
import { exactMachine, MS, US } from "./helpers.js";

interface Snap {
  kind: number;
  pc: number;
  atomic: boolean;
  irqsOff: boolean;
  comm: string;
}
const snap = (k: Ctx): Snap => ({
  kind: k.kind,
  pc: k.cpu.preemptCount,
  atomic: k.inAtomic(),
  irqsOff: k.irqsDisabled(),
  comm: k.task.comm,
});

const CR = condResched("test/contexts.c", 1);

describe("preempt_count, in_atomic(), irqs_disabled()", () => {
  it("in task context, with preemption, bh and irqs disabled", () => {
    const m = exactMachine();
    const seen: Record<string, Snap> = {};
    m.createTask("t", 0, function* (k) {
      seen.plain = snap(k);
      k.preemptDisable();
      k.preemptDisable();
      seen.preempt2 = snap(k);
      yield PREEMPT_ENABLE;
      yield PREEMPT_ENABLE;
      k.localBhDisable();
      seen.bh = snap(k);
      yield BH_ENABLE;
      const was = k.localIrqSave();
      seen.irq = snap(k);
      if (!was) yield IRQ_ENABLE;
      seen.after = snap(k);
    });
    m.run(10 * MS);
    expect(seen.plain).toEqual({ kind: CTX_TASK, pc: 0, atomic: false, irqsOff: false, comm: "t" });
    expect(seen.preempt2!.pc).toBe(2);
    expect(seen.preempt2!.atomic).toBe(true);
    expect(seen.bh!.pc).toBe(SOFTIRQ_DISABLE_OFFSET);
    expect(seen.bh!.atomic).toBe(true);
    expect(seen.irq).toMatchObject({ pc: 0, atomic: false, irqsOff: true });
    expect(seen.after).toMatchObject({ pc: 0, atomic: false, irqsOff: false });
  });

  it("in hardirq and in the softirq it raises (run at irq exit)", () => {
    const m = exactMachine();
    const seen: Snap[] = [];
    m.openSoftirq(BLOCK_SOFTIRQ, function* (k) {
      seen.push(snap(k));
      yield 10 * US;
    });
    m.createTask("t", 0, function* (k) {
      seen.push(snap(k));
      yield 1 * MS;
      seen.push(snap(k));
    });
    m.raiseIrq(
      0,
      "nvme0q1",
      function* (k) {
        seen.push(snap(k));
        k.m.raiseSoftirq(0, BLOCK_SOFTIRQ);
        yield 5 * US;
      },
      100 * US,
    );
    m.run(10 * MS);
    expect(seen.map((s) => [s.kind, s.pc, s.atomic, s.irqsOff, s.comm])).toEqual([
      [CTX_TASK, 0, false, false, "t"],
      [CTX_HARDIRQ, HARDIRQ_OFFSET, true, true, "t"],
      [CTX_SOFTIRQ, SOFTIRQ_OFFSET, true, false, "t"],
      [CTX_TASK, 0, false, false, "t"],
    ]);
    expect(m.cpus[0]!.preemptCount).toBe(0);
    expect(m.cpus[0]!.irqsOff).toBe(false);
  });

  it("a softirq raised with bh disabled runs at local_bh_enable()", () => {
    const m = exactMachine();
    const log: string[] = [];
    m.openSoftirq(TIMER_SOFTIRQ, function* (k) {
      log.push(`softirq@${k.m.now}`);
      yield 1;
    });
    m.createTask("t", 0, function* (k) {
      k.localBhDisable();
      yield 1 * MS;
      log.push(`bh_enable@${k.m.now}`);
      yield BH_ENABLE;
      log.push(`after@${k.m.now}`);
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        k.m.raiseSoftirq(0, TIMER_SOFTIRQ);
        yield 1;
      },
      100 * US,
    );
    m.run(10 * MS);
    expect(log).toEqual([`bh_enable@${1 * MS + 1}`, `softirq@${1 * MS + 1}`, `after@${1 * MS + 2}`]);
  });
});

describe("hardirqs and CPU bursts", () => {
  it("a hardirq preempts a long burst in the middle; the burst resumes with the remaining time", () => {
    const m = exactMachine();
    const trace = new MemoryTrace();
    m.trace = trace;
    let endAt = -1;
    let irqAt = -1;
    const t = m.createTask("burner", 0, function* (k) {
      yield 10 * MS;
      endAt = k.m.now;
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        irqAt = k.m.now;
        yield 1 * MS;
      },
      3 * MS,
    );
    m.run(50 * MS);
    expect(irqAt).toBe(3 * MS);
    expect(endAt).toBe(11 * MS);
    expect(t.sumExecNs).toBe(10 * MS);
    expect(m.cpus[0]!.busyNs[CTX_HARDIRQ]).toBe(1 * MS);
    const entries = trace.events.filter((e) => e.kind === "irq_handler_entry" && e.name === "dev");
    expect(entries.map((e) => e.t)).toEqual([3 * MS]);
    // the tick (HZ=250) also interrupted the burst without changing its length
    expect(m.cpus[0]!.hardirqCount).toBeGreaterThan(1);
  });

  it("irqs raised while irqs are disabled stay pending and are taken at IRQ_ENABLE", () => {
    const m = exactMachine();
    const log: string[] = [];
    m.createTask("t", 0, function* (k) {
      k.localIrqDisable();
      yield 5 * MS;
      log.push(`enable@${k.m.now}`);
      yield IRQ_ENABLE;
      log.push(`after@${k.m.now}`);
      yield 1 * MS;
      log.push(`end@${k.m.now}`);
    });
    m.raiseIrq(
      0,
      "a",
      function* (k) {
        log.push(`a@${k.m.now}`);
        yield 100;
      },
      1 * MS,
    );
    m.raiseIrq(
      0,
      "b",
      function* (k) {
        log.push(`b@${k.m.now}`);
        yield 100;
      },
      2 * MS,
    );
    m.run(20 * MS);
    expect(log).toEqual([
      `enable@${5 * MS}`,
      `a@${5 * MS}`,
      `b@${5 * MS + 100}`,
      `after@${5 * MS + 200}`,
      `end@${6 * MS + 200}`,
    ]);
  });

  it("nested hardirq frames: the call trace shows the irq above the task", () => {
    const m = exactMachine();
    let trace: string[] = [];
    m.createTask("t", 0, function* (k) {
      yield* k.call(
        "outer_fn",
        (function* () {
          yield 2 * MS;
        })(),
      );
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        k.enter("dev_handler");
        trace = k.m.callTrace(k.cpu);
        k.leave();
        yield 1;
      },
      1 * MS,
    );
    m.run(10 * MS);
    expect(trace).toEqual([
      "Call Trace:",
      " <IRQ>",
      " dev_handler",
      " </IRQ>",
      " <TASK>",
      " outer_fn",
      " kthread",
      " ret_from_fork",
      " </TASK>",
    ]);
  });
});

describe("softirq budget and ksoftirqd", () => {
  /** A BLOCK softirq that re-raises itself `total` times, each round costing `roundNs`. */
  function selfRaising(hz: number, roundNs: number, total: number, stopAfter?: (k: Ctx, n: number) => void) {
    const m = exactMachine({ hz });
    const rounds: { comm: string; t: number }[] = [];
    m.openSoftirq(BLOCK_SOFTIRQ, function* (k) {
      rounds.push({ comm: k.task.comm, t: k.m.now });
      stopAfter?.(k, rounds.length);
      yield roundNs;
      if (rounds.length < total) k.m.raiseSoftirq(k.cpu.id, BLOCK_SOFTIRQ);
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        k.m.raiseSoftirq(0, BLOCK_SOFTIRQ);
        yield 1;
      },
      10 * US,
    );
    m.run(100 * MS);
    return { m, rounds };
  }

  it("stops after MAX_SOFTIRQ_RESTART (10) rounds and hands the rest to ksoftirqd", () => {
    const { rounds } = selfRaising(1000, 10 * US, 25);
    expect(rounds.length).toBe(25);
    const inIrq = rounds.filter((r) => r.comm === "swapper/0").length;
    expect(inIrq).toBe(10);
    expect(rounds.slice(10).every((r) => r.comm === "ksoftirqd/0")).toBe(true);
  });

  it("stops after the 2 ms time budget (in jiffies) between rounds, never cutting a handler short", () => {
    // HZ=1000: msecs_to_jiffies(2) = 2 jiffies, so the first __do_softirq runs until jiffies passes start+2
    const { rounds } = selfRaising(1000, 700 * US, 8);
    const first = rounds.filter((r) => r.comm === "swapper/0");
    expect(first.length).toBe(3); // rounds start at 0.01, 0.71, 1.41 ms; at 2.11 ms jiffies = 2 = end
    expect(rounds.length).toBe(8);
    // one long handler is never cut short: a single 30 ms round runs to completion in irq-exit context
    const { m, rounds: r2 } = selfRaising(1000, 30 * MS, 1);
    expect(r2.length).toBe(1);
    expect(m.cpus[0]!.busyNs[CTX_SOFTIRQ]).toBe(30 * MS);
  });

  it("stops when need_resched is set and lets ksoftirqd continue", () => {
    const { rounds } = selfRaising(1000, 10 * US, 6, (k, n) => {
      // waking the stop-class stopper thread sets need_resched on this CPU
      if (n === 2) k.m.wakeUpProcess(k.cpu.stopper);
    });
    expect(rounds.length).toBe(6);
    expect(rounds.filter((r) => r.comm === "swapper/0").length).toBe(2);
    expect(rounds.slice(2).every((r) => r.comm === "ksoftirqd/0")).toBe(true);
  });
});

describe("workqueues", () => {
  function work(func: string, fn: (k: Ctx) => KGen<unknown>): WorkStruct {
    return { func, fn: (k) => fn(k), pending: false };
  }

  it("queue_work() runs the item in a kworker of the local pool; pending while queued", () => {
    const m = exactMachine();
    const trace = new MemoryTrace();
    m.trace = trace;
    const wq = m.wq.allocWorkqueue("xfs-conv");
    const ran: string[] = [];
    const w = work("xfs_end_io", function* (k) {
      ran.push(`${k.task.comm}@${k.m.now}`);
      expect(k.stack).toContain("process_one_work");
      expect(k.stack[k.stack.length - 1]).toBe("xfs_end_io");
      expect(k.task.worker?.currentFunc).toBe("xfs_end_io");
      yield 100 * US;
    });
    let again = true;
    m.createTask("submitter", 0, function* (k) {
      expect(m.wq.queueWork(k, wq, w)).toBe(true);
      expect(w.pending).toBe(true);
      again = m.wq.queueWork(k, wq, w);
      yield 10 * US;
    });
    m.run(10 * MS);
    expect(again).toBe(false);
    expect(w.pending).toBe(false);
    expect(ran).toEqual([`kworker/0:0@${10 * US}`]);
    expect(m.wq.executed.get("xfs-conv")).toBe(1);
    const kinds = trace.events
      .filter((e) => e.kind.startsWith("workqueue"))
      .map((e) => [e.kind, e.name, e.detail]);
    expect(kinds).toEqual([
      ["workqueue_execute_start", "xfs_end_io", "xfs-conv"],
      ["workqueue_execute_end", "xfs_end_io", "xfs-conv"],
    ]);
  });

  it("concurrency management: a blocked worker lets another run, a busy one does not; idle workers are reused", () => {
    const m = exactMachine();
    const wq = m.wq.allocWorkqueue("events");
    const log: string[] = [];
    const sleeper = work("sleeper", function* (k) {
      log.push(`sleeper start ${k.task.comm}@${k.m.now}`);
      yield 10 * US;
      yield* k.m.sleepNs(k, 5 * MS);
      log.push(`sleeper end ${k.task.comm}@${k.m.now}`);
    });
    const quick = work("quick", function* (k) {
      log.push(`quick ${k.task.comm}@${k.m.now}`);
      yield 10 * US;
    });
    const burner = work("burner", function* (k) {
      log.push(`burner start ${k.task.comm}@${k.m.now}`);
      for (let i = 0; i < 20; i++) {
        yield 100 * US;
        yield CR; // cond_resched does not release the pool
      }
      log.push(`burner end ${k.task.comm}@${k.m.now}`);
    });
    const late = work("late", function* (k) {
      log.push(`late ${k.task.comm}@${k.m.now}`);
      yield 10 * US;
    });
    m.createTask("q", 0, function* (k) {
      m.wq.queueWork(k, wq, sleeper);
      m.wq.queueWork(k, wq, quick);
      yield 1 * US;
      k.task.state = TASK_UNINTERRUPTIBLE;
      yield* k.m.sleepNs(k, 10 * MS);
      m.wq.queueWork(k, wq, burner);
      m.wq.queueWork(k, wq, late);
    });
    m.run(50 * MS);
    expect(log).toEqual([
      `sleeper start kworker/0:0@${1 * US}`,
      `quick kworker/0:1@${11 * US}`,
      `sleeper end kworker/0:0@${5 * MS + 11 * US}`,
      // both workers idle now; the next items reuse them (most recently idled first) in order
      expect.stringMatching(/^burner start kworker\/0:[01]@10001000$/),
      expect.stringMatching(/^burner end kworker\/0:[01]@12001000$/),
      expect.stringMatching(/^late kworker\/0:[01]@12001000$/),
    ]);
    expect(m.wq.pools[0]!.workers.length).toBe(2);
  });
});

describe("scheduler", () => {
  it("a wake-up from another CPU runs the sleeper at once on its idle CPU", () => {
    const m = exactMachine({ cpus: 2 });
    let wokeAt = -1;
    const sleeper = m.createTask("sleeper", 0, function* (k) {
      k.task.state = TASK_UNINTERRUPTIBLE;
      yield SCHEDULE;
      wokeAt = k.m.now;
    });
    m.createTask("waker", 1, function* (k) {
      yield 1 * MS;
      expect(k.m.wakeUpProcess(sleeper)).toBe(true);
      expect(k.m.wakeUpProcess(sleeper)).toBe(false); // already runnable
    });
    m.run(10 * MS);
    expect(wokeAt).toBe(1 * MS);
    expect(sleeper.nvcsw).toBeGreaterThanOrEqual(1);
    expect(sleeper.exited).toBe(true);
  });

  function twoHogs(preempt: "none" | "full", withCondResched: boolean) {
    const m = exactMachine({ preempt });
    const hog = (_k: Ctx) =>
      (function* () {
        for (;;) {
          yield 100 * US;
          if (withCondResched) yield CR;
        }
      })();
    const a = m.createTask("hogA", 0, hog);
    const b = m.createTask("hogB", 0, hog);
    m.run(400 * MS);
    return { m, a, b };
  }

  it("two CPU hogs on one CPU share it fairly (FULL, or NONE with cond_resched)", () => {
    for (const [model, cr] of [
      ["full", false],
      ["none", true],
    ] as const) {
      const { m, a, b } = twoHogs(model, cr);
      const total = a.sumExecNs + b.sumExecNs;
      expect(total).toBeGreaterThan(399 * MS);
      expect(Math.abs(a.sumExecNs - b.sumExecNs)).toBeLessThan(10 * MS);
      // slices of about a tick: many involuntary switches, counted per CPU and per task
      expect(m.cpus[0]!.nrSwitches).toBeGreaterThan(50);
      expect(a.nivcsw).toBeGreaterThan(20);
      expect(b.nivcsw).toBeGreaterThan(20);
    }
  });

  it("under NONE a hog without cond_resched keeps the CPU", () => {
    const { a, b } = twoHogs("none", false);
    expect(a.sumExecNs + b.sumExecNs).toBeGreaterThan(399 * MS);
    expect(Math.min(a.sumExecNs, b.sumExecNs)).toBe(0);
  });

  it("a stop-class wake-up beats a fair hog: at once under FULL, at the next cond_resched under NONE", () => {
    for (const model of ["full", "none"] as const) {
      const m = exactMachine({ preempt: model });
      let ranAt = -1;
      const stop = m.createTask(
        "stopper-ish",
        0,
        function* (k) {
          ranAt = k.m.now;
          yield 1;
        },
        { policy: "stop", start: false },
      );
      m.createTask("hog", 0, function* () {
        for (let i = 0; i < 10; i++) {
          yield 1 * MS;
          yield CR;
        }
      });
      m.raiseIrq(
        0,
        "dev",
        function* (k) {
          k.m.wakeUpProcess(stop);
          yield 1;
        },
        2500 * US,
      );
      m.run(50 * MS);
      expect(ranAt).toBe(model === "full" ? 2500 * US + 1 : 3 * MS + 1);
    }
  });
});

describe("regressions", () => {
  it("a task that sleeps with irqs disabled does not pass disabled irqs on to the next task", () => {
    const m = exactMachine({ cpus: 1 });
    const log: string[] = [];
    m.createTask("bad", 0, function* (k) {
      k.localIrqDisable();
      yield* k.m.sleepNs(k, 1 * MS);
      log.push(`bad resumed at ${k.m.now} irqsOff=${k.irqsDisabled()}`);
    });
    m.createTask("victim", 0, function* (k) {
      log.push(`victim irqsOff=${k.irqsDisabled()}`);
      yield 10 * MS;
    });
    m.run(50 * MS);
    // the sleeper's timer interrupts the victim on time and the sleeper resumes with irqs on
    expect(log).toEqual(["victim irqsOff=false", `bad resumed at ${10 * MS} irqsOff=false`]);
    expect(m.findings).toEqual([]);
  });

  it("an irq raised for a later time on the caller's own CPU fires at that time", () => {
    const m = exactMachine({ cpus: 1 });
    const log: number[] = [];
    m.createTask("submit", 0, function* (k) {
      yield 100 * US;
      k.m.raiseIrq(
        0,
        "nvme0q0",
        function* (hk) {
          log.push(hk.m.now);
          yield 1;
        },
        k.m.now + 2 * MS,
      );
      yield 5 * MS;
    });
    m.run(10 * MS);
    expect(log).toEqual([2100 * US]);
  });

  it("raising an irq on another CPU does not run it inside the caller's step (time stays put)", () => {
    const m = exactMachine({ cpus: 2 });
    const log: string[] = [];
    m.createTask("a", 0, function* (k) {
      yield 1 * MS;
      const t0 = k.m.now;
      k.m.raiseIrq(1, "x", function* (hk) {
        yield 500 * US;
        log.push(`irq end ${hk.m.now}`);
      });
      log.push(`a ${t0} -> ${k.m.now}`);
    });
    m.createTask("b", 1, function* () {
      yield 3 * MS;
    });
    m.run(10 * MS);
    expect(log).toEqual([`a ${1 * MS} -> ${1 * MS}`, `irq end ${1500 * US}`]);
  });
});
