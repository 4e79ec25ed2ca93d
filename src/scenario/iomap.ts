// The iomap writeback scenarios iomap-s1..iomap-s8 (spec §6.4) and a self-contained runner:
// runFsScenario(config) builds the machine, the fs model and the workload, runs to completion and
// returns an FsResult (JSON-serialisable, deterministic for a seed).
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

const GB = 1e9;
const GIB = 2 ** 30;
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

const MACHINE_DEFAULTS: FsMachineSpec = {
  cpus: 8,
  hz: 1000,
  preempt: "none",
  watchdogThreshS: 10,
  rcuStallTimeoutS: 21,
  debugAtomicSleep: true,
  nmiWatchdog: true,
  hungTaskTimeoutS: 120,
  jitter: 0.05,
  watchdogStyle: "repeat",
  steal: "none",
};

function machine(over: Partial<FsMachineSpec> = {}): FsMachineSpec {
  return { ...MACHINE_DEFAULTS, ...over };
}

const PROBE_CPU2: TaskSpec = { kind: "probe", cpu: 2, periodNs: 1_000_000 };

/** S1's 52 GB file and its fio writer, committer and probe (S8 reruns it under other preemption models). */
function s1Workload(): Pick<FsScenarioConfig, "files" | "tasks"> {
  return {
    files: [
      {
        name: "data",
        bytes: 52 * GB,
        layout: { extentBytes: 1 * GIB, extentBytesMax: 8 * GIB, gapBytes: 64 * MIB },
        initial: "empty",
      },
    ],
    tasks: [
      {
        kind: "nfsd",
        cpus: [1, 3, 4, 5, 6, 7, 4, 5],
        file: "data",
        bytes: 52 * GB,
        wsizeBytes: MIB,
        commitEveryBytes: GIB,
      },
      PROBE_CPU2,
    ],
  };
}

