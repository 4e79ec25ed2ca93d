// The exhaustive search's wall-time budget (`check --time`) holds within one schedule: a unit of work
// reads the clock after every run and stops after the run during which the deadline passed, and what
// it hands back to the coordinator (its search stack) grows linearly with the length of its runs.
// The clock is injected (ExhaustiveOptions.clock), so nothing here measures wall time.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ExhaustiveResult,
  exhaustive,
  exhaustiveOptions,
  exploreSubtree,
} from "../../src/check/exhaustive.js";
import { exhaustiveParallel } from "../../src/check/parallel.js";
import type { CheckTarget } from "../../src/check/run.js";
import { checkTargetFor } from "../../src/scenario/checktarget.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { counterTarget, countingRuns } from "./targets.js";

/** pervma-fork-race on 6.4.0: its runs last until the step budget (the fork loops while the faulters run). */
function forkRace(maxSteps: number): CheckTarget {
  const file = path.join(import.meta.dirname, "../../scenarios/pervma-fork-race.yaml");
  const s = loadScenario(fs.readFileSync(file, "utf8"), {
    file,
    sets: [{ path: "kernel.variant", value: "6.4.0", label: "--kernel 6.4.0" }],
    catalog: catalog(),
  });
  return checkTargetFor(s, { seed: 3, maxSteps });
}

const ROOT = { prefix: [], sleep: [], siblings: [] };

describe("exhaustive search: the wall-time budget holds within one schedule", () => {
  it("a unit stops after the run during which its deadline passed, and hands back its stack", () => {
    const { target, runs } = countingRuns(forkRace(2000));
    // the deadline passes during the third run: the unit stops after it
    const r = exploreSubtree(target, ROOT, exhaustiveOptions({ clock: runs }), 3);
    expect(r.schedules).toBe(3);
    expect(r.timedOut).toBe(true);
    expect(r.maxDepth).toBe(2000);
    expect(r.exported).not.toBeNull();
  });

  it("what a stopped unit hands back grows linearly with the length of its runs", () => {
    // the same first run cut at 2,000 and at 4,000 steps (a deadline already past): a stack twice
    // as deep is at most about twice the data (a path per node made it four times)
    const size = (steps: number) => {
      const r = exploreSubtree(forkRace(steps), ROOT, exhaustiveOptions(), Number.NEGATIVE_INFINITY);
      expect(r.schedules).toBe(1);
      expect(r.maxDepth).toBe(steps);
      return JSON.stringify(r.exported).length;
    };
    const ratio = size(4000) / size(2000);
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(2.5);
  });

  it("a search stopped by its deadline explored what the same search stopped by a schedule budget explored", () => {
    const t = counterTarget(3, 2, true);
    for (const grain of [1e9, 4]) {
      for (const k of [1, 5, 9]) {
        const budget = exhaustive(t, { grain, maxSchedules: k, maxMs: 1e12 });
        // one clock tick per run: the deadline passes during run k
        const c = countingRuns(t);
        const timed = exhaustive(c.target, { grain, maxMs: k, clock: c.runs });
        if (grain > 1e6) {
          // one unit: it stops after the run during which the deadline passed
          expect(timed.schedules).toBe(k);
          expect([timed.states, timed.stepsExecuted, timed.pruned]).toEqual([
            budget.states,
            budget.stepsExecuted,
            budget.pruned,
          ]);
        } else {
          // units of 4 schedules: the deadline is read after every run, and the footprint probes
          // of a unit's siblings are runs too (they tick this clock)
          expect(timed.schedules).toBeLessThanOrEqual(k);
        }
        expect(timed.complete).toBe(false);
        expect(budget.complete).toBe(false);
      }
    }
  });

  it("the coordinator of worker processes reads the injected clock for its budget, as exhaustive() does", async () => {
    // in this process (a target without a spec): the same search as exhaustive() with the same clock
    // (the coordinator read performance.now() while its units read the injected clock)
    const figures = (r: ExhaustiveResult) => {
      const { counterexample: _c, ...rest } = r;
      const {
        workerPeakRssMiB: _p,
        workerCpuS: _w,
        ...plain
      } = rest as typeof rest & Record<string, unknown>;
      return plain;
    };
    const t = counterTarget(3, 2, true);
    for (const k of [1, 5, 9]) {
      const a = countingRuns(t);
      const one = exhaustive(a.target, { grain: 4, maxMs: k, clock: a.runs });
      const b = countingRuns(t);
      const par = await exhaustiveParallel(b.target, { grain: 4, maxMs: k, clock: b.runs, jobs: 2 });
      // elapsedMs too: the injected clock's
      expect(figures(par)).toEqual(figures(one));
      expect(par.complete).toBe(false);
      expect(par.schedules).toBeLessThanOrEqual(k);
    }
  });
});
