// Cost table of the fs model: one entry per modelled step, each named with its unit and its source.
// Spec: ../shared/reference/iomap-writeback.md §5 (cited "§5.n"); calibration.md §5 ("cal §5").
// Nothing here is fitted to the outcomes of spec §4; S3 is the calibration check.

export interface FsCosts {
  /** folio_end_writeback of a 4 KiB folio with no waiters, when no other writeback runs on the bdi. [§5.1 "idle" 290 ns] */
  folioEndWritebackIdleNs: number;
  /** the same while a flusher/fsync pass runs on the bdi (i_pages, wb/memcg counters contended). [§5.1 "concurrent writeback" 700 ns] */
  folioEndWritebackBusyNs: number;
  /** extra per large folio: ifs write_bytes_pending atomic + multi-page stats. [§5.1 est 50 ns] */
  largeFolioExtraNs: number;
  /** extra per page of a large folio. [cal §5: 0.7 µs per 1 MiB folio vs 170 ns per 4 KiB folio -> (700-170-50)/256 ≈ 2 ns/page; §5.1 est 5] */
  largeFolioPerPageNs: number;
  /** folio_wake_bit when PG_waiters is set: bucket lock irqsave, walk, try_to_wake_up. [§5.1 est 1.5 µs] */
  wakeWaitersNs: number;
  /** bio_for_each_*_all per bvec. [§5.1 est 20 ns] */
  bioWalkPerBvecNs: number;
  /** bio_put, ioend free, list ops per ioend. [§5.1 est 300 ns] */
  ioendOverheadNs: number;
  /** list_sort compare in iomap_sort_ioends. [§5.1 est 30 ns] */
  sortCompareNs: number;
  /** iomap_ioend_can_merge. [§5.1 est 20 ns] */
  mergeCheckNs: number;
  /** xfs_end_bio: i_ioend_lock irqsave + queue_work. [§5.1 est 1 µs] */
  queueWorkNs: number;
  /** xfs_setfilesize transaction, CPU only. [§5.1 est 10 µs] */
  setFileSizeTxnNs: number;
  /** xfs_iomap_write_unwritten per physical extent. [§5.1 est 30 µs] */
  unwrittenConvTxnNs: number;
  /** xfs_reflink_end_cow per extent. [§5.1 est 50 µs] */
  cowRemapTxnNs: number;
  /** blk_mq_complete_request per request, before bio_endio. [§5.1 est 1 µs] */
  blkMqCompleteRequestNs: number;
  /** write_cache_pages per folio: tag lookup, lock, clear_dirty_for_io, start_writeback, add to bio. [§5.2 550 ns] */
  writebackPerFolioNs: number;
  /** tag_pages_for_writeback per page (DIRTY -> TOWRITE under xa_lock). [est 15 ns] */
  tagPerPageNs: number;
  /** xfs_map_blocks with a valid cached map. [§5.2 est 30 ns] */
  mapBlocksNs: number;
  /** xfs_map_blocks miss: ILOCK + iext lookup. [§5.2 est 1 µs] */
  mapBlocksMissNs: number;
  /** xfs_bmapi_convert_delalloc allocation transaction. [§5.2 est 50 µs] */
  delallocConvertNs: number;
  /** bio_alloc. [§5.2 est 1 µs] */
  bioAllocNs: number;
  /** submit_bio to the driver queue, split included. [§5.2 est 3 µs] */
  submitBioNs: number;
  /** buffered write(2) per 4 KiB page, copy + dirtying. [cal §5: XFS 1 MiB writes 5030 MiB/s = 0.78 µs/page] */
  writePerPageNs: number;
  /** write(2) syscall overhead per call. [cal §4 getpid 107 ns + iomap_iter setup, est 1 µs] */
  writeCallNs: number;
}

/** The default profile: §5 defaults. */
export const DEFAULT_FS_COSTS: FsCosts = {
  folioEndWritebackIdleNs: 290,
  folioEndWritebackBusyNs: 700,
  largeFolioExtraNs: 50,
  largeFolioPerPageNs: 2,
  wakeWaitersNs: 1500,
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
  tagPerPageNs: 15,
  mapBlocksNs: 30,
  mapBlocksMissNs: 1000,
  delallocConvertNs: 50_000,
  bioAllocNs: 1000,
  submitBioNs: 3000,
  writePerPageNs: 780,
  writeCallNs: 1000,
};

export type FsCostProfileName = "default" | "dave-idle" | "contended" | "slow-vm" | "aws-like";

function perFolio(ns: number): Partial<FsCosts> {
  return { folioEndWritebackIdleNs: ns, folioEndWritebackBusyNs: ns };
}

/** Named profiles (§5.1 range column; §6.3 perPageCostProfile). */
export const FS_COST_PROFILES: Record<FsCostProfileName, FsCosts> = {
  default: DEFAULT_FS_COSTS,
  /** Dave's idle machine: 290 ns per folio whatever else runs. [§5.1] */
  "dave-idle": { ...DEFAULT_FS_COSTS, ...perFolio(290) },
  /** contended i_pages: 400k pages/s. [§5.1 2.5 µs] */
  contended: { ...DEFAULT_FS_COSTS, ...perFolio(2500) },
  /** slow VM: 5-20 µs/page effective (§5.1 calibration note); low end. */
  "slow-vm": { ...DEFAULT_FS_COSTS, ...perFolio(5000) },
  /** "AWS-like", from Trond's v2 log. [§5.1 ≥10 µs] */
  "aws-like": { ...DEFAULT_FS_COSTS, ...perFolio(10_000) },
};

export function fsCosts(profile: FsCostProfileName, over: Partial<FsCosts> = {}): FsCosts {
  const base = FS_COST_PROFILES[profile];
  if (base === undefined) throw new RangeError(`fs cost profile: unknown ${JSON.stringify(profile)}`);
  return { ...base, ...over };
}
