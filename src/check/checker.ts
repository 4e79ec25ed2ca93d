// The race checker: drive a target through many schedules with a strategy until an invariant breaks,
// then shrink the counterexample. Budgets by schedules and by wall time (the only wall-clock use,
// and it decides how long to search, never what a run does).
import { type Counterexample, makeCounterexample } from "./counterexample.js";
import { DEFAULT_GRAIN, type ExhaustiveResult, exhaustive } from "./exhaustive.js";
import { type CheckTarget, type RunOutcome, runOnce } from "./run.js";
import { shrink } from "./shrink.js";
import { PctStrategy, RandomStrategy } from "./strategy.js";

export type StrategyName = "random" | "pct" | "exhaustive";

export interface CheckOptions {
  strategy: StrategyName;
  /** Schedules to try at most. */
  budget: number;
  /** Wall time budget in seconds. */
  timeS: number;
  /** First seed of the random/PCT strategies; schedule i uses seed + i. */
  seed: number;
  /** PCT bug depth. */
  pctDepth: number;
  /** Exhaustive: preemption bound (Infinity: none). */
  preemptionBound: number;
  /** Shrink a found counterexample. */
  shrink: boolean;
  /** Exhaustive: schedules per unit of work (the search's grain; results depend on it). */
  grain: number;
  /** Exhaustive, checkAsync only: worker threads (results never depend on it). */
  jobs: number;
  onProgress?: (schedules: number) => void;
}

export interface CheckResult {
  verdict: "violation" | "no violation found" | "verified";
  strategy: StrategyName;
  schedules: number;
  elapsedMs: number;
  schedulesPerS: number;
  /** Exhaustive only: the bounded space was covered completely. */
  complete: boolean;
  stepsExecuted: number;
  /** Exhaustive only: transitions pruned by sleep sets. */
  pruned: number;
  /** Exhaustive only: units of work and rounds of the search, worker threads used. */
  units: number;
  rounds: number;
  jobs: number;
  /** checkAsync with worker processes: each worker's peak RSS (MiB) and their CPU time (s). */
  workerPeakRssMiB?: number[];
  workerCpuS?: number;
  /** The schedule (0-based) that found the violation. */
  foundAt: number;
  original: { steps: number } | null;
  counterexample: Counterexample | null;
  shrinkAttempts: number;
}

export function defaultCheckOptions(over: Partial<CheckOptions> = {}): CheckOptions {
  return {
    strategy: "random",
    budget: 10_000,
    timeS: 30,
    seed: 1,
    pctDepth: 3,
    preemptionBound: Number.POSITIVE_INFINITY,
    shrink: true,
    grain: DEFAULT_GRAIN,
    jobs: 1,
    ...over,
  };
}

export function exhaustiveOpts(o: CheckOptions) {
  return {
    maxSchedules: o.budget,
    maxMs: o.timeS * 1000,
    preemptionBound: o.preemptionBound,
    grain: o.grain,
    ...(o.onProgress !== undefined ? { onProgress: o.onProgress } : {}),
  };
}

/**
 * The race checker in the calling thread. Exhaustive searches give the same schedules and verdict
 * as checkAsync with any number of worker threads.
 */
export function check(target: CheckTarget, opts: Partial<CheckOptions> = {}): CheckResult {
  const o = defaultCheckOptions(opts);
  const t0 = performance.now();
  if (o.strategy === "exhaustive")
    return finishCheck(target, o, t0, exhaustive(target, exhaustiveOpts(o)), 1);
  let found: RunOutcome | null = null;
  let schedules = 0;
  let stepsExecuted = 0;
  {
    // PCT needs the length of a run, not the step budget: learn it from the runs themselves
    let kSteps = 0;
    for (let i = 0; i < o.budget; i++) {
      if (performance.now() - t0 > o.timeS * 1000) break;
      const seed = (o.seed + i) >>> 0;
      const strat =
        o.strategy === "pct" && kSteps > 0
          ? new PctStrategy(seed, target.cpus, o.pctDepth, kSteps)
          : new RandomStrategy(seed);
      const r = runOnce(target, strat);
      schedules++;
      stepsExecuted += r.steps;
      if (r.steps > kSteps) kSteps = r.steps;
      if (o.onProgress && schedules % 100 === 0) o.onProgress(schedules);
      if (r.finding !== null) {
        found = r;
        break;
      }
      target.recycle?.(r.machine);
    }
  }
  return finishCheck(
    target,
    o,
    t0,
    {
      schedules,
      complete: false,
      pruned: 0,
      maxDepth: 0,
      counterexample: found,
      elapsedMs: performance.now() - t0,
      stepsExecuted,
      units: 0,
      rounds: 0,
    },
    1,
  );
}

/** The verdict, shrunk counterexample and figures of a finished search. */
export function finishCheck(
  target: CheckTarget,
  o: CheckOptions,
  t0: number,
  r: ExhaustiveResult,
  jobs: number,
): CheckResult {
  const found = r.counterexample;
  const schedules = r.schedules;
  const complete = r.complete;
  const searchMs = performance.now() - t0;
  let cx: Counterexample | null = null;
  let attempts = 0;
  if (found !== null) {
    const best = o.shrink ? shrink(target, found) : null;
    attempts = best?.attempts ?? 0;
    const out = best?.outcome ?? found;
    cx = makeCounterexample(target, out.choices, out.labels, out.finding!);
  }
  return {
    verdict: found !== null ? "violation" : complete ? "verified" : "no violation found",
    strategy: o.strategy,
    schedules,
    elapsedMs: searchMs,
    schedulesPerS: schedules / Math.max(searchMs / 1000, 1e-9),
    complete,
    stepsExecuted: r.stepsExecuted,
    pruned: r.pruned,
    units: r.units,
    rounds: r.rounds,
    jobs,
    foundAt: found !== null ? schedules - 1 : -1,
    original: found !== null ? { steps: found.steps } : null,
    counterexample: cx,
    shrinkAttempts: attempts,
  };
}
