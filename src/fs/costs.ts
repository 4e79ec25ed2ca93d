// Cost table of the fs model: one entry per modelled step, each named with its unit and its source.
// Sources: "Dave" = Dave Chinner's measurements in the 2022 thread "[PATCH] iomap: Address soft
// lockup in iomap_finish_ioend()" (<20220110233746.GB945095@dread.disaster.area>: 10.1 GB written
// back with 715 ms of completion CPU, 290 ns per page, on an idle VM); "Wang" = Wang Yugui's 2023
// throughput report with Dave's profile (<20230509221411.GU3223426@dread.disaster.area>); "cal" =
// measurements of this project's Linux 6.18 VM listed in docs/fs.md; "calib/..." = a program in
// this repository and its output beside it (calib/*.out.txt); [est] = an engineering
// estimate, overridable per scenario (`costs:`). Contention is NOT in these numbers: the i_pages
// xa_lock, i_ioend_lock and the page wait-queue locks are src/sync locks, and what they add
// (spinning, cache-line transfers) comes from who else holds or wants them. Steal time comes from
// src/sim/hypervisor.ts. Nothing here is fitted to a reported lockup.

export interface FsCosts {
  /** __folio_end_writeback + stats of a 4 KiB folio, uncontended, the xa_lock round trip included. [Dave: 715 ms / 10.1 GB = 290 ns/page, idle] */
  folioEndWritebackNs: number;
  /**
   * part of folioEndWritebackNs spent holding mapping->i_pages xa_lock in __folio_end_writeback:
   * folio_xor_flags_has_waiters (one locked RMW), __xa_clear_mark(WRITEBACK), wb_stat_mod +
   * __wb_writeout_add (per-CPU counter adds). [derived, not timed as a whole (no kprobes, function
   * tracer or lock_stat on this guest): one xarray mark update at calib/xarray_tag.sh's 26 ns per
   * entry + one locked RMW at calib/cacheline.c's 3 ns + 3 per-CPU adds counted as 1 ns each = 32 ns]
   */
  iPagesEndHoldNs: number;
  /** extra per large folio: ifs write_bytes_pending atomic + multi-page stats. [est 50 ns] */
  largeFolioExtraNs: number;
  /** extra per page of a large folio. [cal: 0.7 µs per 1 MiB folio vs 170 ns per 4 KiB folio -> (700-170-50)/256 ≈ 2 ns/page] */
  largeFolioPerPageNs: number;
  /** __wake_up_common per wait-queue entry walked (wake_page_function's key compare): entries on other tasks' stacks, one cache miss each. [calib/writeback_locks.c waitq_walk_cold: 336 ns] */
  waitqueueWalkEntryNs: number;
  /** try_to_wake_up of one sleeping waiter on another vCPU (enqueue, reschedule IPI: a VM exit in a guest). [calib/writeback_locks.c futex_wake_one: 6.6 µs of the waker's CPU time, getpid subtracted, loaded KVM guest] */
  tryToWakeUpNs: number;
  /** bio_for_each_*_all per bvec. [est 20 ns] */
  bioWalkPerBvecNs: number;
  /** bio_put, ioend free, list ops per ioend. [est 300 ns] */
  ioendOverheadNs: number;
  /** list_sort compare in iomap_sort_ioends. [est 30 ns] */
  sortCompareNs: number;
  /** iomap_ioend_can_merge. [est 20 ns] */
  mergeCheckNs: number;
  /** xfs_end_bio: queue_work + list_add under i_ioend_lock (the lock itself is a src/sync spinlock). [est 1 µs] */
  queueWorkNs: number;
  /** xfs_setfilesize transaction, CPU only. [est 10 µs] */
  setFileSizeTxnNs: number;
  /** xfs_iomap_write_unwritten per physical extent. [est 30 µs] */
  unwrittenConvTxnNs: number;
  /** xfs_reflink_end_cow per extent. [est 50 µs] */
  cowRemapTxnNs: number;
  /** blk_mq_complete_request per request, before bio_endio. [est 1 µs] */
  blkMqCompleteRequestNs: number;
  /** write_cache_pages per folio: tag lookup, lock, clear_dirty_for_io, start_writeback, add to bio. [Wang: one flusher at 7666 MiB/s ≈ 1.96 M pages/s -> ~510 ns; 550 ns] */
  writebackPerFolioNs: number;
  /**
   * part of writebackPerFolioNs holding mapping->i_pages in __folio_start_writeback: xas_load,
   * folio_test_set_writeback (one locked RMW), xas_set_mark(WRITEBACK), xas_clear_mark(DIRTY) and
   * (TOWRITE), wb_stat_mod. [derived, not timed as a whole: three xarray mark updates at
   * calib/xarray_tag.sh's 26 ns per entry + one locked RMW at calib/cacheline.c's 3 ns = 81 ns; the
   * per-CPU add not counted]
   */
  iPagesStartHoldNs: number;
  /** tag_pages_for_writeback per page (DIRTY -> TOWRITE under xa_lock_irq, XA_CHECK_SCHED = 4096 per hold). [calib/xarray_tag.sh: ext4 fsync's ext4_writepages -> first ext4_da_write_folios_start interval grows 26.1 ns per dirty page, sync_file_range's (no tagging) 0.3: 25.8 ns] */
  tagPerPageNs: number;
  /** xfs_map_blocks with a valid cached map. [est 30 ns] */
  mapBlocksNs: number;
  /** xfs_map_blocks miss: ILOCK + iext lookup. [est 1 µs] */
  mapBlocksMissNs: number;
  /** xfs_bmapi_convert_delalloc allocation transaction. [est 50 µs] */
  delallocConvertNs: number;
  /** bio_alloc. [est 1 µs] */
  bioAllocNs: number;
  /** submit_bio to the driver queue, split included. [est 3 µs] */
  submitBioNs: number;
  /** buffered write(2) per 4 KiB page, copy + dirtying. [cal: XFS 1 MiB writes 5030 MiB/s = 0.78 µs/page] */
  writePerPageNs: number;
  /** write(2) syscall overhead per call. [cal: getpid 107 ns + iomap_iter setup, est 1 µs] */
  writeCallNs: number;
}

