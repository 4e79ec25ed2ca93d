// A self-contained runner for the writeback scenarios: fsScenarioFromYaml turns a scenario file
// (the built-in ones are scenarios/iomap-s1..s8.yaml) into a config, runFsScenario(config) builds
// the machine, the fs model and the workload, runs to completion and returns an FsResult
// (JSON-serialisable, deterministic for a seed).
import { FS_COST_PROFILES, type FsCostProfileName, type FsCosts } from "../fs/costs.js";
import type { DeviceProfile } from "../fs/device.js";
import type { FsConfig } from "../fs/fs.js";
import type { FsStatsSummary } from "../fs/stats.js";
import { iomapVariant } from "../kernels/iomap.js";
import type { PreemptModel } from "../sim/config.js";
import { CTX_NAMES, type Machine, percentiles } from "../sim/index.js";
import { bootKernel, type LockStatRow, lockStats } from "../sync/index.js";
import type { Rcu } from "../sync/rcu.js";
import { deviceProfile, type FileSpec, FsRun, type FsRunConfig, type TaskSpec } from "../workloads/iomap.js";
import { deviceOverridesOf, fsConfigOf, toFileSpec, toTaskSpec } from "./adapters/fs.js";
import { loadScenario } from "./load.js";
import { catalog } from "./models.js";

const MIB = 2 ** 20;

export interface FsMachineSpec {
  cpus: number;
  hz: 100 | 250 | 300 | 1000;
  preempt: PreemptModel;
  watchdogThreshS: number;
  rcuStallTimeoutS: number;
  debugAtomicSleep: boolean;
  nmiWatchdog: boolean;
  hungTaskTimeoutS: number;
  jitter: number;
  /** Soft-lockup reporting: "repeat" (v5.13+) or "once" per episode (4.x, RHEL 8). */
  watchdogStyle: "repeat" | "once";
  /** Steal-time profile (src/sim/hypervisor.ts). */
  steal: string;
}

/** A scenario as data: names resolved at run time. */
export interface FsScenarioConfig {
  name: string;
  title: string;
  variant: string;
  costProfile: FsCostProfileName;
  costs?: Partial<FsCosts>;
  machine: FsMachineSpec;
  device: string;
  deviceOverrides?: Partial<DeviceProfile>;
  fs: Partial<Omit<FsConfig, "variant" | "costs" | "device">>;
  files: FileSpec[];
  tasks: TaskSpec[];
  /** Virtual-time limit (ns). */
  limitNs: number;
  seed: number;
  /** Lock sites to disable ("what breaks if this lock goes?"), e.g. write_cache_pages:folio_lock. */
  disableLockSites?: string[];
}

export type FsScenarioOverrides = Partial<Omit<FsScenarioConfig, "machine" | "fs">> & {
  machine?: Partial<FsMachineSpec>;
  fs?: FsScenarioConfig["fs"];
};

/**
 * A writeback scenario from its YAML (scenarios/iomap-*.yaml are the only source of the built-in
 * ones): loaded and validated against the catalog, converted to the runner's config, with
 * overrides merged in (machine and fs per field). `file` names the source in error messages.
 */
export function fsScenarioFromYaml(
  text: string,
  file: string,
  over: FsScenarioOverrides = {},
): FsScenarioConfig {
  const s = loadScenario(text, { file, catalog: catalog() });
  const fs = s.fs;
  if (fs === undefined) throw new RangeError(`${file}: not a writeback scenario (no fs section)`);
  const m = s.machine;
  const base: FsScenarioConfig = {
    name: s.name,
    title: s.title ?? s.name,
    variant: s.kernel.variant,
    costProfile: m.costProfile as FsCostProfileName,
    ...(m.costs !== undefined ? { costs: m.costs as Partial<FsCosts> } : {}),
    machine: {
      cpus: m.cpus,
      hz: m.hz as FsMachineSpec["hz"],
      preempt: m.preemption,
      watchdogThreshS: m.watchdogThresh,
      rcuStallTimeoutS: m.rcuStallTimeout,
      debugAtomicSleep: m.debugAtomicSleep,
      nmiWatchdog: m.nmiWatchdog,
      hungTaskTimeoutS: m.hungTaskTimeout,
      jitter: m.jitter,
      watchdogStyle: m.watchdogStyle,
      steal: m.steal,
    },
    device: fs.device,
    deviceOverrides: deviceOverridesOf(fs),
    fs: fsConfigOf(fs),
    files: fs.files.map(toFileSpec),
    tasks: s.workloads.filter((w) => w.enabled).map(toTaskSpec),
    limitNs: s.stop.time ?? 600e9,
    seed: s.seed ?? 1,
    ...(s.kernel.disableLockSites.length > 0 ? { disableLockSites: [...s.kernel.disableLockSites] } : {}),
  };
  return {
    ...base,
    ...over,
    machine: { ...base.machine, ...(over.machine ?? {}) },
    fs: { ...base.fs, ...(over.fs ?? {}) },
  };
}

