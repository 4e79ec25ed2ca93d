// One explored run of a check target under a strategy, and what it found.
import type { ExploreStrategy, Finding, Machine } from "../sim/machine.js";
import type { StepState } from "./counterexample.js";
import type { WarmStart } from "./warm.js";

/** Something the checker can run again and again from the same initial state. */
export interface CheckTarget {
  /** A short name for reports and counterexample files. */
  readonly name: string;
  /** A fresh machine in explore mode, with the model and its workloads set up, not yet run. */
  build(): Machine;
  /**
   * Optional: the run on `m` is over and nothing will look at it again (no finding was kept from
   * it), so its memory may be reused by the next build.
   */
  recycle?(m: Machine): void;
  /**
   * Optional: the model state at page `vpn` now (the PTE, each CPU's TLB entry, the VMA and its lock),
   * for the counterexample step view.
   */
  inspect?(m: Machine, vpn: number): StepState;
  /**
   * Optional: the model's objects whose state, with the machine's, is the whole state of a run (the
   * stateful exhaustive search reads it, src/check/state.ts).
   */
  stateRoots?(m: Machine): unknown[];
  /**
   * Optional: the values of the model's allocation counters that steps read without a footprint
   * (the next value a user store writes), as one string. The stateful search's read histories
   * (src/check/history.ts) fold a counter's value into the chain of a step that changed it: such
   * counters are only read to be advanced.
   */
  counters?(m: Machine): () => string;
  /** Step budget of one run. */
  readonly maxSteps: number;
  /** Number of CPUs (for PCT). */
  readonly cpus: number;
  /** Finding kinds that count as violations (default: every finding). */
  readonly kinds?: readonly string[];
  /** Scenario description stored in counterexample files (scenario name, variant, seed, switches). */
  readonly describe?: Record<string, unknown>;
  /**
   * "none": the model's steps record no footprints (Machine.touch) of its shared state, so an
   * exhaustive search treats every two steps as dependent (no reduction, still sound). Default:
   * the model records them.
   */
  readonly footprints?: "none";
  /**
   * Plain data from which a worker thread builds the same target (targetFromSpec); without it the
   * search stays in the calling thread.
   */
  readonly spec?: CheckTargetSpec;
}

/** How to rebuild a check target elsewhere (src/check/spec.ts). */
export type CheckTargetSpec =
  | {
      model: "mm";
      config: Record<string, unknown>;
      options: { name?: string; maxSteps?: number; kinds?: string[]; warmStart?: WarmStart };
    }
  | { model: "iomap"; config: Record<string, unknown> }
  | { model: "fs"; config: Record<string, unknown>; options: { maxSteps: number; kinds?: string[] } };

export interface RunOutcome {
  finding: Finding | null;
  choices: number[];
  labels: string[];
  steps: number;
  machine: Machine;
  /** The run was cut by its step budget (its length says nothing about the workload's). */
  truncated?: boolean;
}

export function isViolation(target: CheckTarget, f: Finding): boolean {
  return target.kinds === undefined || target.kinds.includes(f.kind);
}

/** Run the target once under `strategy`, stopping at the first violation. */
export function runOnce(
  target: CheckTarget,
  strategy: ExploreStrategy,
  maxSteps = target.maxSteps,
): RunOutcome {
  const m = target.build();
  if (m.mode !== "explore")
    throw new Error(`check target ${target.name}: build() must return an explore-mode machine`);
  m.stopOnFinding = true;
  m.stopFilter = (f) => isViolation(target, f);
  m.explore(strategy, maxSteps);
  endRun(target, m);
  const finding = m.findings.find((f) => isViolation(target, f)) ?? null;
  return {
    finding,
    choices: m.choices.slice(),
    labels: m.stepLabels.slice(),
    steps: m.steps,
    machine: m,
    truncated: !m.stopped && m.steps >= maxSteps,
  };
}

/**
 * The run is over: unless the search cut it short ("pruned") or it already broke an invariant,
 * run the end-of-run checks (Machine.finish: the models' final sweeps, e.g. lost updates). A run
 * whose workloads all finished is stopped too, and is checked like any other.
 */
export function endRun(target: CheckTarget, m: Machine): void {
  if (m.stopReason === "pruned") return;
  if (m.stopped && m.findings.some((f) => isViolation(target, f))) return;
  m.finish();
}
