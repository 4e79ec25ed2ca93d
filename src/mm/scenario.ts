// Entry point of the mm model: build a machine, the kernel variant's switches, one process and the
// workloads' threads, run the timed or the explore driver, and collect counters, latencies, lock
// statistics and findings. The CLI, the scenario runner, the benchmarks and the race checker
// (src/check/mm.ts) call buildMmScenario / runMmScenario; faultScalability sweeps thread counts.
import { findMmVariant, MM_VARIANTS, mmSwitches } from "../kernels/mm.js";
import type { ExploreStrategy, Finding, Machine } from "../sim/machine.js";
import { type Histogram, type Percentiles, percentiles } from "../sim/stats.js";
import type { TraceSink } from "../sim/trace.js";
import { lockStats } from "../sync/lockstat.js";
import {
  type MmWorkload,
  startWorkload,
  type WorkloadHost,
  workloadFrames,
  workloadVaPages,
} from "../workloads/mm.js";
import type { MmCosts } from "./costs.js";
import { type ArrayPool, type MmFaultInjection, type MmSim, MmSimulation } from "./index.js";
import type { MmThread } from "./thread.js";
import type { MmStruct } from "./types.js";
import type { VmstatName } from "./vmstat.js";

export interface MmScenarioConfig {
  /** Kernel variant name or alias (6.3, 6.4.0, 6.4.3, 6.5, 6.15). */
  variant: string;
  /** Switch overrides (see src/kernels/mm.ts). */
  switches?: Record<string, unknown>;
  /** Lock acquisition sites to remove (LOCK_SITES). */
  disableLockSites?: readonly string[];
  /** Fault injection (failing allocations, injected delays). */
  inject?: MmFaultInjection;
  cpus: number;
  seed?: number;
  mode?: "timed" | "explore";
  preempt?: "none" | "voluntary" | "full" | "lazy";
  /** Relative cost jitter (timed driver), default 0.05. */
  jitter?: number;
  costs?: Partial<MmCosts>;
  wordsPerPage?: number;
  workloads: MmWorkload[];
  stop?: {
    /** Virtual-time limit (ns); default 10 s. */
    timeNs?: number;
    maxEvents?: number;
    onFinding?: boolean;
    /** Explore driver: step budget (default 200000). */
    maxSteps?: number;
  };
  /** Explore driver strategy: "random" (default) or "pct" (depth 3). */
  strategy?: "random" | "pct";
  trace?: TraceSink;
  /** TLB shootdowns: "atomic" (default) or "ipi" (engine IPIs, timed driver only). */
  tlbShootdown?: "atomic" | "ipi";
  /** Data TLB geometry (src/mm/tlb.ts TLB_GEOMETRIES): "zen3", "skylake", "neoverse-n1", "direct64"; default: the arch's (x86 zen3, arm64 neoverse-n1). */
  tlb?: string;
  /** Record per-fault latency (HDR histogram); default true. */
  latency?: boolean;
  /** The generator-free forms of uncontended fault steps (MmOptions.fastPaths); default true. */
  fastPaths?: boolean;
}

export interface MmRunResult {
  variant: string;
  seed: number;
  mode: "timed" | "explore";
  simNs: number;
  events: number;
  steps: number;
  vmstat: Record<VmstatName, number>;
  /** User faults and their latency (entry of do_user_addr_fault to return), ns. */
  faults: number;
  faultLatency: Percentiles;
  faultLatencyHistogram: Histogram;
  /** Simulated faults per simulated second. */
  faultsPerSimS: number;
  findings: Finding[];
  /** Findings per kind, including those beyond the per-kind report limit. */
  findingCounts: Record<string, number>;
  /** Per lock-acquisition-site statistics of the mm model. */
  lockSites: { site: string; acquired: number; contended: number; waitNs: number; waitNsMax: number }[];
  /** lock_stat-style rows (src/sync classes: &mm->mmap_lock-R/-W, ptlock, ...). */
  lockStat: ReturnType<ReturnType<typeof lockStats>["rows"]>;
  framesInUse: number;
  segv: number;
  /** Workloads finished (false: stopped by the time or event limit). */
  completed: boolean;
  machine: Machine;
  sim: MmSim;
}

/** A uniformly random choice among the enabled CPUs. */
export function randomStrategy(m: Machine): ExploreStrategy {
  const r = m.rng("explore");
  return { choose: (en) => en[r.int(en.length)]! };
}

