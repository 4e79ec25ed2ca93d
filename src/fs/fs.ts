// The writeback model's state: one FsModel per simulated machine holds the device, the inodes and
// their page caches, the flusher, the per-CPU completion lists, the waiters and the counters. The
// kernel steps live in files named after the kernel files they model:
//   page-writeback.ts  mm/page-writeback.c (do_writepages, write_cache_pages, balance_dirty_pages)
//   filemap.ts         mm/filemap.c (vfs_fsync_range's wait side, folio_wait_writeback, folio_wake_bit)
//   fs-writeback.ts    fs/fs-writeback.c (wb_workfn, wb_writeback, writeback_chunk_size, sync)
//   buffered-io.ts     fs/iomap/buffered-io.c (writepage_map, ioend building, iomap_finish_ioend(s))
//   xfs_aops.ts        fs/xfs/xfs_aops.c (xfs_map_blocks, xfs_end_bio, xfs_end_io, xfs_end_ioend)
//   blk.ts             block/blk-core.c, blk-mq.c, bio.c (submit_bio, plug, completion, bio_endio)
//   chunks.ts          how per-folio loops are charged in chunks (a simulator device, not a kernel step)
//   oracle.ts          the invariants, called through hooks from the steps
import {
  BLOCK_SOFTIRQ,
  type Machine,
  TASK_RUNNING,
  type Task,
  type Workqueue,
  type WorkStruct,
} from "../sim/index.js";
import { blk_done_softirq } from "./blk.js";
import type { FsCosts } from "./costs.js";
import { BlockDevice, type DeviceProfile } from "./device.js";
import { PageWaitTable, WAIT_BIT_SITE, WAKE_BIT_SITE } from "./filemap.js";
import { type FlusherWork, wb_workfn } from "./fs-writeback.js";
import { type Extent, XfsInode } from "./inode.js";
import type { Bio, Ioend } from "./ioend.js";
import { FsOracle } from "./oracle.js";
import {
  END_WRITEBACK_SITE,
  FOLIO_LOCK_SITE,
  START_WRITEBACK_SITE,
  TAG_PAGES_SITE,
  XFS_END_BIO_SITE,
  XFS_END_IO_SITE,
} from "./page-writeback.js";
import { PageCache } from "./pagecache.js";
import { FsStats } from "./stats.js";
import type { IomapVariant } from "./variant.js";
import { xfs_end_io } from "./xfs_aops.js";

export { FOLIO_LOCK_SITE, FS_LOCK_SITES } from "./page-writeback.js";

export interface FsConfig {
  variant: IomapVariant;
  costs: FsCosts;
  device: DeviceProfile;
  /** xfs: XFS completion (workqueue for append/unwritten/COW); generic: gfs2/zonefs-style inline completion. */
  fsKind: "xfs" | "generic";
  /** Dave's V4 test hook: msleep at the start of xfs_end_io to force batching (ns; 0 = off). */
  endIoDelayNs: number;
  /** Folio order of the page cache (0 = 4 KiB folios). */
  folioOrder: number;
  /** Mean bytes of a physically contiguous run of page-cache memory (multipage bvec growth). */
  physRunBytes: number;
  /** Dirtyable memory (bytes) for the dirty thresholds. */
  memBytes: number;
  dirtyBackgroundRatio: number;
  dirtyRatio: number;
  /** dirty_expire_centisecs and dirty_writeback_centisecs, in ns. */
  dirtyExpireNs: number;
  dirtyWritebackIntervalNs: number;
  /** CPU of the flusher kworker (the unbound writeback workqueue, pinned here for determinism). */
  flusherCpu: number;
  /** Start the flusher (wb_workfn). Off only for small race-check targets driven by fsync alone. */
  flusherEnabled: boolean;
  /** Granularity (ns) at which per-page resched loops (trond) check need_resched. */
  loopQuantumNs: number;
  /** Longest chunk (ns) of per-folio work charged without an intermediate state update. */
  stateQuantumNs: number;
  /** Submission CPU charged per chunk before write_cache_pages' per-batch cond_resched. */
  submitQuantumNs: number;
  /** Fail every Nth dispatched bio with BLK_STS_IOERR (0 = never). */
  failEveryNthBio: number;
  /** Data-fork delalloc conversions produce unwritten extents; undefined = the variant's (v5.8+: yes). */
  delallocToUnwritten?: boolean | undefined;
}