export interface HoldoffSummary {
  cpu: number;
  context: string;
  count: number;
  p50Ns: number;
  p99Ns: number;
  maxNs: number;
  over10ms: number;
  over4s: number;
  over20s: number;
}

export interface FsResult {
  scenario: string;
  variant: string;
  costProfile: string;
  preempt: string;
  seed: number;
  simNs: number;
  events: number;
  done: boolean;
  /** Wall-clock-free: virtual ns from start to the last user task's exit. */
  workloadNs: number;
  throughputMiBps: number;
  deviceUtilisation: number;
  /** CPU time of the flusher kworker (wb_workfn), and its share of the run. */
  flusherCpuNs: number;
  flusherCpuShare: number;
  softLockups: number;
  hardLockups: number;
  rcuStalls: number;
  hungTasks: number;
  mightSleepViolations: number;
  workqueueLockups: number;
  /** First line of the first soft-lockup report, "" when none. */
  firstSoftLockup: string;
  firstMightSleep: string;
  /** Longest holdoff per context over all CPUs (ns). */
  holdoffMaxNs: { task: number; softirq: number; hardirq: number };
  holdoff: HoldoffSummary[];
  /** Completion CPU time per file (ns): xfs_end_io work + inline completion. */
  completionCpuNs: Record<string, number>;
  cpuBusyNs: { cpu: number; task: number; softirq: number; hardirq: number }[];
  fs: FsStatsSummary;
  findings: { kind: string; tNs: number; cpus: number[]; message: string }[];
  /** /proc/lock_stat rows of the run's locks (i_pages, i_ioend_lock, page wait-queue heads, ...). */
  lockStat: LockStatRow[];
  /** Steal profile and the time each vCPU was descheduled (/proc/stat steal, ns). */
  steal: { profile: string; stolenNs: number[] };
  dmesg: string[];
}

/** Build the machine and the run for a config (the CLI adapter and the bench use this). */
export function setupFsScenario(cfg: FsScenarioConfig): { m: Machine; run: FsRun } {
  const mc = cfg.machine;
  const m = bootKernel({
    cpus: mc.cpus,
    hz: mc.hz,
    preempt: mc.preempt,
    seed: cfg.seed,
    mode: "timed",
    watchdogThreshS: mc.watchdogThreshS,
    rcuStallTimeoutS: mc.rcuStallTimeoutS,
    debugAtomicSleep: mc.debugAtomicSleep,
    nmiWatchdog: mc.nmiWatchdog,
    hungTaskTimeoutS: mc.hungTaskTimeoutS,
    jitter: mc.jitter,
    watchdogStyle: mc.watchdogStyle,
    steal: mc.steal,
    kernelRelease: `${cfg.variant}-faultline`,
  });
  for (const site of cfg.disableLockSites ?? []) m.disabledSites.add(site);
  const base = FS_COST_PROFILES[cfg.costProfile];
  if (base === undefined) throw new RangeError(`iomap scenario: unknown cost profile ${cfg.costProfile}`);
  const runCfg: FsRunConfig = {
    variant: iomapVariant(cfg.variant),
    costs: { ...base, ...(cfg.costs ?? {}) },
    device: deviceProfile(cfg.device, cfg.deviceOverrides ?? {}),
    fs: cfg.fs,
    files: cfg.files,
    tasks: cfg.tasks,
  };
  const run = new FsRun(m, runCfg);
  return { m, run };
}

/** Run a scenario to completion (or its time limit) and summarise it. */
export function runFsScenario(cfg: FsScenarioConfig): FsResult {
  const { m, run } = setupFsScenario(cfg);
  const slice = 50e6;
  let done = false;
  for (let guard = 0; guard < 1_000_000; guard++) {
    m.run(Math.min(cfg.limitNs, m.now + slice));
    if (run.done()) {
      done = true;
      break;
    }
    if (m.stopped || m.now >= cfg.limitNs) break;
  }
  m.finish();
  return fsResult(cfg, m, run, done);
}