/** PCT (probabilistic concurrency testing): random priorities with d-1 priority change points. */
export function pctStrategy(m: Machine, depth: number, maxSteps: number): ExploreStrategy {
  const r = m.rng("explore.pct");
  // one priority per CPU and one for the time step (Machine.timeChoice)
  const prio = Array.from({ length: m.cpus.length + 1 }, () => r.u32());
  const changes: number[] = [];
  for (let i = 0; i < depth - 1; i++) changes.push(r.int(Math.max(1, Math.min(maxSteps, 2000))));
  let step = 0;
  let low = 0;
  return {
    choose: (en) => {
      step++;
      let best = en[0]!;
      for (const c of en) if (prio[c]! > prio[best]!) best = c;
      if (changes.includes(step)) prio[best] = low--;
      return best;
    },
  };
}

/** A scenario set up on a machine, not yet run. */
export interface MmBuild {
  m: Machine;
  s: MmSimulation;
  /** Every finite workload thread has finished. */
  done(): boolean;
  /** Counters, latencies, findings and lock statistics so far (call after the run and m.finish()). */
  result(): MmRunResult;
  /**
   * The run is over and no workload thread will run again: the workloads' host lets go of the
   * machine and the model. Every thread's program is a generator closure made by this build, and V8
   * keeps the hidden class of its generator objects (made in the old generation) with a pointer back
   * to the closure; through the closures' captured host, every build of a race-checker search stayed
   * reachable until the next full collection, and every scavenge copied it (a fifth of the search's
   * time). After release() the closures reach only the empty host.
   */
  release(): void;
}

/** No cost overrides: one object for every build (MmSim caches the merged table per overrides object). */
const NO_COST_OVERRIDES: Partial<MmCosts> = Object.freeze({});

/** What the workloads' host reaches of a build (MmBuild.release empties it), and the finite threads. */
interface LiveBuild {
  s: MmSimulation | null;
  m: Machine | null;
  finite: number;
  finished: number;
}

/**
 * The workloads' host of a build. Made here, outside buildMmScenario, so that its functions'
 * closures hold `live` and nothing else of the build (V8 keeps one context per scope: the build's
 * own closures would put the machine in it).
 */
function workloadHost(live: LiveBuild, cpus: number): WorkloadHost {
  let nextCpu = 0;
  return {
    mm: live.s!.mm,
    regions: [],
    spawn(name, mm, prog, cpu) {
      const c = cpu ?? nextCpu++ % cpus;
      return live.s!.spawn(name, mm, c, prog);
    },
    premap: (npages, o) => live.s!.premap(npages, o?.gapPages ?? 1, o?.growsdown ?? false),
    rng: (name) => live.m!.rng(name),
    running: () => live.finite === 0 || live.finished < live.finite,
    done() {
      live.finished++;
      if (live.finite > 0 && live.finished >= live.finite) live.m!.stop("workloads done");
    },
    finite() {
      live.finite++;
    },
    measure: (th, on) => live.s!.measure(th, on),
    sleep: (th, ns) => live.m!.sleepNs(th.k, ns),
    wake: (th: MmThread) => {
      live.m!.wakeUpProcess(th.k.task);
    },
  };
}

/**
 * Set up a scenario: the machine (or `machine`, e.g. built by the CLI with its own settings; its
 * cpus, seed and mode then win), the model, one process and the workloads' threads. Not run.
 */
export function buildMmScenario(cfg: MmScenarioConfig, machine?: Machine, pool?: ArrayPool): MmBuild {
  const variant = findMmVariant(cfg.variant);
  if (variant === undefined)
    throw new RangeError(
      `unknown mm variant ${JSON.stringify(cfg.variant)} (known: ${MM_VARIANTS.map((v) => v.name).join(", ")})`,
    );
  const mode = machine?.mode ?? cfg.mode ?? "timed";
  const seed = machine?.cfg.seed ?? cfg.seed ?? 1;
  const cpus = machine?.cfg.cpus ?? cfg.cpus;
  let va = 256;
  let frames = 1024;
  for (const w of cfg.workloads) {
    va += workloadVaPages(w);
    frames += workloadFrames(w);
  }
  const s = new MmSimulation({
    cpus,
    seed,
    mode,
    preempt: cfg.preempt ?? "none",
    jitter: cfg.jitter ?? 0.05,
    switches: mmSwitches(variant.name, cfg.switches ?? {}),
    disabledSites: cfg.disableLockSites ?? [],
    ...(cfg.inject !== undefined ? { inject: cfg.inject } : {}),
    costs: cfg.costs ?? NO_COST_OVERRIDES,
    wordsPerPage: cfg.wordsPerPage ?? 4,
    vaPages: va,
    latency: cfg.latency ?? true,
    framesHint: frames,
    tlbShootdown: cfg.tlbShootdown ?? "atomic",
    ...(cfg.tlb !== undefined ? { tlb: cfg.tlb } : {}),
    ...(cfg.fastPaths !== undefined ? { fastPaths: cfg.fastPaths } : {}),
    ...(machine !== undefined ? { machine } : {}),
    ...(pool !== undefined ? { pool } : {}),
  });
  const m = s.m;
  if (cfg.trace !== undefined) m.trace = cfg.trace;
  if (cfg.stop?.onFinding) m.stopOnFinding = true;
  const live: LiveBuild = { s, m, finite: 0, finished: 0 };
  const host = workloadHost(live, cpus);
  cfg.workloads.forEach((w, i) => {
    startWorkload(host, w, i);
  });
  const done = () => (live.finite > 0 ? live.finished >= live.finite : true);
  const release = () => {
    live.s = null;
    live.m = null;
    (host as { mm: MmStruct | null }).mm = null;
  };
  return { m, s, done, result: () => collect(variant.name, seed, mode, s, done()), release };
}