export const FS_CONFIG_DEFAULTS = {
  fsKind: "xfs" as const,
  endIoDelayNs: 0,
  folioOrder: 0,
  physRunBytes: 4096,
  memBytes: 64 * 2 ** 30,
  dirtyBackgroundRatio: 10,
  dirtyRatio: 20,
  dirtyExpireNs: 30e9,
  dirtyWritebackIntervalNs: 5e9,
  flusherCpu: 0,
  flusherEnabled: true,
  loopQuantumNs: 200_000,
  stateQuantumNs: 10_000_000,
  submitQuantumNs: 100_000,
  failEveryNthBio: 0,
};

export class FsModel {
  readonly dev: BlockDevice;
  readonly inodes: XfsInode[] = [];
  readonly stats = new FsStats();
  readonly oracle: FsOracle;
  readonly v: IomapVariant;
  readonly c: FsCosts;
  readonly xfsConv: Workqueue;
  readonly folioPages: number;
  /** bdi avg_write_bandwidth, bytes per second (INIT_BW = 100 MB/s). */
  avgWriteBandwidth = 100 * 2 ** 20;
  /** wb_update_bandwidth's sampling window. */
  bwStamp = 0;
  bwBytes = 0;
  /** page_wait_table: the hashed wait-queue heads of folio_wait_writeback / folio_wake_bit. */
  readonly waitTable = new PageWaitTable();
  /** Tasks waiting for device tags. */
  readonly tagWaiters: Task[] = [];
  /** Writers throttled in balance_dirty_pages. */
  readonly throttled: Task[] = [];
  /** Flusher waiting for a completion because nothing was writable. */
  readonly progressWaiters: Task[] = [];
  readonly flusher: Task | null;
  readonly flusherWork: FlusherWork[] = [];
  flusherSleeping = false;
  lastKupdate = 0;
  /** Per-CPU BLOCK_SOFTIRQ completion lists. */
  readonly softirqDone: Bio[][];
  biosDispatched = 0;
  /** Next ioend id: per model, so ids do not depend on what ran before in the process. */
  nextIoendId = 1;
  /** Called after every ioend finish and task exit; the scenario uses it to stop the run. */
  onProgress: (() => void) | null = null;
  readonly ioends: Ioend[] = [];
  readonly keepIoends: boolean;
  /**
   * Lock site `write_cache_pages:folio_lock` disabled (m.disabledSites): folios are added to the
   * ioend without the lock-and-recheck, so two writers (flusher, fsync) can submit the same folio.
   */
  readonly folioLockOff: boolean;
  /**
   * A page_wait_table site is off (folio_wait_bit_common or folio_wake_bit): the waiter's test of
   * the bit and its __add_wait_queue_entry_tail are two steps, and it sleeps until a waker removes
   * its entry (WQ_FLAG_WOKEN), as the kernel does. With both sites on, the queue lock makes them one.
   */
  readonly waitSplit: boolean;
  /**
   * An ip->i_ioend_lock site is off (xfs_end_bio or xfs_end_io): xfs_end_bio's list_empty test and
   * its list_add_tail, and xfs_end_io's list_replace_init and INIT_LIST_HEAD, are two steps each.
   */
  readonly ioendSplit: boolean;
  /**
   * A mapping->i_pages site is off (tag_pages_for_writeback, folio_start_writeback,
   * __folio_end_writeback): the xarray mark words are read and written in two steps (the kernel's
   * non-atomic __set_bit/__clear_bit), and the sites still on take the real lock around them.
   */
  readonly xaSplit: boolean;
  /** Completions inside iomap_finish_ioend now (between clearing PG_writeback and waking its waiters). */
  finishing = 0;
  /**
   * With waitSplit: the folio ranges whose PG_writeback a completion has cleared and whose waiters
   * it has not yet woken (so a waiter that goes to sleep on a clear bit outside them is lost).
   */
  readonly waking: { ino: XfsInode; lo: number; hi: number }[] = [];
  /** Pages added per submission piece at most (submitQuantumNs worth of writebackPerFolioNs). */
  readonly maxPiecePages: number;

