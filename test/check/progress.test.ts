// The exhaustive search's progress reports (ExhaustiveOptions.onProgress, what `faultline check`'s
// progress bar shows): they come while a unit of work runs, not only when it ends, from this process
// and from worker processes, and they change nothing the search explores or counts. In this thread
// the clock is injected (ExhaustiveOptions.clock), so nothing here measures wall time.
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type ExhaustiveOptions,
  type ExhaustiveResult,
  exhaustive,
  PROGRESS_MS,
} from "../../src/check/exhaustive.js";
import type { exhaustiveParallel, ParallelResult } from "../../src/check/parallel.js";
import type { CheckTarget } from "../../src/check/run.js";
import { buildOnce, ROOT } from "../cli/helpers.js";
import { abbaTarget, counterTarget, countingRuns } from "./targets.js";

/** A clock that moves `msPerRun` each time the target builds a machine (one run), counting its readings. */
function runClock(t: CheckTarget, msPerRun: number) {
  const { target, runs } = countingRuns(t);
  let reads = 0;
  return {
    target,
    clock: () => {
      reads++;
      return runs() * msPerRun;
    },
    reads: () => reads,
  };
}

/** What a search explored and found, without its wall time or the counterexample's machine. */
function figures(r: ExhaustiveResult) {
  const { elapsedMs: _e, counterexample, ...rest } = r;
  const { workerPeakRssMiB: _p, workerCpuS: _c, ...plain } = rest as Partial<ParallelResult>;
  return {
    ...plain,
    counterexample: counterexample === null ? null : { ...counterexample, machine: undefined },
  };
}

describe("exhaustive search: progress while a unit of work runs", () => {
  it("a unit reports about every PROGRESS_MS of the clock, not only at its end", () => {
    // one unit of work (a grain larger than the search), 100 ms of the clock per run
    const c = runClock(counterTarget(3, 2, true), 100);
    const reports: { schedules: number; depth: number; at: number }[] = [];
    const r = exhaustive(c.target, {
      grain: 1e9,
      maxMs: 1e12,
      clock: c.clock,
      onProgress: (schedules, depth) => reports.push({ schedules, depth, at: c.clock() }),
    });
    expect(r.units).toBe(1);
    expect(r.complete).toBe(true);
    expect(r.schedules).toBeGreaterThan(20);
    // the last report is the unit's end; every one before it came while the unit ran
    expect(reports.at(-1)).toMatchObject({ schedules: r.schedules, depth: r.maxDepth });
    const during = reports.slice(0, -1);
    expect(during.length).toBeGreaterThan(r.schedules / 3);
    // the first after the first run, then one per PROGRESS_MS of the clock (2 runs here), never more often
    expect(during[0]!.schedules).toBe(1);
    for (let i = 1; i < during.length; i++) {
      expect(during[i]!.at - during[i - 1]!.at).toBeGreaterThanOrEqual(PROGRESS_MS);
      expect(during[i]!.schedules - during[i - 1]!.schedules).toBe(PROGRESS_MS / 100);
    }
    for (const p of during) {
      expect(p.schedules).toBeLessThan(r.schedules);
      expect(p.depth).toBeLessThanOrEqual(r.maxDepth);
    }
  });

  it("reports count the units of the round finished before the running one", () => {
    // units of 4 schedules, 150 ms per run: a report inside each unit that lasts beyond its first run
    const c = runClock(counterTarget(3, 2, true), 150);
    const seen: number[] = [];
    const r = exhaustive(c.target, {
      grain: 4,
      maxMs: 1e12,
      clock: c.clock,
      onProgress: (s) => seen.push(s),
    });
    expect(r.units).toBeGreaterThan(3);
    expect(seen.length).toBeGreaterThan(r.units);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)).toBe(r.schedules);
  });

  it("a search explores, counts and finds the same with and without progress reports, reading its clock as often", () => {
    const targets = [
      counterTarget(3, 2, true),
      counterTarget(3, 2, false), // a lost update: the search ends at a violation
      abbaTarget(),
    ];
    for (const t of targets) {
      for (const grain of [1e9, 4, 1]) {
        for (const budget of [{ maxSchedules: 7 }, { maxMs: 9 }, {}] as Partial<ExhaustiveOptions>[]) {
          const run = (progress: boolean) => {
            const c = runClock(t, 1);
            let reports = 0;
            const r = exhaustive(c.target, {
              grain,
              clock: c.clock,
              ...budget,
              ...(progress ? { onProgress: () => reports++ } : {}),
            });
            return { r: figures(r), reads: c.reads(), reports };
          };
          const quiet = run(false);
          const shown = run(true);
          expect(shown.r).toEqual(quiet.r);
          expect(shown.reads).toBe(quiet.reads);
          expect(shown.reports).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe("exhaustive search on worker processes: progress while units run", () => {
  let dist: { exhaustiveParallel: typeof exhaustiveParallel; target: CheckTarget };
  beforeAll(async () => {
    // the worker processes run dist/check/exhaustive-process.js: the code `faultline check -j` runs
    buildOnce();
    const imp = async <T>(f: string) => (await import(path.join(ROOT, "dist", f))) as T;
    const { exhaustiveParallel } =
      await imp<typeof import("../../src/check/parallel.js")>("check/parallel.js");
    const { checkTargetFor } =
      await imp<typeof import("../../src/scenario/checktarget.js")>("scenario/checktarget.js");
    const { loadArg, parseSets } = await imp<typeof import("../../src/cli/common.js")>("cli/common.js");
    // the small search of test/cli/check.test.ts's --jobs test, in units of 10 schedules
    const l = loadArg(
      "pervma-check-small",
      parseSets([
        "workloads[0].threads=1",
        "workloads[1].threads=1",
        "workloads[1].faultsPerThread=1",
        "machine.cpus=3",
      ]),
    );
    const target = checkTargetFor(l.scenario, { seed: 1, maxSteps: 20_000 });
    dist = { exhaustiveParallel, target };
  }, 600_000);

  it("workers post progress while their units run, and the search's results are those without it", async () => {
    const opts = { grain: 10, maxSchedules: 1e6, jobs: 2 };
    const quiet = await dist.exhaustiveParallel(dist.target, opts);
    const seen: number[] = [];
    const shown = await dist.exhaustiveParallel(dist.target, { ...opts, onProgress: (s) => seen.push(s) });
    expect(figures(shown)).toEqual(figures(quiet));
    expect(shown.complete).toBe(true);
    expect(shown.workerPeakRssMiB.length).toBe(2);
    // a report at each unit's end, and more from units still running (a unit posts after its first
    // run, then every PROGRESS_MS)
    expect(seen.length).toBeGreaterThan(shown.units);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)).toBe(shown.schedules);
  }, 300_000);
});
