// RCU: grace periods wait for pre-existing readers only, call_rcu callbacks run from RCU_SOFTIRQ after
// a grace period, rcu_sched vs rcu_preempt flavours, kfree_rcu and use-after-free reports.
import { describe, expect, it } from "vitest";
import {
  CTX_SOFTIRQ,
  condResched,
  type Machine,
  type MachineConfig,
  mightSleep,
  type PreemptModel,
  type Task,
} from "../../src/sim/index.js";
import { bootKernel, RcuObject, rcu } from "../../src/sync/index.js";

const US = 1_000;
const MS = 1_000_000;
const S = 1_000_000_000;
const CR = condResched("test/rcu.c", 1);

function kernel(preempt: PreemptModel, over: Partial<MachineConfig> = {}): Machine {
  return bootKernel(
    { cpus: 3, preempt, jitter: 0, watchdogThreshS: 0, hungTaskTimeoutS: 0, wqWatchdogThreshS: 0, ...over },
    { rcuBackgroundNs: 0 },
  );
}

/** A reader on `cpu`: from `at`, holds rcu_read_lock for `holdNs`, then passes a quiescent state. */
function reader(
  m: Machine,
  cpu: number,
  at: number,
  holdNs: number,
  log: string[],
  name = `r${cpu}`,
  start = true,
): Task {
  const r = rcu(m);
  return m.createTask(
    name,
    cpu,
    function* (k) {
      yield at;
      r.readLock(k);
      log.push(`${name}+@${k.m.now}`);
      yield holdNs;
      log.push(`${name}-@${k.m.now}`);
      yield* r.readUnlock(k);
      yield CR;
      yield 50 * MS; // keep running: the CPU is not idle
    },
    { start },
  );
}

describe("synchronize_rcu()", () => {
  for (const preempt of ["none", "full"] as const) {
    it(`${preempt}: waits for every pre-existing reader and for nothing else`, () => {
      const m = kernel(preempt, { cpus: 4 });
      const r = rcu(m);
      expect(r.flavour).toBe(preempt === "none" ? "rcu_sched" : "rcu_preempt");
      const log: string[] = [];
      reader(m, 1, 0, 5 * MS, log, "long");
      reader(m, 2, 0, 2 * MS, log, "short");
      // a reader that starts after the grace period began, on a CPU that has passed its quiescent state
      const late = reader(m, 3, 0, 30 * MS, log, "late", false); // CPU 3 was idle (a QS) when the GP began
      let done = -1;
      m.createTask("updater", 0, function* (k) {
        yield 1 * MS;
        yield* r.synchronize(k);
        done = k.m.now;
      });
      m.run(3 * MS);
      // start the late reader now, after the grace period began
      m.wakeUpProcess(late);
      m.run(100 * MS);
      const lateStart = Number(log.find((l) => l.startsWith("late+"))!.split("@")[1]);
      expect(lateStart).toBeGreaterThanOrEqual(3 * MS);
      expect(lateStart).toBeLessThan(4 * MS);
      const longEnd = Number(log.find((l) => l.startsWith("long-"))!.split("@")[1]);
      const lateEnd = Number(log.find((l) => l.startsWith("late-"))!.split("@")[1]);
      expect(done).toBeGreaterThanOrEqual(longEnd);
      expect(done).toBeLessThan(longEnd + 4 * MS); // at most a tick later (FULL: QS seen from the tick)
      expect(done).toBeLessThan(lateEnd);
      expect(r.completed).toBeGreaterThanOrEqual(1);
      expect(m.findings).toEqual([]);
    });
  }

  it("rcu_sched: rcu_read_lock() disables preemption; rcu_preempt does not", () => {
    for (const [preempt, pc] of [
      ["none", 1],
      ["voluntary", 1],
      ["full", 0],
      ["lazy", 0],
    ] as const) {
      const m = kernel(preempt);
      const r = rcu(m);
      let seen = -1;
      m.createTask("t", 0, function* (k) {
        r.readLock(k);
        seen = k.cpu.preemptCount;
        yield 10 * US;
        yield* r.readUnlock(k);
        expect(k.cpu.preemptCount).toBe(0);
      });
      m.run(1 * MS);
      expect(seen).toBe(pc);
    }
  });

  it("rcu_preempt: a reader preempted inside its read section blocks the grace period until it unlocks", () => {
    const m = kernel("full");
    const r = rcu(m);
    const log: string[] = [];
    reader(m, 1, 0, 6 * MS, log, "reader");
    const rt = m.createTask(
      "rt",
      1,
      function* () {
        yield 1 * MS;
      },
      { policy: "fifo", rtPrio: 50, start: false },
    );
    m.raiseIrq(
      1,
      "dev",
      function* (k) {
        k.m.wakeUpProcess(rt);
        yield 1;
      },
      1 * MS,
    );
    let done = -1;
    m.createTask("updater", 0, function* (k) {
      yield 500 * US;
      yield* r.synchronize(k);
      done = k.m.now;
    });
    m.run(3 * MS);
    expect(r.blocked.size).toBe(1);
    m.run(100 * MS);
    const end = Number(log.find((l) => l.startsWith("reader-"))!.split("@")[1]);
    expect(end).toBeGreaterThanOrEqual(7 * MS); // 6 ms of reading plus 1 ms preempted
    expect(done).toBeGreaterThanOrEqual(end);
    expect(done).toBeLessThan(end + 1 * MS);
  });
});

