// Kernel variants of iomap buffered writeback and XFS completion, as data: v5.16,
// the proposals of the 2021-12 thread, ebb7fb1557b1 (v5.17-rc3) and ~v7.0.
// Each variant differs from 5.16 only where the patch differed.
import type { IomapVariant } from "../fs/variant.js";

const BASE_516: IomapVariant = {
  name: "5.16",
  title: "v5.16: unbounded ioends, bio chaining, logical merging, no yields in completion",
  source: "fs/iomap/buffered-io.c, fs/xfs/xfs_aops.c v5.16",
  ioendCap: { kind: "none" },
  chainBios: true,
  submitImmediately: false,
  mergePhysical: "none",
  mergeNoMergeFlags: false,
  xfsEndIoResched: false,
  finishIoendsResched: { kind: "none" },
  finishIoendsMightSleep: false,
  finishIoendPerPageResched: false,
  finishIoendNonAtomicReschedPages: 0,
  largeIoendToWqBytes: 0,
  completionWalk: "page",
  errorsToWq: false,
  plugLimit: 16,
  pagevecSize: 15,
  flushPlugOnResched: false,
  wqCpuIntensiveThreshUs: 0,
  delallocToUnwritten: true,
};

function v(over: Partial<IomapVariant> & { name: string; title: string; source: string }): IomapVariant {
  return { ...BASE_516, ...over };
}

const MIB = 1 << 20;

export const IOMAP_VARIANTS: readonly IomapVariant[] = [
  BASE_516,
  v({
    name: "jens",
    title: "Jens's idea: cond_resched between ioends of a merged run",
    source: "thread 2021-12-30, Jens Axboe reply to <20211230193522.55520-1-trondmy@kernel.org>",
    finishIoendsResched: { kind: "per-ioend" },
  }),
  v({
    name: "trond",
    title: "Trond's patch: cond_resched after every page in iomap_finish_ioend",
    source: "<20211230193522.55520-1-trondmy@kernel.org>",
    finishIoendPerPageResched: true,
  }),
  v({
    name: "darrick",
    title: "Darrick's suggestion: cond_resched between ioends + ~16k folio cap",
    source: "<20220104231230.GG31606@magnolia>",
    ioendCap: { kind: "folios", limit: 16384 },
    finishIoendsResched: { kind: "per-ioend" },
  }),
  v({
    name: "dave-v1",
    title: "Dave RFC v1: 16 MiB ioends, physical merge check on the bio sector, resched in xfs_end_io",
    source: "<20220104012215.GH945095@dread.disaster.area>",
    ioendCap: { kind: "bytes", limit: 16 * MIB },
    mergePhysical: "bio-sector",
    xfsEndIoResched: true,
  }),
  v({
    name: "dave-v2",
    title: "Dave v2: 4096-segment chains (bio_segments), resched every 32768 segments, might_sleep",
    source: "<20220105220421.GM945095@dread.disaster.area>",
    ioendCap: { kind: "segments", limit: 4096 },
    // v2 compares the inline bios' bi_sector, like v1; io_sector came with V4
    mergePhysical: "bio-sector",
    xfsEndIoResched: true,
    finishIoendsResched: { kind: "count", unit: "segments", limit: 32768 },
    finishIoendsMightSleep: true,
  }),
  v({
    name: "dave-v4",
    title: "Dave V4: 4096-page ioends, io_sector merge check, resched every 32768 pages",
    source: "<20220110233746.GB945095@dread.disaster.area>",
    ioendCap: { kind: "pages", limit: 4096 },
    mergePhysical: "io-sector",
    xfsEndIoResched: true,
    finishIoendsResched: { kind: "count", unit: "pages", limit: 32768 },
    finishIoendsMightSleep: true,
  }),
  v({
    name: "brian",
    title: "Brian's 2021 series: resched by page count when not atomic, large ioends to the wq",
    source: "<20210517171722.1266878-1-bfoster@redhat.com>",
    finishIoendNonAtomicReschedPages: 4096,
    largeIoendToWqBytes: MIB,
  }),
  v({
    name: "5.17",
    title: "upstream ebb7fb1557b1 (v5.17-rc3): IOEND_BATCH_SIZE 4096 folios, resched > 32768 folios",
    source: "ebb7fb1557b1d03b906b668aa2164b51e6b7d19a",
    ioendCap: { kind: "folios", limit: 4096 },
    mergePhysical: "io-sector",
    xfsEndIoResched: true,
    finishIoendsResched: { kind: "count", unit: "folios", limit: 32768 },
    finishIoendsMightSleep: true,
    completionWalk: "folio",
  }),
  v({
    name: "newest",
    title: "~v7.0: one bio per ioend, submit immediately, NOMERGE flags, failed ioends to a wq",
    source: "ae5535efd8c4, 410bb2ce6111, 432acd550e36, fs/iomap/ioend.c (~v7.0)",
    ioendCap: { kind: "folios", limit: 4096 },
    chainBios: false,
    submitImmediately: true,
    mergePhysical: "io-sector",
    mergeNoMergeFlags: true,
    xfsEndIoResched: true,
    finishIoendsResched: { kind: "count", unit: "folios", limit: 32768 },
    finishIoendsMightSleep: true,
    completionWalk: "folio",
    errorsToWq: true,
    plugLimit: 32,
    pagevecSize: 31,
    flushPlugOnResched: true,
    wqCpuIntensiveThreshUs: 10_000,
  }),
];

export const IOMAP_VARIANT_NAMES: readonly string[] = IOMAP_VARIANTS.map((x) => x.name);

export function iomapVariant(name: string): IomapVariant {
  const found = IOMAP_VARIANTS.find((x) => x.name === name);
  if (found === undefined)
    throw new RangeError(
      `iomap variant: unknown ${JSON.stringify(name)}; known: ${IOMAP_VARIANT_NAMES.join(", ")}`,
    );
  return found;
}
