// The switches that distinguish kernel versions and proposed patches of iomap writeback and XFS
// completion: v5.16, the proposals of the 2021-12 thread "[PATCH] iomap: Address soft lockup in
// iomap_finish_ioend()", ebb7fb1557b1 (v5.17-rc3) and ~v7.0 (fs/iomap/ioend.c). Variants themselves are data in src/kernels/iomap.ts.

/** When iomap_can_add_to_ioend refuses to grow the open ioend (besides type/offset/sector rules). */
export type IoendCap =
  | { kind: "none" }
  /** io_size >= bytes (dave-v1: 16 MiB). */
  | { kind: "bytes"; limit: number }
  /** io_segments (bio_segments(), single pages, of the bios already chained or submitted) >= limit (dave-v2). */
  | { kind: "segments"; limit: number }
  /** io_pages >= limit (dave-v4). */
  | { kind: "pages"; limit: number }
  /** io_folios / wpc->nr_folios >= limit (5.17 IOEND_BATCH_SIZE, newest, darrick 16k). */
  | { kind: "folios"; limit: number };

/** Completion-time merge rule beyond the logical one (iomap_ioend_can_merge). */
export type MergePhysical = "none" | "bio-sector" | "io-sector";

/** Where iomap_finish_ioends yields between ioends of a merged run. */
export type FinishIoendsResched =
  | { kind: "none" }
  | { kind: "per-ioend" }
  /** cond_resched once the accumulated count is > limit (strict), then reset. */
  | { kind: "count"; unit: "segments" | "pages" | "folios"; limit: number };

export interface IomapVariant {
  /** Registry name: "5.16", "jens", ..., "newest". */
  name: string;
  title: string;
  /** Where the behaviour comes from (commit id or Message-ID), one line. */
  source: string;
  ioendCap: IoendCap;
  /** 5.16-6.8: a full bio is chained (iomap_chain_bio); newest: a full bio closes the ioend. */
  chainBios: boolean;
  /** 6.9+: closed ioends are submitted at once (410bb2ce6111), else via the per-folio submit_list. */
  submitImmediately: boolean;
  mergePhysical: MergePhysical;
  /** newest: IOMAP_IOEND_NOMERGE_FLAGS must be equal (DONTCACHE, DIRECT, ...). */
  mergeNoMergeFlags: boolean;
  /** cond_resched() after each xfs_end_ioend in xfs_end_io. */
  xfsEndIoResched: boolean;
  finishIoendsResched: FinishIoendsResched;
  /** might_sleep() on entry to iomap_finish_ioends. */
  finishIoendsMightSleep: boolean;
  /** trond: cond_resched() after every page in iomap_finish_ioend, in every context. */
  finishIoendPerPageResched: boolean;
  /** brian: cond_resched() every N pages inside iomap_finish_ioend, only on the non-atomic (wq) path; 0 = off. */
  finishIoendNonAtomicReschedPages: number;
  /** brian: XFS sends ioends of at least this many bytes to the workqueue; 0 = off. */
  largeIoendToWqBytes: number;
  /** Completion walks single pages (bio_for_each_segment_all, <= 5.16) or folios (5.17+). */
  completionWalk: "page" | "folio";
  /** newest: failed ioends are completed from a workqueue. */
  errorsToWq: boolean;
  /** BLK_MAX_REQUEST_COUNT of the plug. */
  plugLimit: number;
  /** pagevec (15) or folio_batch (31) size in write_cache_pages. */
  pagevecSize: number;
  /** writeback_sb_inodes flushes the plug before cond_resched when need_resched (2022+). */
  flushPlugOnResched: boolean;
  /** xfs_bmapi_convert_delalloc makes unwritten data-fork extents (v5.8+, a5949d3faedf "xfs: force writes to delalloc regions to unwritten"). */
  delallocToUnwritten: boolean;
  /** workqueue.cpu_intensive_thresh_us of the kernel (v6.5+ 616db8779b1e: 10000; 0 = no auto-detection). */
  wqCpuIntensiveThreshUs: number;
}
