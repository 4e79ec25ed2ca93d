// A worker process of the parallel exhaustive search (workerpool, workerType "process"): explores
// units of work (subtrees below a fixed prefix) of a target it builds from its spec once, and
// returns what the coordinator merges, with the process's peak RSS and CPU time.
import workerpool from "workerpool";
import {
  type ExhaustiveOptions,
  exploreSubtree,
  type SubtreeResult,
  type SubtreeTask,
  skippedUnit,
  throttled,
} from "./exhaustive.js";
import type { CheckTarget, CheckTargetSpec } from "./run.js";
import { targetFromSpec } from "./spec.js";

export interface UnitJob {
  spec: CheckTargetSpec;
  task: SubtreeTask;
  opts: Omit<ExhaustiveOptions, "onProgress">;
  /** End of the search's wall-time budget (ms since the epoch: the processes share no other clock). */
  deadlineEpochMs: number;
  /** Post UnitProgressMessages to the coordinator while the unit runs (its search shows progress). */
  progress?: boolean;
}

/** What a worker posts (workerpool.workerEmit) about a running unit: its schedules and deepest schedule so far. */
export interface UnitProgressMessage {
  schedules: number;
  maxDepth: number;
}

export type UnitResult = SubtreeResult & { pid: number; peakRssKiB: number; cpuS: number };

/** The unit runner of one worker process: it keeps the last target it built (units of one search share
 * their spec), so that a target is rebuilt only when the spec changes. */
function unitRunner(): (job: UnitJob) => UnitResult {
  let cached: { key: string; target: CheckTarget } | null = null;
  return (job) => {
    const key = JSON.stringify(job.spec);
    if (cached === null || cached.key !== key) cached = { key, target: targetFromSpec(job.spec) };
    const remainingMs = job.deadlineEpochMs - Date.now();
    // a unit queued behind others may start after the budget ran out: it then explores nothing
    const r =
      remainingMs <= 0
        ? skippedUnit()
        : exploreSubtree(
            cached.target,
            job.task,
            job.opts,
            performance.now() + remainingMs,
            job.progress === true
              ? throttled((schedules, maxDepth) =>
                  workerpool.workerEmit({ schedules, maxDepth } satisfies UnitProgressMessage),
                )
              : undefined,
          );
    delete r.outcome; // the machine stays here; the coordinator replays the choices
    const cpu = process.cpuUsage();
    // maxRSS is in KiB on Linux
    return {
      ...r,
      pid: process.pid,
      peakRssKiB: process.resourceUsage().maxRSS,
      cpuS: (cpu.user + cpu.system) / 1e6,
    };
  };
}

workerpool.worker({ runUnit: unitRunner() });