describe("call_rcu()", () => {
  it("runs callbacks after a grace period, from RCU_SOFTIRQ on the calling CPU", () => {
    const m = kernel("none");
    const r = rcu(m);
    const log: string[] = [];
    reader(m, 1, 0, 5 * MS, log, "reader");
    const ran: { t: number; kind: number; cpu: number }[] = [];
    m.createTask("caller", 0, function* () {
      yield 1 * MS;
      r.callRcu(0, "free_thing", () => {
        const c = m.cpus[0]!;
        ran.push({ t: m.now, kind: c.top.kind, cpu: c.id });
      });
      yield 20 * MS; // busy: the callback runs from the softirq at an irq exit
    });
    m.run(50 * MS);
    expect(ran.length).toBe(1);
    expect(ran[0]!.kind).toBe(CTX_SOFTIRQ);
    expect(ran[0]!.t).toBeGreaterThanOrEqual(5 * MS);
    expect(r.gpDurations.length).toBeGreaterThanOrEqual(1);
  });

  it("kfree_rcu: an access after the grace period is a use-after-free finding", () => {
    const m = kernel("none");
    const r = rcu(m);
    const obj = new RcuObject("vma@1");
    const seen: boolean[] = [];
    m.createTask("t", 0, function* (k) {
      r.readLock(k);
      r.kfreeRcu(0, obj, "munmap/1");
      yield 1 * MS;
      seen.push(r.access(k, obj, "lock_vma_under_rcu")); // still inside the reader: fine
      yield* r.readUnlock(k);
      yield CR;
      yield 10 * MS;
      seen.push(r.access(k, obj, "lock_vma_under_rcu")); // outside: freed
    });
    m.run(50 * MS);
    expect(seen).toEqual([true, false]);
    expect(obj.freed).toBe(true);
    expect(m.findings.map((f) => f.kind)).toEqual(["use_after_free"]);
    expect(m.dmesg.map((l) => l.text)).toContain("BUG: KASAN: slab-use-after-free in lock_vma_under_rcu");
  });
});

describe("RCU stall detector (rcu_preempt)", () => {
  it("a task holding rcu_read_lock for 30 s stalls the grace period even under FULL", () => {
    const m = bootKernel({ cpus: 2, preempt: "full", seed: 1, watchdogThreshS: 0 });
    const r = rcu(m);
    m.createTask("reader", 1, function* (k) {
      r.readLock(k);
      for (let i = 0; i < 30_000; i++) yield 1 * MS;
      yield* r.readUnlock(k);
    });
    m.run(30 * S);
    const st = m.findings.filter((f) => f.kind === "rcu_stall");
    expect(st.length).toBeGreaterThanOrEqual(1);
    expect(st[0]!.message).toMatch(
      /^rcu: INFO: rcu_preempt (self-detected stall on CPU|detected stalls on CPUs\/tasks:)$/,
    );
  });
});

describe("regressions", () => {
  it("synchronize_rcu() whose own context switch ends the grace period is not lost", () => {
    // schedule() reports the quiescent state; if that completes the GP, the waker runs try_to_wake_up
    // on the very task that is switching out, which must stay runnable.
    for (const preempt of ["none", "full"] as const) {
      const m = kernel(preempt, { cpus: 1 });
      const r = rcu(m);
      let done = -1;
      const t = m.createTask("sync", 0, function* (k) {
        yield 10 * US;
        yield* r.synchronize(k);
        done = k.m.now;
      });
      m.run(10 * MS);
      expect(done).toBeGreaterThan(0);
      expect(t.exited).toBe(true);
    }
  });
});

describe("might_sleep() inside an RCU read-side section", () => {
  const MIGHT = mightSleep("mm/memory.c", 6000);
  it("is reported under rcu_preempt (RCU nest depth) and under rcu_sched (preempt_count)", () => {
    for (const preempt of ["none", "full"] as const) {
      const m = kernel(preempt);
      const r = rcu(m);
      const t = m.createTask("reader", 0, function* (k) {
        r.readLock(k);
        yield MIGHT;
        yield* r.readUnlock(k);
        yield MIGHT; // outside: silent
      });
      m.run(10 * MS);
      expect(m.findings.map((f) => f.kind)).toEqual(["might_sleep"]);
      const lines = m.dmesg.map((l) => l.text);
      expect(lines[0]).toBe("BUG: sleeping function called from invalid context at mm/memory.c:6000");
      if (preempt === "full") {
        expect(lines[1]).toBe(
          `in_atomic(): 0, irqs_disabled(): 0, non_block: 0, pid: ${t.pid}, name: reader`,
        );
        expect(lines[3]).toBe("RCU nest depth: 1, expected: 0");
      } else {
        expect(lines[1]).toMatch(/^in_atomic\(\): 1,/);
        expect(lines[2]).toBe("preempt_count: 1, expected: 0");
      }
    }
  });
});