/** The eight scenarios of spec §6.4 (parameters explained in docs/design/fs-model.md §5). */
export const IOMAP_SCENARIOS: Record<string, FsScenarioConfig> = {
  "iomap-s1": {
    name: "iomap-s1",
    title:
      "Trond / cloud NFS server: 8 nfsd threads write a 52 GB file on md RAID0 of cloud disks, 50 % steal",
    variant: "5.16",
    costProfile: "default",
    machine: machine({ cpus: 8, preempt: "none", watchdogStyle: "once", steal: "kvm-cfs-2to1" }),
    device: "cloud-raid0x4",
    fs: {
      memBytes: 128 * GIB,
      dirtyBackgroundRatio: 10,
      dirtyRatio: 20,
      physRunBytes: 64 * MIB,
      flusherCpu: 0,
    },
    ...s1Workload(),
    limitNs: 600e9,
    seed: 1,
  },
  "iomap-s2": {
    name: "iomap-s2",
    title: "Darrick's fragmented 20 GB: 200 non-adjacent unwritten extents, one xfs_end_io sees all",
    variant: "5.16",
    costProfile: "default",
    machine: machine({ cpus: 4, preempt: "none" }),
    device: "nvme-raid0x4",
    deviceOverrides: { irqCpu: 2 },
    fs: {
      memBytes: 64 * GIB,
      dirtyBackgroundRatio: 60,
      dirtyRatio: 80,
      physRunBytes: 1 * MIB,
      endIoDelayNs: 5e9,
    },
    files: [
      {
        name: "frag",
        bytes: 200 * 26214 * 4096,
        layout: { extentBytes: 26214 * 4096, gapBytes: 1 * MIB },
        initial: "unwritten",
        predirtyBytes: 200 * 26214 * 4096,
      },
    ],
    tasks: [{ kind: "fsync", cpu: 0, file: "frag", atNs: 0 }, PROBE_CPU2],
    limitNs: 200e9,
    seed: 1,
  },
  "iomap-s3": {
    name: "iomap-s3",
    title: "Dave V4 measurement: 10.1 GB then 15.8 GB files, 5 s completion batching (calibration)",
    variant: "dave-v4",
    costProfile: "default",
    machine: machine({ cpus: 8, preempt: "none" }),
    device: "nvme-pcie3",
    deviceOverrides: { irqCpu: 2 },
    fs: {
      memBytes: 64 * GIB,
      dirtyBackgroundRatio: 60,
      dirtyRatio: 80,
      physRunBytes: 64 * 1024,
      endIoDelayNs: 5e9,
    },
    files: [
      { name: "a", bytes: 10.1 * GB, layout: { extentBytes: 8 * GIB, gapBytes: 0 }, initial: "empty" },
      {
        name: "b",
        bytes: 15.8 * GB,
        layout: { extentBytes: 8 * GIB, gapBytes: 0, startBlock: 1 << 24 },
        initial: "empty",
      },
    ],
    tasks: [
      {
        kind: "writer",
        cpu: 0,
        comm: "xfs_io",
        jobs: [
          { file: "a", bytes: 10.1 * GB, fsync: true },
          { file: "b", bytes: 15.8 * GB, fsync: true },
        ],
      },
      PROBE_CPU2,
    ],
    limitNs: 300e9,
    seed: 1,
  },
  "iomap-s4": {
    name: "iomap-s4",
    title: "Overwrite in interrupt context (2020): 32 GB written file overwritten + fsync, NVMe hardirq",
    variant: "5.16",
    costProfile: "default",
    machine: machine({ cpus: 4, preempt: "none" }),
    device: "nvme-raid0x4",
    fs: { memBytes: 128 * GIB, dirtyBackgroundRatio: 60, dirtyRatio: 80, physRunBytes: 2 * MIB },
    files: [
      {
        name: "old",
        bytes: 32 * GIB,
        layout: { extentBytes: 8 * GIB, gapBytes: 0 },
        initial: "written",
        predirtyBytes: 32 * GIB,
      },
    ],
    tasks: [
      { kind: "fsync", cpu: 1, file: "old", atNs: 0 },
      { kind: "probe", cpu: 1, periodNs: 1_000_000 },
    ],
    limitNs: 200e9,
    seed: 1,
  },
  "iomap-s5": {
    name: "iomap-s5",
    title: "pmem RCU stall: buffered write to pmem, completion in the submitter, NONE",
    variant: "5.16",
    costProfile: "default",
    machine: machine({ cpus: 4, preempt: "none", rcuStallTimeoutS: 21 }),
    device: "pmem",
    fs: { memBytes: 768 * GIB, dirtyBackgroundRatio: 10, dirtyRatio: 20, physRunBytes: 64 * MIB },
    files: [
      { name: "big", bytes: 512 * GIB, layout: { extentBytes: 8 * GIB, gapBytes: 0 }, initial: "empty" },
    ],
    tasks: [{ kind: "writer", cpu: 1, comm: "dd", jobs: [{ file: "big", bytes: 512 * GIB, fsync: true }] }],
    limitNs: 2000e9,
    seed: 1,
  },
  "iomap-s6": {
    name: "iomap-s6",
    title: "Wang throughput: 4 writers x 32 GiB on 4 x NVMe RAID0, end_fsync",
    variant: "5.16",
    costProfile: "default",
    machine: machine({ cpus: 16, preempt: "voluntary" }),
    device: "nvme-raid0x4",
    fs: { memBytes: 256 * GIB, dirtyBackgroundRatio: 10, dirtyRatio: 20, physRunBytes: 64 * 1024 },
    files: [0, 1, 2, 3].map((i) => ({
      name: `job${i}`,
      bytes: 32 * GIB,
      layout: { extentBytes: 8 * GIB, gapBytes: 0, startBlock: (i + 1) << 24 },
      initial: "empty" as const,
    })),
    tasks: [0, 1, 2, 3].map((i) => ({
      kind: "writer" as const,
      cpu: 4 + i,
      comm: "fio",
      jobs: [{ file: `job${i}`, bytes: 32 * GIB, fsync: true }],
    })),
    limitNs: 600e9,
    seed: 1,
  },
  "iomap-s7": {
    name: "iomap-s7",
    title: "Sleep-in-atomic: generic (gfs2/zonefs) inline completion of overwrites in BLOCK_SOFTIRQ",
    variant: "trond",
    costProfile: "default",
    machine: machine({ cpus: 4, preempt: "none", debugAtomicSleep: true }),
    device: "sata-ssd",
    fs: {
      fsKind: "generic",
      memBytes: 64 * GIB,
      dirtyBackgroundRatio: 60,
      dirtyRatio: 80,
      physRunBytes: 256 * 1024,
    },
    files: [
      {
        name: "gfs2file",
        bytes: 2 * GIB,
        layout: { extentBytes: 1 * GIB, gapBytes: 0 },
        initial: "written",
        predirtyBytes: 2 * GIB,
      },
    ],
    tasks: [{ kind: "fsync", cpu: 0, file: "gfs2file", atNs: 0 }],
    limitNs: 100e9,
    seed: 1,
  },
  "iomap-s8": {
    name: "iomap-s8",
    title: "Preemption sweep: S1 with preempt = none | voluntary | full | lazy (set machine.preempt)",
    variant: "5.16",
    costProfile: "default",
    machine: machine({ cpus: 8, preempt: "full", watchdogStyle: "once", steal: "kvm-cfs-2to1" }),
    device: "cloud-raid0x4",
    fs: { memBytes: 128 * GIB, dirtyBackgroundRatio: 10, dirtyRatio: 20, physRunBytes: 64 * MIB },
    ...s1Workload(),
    limitNs: 600e9,
    seed: 1,
  },
};

export const IOMAP_SCENARIO_NAMES: readonly string[] = Object.keys(IOMAP_SCENARIOS);

export type FsScenarioOverrides = Partial<Omit<FsScenarioConfig, "machine" | "fs">> & {
  machine?: Partial<FsMachineSpec>;
  fs?: FsScenarioConfig["fs"];
};

/** A preset by name with overrides merged in (machine and fs merge per field). */
export function iomapScenario(name: string, over: FsScenarioOverrides = {}): FsScenarioConfig {
  const base = IOMAP_SCENARIOS[name];
  if (base === undefined)
    throw new RangeError(
      `iomap scenario: unknown ${JSON.stringify(name)}; known: ${IOMAP_SCENARIO_NAMES.join(", ")}`,
    );
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
