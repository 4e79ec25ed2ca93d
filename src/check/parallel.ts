// The exhaustive search on worker processes (workerpool): the coordinator (ExhaustiveSearch) hands
// out rounds of units of work; units run in `jobs` processes, results merge in unit order, so the
// schedules explored and the verdict are those of the same search in one thread. Processes rather
// than threads: each gets its own V8 flags, and with one worker per core single-threaded garbage
// collection (no GC helper threads competing with the other worker for the cores) is about a
// quarter faster here than worker threads.
import { availableParallelism } from "node:os";
import workerpool from "workerpool";
import {
  type CheckOptions,
  type CheckResult,
  check,
  defaultCheckOptions,
  exhaustiveOpts,
  finishCheck,
} from "./checker.js";
import {
  clockOf,
  type ExhaustiveOptions,
  type ExhaustiveResult,
  ExhaustiveSearch,
  exhaustiveOptions,
  exploreHere,
  type SubtreeResult,
  searchResult,
} from "./exhaustive.js";
import type { UnitJob, UnitProgressMessage, UnitResult } from "./exhaustive-process.js";
import type { CheckTarget } from "./run.js";

/**
 * V8 flags of the worker processes: garbage collection in the worker's own thread (no helper threads
 * competing with the other workers for the cores) and a young generation of 8 MB semi-spaces (every
 * schedule builds and drops a model; measured on 2 cores: 8 MB beat 4, 16, 32 and 64 on time and
 * memory).
 */
export const WORKER_V8_FLAGS = ["--single-threaded-gc", "--max-semi-space-size=8"];

/** Worker processes used when none are asked for: one per core. */
export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export interface ParallelResult extends ExhaustiveResult {
  /** Peak RSS of each worker process (MiB), in the order they first reported. */
  workerPeakRssMiB: number[];
  /** CPU time of the worker processes (s), start-up included. */
  workerCpuS: number;
}

export async function exhaustiveParallel(
  target: CheckTarget,
  opts: Partial<ExhaustiveOptions> & { jobs?: number },
): Promise<ParallelResult> {
  const jobs = Math.max(1, Math.floor(opts.jobs ?? defaultJobs()));
  const search = new ExhaustiveSearch(opts);
  // functions stay here: the clock (a worker reads its own) and the progress display
  const { onProgress, clock: _clock, ...plain } = search.o;
  // the budget's clock, as in exhaustive(): it decides how long to search, never what a run does
  const now = clockOf(search.o);
  const t0 = now();
  let pool: ReturnType<typeof workerpool.pool> | null = null;
  const peaks = new Map<number, number>();
  const cpu = new Map<number, number>();
  try {
    for (;;) {
      const tasks = search.nextRound(now() - t0);
      if (tasks.length === 0) break;
      let results: SubtreeResult[];
      if (jobs === 1 || target.spec === undefined || tasks.length === 1) {
        // one unit (the first round) or one thread: no hand-off needed
        results = exploreHere(target, search, tasks, t0 + search.o.maxMs);
      } else {
        pool ??= workerpool.pool(new URL("./exhaustive-process.js", import.meta.url).pathname, {
          workerType: "process",
          minWorkers: jobs,
          maxWorkers: jobs,
          // structured clone, not JSON: Infinity (no preemption bound, no time limit) must survive
          forkOpts: { execArgv: WORKER_V8_FLAGS, serialization: "advanced" },
        });
        const p = pool;
        let sofar = search.schedules;
        let depth = search.maxDepth;
        // progress: the finished units' schedules, plus what the running ones last posted
        const running = new Array<number>(tasks.length).fill(0);
        let inFlight = 0;
        const spec = target.spec;
        results = await Promise.all(
          tasks.map((task, i) => {
            const job: UnitJob = {
              spec,
              task,
              opts: plain,
              deadlineEpochMs: Date.now() + (search.o.maxMs - (now() - t0)),
              ...(onProgress !== undefined ? { progress: true } : {}),
            };
            const on = (e: UnitProgressMessage) => {
              inFlight += e.schedules - running[i]!;
              running[i] = e.schedules;
              depth = Math.max(depth, e.maxDepth);
              onProgress?.(sofar + inFlight, depth);
            };
            return (
              p.exec("runUnit", [job], onProgress !== undefined ? { on } : undefined) as Promise<UnitResult>
            ).then((r) => {
              peaks.set(r.pid, Math.max(peaks.get(r.pid) ?? 0, r.peakRssKiB));
              cpu.set(r.pid, Math.max(cpu.get(r.pid) ?? 0, r.cpuS));
              inFlight -= running[i]!;
              running[i] = 0;
              sofar += r.schedules;
              depth = Math.max(depth, r.maxDepth);
              onProgress?.(sofar + inFlight, depth);
              return r;
            });
          }),
        );
      }
      search.merge(tasks, results);
    }
  } finally {
    await pool?.terminate();
  }
  return {
    ...searchResult(search, target, now() - t0),
    workerPeakRssMiB: [...peaks.values()].map((k) => Math.round(k / 1024)),
    workerCpuS: [...cpu.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * The race checker with the exhaustive search spread over `jobs` worker threads (targets with a
 * spec; others stay in this thread). Random and PCT run as in check(). Node only.
 */
export async function checkAsync(
  target: CheckTarget,
  opts: Partial<CheckOptions> = {},
): Promise<CheckResult> {
  const o = defaultCheckOptions(opts);
  // the stateful search keeps its table of visited states in this thread (unless a preemption
  // bound turned state matching off)
  if (o.strategy !== "exhaustive" || exhaustiveOptions(exhaustiveOpts(o, 0)).stateful)
    return check(target, o);
  const t0 = performance.now();
  const jobs = target.spec !== undefined ? o.jobs : 1;
  const r = await exhaustiveParallel(target, { ...exhaustiveOpts(o, t0), jobs });
  return {
    ...finishCheck(target, o, t0, r, jobs),
    workerPeakRssMiB: r.workerPeakRssMiB,
    workerCpuS: r.workerCpuS,
  };
}