/** The default profile. */
export const DEFAULT_FS_COSTS: FsCosts = {
  folioEndWritebackNs: 290,
  iPagesEndHoldNs: 32,
  largeFolioExtraNs: 50,
  largeFolioPerPageNs: 2,
  waitqueueWalkEntryNs: 336,
  tryToWakeUpNs: 6600,
  bioWalkPerBvecNs: 20,
  ioendOverheadNs: 300,
  sortCompareNs: 30,
  mergeCheckNs: 20,
  queueWorkNs: 1000,
  setFileSizeTxnNs: 10_000,
  unwrittenConvTxnNs: 30_000,
  cowRemapTxnNs: 50_000,
  blkMqCompleteRequestNs: 1000,
  writebackPerFolioNs: 550,
  iPagesStartHoldNs: 81,
  tagPerPageNs: 26,
  mapBlocksNs: 30,
  mapBlocksMissNs: 1000,
  delallocConvertNs: 50_000,
  bioAllocNs: 1000,
  submitBioNs: 3000,
  writePerPageNs: 780,
  writeCallNs: 1000,
};

export type FsCostProfileName = "default" | "this-vm-6.18" | "what-if-slow-vm" | "what-if-aws-like";

/** Named profiles. The what-if ones set a per-folio cost by hand; no built-in scenario uses them. */
export const FS_COST_PROFILES: Record<FsCostProfileName, FsCosts> = {
  default: DEFAULT_FS_COSTS,
  /** This project's 6.18 VM: xfs_end_io at ≈ 170 ns per 4 KiB folio. [cal] */
  "this-vm-6.18": { ...DEFAULT_FS_COSTS, folioEndWritebackNs: 170 },
  /** What if a folio cost 5 µs to complete (the low end of the slowness the thread asked about). */
  "what-if-slow-vm": { ...DEFAULT_FS_COSTS, folioEndWritebackNs: 5000 },
  /** What if a folio cost 10 µs (the rate read off Trond's lockup log: an outcome, not a cause). */
  "what-if-aws-like": { ...DEFAULT_FS_COSTS, folioEndWritebackNs: 10_000 },
};

export function fsCosts(profile: FsCostProfileName, over: Partial<FsCosts> = {}): FsCosts {
  const base = FS_COST_PROFILES[profile];
  if (base === undefined)
    throw new RangeError(
      `fs cost profile: unknown ${JSON.stringify(profile)}; known: ${Object.keys(FS_COST_PROFILES).join(", ")}`,
    );
  return { ...base, ...over };
}
