// The preemption models, exactly as ../shared/reference/iomap-writeback.md §3.5 describes them.
import { describe, expect, it } from "vitest";
import {
  BH_ENABLE,
  BLOCK_SOFTIRQ,
  type Ctx,
  condResched,
  ENTER_KERNEL,
  type Machine,
  mightSleep,
  PREEMPT_ENABLE,
  type PreemptModel,
  RET_TO_USER,
  type Task,
} from "../../src/sim/index.js";
import { exactMachine, MS, US, ZERO_COSTS } from "./helpers.js";

const CR = condResched("test/preempt.c", 10);
const MSLEEP = mightSleep("test/preempt.c", 20);

/** Record the quiescent-state reasons the engine reports to RCU. */
function qsLog(m: Machine): string[] {
  const log: string[] = [];
  m.hooks.qs.push((c, reason) => log.push(`${c.id}:${reason}`));
  return log;
}

/** A sleeping task of `policy` that records when it first runs. */
function sleeper(m: Machine, policy: "normal" | "stop" | "fifo", out: { at: number }): Task {
  return m.createTask(
    `w-${policy}`,
    0,
    function* (k) {
      out.at = k.m.now;
      yield 1;
    },
    { policy, rtPrio: policy === "fifo" ? 50 : 0, start: false },
  );
}

/** Wake `t` from a hardirq at time `at` (as a device completion would). */
function wakeFromIrq(m: Machine, t: Task, at: number): void {
  m.raiseIrq(
    0,
    "dev",
    function* (k) {
      k.m.wakeUpProcess(t);
      yield 1;
    },
    at,
  );
}

describe("cond_resched()", () => {
  for (const model of ["none", "voluntary"] as const) {
    it(`${model}: reports rcu_all_qs when nothing is pending, schedules when need_resched is set`, () => {
      const m = exactMachine({ preempt: model });
      const qs = qsLog(m);
      const woken = { at: -1 };
      const w = sleeper(m, "stop", woken);
      const hog = m.createTask("hog", 0, function* (k) {
        yield 100 * US;
        const before = qs.length;
        yield CR;
        expect(qs.slice(before)).toEqual(["0:rcu_all_qs"]);
        expect(k.cpu.nrSwitches).toBe(1);
        yield 1 * MS; // the stop task is woken during this burst
        expect(k.cpu.needResched).toBe(true);
        yield CR; // schedules
        expect(woken.at).toBe(1100 * US + 1); // (+1: the waking irq's handler took 1 ns)
      });
      wakeFromIrq(m, w, 500 * US);
      m.run(10 * MS);
      expect(woken.at).toBe(1100 * US + 1);
      expect(hog.nivcsw).toBe(1);
      expect(m.findings).toEqual([]);
    });
  }

  for (const model of ["full", "lazy"] as const) {
    it(`${model}: is a no-op (no rcu_all_qs, no schedule)`, () => {
      const m = exactMachine({ preempt: model });
      const qs = qsLog(m);
      m.createTask("t", 0, function* (k) {
        yield 100 * US;
        const before = qs.length;
        const switches = k.cpu.nrSwitches;
        yield CR;
        expect(qs.slice(before)).toEqual([]);
        expect(k.cpu.nrSwitches).toBe(switches);
      });
      m.run(10 * MS);
      expect(m.findings).toEqual([]);
    });
  }

  it("lazy: with only the lazy flag set, cond_resched() does not schedule", () => {
    const m = exactMachine({ preempt: "lazy" });
    const woken = { at: -1 };
    const w = sleeper(m, "normal", woken);
    let lazySeen = false;
    m.createTask("hog", 0, function* (k) {
      yield 2 * MS;
      lazySeen = k.cpu.needReschedLazy && !k.cpu.needResched;
      yield CR;
      expect(woken.at).toBe(-1);
      yield 5 * MS;
    });
    wakeFromIrq(m, w, 1 * MS);
    m.run(20 * MS);
    expect(lazySeen).toBe(true);
    expect(woken.at).toBe(4 * MS); // promoted at the tick (HZ=250), preempted at that irq's exit
  });
});

