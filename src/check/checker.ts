// The race checker: drive a target through many schedules with a strategy until an invariant breaks,
// then shrink the counterexample. Budgets by schedules and by wall time (the only wall-clock use,
// and it decides how long to search, never what a run does).
import { type Counterexample, makeCounterexample } from "./counterexample.js";
import { exhaustive } from "./exhaustive.js";
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
    ...over,
  };
}

export function check(target: CheckTarget, opts: Partial<CheckOptions> = {}): CheckResult {
  const o = defaultCheckOptions(opts);
  const t0 = performance.now();
  let found: RunOutcome | null = null;
  let schedules = 0;
  let complete = false;
  let stepsExecuted = 0;
  let pruned = 0;
  if (o.strategy === "exhaustive") {
    const r = exhaustive(target, {
      maxSchedules: o.budget,
      maxMs: o.timeS * 1000,
      preemptionBound: o.preemptionBound,
    });
    schedules = r.schedules;
    complete = r.complete;
    found = r.counterexample;
    stepsExecuted = r.stepsExecuted;
    pruned = r.pruned;
  } else {
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
    }
  }
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
    stepsExecuted,
    pruned,
    foundAt: found !== null ? schedules - 1 : -1,
    original: found !== null ? { steps: found.steps } : null,
    counterexample: cx,
    shrinkAttempts: attempts,
  };
}
