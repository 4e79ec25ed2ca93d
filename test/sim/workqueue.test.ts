// The workqueue as kernel/workqueue.c has it: the stall watchdog checks every wq_watchdog_thresh and
// reports on every check while a pool is stuck; a work item queued again while it runs is run next
// by the same worker (never concurrently); from v6.5 a per-CPU work item that hogs the CPU is marked
// CPU_INTENSIVE and the pool's other work gets a worker.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { condResched, type KGen } from "../../src/sim/effects.js";
import type { Ctx } from "../../src/sim/task.js";
import type { WorkStruct } from "../../src/sim/workqueue.js";
import { bootKernel } from "../../src/sync/index.js";

const CR = condResched("test.c", 1);

function hogAndVictim(cpuIntensiveThreshNs: number) {
  const m = bootKernel({ cpus: 2, hz: 1000, seed: 1, wqWatchdogThreshS: 30, hungTaskTimeoutS: 0 });
  m.wq.cpuIntensiveThreshNs = cpuIntensiveThreshNs;
  const wq = m.wq.allocWorkqueue("events");
  let victimRanAt = -1;
  const hog: WorkStruct = {
    func: "hog_fn",
    pending: false,
    *fn(): KGen<void> {
      // 100 s of CPU in 10 ms pieces with cond_resched() between (a NONE kernel yields there)
      for (let i = 0; i < 10_000; i++) {
        yield 10e6;
        yield CR;
      }
    },
  };
  const victim: WorkStruct = {
    func: "victim_fn",
    pending: false,
    *fn(k: Ctx): KGen<void> {
      victimRanAt = k.m.now;
      yield 1000;
    },
  };
  m.wq.queueWorkOn(1, wq, hog);
  m.at(1e6, () => m.wq.queueWorkOn(1, wq, victim));
  m.run(110e9);
  m.finish();
  const lockups = m.findings.filter((f) => f.kind === "workqueue_lockup");
  return { m, lockups, victimRanAt };
}

describe("workqueue stall watchdog (wq_watchdog_timer_fn)", () => {
  it("before 6.5: the hog keeps the pool's other work waiting; reported on every 30 s check", () => {
    const { lockups, victimRanAt } = hogAndVictim(0);
    expect(victimRanAt).toBeGreaterThan(99e9);
    // checks at 30, 60, 90 s: stuck exactly 30 s at the first is not "after" the threshold
    expect(lockups.length).toBe(2);
    expect(lockups[0]!.message).toMatch(
      /^BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for \d+s!$/,
    );
    const stuck = lockups.map((f) => Number(/stuck for (\d+)s/.exec(f.message)![1]));
    expect(stuck[1]! - stuck[0]!).toBe(30);
  });

  it("6.5+: the hog is marked CPU_INTENSIVE after 10 ms and the victim runs at the next cond_resched", () => {
    const { m, lockups, victimRanAt } = hogAndVictim(10e6);
    expect(victimRanAt).toBeGreaterThan(0);
    expect(victimRanAt).toBeLessThan(100e6);
    expect(lockups).toEqual([]);
    expect(m.wq.cpuHogs.get("hog_fn")).toBe(1);
  });
});

describe("a work item queued again while it runs (find_worker_executing_work)", () => {
  it("runs again after the first execution, on the same worker, never concurrently", () => {
    const m = bootKernel({ cpus: 2, hz: 1000, seed: 1, hungTaskTimeoutS: 0 });
    const wq = m.wq.allocWorkqueue("events");
    const runs: { start: number; end: number; comm: string }[] = [];
    let running = 0;
    let maxRunning = 0;
    const w: WorkStruct = {
      func: "w_fn",
      pending: false,
      *fn(k: Ctx): KGen<void> {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const start = k.m.now;
        // sleep inside the work: the pool wakes another worker for pending work
        yield* k.m.sleepNs(k, 5e6);
        running--;
        runs.push({ start, end: k.m.now, comm: k.task.comm });
      },
    };
    m.wq.queueWorkOn(1, wq, w);
    m.at(1e6, () => m.wq.queueWorkOn(1, wq, w));
    m.run(1e9);
    m.finish();
    expect(runs.length).toBe(2);
    expect(maxRunning).toBe(1);
    expect(runs[1]!.start).toBeGreaterThanOrEqual(runs[0]!.end);
    expect(runs[1]!.comm).toBe(runs[0]!.comm);
  });
});

describe("non-reentrancy across CPUs (__queue_work, every workqueue since 3.7)", () => {
  it("an item queued from any CPU while it runs on another runs there next, never on two CPUs at once", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), cpu: fc.integer({ min: 0, max: 3 }) }), {
          minLength: 2,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 8 }),
        (queues, sleepMs) => {
          const m = bootKernel({ cpus: 4, hz: 1000, seed: 1, hungTaskTimeoutS: 0 });
          const wq = m.wq.allocWorkqueue("events");
          let running = 0;
          let maxRunning = 0;
          let ran = 0;
          const w: WorkStruct = {
            func: "w_fn",
            pending: false,
            *fn(k: Ctx): KGen<void> {
              running++;
              maxRunning = Math.max(maxRunning, running);
              yield* k.m.sleepNs(k, sleepMs * 1e6);
              running--;
              ran++;
            },
          };
          let accepted = 0;
          for (const q of queues)
            m.at(q.at * 1e6, () => {
              if (m.wq.queueWorkOn(q.cpu, wq, w)) accepted++;
            });
          m.run(10e9);
          m.finish();
          expect(maxRunning).toBe(1);
          // every accepted queueing ran exactly once (a pending item is not queued twice)
          expect(ran).toBe(accepted);
        },
      ),
      { numRuns: 60 },
    );
  });
});