function collect(
  variant: string,
  seed: number,
  mode: "timed" | "explore",
  s: MmSimulation,
  completed: boolean,
): MmRunResult {
  const m = s.m;
  const sim = s.sim;
  const counts: Record<string, number> = {};
  for (const [k, v] of [...sim.findingCounts.entries()].sort()) counts[k] = v;
  const sites = [...sim.lockStats.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([site, st]) => ({ site, ...st }));
  const simNs = m.now;
  const hist = s.faultLatHistogram();
  const vm = sim.vmstat.toRecord();
  const faults = vm.model_user_faults;
  return {
    variant,
    seed,
    mode,
    simNs,
    events: m.queue.popped,
    steps: m.steps,
    vmstat: vm,
    faults,
    faultLatency: percentiles(hist),
    faultLatencyHistogram: hist,
    faultsPerSimS: simNs > 0 ? (faults / simNs) * 1e9 : 0,
    findings: m.findings,
    findingCounts: counts,
    lockSites: sites,
    lockStat: lockStats(m).rows(),
    framesInUse: sim.frames.allocated,
    segv: vm.model_segv,
    completed,
    machine: m,
    sim,
  };
}

/** Run one mm scenario to completion (or its limits). */
export function runMmScenario(cfg: MmScenarioConfig): MmRunResult {
  const b = buildMmScenario(cfg);
  const m = b.m;
  if (m.mode === "timed") m.run(cfg.stop?.timeNs ?? 10e9, cfg.stop?.maxEvents ?? 1e9);
  else {
    const maxSteps = cfg.stop?.maxSteps ?? 200_000;
    const strat = cfg.strategy === "pct" ? pctStrategy(m, 3, maxSteps) : randomStrategy(m);
    m.explore(strat, maxSteps);
  }
  m.finish();
  return b.result();
}

export interface ScalabilityRow {
  variant: string;
  threads: number;
  writer: "none" | "mmap-munmap" | "mprotect";
  sharedVma: boolean;
  /** User faults per simulated second. */
  faultsPerS: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  maxNs: number;
  /** Faults that completed while the writer held mmap_lock for write. */
  faultsDuringWrite: number;
  vmaLockAbort: number;
}

/**
 * Fault throughput and latency against thread count, with and without an mmap_lock writer, per
 * variant (the scalability view of issue 3). Each run takes about `faults` faults in all.
 */
export function faultScalability(o: {
  variants: readonly string[];
  threads: readonly number[];
  writer: "none" | "mmap-munmap" | "mprotect";
  sharedVma?: boolean;
  faults?: number;
  seed?: number;
}): ScalabilityRow[] {
  const rows: ScalabilityRow[] = [];
  for (const n of o.threads)
    for (const variant of o.variants) {
      const per = Math.max(256, Math.floor((o.faults ?? 64_000) / n));
      const workloads: MmWorkload[] = [
        {
          type: "fault-loop",
          threads: n,
          regionSize: 4096 * Math.min(per, 4096),
          faultsPerThread: per,
          sharedVma: o.sharedVma ?? false,
        },
      ];
      if (o.writer !== "none") workloads.push({ type: "mmap-writer", op: o.writer, size: 65536 });
      const r = runMmScenario({
        variant,
        cpus: n + (o.writer !== "none" ? 1 : 0),
        seed: o.seed ?? 1,
        workloads,
      });
      rows.push({
        variant,
        threads: n,
        writer: o.writer,
        sharedVma: o.sharedVma ?? false,
        faultsPerS: Math.round(r.faultsPerSimS),
        p50Ns: r.faultLatency.p50,
        p90Ns: r.faultLatency.p90,
        p99Ns: r.faultLatency.p99,
        maxNs: r.faultLatency.max,
        faultsDuringWrite: r.vmstat.model_faults_during_mmap_write,
        vmaLockAbort: r.vmstat.vma_lock_abort,
      });
    }
  return rows;
}
