// Race-checker benchmarks (`npm run bench`), one line each:
// - check-forkrace: `faultline check pervma-fork-race` on 6.4.0 with the random and PCT strategies,
//   median time to the finding over 20 seeds, the shrunk length and exact replay; 6.4.3 for 20 s;
// - check-exhaustive: bounded exhaustive search (DPOR + sleep sets) of the small configuration
//   (3 VMAs, 2, 3 and 4 faulting threads x 2 faults, a fork) on 6.4.3: schedules, states, coverage,
//   time, memory, beside SPIN's check of the same protocol with as many faulters, run right after it
//   (src/bench/spin.ts);
// - check-census: which footprint keys make the races and the alternatives of the complete search
//   of the small configuration (2 and 3 faulters; src/check/census.ts).
import { RaceCensus } from "../check/census.js";
import { type CheckResult, check } from "../check/checker.js";
import { replay } from "../check/counterexample.js";
import { exhaustive } from "../check/exhaustive.js";
import { CpuHistories } from "../check/history.js";
import { mmCheckTarget } from "../check/mm.js";
import { checkAsync, defaultJobs } from "../check/parallel.js";
import type { CheckTarget } from "../check/run.js";
import { stateKey } from "../check/state.js";
import { loadArg } from "../cli/common.js";
import type { MmSim } from "../mm/index.js";
import { buildMmScenario, type MmScenarioConfig } from "../mm/scenario.js";
import { checkTargetFor } from "../scenario/checktarget.js";
import type { ExploreStrategy, Machine } from "../sim/machine.js";
import type { Benchmark } from "./kernel.js";
import { runSpinAnchor } from "./spin.js";
import { cpuSeconds, median } from "./stats.js";

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
  const st =
    r.storedStates !== undefined
      ? ` matched=${r.matched} stored_states=${r.storedStates} keyed_nodes=${r.keyedNodes}`
      : "";
  return `${head} verdict=${r.verdict.replace(/ /g, "_")} complete=${r.complete} schedules=${r.schedules} states=${r.states}${st} schedules_per_s=${Math.round(r.schedulesPerS)} pruned=${r.pruned} steps=${r.stepsExecuted} units=${r.units} rounds=${r.rounds} workers=${r.jobs} wall_s=${(r.elapsedMs / 1000).toFixed(1)} cpu_s=${cpuS.toFixed(1)} peak_rss_mib=${peakRssMiB()}`;
}

/**
 * SPIN's figures for the same configuration, and faultline's time over SPIN's: `x_spin` (SPIN's
 * wall time over faultline's) when faultline's search was complete; when it was not, `x_spin_max`
 * bounds it from above (faultline needed more than its budget).
 */
function spinFields(faulters: number, r: CheckResult): string {
  const a = runSpinAnchor(faulters);
  if (a === null) return " spin=not_found";
  const wall = r.elapsedMs / 1000;
  const ratio = (a.wallS / wall).toFixed(2);
  return (
    ` spin_errors=${a.errors} spin_states=${a.statesStored} spin_states_matched=${a.statesMatched}` +
    ` spin_wall_s=${a.wallS.toFixed(1)} spin_mem_mib=${Math.round(a.memoryMiB)}` +
    ` ${r.complete ? "x_spin" : "x_spin_max"}=${ratio} spin=${a.version}`
  );
}

/**
 * The small configuration, exhaustively, in this thread (the same search the web page runs), SPIN's
 * check of the same number of faulters right after each. `--quick`: 2 faulters. Otherwise 2, 3 and 4
 * faulters (the growth of the search; the 4-faulter one within 900 s), each beside SPIN. Then the
 * stateful search of the largest configuration that completes (2 or 3 faulters).
 */
function exhaustiveSmall(quick: boolean): string {
  const lines: string[] = [];
  for (const faulters of quick ? [2] : [2, 3, 4]) {
    const t = mmCheckTarget(smallConfig("6.4.3", faulters), { maxSteps: 20_000 });
    const c0 = cpuSeconds();
    const r = check(t, { strategy: "exhaustive", budget: 10_000_000, timeS: quick ? 60 : 900 });
    const line = exhaustiveLine(`check-exhaustive faulters=${faulters}`, r, cpuSeconds() - c0);
    // SPIN right after, on the same machine, in a child process (not in this process's peak RSS)
    lines.push(line + spinFields(faulters, r));
  }
  // the stateful search (state matching at quiescent nodes, `--stateful`) of a configuration it can finish
  const faulters = quick ? 2 : 3;
  const t = mmCheckTarget(smallConfig("6.4.3", faulters), { maxSteps: 20_000 });
  const c1 = cpuSeconds();
  const rs = check(t, { strategy: "exhaustive", budget: 10_000_000, timeS: 900, stateful: true });
  lines.push(exhaustiveLine(`check-exhaustive-stateful faulters=${faulters}`, rs, cpuSeconds() - c1));
  // with keys in the middle of operations (read histories, src/check/history.ts): 2 faulters (a walk
  // of the whole state at every node; 3 faulters do not finish in 900 s)
  const th = mmCheckTarget(smallConfig("6.4.3", 2), { maxSteps: 20_000 });
  const c2 = cpuSeconds();
  const rh = exhaustive(th, {
    maxSchedules: 10_000_000,
    maxMs: 900_000,
    stateful: true,
    stateKey: "history",
  });
  lines.push(
    `check-exhaustive-stateful-history faulters=2 complete=${rh.complete} schedules=${rh.schedules} states=${rh.states} matched=${rh.matched} stored_states=${rh.storedStates} keyed_nodes=${rh.keyedNodes} pruned=${rh.pruned} steps=${rh.stepsExecuted} wall_s=${(rh.elapsedMs / 1000).toFixed(1)} cpu_s=${(cpuSeconds() - c2).toFixed(1)} peak_rss_mib=${peakRssMiB()}`,
  );
  return lines.join("\n");
}

