// Cheaper schedules for the exhaustive search (issue 13, exhaustive speed): builds that let go of
// their model after the run (MmBuild.release) and TLB arrays taken from the target's pool change what
// a schedule costs, never what the search explores or what a run computes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { smallConfig } from "../../src/bench/check.js";
import { exhaustive } from "../../src/check/exhaustive.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import { ArrayPool } from "../../src/mm/pool.js";
import { buildMmScenario, type MmScenarioConfig } from "../../src/mm/scenario.js";
import { digest } from "./targets.js";

describe("exhaustive search: cheaper schedules, the same search", () => {
  it("explores what it explored before (schedules, states, steps, pruned)", () => {
    // updates counted as writes (commute off) and with the commutative updates and locks taken free
    // within a step (commute on, the default: rw_semaphore readers that queue, spinlocks taken and
    // released in one step); both with the races of the steps still pending when a run ends
    // (addPendingBacktrackPoints: without them, 28 / 1,606 / 1,502 schedules and a search that never
    // tried the queued task on the idle CPU earlier)
    const cases: [string, number, number, number, boolean, [number, number, number, number, boolean]][] = [
      ["6.4.3", 1, 1e7, 1000, false, [52, 369, 904, 24, true]],
      ["6.4.3", 2, 1e7, 1000, false, [3129, 27844, 90484, 1528, true]],
      ["6.4.3", 2, 1e7, 1000, true, [2924, 25946, 84154, 1424, true]],
      // the benchmark's 4-faulter configuration, its first 400 schedules in units of 100
      ["6.4.3", 4, 400, 100, false, [400, 4265, 18021, 197, false]],
      ["6.4.3", 4, 400, 100, true, [400, 4477, 17801, 198, false]],
    ];
    for (const [kernel, faulters, budget, grain, commute, want] of cases) {
      const t = mmCheckTarget(smallConfig(kernel, faulters), { maxSteps: 20_000 });
      const r = exhaustive(t, { maxSchedules: budget, maxMs: 1e12, grain, commute });
      expect([r.schedules, r.states, r.stepsExecuted, r.pruned, r.complete]).toEqual(want);
      expect(r.counterexample).toBeNull();
    }
  });

  it("property: a run on pooled arrays of released builds ends where a fresh build's run ends", () => {
    const cfg: MmScenarioConfig = { ...smallConfig("6.4.3", 2), mode: "explore", latency: false };
    const run = (pool: ArrayPool | undefined, choices: number[]) => {
      const b = buildMmScenario(cfg, undefined, pool);
      let i = 0;
      b.m.explore({ choose: (en) => en[choices[i++ % choices.length]! % en.length]! }, 20_000);
      b.m.finish();
      const out = `${digest(b)} | ${b.m.steps} | ${b.m.stepLabels.join(",")}`;
      if (pool !== undefined) {
        b.s.sim.recycle();
        b.release();
      }
      return out;
    };
    const pool = new ArrayPool();
    fc.assert(
      fc.property(fc.array(fc.nat(7), { minLength: 1, maxLength: 40 }), (choices) => {
        // the pool holds the previous run's arrays (TLBs, page tables, oracle shadows): reused, zeroed
        expect(run(pool, choices)).toBe(run(undefined, choices));
      }),
      { numRuns: 40, seed: 13 },
    );
  });

  it("release() leaves the run's result as it was, and a second release does nothing", () => {
    const cfg: MmScenarioConfig = { ...smallConfig("6.4.3", 2), mode: "explore", latency: false };
    const b = buildMmScenario(cfg);
    b.m.explore({ choose: (en) => en[en.length - 1]! }, 20_000);
    b.m.finish();
    const before = digest(b);
    const r1 = b.result();
    b.release();
    b.release();
    expect(digest(b)).toBe(before);
    const r2 = b.result();
    expect(r2.steps).toBe(r1.steps);
    expect(r2.completed).toBe(true);
    expect(r2.vmstat).toEqual(r1.vmstat);
  });
});