export function fsResult(cfg: FsScenarioConfig, m: Machine, run: FsRun, done: boolean): FsResult {
  const fs = run.fs;
  const stats = fs.stats.summary();
  const holdoff: HoldoffSummary[] = [];
  const maxBy = { task: 0, softirq: 0, hardirq: 0 };
  const over = new Map<string, [number, number, number]>();
  for (const e of m.holdoffEvents) {
    const key = `${e.cpu}:${e.kind}`;
    const o = over.get(key) ?? [0, 0, 0];
    if (e.ns > 10e6) o[0]++;
    if (e.ns > 4e9) o[1]++;
    if (e.ns > 20e9) o[2]++;
    over.set(key, o);
  }
  for (const c of m.cpus) {
    for (let kind = 0; kind < 3; kind++) {
      const h = c.holdoff.hist[kind];
      if (h === null || h === undefined) continue;
      const p = percentiles(h);
      const ctx = CTX_NAMES[kind]!;
      const o = over.get(`${c.id}:${ctx}`) ?? [0, 0, 0];
      const maxNs = Math.round(c.holdoff.maxNs[kind]!);
      holdoff.push({
        cpu: c.id,
        context: ctx,
        count: p.count,
        p50Ns: p.p50,
        p99Ns: p.p99,
        maxNs,
        over10ms: o[0],
        over4s: o[1],
        over20s: o[2],
      });
      const key = ctx as keyof typeof maxBy;
      maxBy[key] = Math.max(maxBy[key], maxNs);
    }
  }
  const completionCpuNs: Record<string, number> = {};
  for (const [name, ino] of run.files)
    completionCpuNs[name] = Math.round(fs.stats.completionCpuNsByIno.get(ino.ino) ?? 0);
  const rcu = m.ext.rcu as Rcu | undefined;
  const byKind = (k: string) => m.findings.filter((f) => f.kind === k);
  const workloadNs = (run.endNs >= 0 ? run.endNs : m.now) - run.startNs;
  return {
    scenario: cfg.name,
    variant: cfg.variant,
    costProfile: cfg.costProfile,
    preempt: cfg.machine.preempt,
    seed: cfg.seed,
    simNs: Math.round(m.now),
    events: m.queue.popped,
    done,
    workloadNs: Math.round(workloadNs),
    throughputMiBps: workloadNs > 0 ? +(stats.bytesSubmitted / MIB / (workloadNs / 1e9)).toFixed(1) : 0,
    deviceUtilisation: m.now > 0 ? +(fs.dev.busyNs / m.now).toFixed(3) : 0,
    flusherCpuNs: Math.round(fs.flusher?.sumExecNs ?? 0),
    flusherCpuShare: m.now > 0 ? +((fs.flusher?.sumExecNs ?? 0) / m.now).toFixed(3) : 0,
    softLockups: m.watchdogs.softLockups,
    hardLockups: m.watchdogs.hardLockups,
    rcuStalls: rcu?.stalls ?? 0,
    hungTasks: m.watchdogs.hungTasks,
    mightSleepViolations: byKind("might_sleep").length,
    workqueueLockups: byKind("workqueue_lockup").length,
    firstSoftLockup: byKind("soft_lockup")[0]?.message ?? "",
    firstMightSleep: byKind("might_sleep")[0]?.message ?? "",
    holdoffMaxNs: maxBy,
    holdoff,
    completionCpuNs,
    cpuBusyNs: m.cpus.map((c) => ({
      cpu: c.id,
      task: Math.round(c.busyNs[0]!),
      softirq: Math.round(c.busyNs[1]!),
      hardirq: Math.round(c.busyNs[2]!),
    })),
    fs: stats,
    findings: m.findings.map((f) => ({
      kind: f.kind,
      tNs: Math.round(f.t),
      cpus: f.cpus,
      message: f.message,
    })),
    lockStat: lockStats(m).rows(),
    steal: {
      profile: cfg.machine.steal,
      stolenNs: m.cpus.map((c) => (m.hv === null ? 0 : Math.round(m.hv.stolenNs(c.id, m.now)))),
    },
    dmesg: m.formatDmesg().slice(0, 400),
  };
}
