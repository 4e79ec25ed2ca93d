// Race-check targets of the writeback model for the explore driver: small files written back by
// concurrent fsync callers (WB_SYNC_ALL), so that the schedule search can interleave them at the
// per-folio lock (write_cache_pages:folio_lock) and at their wait/wake points.

import { type FsCosts, fsCosts } from "../fs/costs.js";
import type { DeviceProfile } from "../fs/device.js";
import { FS_INVARIANTS } from "../fs/oracle.js";
import type { IomapVariant } from "../fs/variant.js";
import { iomapVariant } from "../kernels/iomap.js";
import type { PreemptModel } from "../sim/config.js";
import type { Machine } from "../sim/machine.js";
import { bootKernel } from "../sync/index.js";
import { deviceProfile, type FileSpec, FsRun, type FsRunConfig, type TaskSpec } from "../workloads/iomap.js";
import type { CheckTarget } from "./run.js";

export interface IomapCheckConfig {
  variant: string;
  /** Lock sites to remove (FS_LOCK_SITES). */
  disableLockSites?: readonly string[];
  /** Pages of the pre-dirtied file. */
  pages: number;
  /** Concurrent fsync callers (one per CPU). */
  fsyncers: number;
  /**
   * CPU of the completion interrupts: -1 = the submitting CPU (per-CPU NVMe queues, so each fsync
   * caller's ioends complete on its own CPU); default the last CPU, which runs no fsync caller.
   */
  irqCpu?: number;
  /** Page-cache physical run length in pages (small values give many small bios). */
  physRunPages?: number;
  maxSteps?: number;
  seed?: number;
}

/** A CheckTarget: N fsync callers race over one pre-dirtied, fallocated (unwritten) file. */
export function iomapCheckTarget(c: IomapCheckConfig): CheckTarget {
  const cpus = c.fsyncers + 1;
  const name = `iomap-fsync-race/${c.variant}${(c.disableLockSites ?? []).map((s) => `-${s}`).join("")}`;
  return {
    name,
    cpus,
    maxSteps: c.maxSteps ?? 5000,
    kinds: [
      "fs:writeback_ownership",
      "fs:merge_rule",
      "fs:merge_physical",
      "fs:conversion_before_io",
      "fs:disk_size",
      "fs:writeback_leak",
      "fs:ioend_work",
      "fs:fsync_integrity",
      "lost_wakeup",
    ],
    footprints: "none",
    spec: { model: "iomap", config: { ...c } as unknown as Record<string, unknown> },
    describe: {
      model: "fs",
      variant: c.variant,
      pages: c.pages,
      fsyncers: c.fsyncers,
      disable: [...(c.disableLockSites ?? [])],
    },
    build(): Machine {
      const m = bootKernel(
        { cpus, mode: "explore", seed: c.seed ?? 1, preempt: "none" },
        { rcuBackgroundNs: 0 },
      );
      for (const site of c.disableLockSites ?? []) m.disabledSites.add(site);
      const bytes = c.pages * 4096;
      new FsRun(m, {
        variant: iomapVariant(c.variant),
        costs: fsCosts("default"),
        device: deviceProfile("nvme-pcie3", { irqCpu: c.irqCpu ?? cpus - 1, queueDepth: 1 << 20 }),
        fs: { flusherEnabled: false, physRunBytes: (c.physRunPages ?? 1) * 4096, endIoDelayNs: 0 },
        files: [
          {
            name: "f",
            bytes,
            layout: { extentBytes: Math.max(4096, Math.floor(c.pages / 2) * 4096), gapBytes: 4096 },
            initial: "unwritten",
            predirtyBytes: bytes,
          },
        ],
        tasks: Array.from({ length: c.fsyncers }, (_, i) => ({
          kind: "fsync" as const,
          cpu: i,
          file: "f",
          atNs: 0,
        })),
      });
      return m;
    },
  };
}

/**
 * A writeback scenario as plain data for the explore driver (built from a scenario by
 * src/scenario/checktarget.ts, rebuilt in worker threads from CheckTarget.spec): the resolved
 * variant and costs, the device, the fs section, files and tasks.
 */
export interface FsCheckConfig {
  /** Scenario name (target names and reports). */
  scenario: string;
  /** The iomap variant with the scenario's switches applied. */
  variant: IomapVariant;
  disableLockSites: readonly string[];
  costs: FsCosts;
  device: DeviceProfile;
  fs: FsRunConfig["fs"];
  files: FileSpec[];
  tasks: TaskSpec[];
  cpus: number;
  hz: 100 | 250 | 300 | 1000;
  preempt: PreemptModel;
  seed: number;
}

/** Finding kinds of the writeback model's invariants (src/fs/oracle.ts) that count as races. */
export const FS_CHECK_KINDS: readonly string[] = [...FS_INVARIANTS.map((k) => `fs:${k}`), "lost_wakeup"];

/**
 * A CheckTarget for a writeback scenario in the explore driver. The run ends when every user task
 * has finished and no writeback is in flight (FsRun.done), as `faultline run` does; the probe and
 * the flusher's timers are time steps the search may take or not. Watchdogs do not run in the
 * explore driver (they measure time, which it does not model).
 */
export function fsCheckTarget(
  c: FsCheckConfig,
  opts: { maxSteps: number; kinds?: readonly string[] },
): CheckTarget {
  const sites = c.disableLockSites;
  return {
    name: `${c.scenario}@${c.variant.name}`,
    cpus: c.cpus,
    maxSteps: opts.maxSteps,
    kinds: opts.kinds ?? FS_CHECK_KINDS,
    // the writeback model records no footprints (Machine.touch) of its page cache, ioends and
    // inodes: an exhaustive search must treat every pair of steps as dependent
    footprints: "none",
    spec: {
      model: "fs",
      config: c as unknown as Record<string, unknown>,
      options: { maxSteps: opts.maxSteps, ...(opts.kinds ? { kinds: [...opts.kinds] } : {}) },
    },
    describe: {
      model: "fs",
      scenario: c.scenario,
      kernel: c.variant.name,
      seed: c.seed,
      cpus: c.cpus,
      disabledSites: [...sites],
    },
    build(): Machine {
      const m = bootKernel(
        { cpus: c.cpus, hz: c.hz, mode: "explore", seed: c.seed, preempt: c.preempt },
        { rcuBackgroundNs: 0 },
      );
      for (const site of sites) m.disabledSites.add(site);
      const run = new FsRun(m, {
        variant: c.variant,
        costs: c.costs,
        device: c.device,
        fs: c.fs,
        files: c.files,
        tasks: c.tasks,
      });
      // FsModel.onProgress runs after every ioend finish and user-task exit
      run.fs.onProgress = () => {
        if (run.done()) m.stop("workloads done");
      };
      return m;
    },
  };
}