  constructor(
    readonly m: Machine,
    readonly cfg: FsConfig,
    opts: { keepIoends?: boolean } = {},
  ) {
    this.v = cfg.variant;
    this.c = cfg.costs;
    this.dev = new BlockDevice(cfg.device);
    this.oracle = new FsOracle(this);
    this.folioPages = 1 << cfg.folioOrder;
    this.keepIoends = opts.keepIoends ?? false;
    this.folioLockOff = m.disabledSites.has(FOLIO_LOCK_SITE);
    const off = m.disabledSites;
    this.waitSplit = off.has(WAIT_BIT_SITE) || off.has(WAKE_BIT_SITE);
    this.ioendSplit = off.has(XFS_END_BIO_SITE) || off.has(XFS_END_IO_SITE);
    this.xaSplit = off.has(TAG_PAGES_SITE) || off.has(START_WRITEBACK_SITE) || off.has(END_WRITEBACK_SITE);
    this.maxPiecePages =
      Math.max(1, Math.floor(cfg.submitQuantumNs / Math.max(1, cfg.costs.writebackPerFolioNs))) *
      this.folioPages;
    this.xfsConv = m.wq.allocWorkqueue("xfs-conv/md127");
    // the kernel version's workqueue: CPU-intensive auto-detection from v6.5
    m.wq.cpuIntensiveThreshNs = cfg.variant.wqCpuIntensiveThreshUs * 1000;
    this.softirqDone = m.cpus.map(() => []);
    m.openSoftirq(BLOCK_SOFTIRQ, (k) => blk_done_softirq(this, k));
    this.flusher = cfg.flusherEnabled
      ? m.createTask("kworker/u16:2", cfg.flusherCpu, (k) => wb_workfn(this, k), {
          stack: ["ret_from_fork", "kthread", "worker_thread", "process_one_work"],
        })
      : null;
    m.hooks.end.push(() => this.oracle.finalChecks());
  }

  // ------------------------------------------------------------------------- setup

  /** Create a file. `allocPlan`: where delalloc blocks will be placed (blocks). */
  createInode(
    name: string,
    capacityBytes: number,
    allocPlan: Extent[],
    rngName = `fs.phys.${name}`,
  ): XfsInode {
    const fp = this.folioPages;
    const pages = Math.ceil(capacityBytes / 4096);
    const nrFolios = Math.max(1, Math.ceil(pages / fp));
    const pc = new PageCache(
      nrFolios,
      fp,
      Math.max(1, this.cfg.physRunBytes / (4096 * fp)),
      this.m.rng(rngName),
    );
    const ino = new XfsInode(
      this.inodes.length + 128,
      name,
      pc,
      allocPlan,
      this.cfg.delallocToUnwritten ?? this.v.delallocToUnwritten,
    );
    ino.work = {
      func: "xfs_end_io",
      fn: (k, w) => xfs_end_io(this, k, w),
      pending: false,
      data: ino,
    } satisfies WorkStruct;
    this.inodes.push(ino);
    return ino;
  }

  /** Setup shortcut: the file already has these extents and size (fallocate/previous writes). */
  setExtents(ino: XfsInode, extents: Extent[], sizeBytes: number): void {
    ino.dataFork.length = 0;
    for (const e of extents) XfsInode.insert(ino.dataFork, { ...e });
    ino.size = sizeBytes;
    ino.diskSize = sizeBytes;
    ino.dataSeq++;
  }

  /** Setup shortcut: pages [from, to) dirty in the page cache without simulating the writes. */
  predirty(ino: XfsInode, fromPage: number, toPage: number): void {
    const fp = this.folioPages;
    ino.reserveDelalloc(fromPage, toPage - fromPage);
    ino.pc.dirtyRange(Math.floor(fromPage / fp), Math.ceil(toPage / fp));
    ino.size = Math.max(ino.size, toPage * 4096);
    if (ino.dirtiedWhen < 0) ino.dirtiedWhen = this.m.now;
  }

  // ------------------------------------------------------------------------- global counters

  nrDirty(): number {
    let n = 0;
    for (const i of this.inodes) n += i.pc.nrDirty;
    return n * this.folioPages;
  }

  nrWriteback(): number {
    let n = 0;
    for (const i of this.inodes) n += i.pc.nrWriteback;
    return n * this.folioPages;
  }

  bgThreshPages(): number {
    return Math.floor((this.cfg.memBytes * this.cfg.dirtyBackgroundRatio) / 100 / 4096);
  }

  threshPages(): number {
    return Math.floor((this.cfg.memBytes * this.cfg.dirtyRatio) / 100 / 4096);
  }

  /** No I/O in flight and no queued completion (used for end-of-run checks). */
  allIdle(): boolean {
    if (this.dev.inflightRequests > 0) return false;
    for (const ino of this.inodes) if (ino.ioendList.length > 0 || ino.work!.pending) return false;
    return true;
  }
}

export { TASK_RUNNING };
