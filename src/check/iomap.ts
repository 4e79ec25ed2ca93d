// Race-check targets of the writeback model for the explore driver: small files written back by
// concurrent fsync callers (WB_SYNC_ALL), so that the schedule search can interleave them at the
// per-folio lock (write_cache_pages:folio_lock) and at their wait/wake points.

import { fsCosts } from "../fs/costs.js";
import { iomapVariant } from "../kernels/iomap.js";
import type { Machine } from "../sim/machine.js";
import { bootKernel } from "../sync/index.js";
import { deviceProfile, FsRun } from "../workloads/iomap.js";
import type { CheckTarget } from "./run.js";

export interface IomapCheckConfig {
  variant: string;
  /** Lock sites to remove (FS_LOCK_SITES). */
  disableLockSites?: readonly string[];
  /** Pages of the pre-dirtied file. */
  pages: number;
  /** Concurrent fsync callers (one per CPU). */
  fsyncers: number;
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
    ],
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
        device: deviceProfile("nvme-pcie3", { irqCpu: cpus - 1, queueDepth: 1 << 20 }),
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