describe("might_sleep()", () => {
  function runWithMightSleep(model: PreemptModel): number {
    const m = exactMachine({ preempt: model });
    const woken = { at: -1 };
    const w = sleeper(m, "stop", woken);
    m.createTask("hog", 0, function* () {
      for (let i = 0; i < 5; i++) {
        yield 1 * MS;
        yield MSLEEP;
      }
    });
    wakeFromIrq(m, w, 1500 * US);
    m.run(20 * MS);
    expect(m.findings).toEqual([]);
    return woken.at;
  }

  it("is a resched point only under VOLUNTARY", () => {
    // (+1: the waking irq's handler took 1 ns of the hog's burst)
    expect(runWithMightSleep("voluntary")).toBe(2 * MS + 1);
    expect(runWithMightSleep("none")).toBe(5 * MS + 1); // only when the hog exits
    expect(runWithMightSleep("full")).toBe(1500 * US + 1); // preempted at the irq exit anyway
  });
});

describe("kernel preemption", () => {
  function runPreemptDisabled(model: PreemptModel) {
    const m = exactMachine({ preempt: model });
    const woken = { at: -1 };
    const w = sleeper(m, "stop", woken);
    const log: number[] = [];
    m.createTask("t", 0, function* (k: Ctx) {
      k.preemptDisable();
      yield 3 * MS;
      yield PREEMPT_ENABLE;
      log.push(k.m.now);
      yield 3 * MS;
    });
    wakeFromIrq(m, w, 1 * MS);
    m.run(20 * MS);
    return { woken: woken.at, resumed: log[0] };
  }

  it("FULL preempts at preempt_enable() when need_resched is pending, and at irq exit", () => {
    const r = runPreemptDisabled("full");
    expect(r.woken).toBe(3 * MS + 1); // (+1: the waking irq's handler)
    expect(r.resumed).toBe(3 * MS + 2);
  });

  it("NONE and VOLUNTARY never preempt kernel code", () => {
    for (const model of ["none", "voluntary"] as const) {
      const r = runPreemptDisabled(model);
      expect(r.resumed).toBe(3 * MS + 1);
      expect(r.woken).toBe(6 * MS + 1);
    }
  });

  it("FULL: a fair wake-up preempts a fair hog at the irq exit", () => {
    const m = exactMachine({ preempt: "full" });
    const woken = { at: -1 };
    const w = sleeper(m, "normal", woken);
    m.createTask("hog", 0, function* () {
      yield 10 * MS;
    });
    wakeFromIrq(m, w, 1 * MS);
    m.run(20 * MS);
    expect(woken.at).toBe(1 * MS + 1);
  });

  it("LAZY: a fair wake-up only sets the lazy flag, promoted at the next tick", () => {
    const m = exactMachine({ preempt: "lazy" });
    const woken = { at: -1 };
    const w = sleeper(m, "normal", woken);
    const flags: boolean[] = [];
    m.createTask("hog", 0, function* () {
      yield 10 * MS;
    });
    wakeFromIrq(m, w, 1 * MS);
    m.at(2 * MS, () => flags.push(m.cpus[0]!.needReschedLazy, m.cpus[0]!.needResched));
    m.run(20 * MS);
    expect(flags).toEqual([true, false]);
    expect(woken.at).toBe(4 * MS);
  });

  for (const policy of ["stop", "fifo"] as const) {
    it(`LAZY: a ${policy}-class wake-up preempts at once`, () => {
      const m = exactMachine({ preempt: "lazy" });
      const woken = { at: -1 };
      const w = sleeper(m, policy, woken);
      m.createTask("hog", 0, function* () {
        yield 10 * MS;
      });
      wakeFromIrq(m, w, 1 * MS);
      m.run(20 * MS);
      expect(woken.at).toBe(1 * MS + 1);
    });
  }

  it("a remote wake-up reaches a FULL CPU through the reschedule IPI", () => {
    const m = exactMachine({ preempt: "full", cpus: 2, costs: { ...ZERO_COSTS, ipiLatencyNs: 1500 } });
    const woken = { at: -1 };
    const w = sleeper(m, "stop", woken);
    m.createTask("hog", 0, function* () {
      yield 10 * MS;
    });
    m.createTask("waker", 1, function* (k) {
      yield 1 * MS;
      k.m.wakeUpProcess(w);
    });
    m.run(20 * MS);
    // IPI latency, then the RES handler (100 ns), then preemption at its exit
    expect(woken.at).toBe(1 * MS + 1500 + 100);
  });
});

