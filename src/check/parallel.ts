// The exhaustive search on worker threads (piscina): the coordinator (ExhaustiveSearch) hands out
// rounds of units of work; units run on `jobs` threads, results merge in unit order, so the
// schedules explored and the verdict are those of the same search in one thread.
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import {
  type CheckOptions,
  type CheckResult,
  check,
  defaultCheckOptions,
  exhaustiveOpts,
  finishCheck,
} from "./checker.js";
import {
  type ExhaustiveOptions,
  type ExhaustiveResult,
  ExhaustiveSearch,
  exploreSubtree,
  type SubtreeResult,
  searchResult,
} from "./exhaustive.js";
import type { UnitJob } from "./exhaustive-worker.js";
import type { CheckTarget } from "./run.js";

/** Worker threads used when none are asked for: one per core. */
export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export async function exhaustiveParallel(
  target: CheckTarget,
  opts: Partial<ExhaustiveOptions> & { jobs?: number },
): Promise<ExhaustiveResult> {
  const jobs = Math.max(1, Math.floor(opts.jobs ?? defaultJobs()));
  const search = new ExhaustiveSearch(opts);
  const { onProgress, ...plain } = search.o;
  const t0 = performance.now();
  let pool: Piscina | null = null;
  try {
    for (;;) {
      const tasks = search.nextRound(performance.now() - t0);
      if (tasks.length === 0) break;
      let results: SubtreeResult[];
      if (jobs === 1 || target.spec === undefined || tasks.length === 1) {
        // one unit (the first round) or one thread: no hand-off needed
        results = [];
        for (const t of tasks) {
          const r = exploreSubtree(target, t, search.o, t0 + search.o.maxMs);
          results.push(r);
          onProgress?.(search.schedules + results.reduce((a, x) => a + x.schedules, 0));
          if (r.violation !== null) break;
        }
      } else {
        pool ??= new Piscina({
          filename: new URL("./exhaustive-worker.js", import.meta.url).href,
          minThreads: jobs,
          maxThreads: jobs,
        });
        const p = pool;
        let sofar = search.schedules;
        const spec = target.spec;
        results = await Promise.all(
          tasks.map((task) => {
            const job: UnitJob = {
              spec,
              task,
              opts: plain,
              remainingMs: search.o.maxMs - (performance.now() - t0),
            };
            return (p.run(job) as Promise<SubtreeResult>).then((r) => {
              sofar += r.schedules;
              onProgress?.(sofar);
              return r;
            });
          }),
        );
      }
      search.merge(tasks.slice(0, results.length), results);
    }
  } finally {
    await pool?.destroy();
  }
  return searchResult(search, target, performance.now() - t0);
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
  if (o.strategy !== "exhaustive") return check(target, o);
  const t0 = performance.now();
  const jobs = target.spec !== undefined ? o.jobs : 1;
  return finishCheck(target, o, t0, await exhaustiveParallel(target, { ...exhaustiveOpts(o), jobs }), jobs);
}
