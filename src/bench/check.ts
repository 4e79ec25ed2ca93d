// Race-checker benchmarks (`npm run bench`), one line each:
// - check-forkrace: `faultline check pervma-fork-race` on 6.4.0 with the random and PCT strategies,
//   median time to the finding over 20 seeds, the shrunk length and exact replay; 6.4.3 for 20 s;
// - check-exhaustive: bounded exhaustive search (DPOR + sleep sets) of the small configuration
//   (3 VMAs, 4 faulting threads x 2 faults, a fork) on 6.4.3: schedules, coverage, schedules/s, memory.
import { type CheckResult, check } from "../check/checker.js";
import { replay } from "../check/counterexample.js";
import { mmCheckTarget } from "../check/mm.js";
import { checkAsync, defaultJobs } from "../check/parallel.js";
import { loadArg } from "../cli/common.js";
import type { MmScenarioConfig } from "../mm/scenario.js";
import { checkTargetFor } from "../scenario/checktarget.js";
import type { Benchmark } from "./kernel.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function peakRssMiB(): number {
  const p = (globalThis as { process?: { resourceUsage?: () => { maxRSS: number } } }).process;
  const r = p?.resourceUsage?.();
  return r ? Math.round(r.maxRSS / 1024) : -1;
}

export const MINI: MmScenarioConfig = {
  variant: "6.4.0",
  cpus: 3,
  seed: 1,
  workloads: [{ type: "fork-race-mini" }],
};

/** The small configuration of issue 6: 3 VMAs, 4 faulting threads with 2 faults each, and a fork. */
export function smallConfig(variant: string, faulters = 4): MmScenarioConfig {
  const own = Math.min(2, faulters);
  const shared = faulters - own;
  return {
    variant,
    cpus: faulters + 1,
    seed: 1,
    workloads: [
      { type: "fault-loop", threads: own, regionSize: 2 << 20, faultsPerThread: 2, access: "write" },
      ...(shared > 0
        ? [
            {
              type: "fault-loop" as const,
              threads: shared,
              regionSize: 2 << 20,
              faultsPerThread: 2,
              access: "write" as const,
              sharedVma: true,
            },
          ]
        : []),
      { type: "fork", count: 1 },
    ],
  };
}

/** The built-in scenario pervma-fork-race on `kernel`, as `faultline check` builds it (warm start included). */
function forkRaceTarget(kernel: string, seed: number) {
  const l = loadArg("pervma-fork-race", [], kernel);
  return checkTargetFor(l.scenario, { seed, maxSteps: 20_000 });
}

/**
 * `faultline check pervma-fork-race --kernel 6.4.0` over 20 seeds per strategy: time to the finding
 * (search only: shrinking comes after), schedules, the shrunk length, and whether the saved
 * schedule replays to the same finding with the same steps.
 */
function forkRace(quick: boolean): string {
  const seeds = quick ? 5 : 20;
  const lines: string[] = [];
  for (const strategy of ["random", "pct"] as const) {
    const times: number[] = [];
    const steps: number[] = [];
    const schedules: number[] = [];
    const kinds = new Map<string, number>();
    let found = 0;
    let identical = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const t = forkRaceTarget("6.4.0", seed);
      const r = check(t, { strategy, budget: 100_000, timeS: 20, seed, shrink: true });
      if (r.counterexample === null) continue;
      found++;
      const cx = r.counterexample;
      kinds.set(cx.finding.kind, (kinds.get(cx.finding.kind) ?? 0) + 1);
      times.push(r.elapsedMs / 1000);
      schedules.push(r.foundAt + 1);
      steps.push(cx.steps);
      const rep = replay(t, cx);
      if (rep.reproduced && rep.machine.stepLabels.join() === cx.labels.join()) identical++;
    }
    const k = [...kinds].map(([n, c]) => `${n}:${c}`).join(",");
    lines.push(
      `check-forkrace kernel=6.4.0 strategy=${strategy} seeds=${seeds} found=${found} kinds=${k} median_s=${median(times).toFixed(3)} max_s=${Math.max(...times).toFixed(3)} median_schedules=${median(schedules)} median_shrunk_steps=${median(steps)} max_shrunk_steps=${Math.max(...steps)} replays_identical=${identical}`,
    );
  }
  // the fixed kernel: nothing in 20 s
  for (const strategy of ["random", "pct"] as const) {
    const t = forkRaceTarget("6.4.3", 1);
    const r = check(t, { strategy, budget: 10_000_000, timeS: quick ? 5 : 20, seed: 1, shrink: false });
    lines.push(
      `check-forkrace kernel=6.4.3 strategy=${strategy} verdict=${r.verdict.replace(/ /g, "_")} schedules=${r.schedules} wall_s=${(r.elapsedMs / 1000).toFixed(1)}`,
    );
  }
  return lines.join("\n");
}

function exhaustiveLine(head: string, r: CheckResult, cpuS: number): string {
  return `${head} verdict=${r.verdict.replace(/ /g, "_")} complete=${r.complete} schedules=${r.schedules} schedules_per_s=${Math.round(r.schedulesPerS)} pruned=${r.pruned} steps=${r.stepsExecuted} units=${r.units} rounds=${r.rounds} workers=${r.jobs} wall_s=${(r.elapsedMs / 1000).toFixed(1)} cpu_s=${cpuS.toFixed(1)} peak_rss_mib=${peakRssMiB()}`;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The small configuration, exhaustively, in this thread (the same search the web page runs). */
function exhaustiveSmall(quick: boolean): string {
  const faulters = quick ? 2 : 4;
  const t = mmCheckTarget(smallConfig("6.4.3", faulters), { maxSteps: 20_000 });
  const c0 = cpuSeconds();
  const r = check(t, { strategy: "exhaustive", budget: 10_000_000, timeS: quick ? 60 : 900 });
  return exhaustiveLine(`check-exhaustive faulters=${faulters}`, r, cpuSeconds() - c0);
}

/** The same search on one worker process per core (`faultline check --jobs`). */
async function exhaustiveParallelSmall(quick: boolean): Promise<string> {
  const faulters = quick ? 2 : 4;
  const t = mmCheckTarget(smallConfig("6.4.3", faulters), { maxSteps: 20_000 });
  const c0 = cpuSeconds();
  const r = await checkAsync(t, {
    strategy: "exhaustive",
    budget: 10_000_000,
    timeS: quick ? 60 : 900,
    jobs: defaultJobs(),
  });
  // CPU time of the coordinator and the worker processes; the coordinator's peak RSS, then each worker's
  const workers = (r.workerPeakRssMiB ?? []).join("+") || "none";
  const cpuS = cpuSeconds() - c0 + (r.workerCpuS ?? 0);
  return `${exhaustiveLine(`check-exhaustive-jobs faulters=${faulters}`, r, cpuS)} worker_peak_rss_mib=${workers}`;
}

export const checkBenchmarks: Benchmark[] = [
  { name: "check-forkrace", run: forkRace },
  // one thread first: peak RSS is the process's, and the worker threads come on top of it
  { name: "check-exhaustive", run: exhaustiveSmall },
  { name: "check-exhaustive-jobs", run: exhaustiveParallelSmall },
];
