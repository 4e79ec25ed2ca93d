// One unit of work of the parallel exhaustive search, as a worker runs it: explores a subtree below a
// fixed prefix of a target it builds from its spec (once per worker), and returns what the
// coordinator merges (src/check/exhaustive-process.ts is the worker process around it).
import {
  type ExhaustiveOptions,
  exploreSubtree,
  type SubtreeResult,
  type SubtreeTask,
} from "./exhaustive.js";
import type { CheckTarget, CheckTargetSpec } from "./run.js";
import { targetFromSpec } from "./spec.js";

export interface UnitJob {
  spec: CheckTargetSpec;
  task: SubtreeTask;
  opts: Omit<ExhaustiveOptions, "onProgress">;
  /** Wall time left for the whole search (ms). */
  remainingMs: number;
}

let cached: { key: string; target: CheckTarget } | null = null;

export default function runUnit(job: UnitJob): SubtreeResult {
  const key = JSON.stringify(job.spec);
  if (cached === null || cached.key !== key) cached = { key, target: targetFromSpec(job.spec) };
  const r = exploreSubtree(cached.target, job.task, job.opts, performance.now() + job.remainingMs);
  delete r.outcome; // the machine stays here; the coordinator replays the choices
  return r;
}