describe("local_bh_enable()", () => {
  it("FULL: after running pending softirqs it is a preemption point (preempt_check_resched)", () => {
    const m = exactMachine({ preempt: "full" });
    const woken = { at: -1 };
    const w = sleeper(m, "stop", woken);
    m.openSoftirq(BLOCK_SOFTIRQ, function* (k) {
      k.m.wakeUpProcess(w);
      yield 10 * US;
    });
    m.createTask("t", 0, function* (k) {
      k.localBhDisable();
      yield 2 * MS;
      yield BH_ENABLE;
      yield 10 * MS;
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        k.m.raiseSoftirq(0, BLOCK_SOFTIRQ);
        yield 1;
      },
      1 * MS,
    );
    m.run(30 * MS);
    expect(woken.at).toBe(2 * MS + 1 + 10 * US);
  });

  it("FULL: without pending softirqs it preempts when the count drops to 0", () => {
    const m = exactMachine({ preempt: "full" });
    const woken = { at: -1 };
    const w = sleeper(m, "stop", woken);
    m.createTask("t", 0, function* (k) {
      k.localBhDisable();
      yield 2 * MS;
      yield BH_ENABLE;
      yield 10 * MS;
    });
    wakeFromIrq(m, w, 1 * MS);
    m.run(30 * MS);
    expect(woken.at).toBe(2 * MS + 1);
  });
});

describe("user mode", () => {
  function userHogs(model: PreemptModel) {
    const m = exactMachine({ preempt: model });
    const hog = () =>
      function* (k: Ctx) {
        yield RET_TO_USER;
        for (let i = 0; i < 400; i++) yield 1 * MS; // user-mode computation
        yield ENTER_KERNEL;
        expect(k.task.inUser).toBe(false);
      };
    const a = m.createTask("a", 0, hog(), { kthread: false });
    const b = m.createTask("b", 0, hog(), { kthread: false });
    m.run(200 * MS);
    return { a, b, m };
  }

  it("user-mode hogs are preempted at the tick in every model (return to user honours need_resched)", () => {
    for (const model of ["none", "voluntary", "full", "lazy"] as const) {
      const { a, b } = userHogs(model);
      expect(a.sumExecNs + b.sumExecNs).toBeGreaterThan(199 * MS);
      expect(Math.abs(a.sumExecNs - b.sumExecNs)).toBeLessThan(10 * MS);
    }
  });

  it("LAZY: exit to user mode honours the lazy flag at once", () => {
    const m = exactMachine({ preempt: "lazy" });
    const woken = { at: -1 };
    const w = sleeper(m, "normal", woken);
    m.createTask(
      "u",
      0,
      function* () {
        yield 2 * MS; // kernel work (the syscall)
        yield RET_TO_USER;
        yield 10 * MS;
      },
      { kthread: false },
    );
    wakeFromIrq(m, w, 1 * MS);
    m.run(20 * MS);
    expect(woken.at).toBe(2 * MS + 1);
  });

  it("rcu_sched: a CPU running user code is quiescent (tick from user mode)", () => {
    const m = exactMachine({ preempt: "none" });
    const qs = qsLog(m);
    m.createTask(
      "u",
      0,
      function* () {
        yield RET_TO_USER;
        yield 10 * MS;
      },
      { kthread: false },
    );
    m.run(10 * MS);
    expect(qs).toContain("0:user");
  });
});