/**
 * The same search on one worker process per core (`faultline check --jobs`), beside SPIN with as many
 * faulters: 2 faulters with `--quick`, otherwise 3 (complete) and 4 (within 900 s).
 */
async function exhaustiveParallelSmall(quick: boolean): Promise<string> {
  const lines: string[] = [];
  for (const faulters of quick ? [2] : [3, 4]) {
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
    const line = exhaustiveLine(`check-exhaustive-jobs faulters=${faulters}`, r, cpuS);
    lines.push(`${line} worker_peak_rss_mib=${workers}${spinFields(faulters, r)}`);
  }
  return lines.join("\n");
}

/**
 * The abstract state of the mm model at a node of the search (a measurement, not used by the search:
 * it cannot see the tasks' generator locals, so two nodes with the same abstract state may differ).
 * Every mm's PTEs, page tables, VMA tree, mmap_lock and page-table locks; every VMA's fields, anon_vma
 * and lock words; every CPU's TLB entries; the frames they reference (refcount, mapcount, flags,
 * contents) with frame numbers and stored values renamed by first occurrence; every CPU's status,
 * preemption and interrupt state, current task and contexts (yield point, call stack); every task's
 * state.
 */
export function abstractState(m: Machine, sim: MmSim): string {
  const frames = new Map<number, number>();
  const values = new Map<number, number>();
  const fr = (f: number): number => {
    if (f === 0) return 0;
    let x = frames.get(f);
    if (x === undefined) frames.set(f, (x = frames.size + 1));
    return x;
  };
  const pte = (e: number) => `${fr(e >>> 3)}/${e & 7}`;
  const owner = (o: { owner: unknown }) => (o.owner === null ? 0 : 1);
  const parts: string[] = [];
  for (const mm of sim.mms) {
    const l = mm.mmap_lock;
    const p = [
      `mm${mm.id}:${mm.mm_lock_seq},${mm.dead},${mm.users},${mm.vmas.map((v) => v.id).join(".")}`,
      `mmap_lock:${l.readers},${l.writer === null ? 0 : 1},${l.waitList.length}`,
      `ptl:${mm.ptl.map(owner).join("")},${owner(mm.pgtables.page_table_lock)}`,
      `pt:${mm.pgtables.pte.join("")}`,
    ];
    for (let v = 0; v < mm.vaPages; v++) if (mm.pte[v] !== 0) p.push(`${v}=${pte(mm.pte[v]!)}`);
    parts.push(p.join(" "));
    for (const v of mm.vmas)
      parts.push(
        `vma${v.id}:${v.start},${v.end},${v.flags},${v.vm_lock_seq},${v.anon_vma},${v.anon_vma_chain.join(".")},${v.vm_lock.readers},${v.vm_lock.writer === null ? 0 : 1},${v.vm_lock.waitList.length},${v.state}`,
      );
  }
  const t = sim.tlbs.snapshot();
  const tlb: string[] = [];
  for (let i = 0; i < t.mm.length; i++)
    if (t.mm[i] !== 0) tlb.push(`${i}:${t.mm[i]}:${t.vpn[i]}:${pte(t.pte[i]!)}`);
  parts.push(`tlb ${tlb.join(" ")}`);
  const f = sim.frames;
  const fl: string[] = [];
  for (const [raw, c] of frames) {
    const w: number[] = [];
    for (let i = 0; i < f.words; i++) {
      const x = f.content[raw * f.words + i]!;
      let y = values.get(x);
      if (y === undefined) values.set(x, (y = x === 0 ? 0 : values.size + 1));
      w.push(y);
    }
    fl.push(`${c}:${f.refcount[raw]},${f.mapcount[raw]},${f.flags[raw]},${w.join(".")}`);
  }
  parts.push(`frames ${fl.join(" ")} allocated=${f.allocated}`);
  for (const c of m.cpus)
    parts.push(
      `cpu${c.id}:${c.status},${c.kicked},${c.preemptCount},${c.irqsOff},${c.curr.pid},${c.frames.map((x) => `${x.kind}/${x.site}/${x.paused}/${x.stack.join(">")}`).join("|")}`,
    );
  for (const k of m.tasks)
    parts.push(`t${k.pid}:${k.state},${k.onRq},${k.frame.site},${k.frame.gen === null}`);
  return parts.join("\n");
}

