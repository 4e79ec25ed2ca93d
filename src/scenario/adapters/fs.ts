// The writeback model (src/fs) driven from a scenario through FsRun (src/workloads/iomap.ts): the
// scenario's fs section becomes the device, FsConfig and files; its workloads become the tasks.
import { type FsCostProfileName, type FsCosts, fsCosts } from "../../fs/costs.js";
import type { DeviceProfile } from "../../fs/device.js";
import { iomapVariant } from "../../kernels/iomap.js";
import { bootKernel } from "../../sync/index.js";
import { deviceProfile, type FileSpec, FsRun, type TaskSpec } from "../../workloads/iomap.js";
import { applySwitches } from "../models.js";
import type { Fs, Scenario, Workload } from "../schema.js";
import { drive } from "./drive.js";
import { type Adapter, ModelUnavailableError } from "./types.js";

const MIB = 1024 * 1024;

export function toTaskSpec(w: Workload): TaskSpec {
  switch (w.type) {
    case "writer":
      return {
        kind: "writer",
        cpu: w.cpu,
        comm: w.comm,
        writeBytes: w.writeSize,
        ...(w.fsyncEvery !== undefined ? { fsyncEveryNs: w.fsyncEvery } : {}),
        startNs: w.start,
        jobs: w.jobs.map((j) => ({ file: j.file, bytes: j.size, offsetBytes: j.offset, fsync: j.fsync })),
      };
    case "committer":
      return { kind: "committer", cpu: w.cpu, file: w.file, everyNs: w.every };
    case "nfsd":
      return {
        kind: "nfsd",
        cpus: w.cpus,
        file: w.file,
        bytes: w.size,
        wsizeBytes: w.wsize,
        commitEveryBytes: w.commitEvery,
      };
    case "fsync":
      return { kind: "fsync", cpu: w.cpu, file: w.file, atNs: w.at, comm: w.comm };
    case "sync":
      return { kind: "sync", cpu: w.cpu, atNs: w.at };
    case "probe":
      return { kind: "probe", cpu: w.cpu, periodNs: w.period };
    default:
      throw new ModelUnavailableError(
        `workload type ${w.type} does not run on the writeback model (an iomap variant)`,
      );
  }
}

export function toFileSpec(f: Fs["files"][number]): FileSpec {
  return {
    name: f.name,
    bytes: f.size,
    layout: {
      extentBytes: f.extentSize,
      ...(f.extentSizeMax !== undefined ? { extentBytesMax: f.extentSizeMax } : {}),
      gapBytes: f.extentGap,
      ...(f.startBlock !== undefined ? { startBlock: f.startBlock } : {}),
    },
    initial: f.initial,
    ...(f.predirty !== undefined ? { predirtyBytes: f.predirty } : {}),
  };
}

/** The FsConfig fields a scenario's fs section sets. */
export function fsConfigOf(fs: Fs) {
  return {
    fsKind: fs.kind,
    endIoDelayNs: fs.endIoDelay,
    folioOrder: Math.round(Math.log2(fs.folioSize / 4096)),
    physRunBytes: fs.physRun,
    memBytes: fs.memory,
    dirtyBackgroundRatio: fs.dirtyBackgroundRatio,
    dirtyRatio: fs.dirtyRatio,
    dirtyExpireNs: fs.dirtyExpire,
    dirtyWritebackIntervalNs: fs.dirtyWritebackInterval,
    flusherCpu: fs.flusherCpu,
    failEveryNthBio: fs.failEveryNthBio,
    delallocToUnwritten: fs.delallocToUnwritten,
  };
}

/** The device profile fields a scenario's fs section overrides. */
export function deviceOverridesOf(fs: Fs): Partial<DeviceProfile> {
  return {
    ...(fs.bandwidth !== undefined ? { bandwidthBps: fs.bandwidth } : {}),
    ...(fs.latency !== undefined ? { latencyNs: fs.latency } : {}),
    ...(fs.completion !== undefined ? { completion: fs.completion } : {}),
    ...(fs.irqCpu !== undefined ? { irqCpu: fs.irqCpu } : {}),
    ...(fs.maxSectors !== undefined ? { maxSectorsBytes: fs.maxSectors } : {}),
    ...(fs.queueDepth !== undefined ? { queueDepth: fs.queueDepth } : {}),
  };
}

/** The scenario's fs costs: its cost profile with the overrides that name fs costs. */
export function fsCostsOf(s: Scenario, costs: Readonly<Record<string, number>>): FsCosts {
  const base = fsCosts(s.machine.costProfile as FsCostProfileName);
  const over: Record<string, number> = {};
  for (const k of Object.keys(base)) if (costs[k] !== undefined) over[k] = costs[k]!;
  return { ...base, ...over } as FsCosts;
}

export const fsAdapter: Adapter = ({ scenario: s, variant, machine, costs, trace, onProgress }) => {
  const fs = s.fs;
  if (!fs)
    throw new ModelUnavailableError(
      `variant ${variant.name} is a writeback variant: the scenario needs an fs section`,
    );
  const m = bootKernel(machine);
  m.trace = trace;
  // lock sites the scenario switches off (FS_LOCK_SITES; the loader checked the names)
  for (const site of s.kernel.disableLockSites) m.disabledSites.add(site);
  const run = new FsRun(m, {
    variant: applySwitches(iomapVariant(variant.name), s.kernel.switches),
    costs: fsCostsOf(s, costs),
    device: deviceProfile(fs.device, deviceOverridesOf(fs)),
    fs: fsConfigOf(fs),
    files: fs.files.map(toFileSpec),
    tasks: s.workloads.filter((w) => w.enabled).map(toTaskSpec),
  });
  const stopReason = drive(m, s, () => run.done(), onProgress);
  m.finish();
  const st = run.fs.stats;
  const endNs = run.endNs >= 0 ? run.endNs : m.now;
  const elapsedNs = Math.max(1, endNs - run.startNs);
  const latency = [
    { name: "pg_writeback_clear", hist: st.deviceToClearNs },
    { name: "fsync", hist: st.fsyncNs },
    { name: "probe_wait", hist: st.probeWaitNs },
  ].filter((l) => l.hist.totalCount > 0);
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(st.summary())) if (typeof v === "number") counters[k] = v;
  return {
    m,
    stopReason,
    output: {
      throughput: [
        { name: "writeback", value: round3((st.bytesSubmitted / MIB) * (1e9 / elapsedNs)), unit: "MiB/s" },
      ],
      latency,
      vmstat: { nr_writeback: run.fs.nrWriteback() },
      counters,
    },
  };
};

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
