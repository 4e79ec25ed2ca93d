// The race checker: drive a target through many schedules with a strategy until an invariant breaks,
// then shrink the counterexample. Budgets by schedules and by wall time (the only wall-clock use,
// and it decides how long to search, never what a run does).
import { type Counterexample, makeCounterexample } from "./counterexample.js";
import { DEFAULT_GRAIN, type ExhaustiveResult, exhaustive, PROGRESS_MS } from "./exhaustive.js";
import { type CheckTarget, type RunOutcome, runOnce } from "./run.js";
import { shrink } from "./shrink.js";
import { PCT_SPIN_BOUND, PctStrategy, RandomStrategy } from "./strategy.js";

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
  /** PCT: steps a CPU may take in a row before it is demoted (spinning threads). */
  pctSpinBound: number;
  /**
   * Exhaustive: state matching at quiescent nodes (src/check/state.ts); one unit of work in the
   * calling thread. Its complete searches say "no violation found", never "verified" (docs: the
   * soundness argument rests on assumptions tests check, not on a proof). A preemption bound turns
   * it off: the search is then the bounded stateless one, and so is its verdict.
   */
  stateful: boolean;
  /** Called about every 200 ms of search (and once at the end) with the search's figures so far. */
  onProgress?: (p: CheckProgress) => void;
}

/** What a running search has done so far (for progress displays). */
export interface CheckProgress {
  schedules: number;
  elapsedMs: number;
  /** Deepest schedule so far (steps). */
  bestDepth: number;
  /** Budgets: schedules and wall time (ms). */
  budget: number;
  timeMs: number;
}

/** Milliseconds between two progress reports. */
export { PROGRESS_MS };

export interface CheckResult {
  verdict: "violation" | "no violation found" | "verified";
  strategy: StrategyName;
  schedules: number;
  elapsedMs: number;
  schedulesPerS: number;
  /** Exhaustive only: the bounded space was covered completely. */
  complete: boolean;
  /** Exhaustive only: runs cut by the step budget with CPUs still able to move (never complete then). */
  cutRuns?: number;
  stepsExecuted: number;
  /** Exhaustive only: transitions pruned by sleep sets. */
  pruned: number;
  /** Exhaustive only: states visited (search-tree nodes, ExhaustiveResult.states). */
  states: number;
  /** Exhaustive only: units of work and rounds of the search, worker threads used. */
  units: number;
  rounds: number;
  jobs: number;
  /** Exhaustive, stateful: nodes pruned by a state match, states stored, nodes with a state key. */
  matched?: number;
  storedStates?: number;
  keyedNodes?: number;
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
    pctSpinBound: PCT_SPIN_BOUND,
    preemptionBound: Number.POSITIVE_INFINITY,
    shrink: true,
    grain: DEFAULT_GRAIN,
    jobs: 1,
    stateful: false,
    ...over,
  };
}

export function exhaustiveOpts(o: CheckOptions, t0: number) {
  const onProgress = o.onProgress;
  return {
    maxSchedules: o.budget,
    maxMs: o.timeS * 1000,
    preemptionBound: o.preemptionBound,
    grain: o.grain,
    stateful: o.stateful,
    ...(onProgress !== undefined
      ? {
          onProgress: (schedules: number, bestDepth = 0) =>
            onProgress({
              schedules,
              elapsedMs: performance.now() - t0,
              bestDepth,
              budget: o.budget,
              timeMs: o.timeS * 1000,
            }),
        }
      : {}),
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
    return finishCheck(target, o, t0, exhaustive(target, exhaustiveOpts(o, t0)), 1);
  let found: RunOutcome | null = null;
  let schedules = 0;
  let stepsExecuted = 0;
  let bestDepth = 0;
  let lastReport = t0;
  const report = (now: number) =>
    o.onProgress?.({ schedules, elapsedMs: now - t0, bestDepth, budget: o.budget, timeMs: o.timeS * 1000 });
  {
    // PCT needs the length of a run, not the step budget: learn it from the runs that finished
    // (a run cut by the step budget tells nothing of how long the workload takes); until one has,
    // use the step budget
    let kSteps = 0;
    for (let i = 0; i < o.budget; i++) {
      const now = performance.now();
      if (now - t0 >= o.timeS * 1000) break;
      if (now - lastReport >= PROGRESS_MS) {
        lastReport = now;
        report(now);
      }
      const seed = (o.seed + i) >>> 0;
      const strat =
        o.strategy === "pct" && i > 0
          ? new PctStrategy(
              seed,
              target.cpus + 1,
              o.pctDepth,
              kSteps > 0 ? kSteps : target.maxSteps,
              o.pctSpinBound,
            )
          : new RandomStrategy(seed);
      const r = runOnce(target, strat);
      schedules++;
      stepsExecuted += r.steps;
      if (r.steps > bestDepth) bestDepth = r.steps;
      if (!r.truncated && r.steps > kSteps) kSteps = r.steps;
      if (r.finding !== null) {
        found = r;
        break;
      }
      target.recycle?.(r.machine);
    }
  }
  report(performance.now());
  return finishCheck(
    target,
    o,
    t0,
    {
      stateful: false,
      schedules,
      complete: false,
      pruned: 0,
      states: 0,
      maxDepth: bestDepth,
      counterexample: found,
      elapsedMs: performance.now() - t0,
      stepsExecuted,
      units: 0,
      matched: 0,
      storedStates: 0,
      keyedNodes: 0,
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
    // the search that ran decides, not the option (a preemption bound turns state matching off)
    verdict: found !== null ? "violation" : complete && !r.stateful ? "verified" : "no violation found",
    strategy: o.strategy,
    schedules,
    elapsedMs: searchMs,
    schedulesPerS: schedules / Math.max(searchMs / 1000, 1e-9),
    complete,
    stepsExecuted: r.stepsExecuted,
    pruned: r.pruned,
    states: r.states,
    units: r.units,
    ...((r.cutRuns ?? 0) > 0 ? { cutRuns: r.cutRuns } : {}),
    ...(r.stateful ? { matched: r.matched, storedStates: r.storedStates, keyedNodes: r.keyedNodes } : {}),
    rounds: r.rounds,
    jobs,
    foundAt: found !== null ? schedules - 1 : -1,
    original: found !== null ? { steps: found.steps } : null,
    counterexample: cx,
    shrinkAttempts: attempts,
  };
}