/**
 * What state matching could save on the 2-faulter configuration: the nodes of the exhaustive
 * search's tree (one unit of work) against the distinct abstract states among them (abstractState:
 * an upper bound on what any sound state matching could merge, since generator locals are not in it),
 * then with the CPUs' read histories (src/check/history.ts) beside it: key names only, provenance
 * names, and the stateful search's history key (generic state walk and provenance chains).
 */
function abstractStates(quick: boolean): string {
  const faulters = quick ? 2 : 3;
  const cfg: MmScenarioConfig = { ...smallConfig("6.4.3", faulters), mode: "explore", latency: false };
  const seen = new Set<string>();
  // with the CPUs' read histories (src/check/history.ts): key names only (an upper bound of any
  // history of values read), provenance names (what the stateful search can use), and the generic
  // state key of the stateful search (time and every field but the write-only ones) with the latter
  const withKeys = new Set<string>();
  const withProv = new Set<string>();
  const fullProv = new Set<string>();
  let noKey = 0;
  let timers = 0;
  const target: CheckTarget = {
    name: "abstract-states",
    cpus: cfg.cpus,
    maxSteps: 20_000,
    build: () => {
      const b = buildMmScenario(cfg);
      const m = b.m;
      const sim = b.s.sim;
      const hk = new CpuHistories(m, "keys");
      const hp = new CpuHistories(m, "provenance");
      const explore = m.explore.bind(m);
      m.explore = (st: ExploreStrategy, n: number) =>
        explore(
          {
            choose: (en, mm) => {
              hk.end();
              hp.end();
              // the measurement's own reads of tracked fields are no step's accesses
              const fp = mm.footprint;
              mm.footprint = null;
              const a = abstractState(mm, sim);
              seen.add(a);
              const kk = hk.key();
              const kp = hp.key();
              if (kk === null || kp === null) noKey++;
              else {
                withKeys.add(`${a}\n${kk}`);
                withProv.add(`${a}\n${kp}`);
                if (mm.queue.size > 0) timers++;
                fullProv.add(`${stateKey(mm, [b.s], 0, true)}\n${kp}`);
              }
              mm.footprint = fp;
              const c = st.choose(en, mm);
              mm.footprint = hk.begin(c, hp.begin(c, mm.footprint));
              return c;
            },
          },
          n,
        );
      return m;
    },
  };
  const r = exhaustive(target, { grain: 1e9, maxSchedules: 1e7, maxMs: quick ? 120_000 : 600_000 });
  const per = (n: number) => (r.states / n).toFixed(1);
  return `check-states faulters=${faulters} complete=${r.complete} schedules=${r.schedules} tree_nodes=${r.states} abstract_states=${seen.size} nodes_per_abstract_state=${per(seen.size)} with_read_keys=${withKeys.size} nodes_per=${per(withKeys.size)} with_read_provenance=${withProv.size} nodes_per=${per(withProv.size)} full_key_with_provenance=${fullProv.size} nodes_per=${per(fullProv.size)} nodes_without_key=${noKey} nodes_with_timers=${timers}`;
}

/**
 * The dependence census (src/check/census.ts) of the complete exhaustive search of the small
 * configuration, in one unit of work in this thread: which footprint keys make the races and the
 * alternatives explored. `--quick`: 2 faulters; otherwise 2 and 3.
 */
function census(quick: boolean): string {
  const lines: string[] = [];
  for (const faulters of quick ? [2] : [2, 3]) {
    const t = mmCheckTarget(smallConfig("6.4.3", faulters), { maxSteps: 20_000 });
    const c = new RaceCensus();
    const c0 = cpuSeconds();
    const r = exhaustive(t, { grain: 1e9, maxSchedules: 1e7, maxMs: 3_600_000, census: c });
    lines.push(
      `check-census faulters=${faulters} complete=${r.complete} schedules=${r.schedules} states=${r.states} pruned=${r.pruned} cpu_s=${(cpuSeconds() - c0).toFixed(1)}`,
    );
    lines.push(c.report());
  }
  return lines.join("\n");
}

export const checkBenchmarks: Benchmark[] = [
  { name: "check-forkrace", run: forkRace },
  // one thread first: peak RSS is the process's, and the worker threads come on top of it
  { name: "check-exhaustive", run: exhaustiveSmall },
  { name: "check-exhaustive-jobs", run: exhaustiveParallelSmall },
  { name: "check-states", run: abstractStates },
  { name: "check-census", run: census },
];
