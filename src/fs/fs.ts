// The writeback model on the engine: write path and dirty throttling, the flusher, fsync/sync,
// write_cache_pages + iomap_writepages + xfs_map_blocks + ioend/bio building, submission and the
// device, bio completion in its context, xfs_end_bio / xfs_end_io / xfs_end_ioend and
// iomap_finish_ioend(s). Spec: ../shared/reference/iomap-writeback.md §1 (steps), §2 (versions).
// Per-folio loops are charged in chunks that end at the variant's next resched point (or a state
// quantum), never per folio; state changes of a chunk are applied when its CPU time has passed.

import {
  BLOCK_SOFTIRQ,
  CTX_HARDIRQ,
  CTX_SOFTIRQ,
  CTX_TASK,
  type Ctx,
  condResched,
  type KGen,
  type Machine,
  mightSleep,
  SCHEDULE,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  type Task,
  type Workqueue,
  type WorkStruct,
  yieldPoint,
} from "../sim/index.js";
import type { FsCosts } from "./costs.js";
import { BlockDevice, type DeviceProfile } from "./device.js";
import {
  EXT_DELALLOC,
  EXT_UNWRITTEN,
  type Extent,
  IOMAP_MAPPED,
  IOMAP_UNWRITTEN,
  type IomapMapping,
  XfsInode,
} from "./inode.js";
import {
  BIO_MAX_PAGES_BYTES_LIMIT,
  BIO_MAX_VECS,
  Bio,
  finishCount,
  IOEND_DEVICE_DONE,
  IOEND_FINISHED,
  IOEND_QUEUED,
  IOEND_SUBMITTED,
  Ioend,
  ioendCanMerge,
  ioendCapacityPages,
} from "./ioend.js";
import { PageCache, PG_DIRTY, PG_WRITEBACK, TAG_TOWRITE } from "./pagecache.js";
import { FsStats } from "./stats.js";
import { pageCounters } from "./trace.js";
import type { IomapVariant } from "./variant.js";

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
  /** Data-fork delalloc conversions produce unwritten extents (§1.5; version/config dependent). */
  delallocToUnwritten: boolean;
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
  delallocToUnwritten: false,
};

/** writeback_control */
export interface Wbc {
  syncAll: boolean;
  tagged: boolean;
  /** Pages still to write (WB_SYNC_NONE stops at <= 0). */
  nrToWrite: number;
  /** Folio range [start, end); cyclic when rangeCyclic. */
  start: number;
  end: number;
  rangeCyclic: boolean;
  written: number;
}

/** iomap_writepage_ctx */
interface Wpc {
  map: IomapMapping | null;
  ioend: Ioend | null;
  submitList: Ioend[];
}

/** A task's block plug (blk_start_plug). */
interface Plug {
  bios: Bio[];
}

interface FlusherWork {
  kind: "sync";
  done: boolean;
  waiter: Task;
}

// --------------------------------------------------------------------------- effects, interned
// Line numbers in the might_sleep splat: xfs_aops.c:185 is the cond_resched() the lkp build report
// names (spec §2.1); the buffered-io.c lines are approximate positions in the 5.16/5.17 file.
const F_BUFFERED = "fs/iomap/buffered-io.c";
const F_AOPS = "fs/xfs/xfs_aops.c";
/** cond_resched() in write_cache_pages between pagevecs (mm/page-writeback.c). */
const CR_WCP = condResched("mm/page-writeback.c", 2300);
/** cond_resched() between inodes in writeback_sb_inodes (fs/fs-writeback.c). */
const CR_WB_SB = condResched("fs/fs-writeback.c", 1870);
/** cond_resched() after each xfs_end_ioend in xfs_end_io (5.17+, fs/xfs/xfs_aops.c). */
const CR_XFS_END_IO = condResched(F_AOPS, 185);
/** cond_resched() in iomap_finish_ioends (5.17: > IOEND_BATCH_SIZE * 8 folios). */
const CR_FINISH_IOENDS = condResched(F_BUFFERED, 1113);
/** might_sleep() on entry to iomap_finish_ioends (5.17+). */
const MS_FINISH_IOENDS = mightSleep(F_BUFFERED, 1101);
/** Trond's cond_resched() in the per-segment loop of iomap_finish_ioend. */
const CR_TROND = condResched(F_BUFFERED, 1064);
/** Brian's non-atomic resched in iomap_finish_ioend. */
const CR_BRIAN = condResched(F_BUFFERED, 1070);

const BLK_STS_IOERR = 10;

/** Lock sites of the fs model a scenario may disable (m.disabledSites). */
export const FOLIO_LOCK_SITE = "write_cache_pages:folio_lock";
export const FS_LOCK_SITES: readonly string[] = [FOLIO_LOCK_SITE];
const YP_FOLIO_LOCK = yieldPoint(FOLIO_LOCK_SITE);

let nextIoendId = 1;

export class FsModel {
  readonly dev: BlockDevice;
  readonly inodes: XfsInode[] = [];
  readonly stats = new FsStats();
  readonly v: IomapVariant;
  readonly c: FsCosts;
  readonly xfsConv: Workqueue;
  readonly folioPages: number;
  /** Flusher/fsync writepages passes in progress (the "concurrent writeback" cost condition). */
  writebackActive = 0;
  /** bdi avg_write_bandwidth, bytes per second (INIT_BW = 100 MB/s). */
  avgWriteBandwidth = 100 * 2 ** 20;
  private bwStamp = 0;
  private bwBytes = 0;
  /** Tasks waiting in folio_wait_writeback: (inode, folio, task). */
  private readonly folioWaiters: { ino: XfsInode; f: number; task: Task }[] = [];
  /** Tasks waiting for device tags. */
  private readonly tagWaiters: Task[] = [];
  /** Writers throttled in balance_dirty_pages. */
  private readonly throttled: Task[] = [];
  /** Flusher waiting for a completion because nothing was writable. */
  private readonly progressWaiters: Task[] = [];
  readonly flusher: Task | null;
  private readonly flusherWork: FlusherWork[] = [];
  private flusherSleeping = false;
  private lastKupdate = 0;
  private readonly softirqDone: Bio[][];
  private biosDispatched = 0;
  private readonly invariantReported = new Map<string, number>();
  /** Called after every ioend finish and task exit; the scenario uses it to stop the run. */
  onProgress: (() => void) | null = null;
  readonly ioends: Ioend[] = [];
  private readonly keepIoends: boolean;
  /**
   * Lock site `write_cache_pages:folio_lock` disabled (m.disabledSites): folios are added to the
   * ioend without the lock-and-recheck, so two writers (flusher, fsync) can submit the same folio.
   */
  readonly folioLockOff: boolean;
  /** Pages added per submission piece at most (submitQuantumNs worth of writebackPerFolioNs). */
  private readonly maxPiecePages: number;

  constructor(
    readonly m: Machine,
    readonly cfg: FsConfig,
    opts: { keepIoends?: boolean } = {},
  ) {
    this.v = cfg.variant;
    this.c = cfg.costs;
    this.dev = new BlockDevice(cfg.device);
    this.folioPages = 1 << cfg.folioOrder;
    this.keepIoends = opts.keepIoends ?? false;
    this.folioLockOff = m.disabledSites.has(FOLIO_LOCK_SITE);
    this.maxPiecePages =
      Math.max(1, Math.floor(cfg.submitQuantumNs / Math.max(1, cfg.costs.writebackPerFolioNs))) *
      this.folioPages;
    this.xfsConv = m.wq.allocWorkqueue("xfs-conv/md127");
    this.softirqDone = m.cpus.map(() => []);
    m.openSoftirq(BLOCK_SOFTIRQ, (k) => this.blk_done_softirq(k));
    this.flusher = cfg.flusherEnabled
      ? m.createTask("kworker/u16:2", cfg.flusherCpu, (k) => this.wb_workfn(k), {
          stack: ["ret_from_fork", "kthread", "worker_thread", "process_one_work"],
        })
      : null;
    m.hooks.end.push(() => this.finalChecks());
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
    const ino = new XfsInode(this.inodes.length + 128, name, pc, allocPlan, this.cfg.delallocToUnwritten);
    ino.work = {
      func: "xfs_end_io",
      fn: (k, w) => this.xfs_end_io(k, w),
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

  // ------------------------------------------------------------------------- invariants

  /** A broken invariant of the modelled kernel: counted always, reported (finding) up to 5 per kind. */
  violation(
    kind: string,
    k: Ctx | null,
    message: string,
    details: Record<string, number | string | boolean> = {},
  ): void {
    const n = (this.stats.invariantCounts.get(kind) ?? 0) + 1;
    this.stats.invariantCounts.set(kind, n);
    const r = this.invariantReported.get(kind) ?? 0;
    if (r >= 5) return;
    this.invariantReported.set(kind, r + 1);
    this.m.report({ kind: `fs:${kind}`, cpus: k === null ? [] : [k.cpu.id], message, details });
  }

  private finalChecks(): void {
    for (const ino of this.inodes) {
      if (ino.pc.nrWriteback !== 0 && this.allIdle())
        this.violation(
          "writeback_leak",
          null,
          `inode ${ino.ino}: ${ino.pc.nrWriteback} folios left under writeback`,
        );
      if (ino.diskSize > ino.size)
        this.violation("disk_size", null, `inode ${ino.ino}: i_disk_size > i_size`);
    }
  }

  /** No I/O in flight and no queued completion (used for end-of-run checks). */
  allIdle(): boolean {
    if (this.dev.inflightRequests > 0) return false;
    for (const ino of this.inodes) if (ino.ioendList.length > 0 || ino.work!.pending) return false;
    return true;
  }

  // ------------------------------------------------------------------------- write path

  /**
   * iomap_file_buffered_write (fs/iomap/buffered-io.c 5.16..newest) via xfs_file_buffered_write:
   * delalloc reservation, copy, dirtying, i_size growth. Pages [page, page + n).
   */
  *iomap_file_buffered_write(
    _k: Ctx,
    ino: XfsInode,
    page: number,
    n: number,
    endBytes = (page + n) * 4096,
  ): KGen<void> {
    const fp = this.folioPages;
    const added = ino.reserveDelalloc(page, n);
    const ns = this.c.writeCallNs + n * this.c.writePerPageNs + added * this.c.mapBlocksMissNs;
    this.stats.writeCpuNs += ns;
    yield this.m.jit(ns);
    ino.pc.dirtyRange(Math.floor(page / fp), Math.ceil((page + n) / fp));
    const end = Math.min((page + n) * 4096, endBytes);
    ino.size = Math.max(ino.size, end);
    if (ino.dirtiedWhen < 0) ino.dirtiedWhen = this.m.now;
    this.stats.bytesWrittenByUser += end - page * 4096;
  }

  /**
   * balance_dirty_pages_ratelimited (mm/page-writeback.c 4.x..newest, simplified): kick background writeback above the
   * background threshold; above the freerun ceiling pause so that dirtying follows the write
   * bandwidth; at the hard threshold wait for completions (MAX_PAUSE 200 ms per round).
   */
  *balance_dirty_pages(k: Ctx, pagesDirtied: number): KGen<void> {
    pageCounters(this);
    const bg = this.bgThreshPages();
    const thresh = this.threshPages();
    for (let round = 0; round < 10_000; round++) {
      const nr = this.nrDirty() + this.nrWriteback();
      if (this.nrDirty() > bg) this.wakeFlusher();
      const freerun = (bg + thresh) / 2;
      if (nr <= freerun) return;
      if (nr < thresh) {
        const pause = Math.min(200e6, (pagesDirtied * 4096 * 1e9) / Math.max(1, this.avgWriteBandwidth));
        yield* this.m.sleepNs(k, Math.max(1_000_000, Math.round(pause)));
        return;
      }
      // over the limit: sleep until completions bring us down (woken from iomap_finish_ioend)
      k.task.state = TASK_UNINTERRUPTIBLE;
      this.throttled.push(k.task);
      yield SCHEDULE;
    }
  }

  private wakeThrottled(): void {
    if (this.throttled.length === 0) return;
    const nr = this.nrDirty() + this.nrWriteback();
    if (nr >= this.threshPages()) return;
    for (const t of this.throttled.splice(0)) this.m.wakeUpProcess(t);
  }

  // ------------------------------------------------------------------------- fsync and sync

  /**
   * vfs_fsync_range -> xfs_file_fsync -> file_write_and_wait_range (mm/filemap.c 4.x..newest): WB_SYNC_ALL
   * writepages of the range, then filemap_fdatawait_range one folio at a time, then the errseq check.
   * Returns 0 or -EIO.
   */
  *vfs_fsync_range(k: Ctx, ino: XfsInode): KGen<number> {
    const t0 = this.m.now;
    k.enter("xfs_file_fsync");
    const wbc: Wbc = {
      syncAll: true,
      tagged: true,
      nrToWrite: Number.POSITIVE_INFINITY,
      start: 0,
      end: ino.pc.nrFolios,
      rangeCyclic: false,
      written: 0,
    };
    const plug: Plug = { bios: [] };
    yield* this.do_writepages(k, ino, wbc, plug);
    yield* this.flushPlug(k, plug);
    yield* this.filemap_fdatawait_range(k, ino, 0, ino.pc.nrFolios);
    k.leave();
    this.stats.fsyncNs.recordValue(Math.max(1, this.m.now - t0));
    // file_check_and_advance_wb_err (errseq, invariant 7: reported once)
    if (ino.wbErrSeq !== ino.wbErrSeen) {
      ino.wbErrSeen = ino.wbErrSeq;
      this.stats.fsyncErrors++;
      return -5;
    }
    return 0;
  }

  /** filemap_fdatawait_range (mm/filemap.c, 4.x..newest): wait on each folio under writeback, in index order. */
  *filemap_fdatawait_range(k: Ctx, ino: XfsInode, from: number, to: number): KGen<void> {
    let f = from;
    for (let guard = 0; guard < 100_000_000; guard++) {
      f = ino.pc.findSet(f, to, PG_WRITEBACK);
      if (f < 0) return;
      yield* this.folio_wait_writeback(k, ino, f);
    }
  }

  /** folio_wait_writeback (mm/page-writeback.c 5.16+; wait_on_page_writeback before): sleep (D) until PG_writeback clears. */
  *folio_wait_writeback(k: Ctx, ino: XfsInode, f: number): KGen<void> {
    while ((ino.pc.flags[f]! & PG_WRITEBACK) !== 0) {
      ino.pc.setWaiter(f);
      this.folioWaiters.push({ ino, f, task: k.task });
      k.task.state = TASK_UNINTERRUPTIBLE;
      k.enter("folio_wait_writeback");
      yield SCHEDULE;
      k.leave();
    }
  }

  /** sync(2) -> sync_inodes_sb: flusher does WB_SYNC_NONE then WB_SYNC_ALL; then wait on every inode. */
  *sys_sync(k: Ctx): KGen<void> {
    if (this.flusher === null) throw new Error("sys_sync: the flusher is disabled (flusherEnabled: false)");
    const w: FlusherWork = { kind: "sync", done: false, waiter: k.task };
    this.flusherWork.push(w);
    this.wakeFlusher();
    while (!w.done) {
      k.task.state = TASK_UNINTERRUPTIBLE;
      yield SCHEDULE;
    }
    for (const ino of this.inodes) yield* this.filemap_fdatawait_range(k, ino, 0, ino.pc.nrFolios);
  }

  // ------------------------------------------------------------------------- the flusher

  wakeFlusher(): void {
    if (this.flusherSleeping && this.flusher !== null) this.m.wakeUpProcess(this.flusher);
  }

  /** wb_workfn -> wb_do_writeback (fs/fs-writeback.c 4.x..newest): explicit work, background, periodic. */
  *wb_workfn(k: Ctx): KGen<void> {
    k.enter("wb_workfn");
    for (;;) {
      const w = this.flusherWork.shift();
      if (w !== undefined) {
        yield* k.traced("wb_writeback", this.wb_writeback(k, "sync-none"));
        yield* k.traced("wb_writeback", this.wb_writeback(k, "sync-all"));
        w.done = true;
        this.m.wakeUpProcess(w.waiter);
        continue;
      }
      if (this.nrDirty() > this.bgThreshPages()) {
        const progressed = yield* k.traced("wb_writeback", this.wb_writeback(k, "background"));
        if (!progressed) yield* this.waitForProgress(k);
        continue;
      }
      if (this.m.now - this.lastKupdate >= this.cfg.dirtyWritebackIntervalNs) {
        this.lastKupdate = this.m.now;
        yield* k.traced("wb_writeback", this.wb_writeback(k, "kupdate"));
        continue;
      }
      // sleep until woken or until the next periodic writeback
      this.flusherSleeping = true;
      const wake = this.lastKupdate + this.cfg.dirtyWritebackIntervalNs - this.m.now;
      yield* this.m.sleepNs(k, Math.max(1_000_000, wake));
      this.flusherSleeping = false;
    }
  }

  private *waitForProgress(k: Ctx): KGen<void> {
    this.progressWaiters.push(k.task);
    k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
  }

  /**
   * wb_writeback + writeback_sb_inodes + __writeback_single_inode (fs/fs-writeback.c 4.x..newest): one pass over
   * the dirty inodes (oldest first) with the pass's writeback_control. Returns whether pages were written.
   */
  *wb_writeback(k: Ctx, kind: "background" | "kupdate" | "sync-none" | "sync-all"): KGen<boolean> {
    const plug: Plug = { bios: [] };
    let wrote = 0;
    const order = this.inodes
      .filter((i) => i.pc.nrDirty > 0)
      .sort((a, b) => a.dirtiedWhen - b.dirtiedWhen || a.ino - b.ino);
    for (const ino of order) {
      if (kind === "kupdate" && this.m.now - ino.dirtiedWhen < this.cfg.dirtyExpireNs) continue;
      if (kind === "background" && this.nrDirty() <= this.bgThreshPages()) break;
      const syncAll = kind === "sync-all";
      const wbc: Wbc = {
        syncAll,
        tagged: kind === "sync-none" || syncAll,
        nrToWrite:
          kind === "sync-none" || syncAll ? Number.POSITIVE_INFINITY : this.writeback_chunk_size(kind),
        start: 0,
        end: ino.pc.nrFolios,
        rangeCyclic: kind === "background" || kind === "kupdate",
        written: 0,
      };
      yield* this.do_writepages(k, ino, wbc, plug);
      wrote += wbc.written;
      if (ino.pc.nrDirty === 0) ino.dirtiedWhen = -1;
      else if (wbc.written > 0 && kind !== "sync-all") ino.dirtiedWhen = this.m.now; // requeue_io / redirty
      // writeback_sb_inodes: between inodes (2022+: flush the plug first when need_resched)
      if (this.v.flushPlugOnResched && k.cpu.needResched) yield* this.flushPlug(k, plug);
      yield CR_WB_SB;
    }
    yield* this.flushPlug(k, plug); // blk_finish_plug
    return wrote > 0;
  }

  /** writeback_chunk_size (fs/fs-writeback.c, 4.x..newest): pages for one inode pass of WB_SYNC_NONE writeback. */
  writeback_chunk_size(_kind: string): number {
    const bwPages = this.avgWriteBandwidth / 4096 / 2;
    const limitPages = this.threshPages() / 8; // global dirty limit / DIRTY_SCOPE
    const pages = Math.min(bwPages, limitPages);
    const MIN_WRITEBACK_PAGES = 1024;
    return Math.max(
      MIN_WRITEBACK_PAGES,
      Math.floor((pages + MIN_WRITEBACK_PAGES) / MIN_WRITEBACK_PAGES) * MIN_WRITEBACK_PAGES,
    );
  }

  // ------------------------------------------------------------------------- writepages

  /** do_writepages -> xfs_vm_writepages -> iomap_writepages (fs/xfs/xfs_aops.c, fs/iomap/buffered-io.c). */
  *do_writepages(k: Ctx, ino: XfsInode, wbc: Wbc, plug: Plug): KGen<void> {
    k.enter("xfs_vm_writepages");
    this.writebackActive++;
    try {
      yield* this.write_cache_pages(k, ino, wbc, plug);
    } finally {
      this.writebackActive--;
      k.leave();
    }
  }

  /**
   * write_cache_pages (mm/page-writeback.c <= 6.8; writeback_iter 6.9+, same semantics) with the
   * per-folio callback of iomap (iomap_do_writepage 5.16 / iomap_writepage_map / iomap_writeback_folio),
   * processed as runs of consecutive writable folios.
   */
  *write_cache_pages(k: Ctx, ino: XfsInode, wbc: Wbc, plug: Plug): KGen<void> {
    const pc = ino.pc;
    const fp = this.folioPages;
    const wpc: Wpc = { map: null, ioend: null, submitList: [] };
    let start = wbc.start;
    const end = wbc.end;
    if (wbc.rangeCyclic) start = Math.min(ino.writebackIndex, end);
    const tag = wbc.syncAll || wbc.tagged ? TAG_TOWRITE : PG_DIRTY;
    const cost = { ns: 0 };
    if (tag === TAG_TOWRITE) {
      // tag_pages_for_writeback: DIRTY -> TOWRITE, cond_resched every XA_CHECK_SCHED (4096) entries
      const n = pc.tagRange(start, end);
      yield* this.charge(k, n * this.c.tagPerPageNs, CR_WCP);
    }
    let i = start;
    let reachedEnd = true;
    for (let guard = 0; guard < 100_000_000; guard++) {
      const f = pc.findSet(i, end, tag);
      if (f < 0) break;
      const x = pc.flags[f]!;
      if ((x & PG_WRITEBACK) !== 0) {
        if (!wbc.syncAll) {
          i = f + 1;
          continue;
        }
        // a sync writer blocks behind a previous completion
        yield* this.flushCost(k, cost);
        yield* this.submitList(k, wpc, plug);
        yield* this.flushPlug(k, plug);
        yield* this.folio_wait_writeback(k, ino, f);
        continue;
      }
      if ((x & PG_DIRTY) === 0) {
        pc.flags[f] = x & ~TAG_TOWRITE;
        i = f + 1;
        continue;
      }
      const lim = wbc.syncAll ? end : Math.min(end, f + Math.max(1, Math.ceil(wbc.nrToWrite / fp)));
      // the run is validated piece by piece in iomap_writepage_map (folio lock + recheck), so it
      // is not scanned here: a long dirty range costs one pass, not one per chunk
      const runEnd = lim;
      const reached = yield* this.iomap_writepage_map(k, ino, wpc, plug, f, runEnd, cost);
      const pages = (reached - f) * fp;
      wbc.nrToWrite -= pages;
      wbc.written += pages;
      // a folio taken by another writer meanwhile is skipped (WB_SYNC_ALL waits for it below)
      i = reached;
      if (!wbc.syncAll && wbc.nrToWrite <= 0) {
        reachedEnd = false;
        break;
      }
    }
    // iomap_writepages: submit the last open ioend
    if (wpc.ioend !== null) {
      wpc.submitList.push(wpc.ioend);
      wpc.ioend = null;
    }
    yield* this.flushCost(k, cost);
    yield* this.submitList(k, wpc, plug);
    if (wbc.rangeCyclic) ino.writebackIndex = reachedEnd ? 0 : i;
  }

  /** Charge accumulated CPU and pass the per-batch cond_resched of write_cache_pages. */
  private *flushCost(_k: Ctx, cost: { ns: number }): KGen<void> {
    if (cost.ns <= 0) return;
    const ns = cost.ns;
    cost.ns = 0;
    this.stats.submitCpuNs += ns;
    yield this.m.jit(ns);
    yield CR_WCP;
  }

  private *charge(_k: Ctx, ns: number, cr: ReturnType<typeof condResched>): KGen<void> {
    if (ns <= 0) return;
    this.stats.submitCpuNs += ns;
    yield this.m.jit(ns);
    yield cr;
  }

  /**
   * iomap_writepage_map for folios [f0, f1) (fs/iomap/buffered-io.c 5.16..6.14): map blocks (xfs_map_blocks),
   * add to the ioend (iomap_add_to_ioend / iomap_can_add_to_ioend), fill and chain bios.
   */
  *iomap_writepage_map(
    k: Ctx,
    ino: XfsInode,
    wpc: Wpc,
    plug: Plug,
    f0: number,
    f1: number,
    cost: { ns: number },
  ): KGen<number> {
    const fp = this.folioPages;
    const pc = ino.pc;
    const v = this.v;
    let p = f0 * fp;
    const pEnd = f1 * fp;
    for (let guard = 0; p < pEnd && guard < 10_000_000; guard++) {
      // ioends closed while mapping the previous folio are submitted once it is unlocked
      if (wpc.submitList.length > 0) {
        yield* this.flushCost(k, cost);
        yield* this.submitList(k, wpc, plug);
      }
      // i_size is read per folio, after any yield: a writer may have extended the file meanwhile
      const eof = ino.eofBlock();
      if (p >= eof) {
        // folios wholly beyond i_size: cleaned, no I/O
        const e = pc.runEnd(p / fp, pEnd / fp, PG_DIRTY, PG_WRITEBACK) * fp;
        if (e <= p) break;
        pc.startWriteback(p / fp, e / fp);
        pc.endWriteback(p / fp, e / fp, false);
        this.stats.pagesCleanedWithoutIo += e - p;
        p = e;
        break;
      }
      const map = yield* this.xfs_map_blocks(k, ino, wpc, p, cost);
      if (map === null) {
        // IOMAP_HOLE: skip the blocks (only after truncate races)
        let holeEnd = Math.min(pEnd, Math.max(p + fp, this.holeEnd(ino, p)));
        holeEnd = pc.runEnd(p / fp, holeEnd / fp, PG_DIRTY, PG_WRITEBACK) * fp;
        if (holeEnd <= p) break;
        pc.startWriteback(p / fp, holeEnd / fp);
        pc.endWriteback(p / fp, holeEnd / fp, false);
        this.stats.pagesCleanedWithoutIo += holeEnd - p;
        p = holeEnd;
        continue;
      }
      let segEnd = Math.min(pEnd, map.off + map.len, eof);
      const sector = (map.pblk + (p - map.off)) * 8;
      let io = wpc.ioend;
      if (
        io === null ||
        io.shared !== map.shared ||
        io.type !== map.type ||
        io.end !== p ||
        io.endSector !== sector ||
        ioendCapacityPages(v, io, fp) <= 0
      ) {
        if (io !== null) this.closeIoend(wpc, io);
        io = this.iomap_alloc_ioend(ino, p, sector, map.type, map.shared);
        wpc.ioend = io;
        cost.ns += this.c.bioAllocNs;
      }
      const capPages = ioendCapacityPages(v, io, fp);
      // the cap is checked per folio: a folio that crosses it still joins (rounded up to whole folios)
      if (capPages < Number.POSITIVE_INFINITY)
        segEnd = Math.min(segEnd, p + Math.max(1, Math.ceil(capPages / fp)) * fp);
      // bio capacity from the physical runs of the page cache
      // charge at most a submission quantum per piece, so that write_cache_pages' per-pagevec
      // cond_resched is seen within submitQuantumNs however large the bio grows
      segEnd = Math.min(segEnd, p + this.maxPiecePages);
      const bio = io.bio;
      let bioEnd = this.bioCapacityEnd(pc, bio, p, segEnd);
      // each folio is locked and re-checked (dirty, not under writeback) right before it is added:
      // another writer (fsync vs flusher) may have taken it while this task was charged CPU time
      // folio_lock: another CPU may act here (explore driver step boundary)
      yield YP_FOLIO_LOCK;
      if (bioEnd > p && !this.folioLockOff) {
        const okEnd = pc.runEnd(p / fp, bioEnd / fp, PG_DIRTY, PG_WRITEBACK) * fp;
        if (okEnd <= p) break;
        bioEnd = okEnd;
      }
      if (bioEnd <= p) {
        // bio full: chain a new one (5.16-6.8) or close the ioend (newest)
        if (v.chainBios) {
          yield* this.iomap_chain_bio(k, io, plug, cost);
        } else {
          this.closeIoend(wpc, io);
          wpc.ioend = null;
        }
        continue;
      }
      this.addToBio(pc, io, bio, p, bioEnd);
      cost.ns += ((bioEnd - p) / fp) * this.c.writebackPerFolioNs;
      p = bioEnd;
      if (cost.ns >= this.cfg.submitQuantumNs) yield* this.flushCost(k, cost);
    }
    if (v.submitImmediately || wpc.submitList.length > 0) yield* this.submitList(k, wpc, plug);
    return p / fp;
  }

  private holeEnd(ino: XfsInode, p: number): number {
    const nx = ino.dataFork[XfsInode.after(ino.dataFork, p)];
    return nx === undefined ? ino.eofBlock() : nx.off;
  }

  /** xfs_map_blocks (fs/xfs/xfs_aops.c 5.16..newest): reuse the cached map or look up/convert; null = hole. */
  *xfs_map_blocks(
    k: Ctx,
    ino: XfsInode,
    wpc: Wpc,
    p: number,
    cost: { ns: number },
  ): KGen<IomapMapping | null> {
    const m = wpc.map;
    if (
      m !== null &&
      p >= m.off &&
      p < m.off + m.len &&
      m.dataSeq === ino.dataSeq &&
      m.cowSeq === ino.cowSeq
    ) {
      cost.ns += this.c.mapBlocksNs;
      return m;
    }
    cost.ns += this.c.mapBlocksMissNs;
    let { ext, shared } = ino.lookupMapping(p);
    if (ext === null) return null;
    if (ext.state === EXT_DELALLOC) {
      // xfs_bmapi_convert_delalloc: an allocation transaction under ILOCK (may sleep on log space).
      // The allocation is made at once (others serialise on ILOCK and find it done), then charged.
      ino.convertDelalloc(p);
      yield* this.flushCost(k, cost);
      k.enter("xfs_bmapi_convert_delalloc");
      yield this.m.jit(this.c.delallocConvertNs);
      k.leave();
      ({ ext, shared } = ino.lookupMapping(p));
      if (ext === null || ext.state === EXT_DELALLOC) throw new Error("xfs_map_blocks: conversion failed");
    }
    const map: IomapMapping = {
      off: ext.off,
      len: ext.len,
      pblk: ext.pblk,
      type: ext.state === EXT_UNWRITTEN || shared ? IOMAP_UNWRITTEN : IOMAP_MAPPED,
      shared,
      dataSeq: ino.dataSeq,
      cowSeq: ino.cowSeq,
    };
    wpc.map = map;
    return map;
  }

  /** iomap_alloc_ioend (fs/iomap/buffered-io.c 5.5..6.14; fs/iomap/ioend.c newest): a new ioend with its inline bio. */
  iomap_alloc_ioend(ino: XfsInode, p: number, sector: number, type: number, shared: boolean): Ioend {
    const io = new Ioend(nextIoendId++, ino, p, sector, type, shared);
    io.bios.push(new Bio(io, sector, p, false));
    io.biosPending = 1; // the current bio: completes only after it is submitted
    this.stats.ioendsBuilt++;
    if (this.keepIoends) this.ioends.push(io);
    return io;
  }

  /** Last page + 1 that fits in `bio` from page p (multipage bvecs: one slot per physical run). */
  private bioCapacityEnd(pc: PageCache, bio: Bio, p: number, limit: number): number {
    const fp = this.folioPages;
    const f = p / fp;
    const free = BIO_MAX_VECS - bio.bvecs;
    const cont = bio.lastFolio >= 0 && bio.lastFolio + 1 === f && !pc.startsRun(f);
    const r = pc.runOf(f);
    let endFolio: number;
    if (cont) endFolio = pc.runFirst(r + 1 + free);
    else if (free <= 0) return p;
    else endFolio = pc.runFirst(r + free);
    let end = Math.min(limit, endFolio * fp);
    const bytesRoom = BIO_MAX_PAGES_BYTES_LIMIT - bio.pages;
    if (end - p > bytesRoom) end = p + Math.floor(bytesRoom / fp) * fp;
    return Math.max(p, end);
  }

  /** bio_add_folio + folio_start_writeback for pages [p, e) (folio-aligned). */
  private addToBio(pc: PageCache, io: Ioend, bio: Bio, p: number, e: number): void {
    const fp = this.folioPages;
    const f0 = p / fp;
    const f1 = e / fp;
    const cont = bio.lastFolio >= 0 && bio.lastFolio + 1 === f0 && !pc.startsRun(f0);
    const newBvecs = pc.runOf(f1 - 1) - pc.runOf(f0) + 1 - (cont ? 1 : 0);
    bio.bvecs += newBvecs;
    bio.pages += e - p;
    bio.lastFolio = f1 - 1;
    io.pages += e - p;
    io.folios += f1 - f0;
    const bad = pc.startWriteback(f0, f1);
    if (bad > 0)
      this.violation("writeback_ownership", null, `folios already under writeback added to ioend ${io.id}`, {
        ino: io.inode.ino,
        folio: f0,
        count: bad,
      });
  }

  private closeIoend(wpc: Wpc, io: Ioend): void {
    wpc.submitList.push(io);
    if (wpc.ioend === io) wpc.ioend = null;
  }

  /** iomap_chain_bio (fs/iomap/buffered-io.c 5.16-6.8): chain a new bio and submit the previous one. */
  *iomap_chain_bio(k: Ctx, io: Ioend, plug: Plug, cost: { ns: number }): KGen<void> {
    const prev = io.bio;
    io.segments += prev.bvecs; // dave-v2: bio_segments(prev)
    prev.chained = true;
    const nb = new Bio(io, prev.sector0 + prev.pages * 8, prev.page0 + prev.pages, false);
    io.bios.push(nb);
    io.biosPending++; // bio_chain: the new bio's __bi_remaining holds the ioend open
    cost.ns += this.c.bioAllocNs + this.c.submitBioNs;
    yield* this.flushCost(k, cost);
    yield* k.traced("submit_bio", this.submit_bio(k, prev, plug));
  }

  /** Submit the ioends closed so far (5.16/5.17 submit_list, or at once in 6.9+). */
  private *submitList(k: Ctx, wpc: Wpc, plug: Plug): KGen<void> {
    while (wpc.submitList.length > 0) {
      const io = wpc.submitList.shift()!;
      yield* k.traced("iomap_submit_ioend", this.iomap_submit_ioend(k, io, plug));
    }
  }

  /**
   * iomap_submit_ioend + xfs_prepare_ioend (fs/iomap/buffered-io.c, fs/xfs/xfs_aops.c 5.16-6.14;
   * xfs_writeback_submit newest): choose the end_io, then submit the ioend's current bio.
   */
  *iomap_submit_ioend(k: Ctx, io: Ioend, plug: Plug): KGen<void> {
    const ino = io.inode;
    io.append = io.end * 4096 > ino.diskSize;
    const v = this.v;
    io.toWq =
      this.cfg.fsKind === "xfs" &&
      (io.shared ||
        io.type === IOMAP_UNWRITTEN ||
        io.append ||
        (v.largeIoendToWqBytes > 0 && io.bytes >= v.largeIoendToWqBytes));
    if (io.shared) yield this.m.jit(this.c.cowRemapTxnNs / 4); // xfs_reflink_convert_cow
    io.segments += io.bio.bvecs;
    io.phase = IOEND_SUBMITTED;
    io.tSubmit = this.m.now;
    const s = this.stats;
    s.ioendPagesMax = Math.max(s.ioendPagesMax, io.pages);
    s.ioendFoliosMax = Math.max(s.ioendFoliosMax, io.folios);
    s.ioendBiosMax = Math.max(s.ioendBiosMax, io.bios.length);
    s.ioendPagesSum += io.pages;
    s.ioendBiosSum += io.bios.length;
    // invariant 5: the variant's cap held (split folios count once, in the later ioend)
    const cap = v.ioendCap;
    if (cap.kind === "pages" && io.pages > cap.limit + this.folioPages)
      this.violation("ioend_cap", k, `ioend ${io.id} has ${io.pages} pages > ${cap.limit}`);
    if (cap.kind === "folios" && io.folios > cap.limit + 1)
      this.violation("ioend_cap", k, `ioend ${io.id} has ${io.folios} folios > ${cap.limit}`);
    this.m.emit("model", k.cpu.id, "ioend_submit", `ioend ${io.id} ino ${ino.ino}`, io.pages, io.bios.length);
    yield this.m.jit(this.c.submitBioNs);
    yield* k.traced("submit_bio", this.submit_bio(k, io.bio, plug));
    pageCounters(this);
  }

  /** submit_bio (block/blk-core.c, all versions in scope): into the task's plug (blk-mq); dispatched at the plug limit. */
  *submit_bio(k: Ctx, bio: Bio, plug: Plug): KGen<void> {
    if (this.m.trace !== null) bio.flow = this.m.flowStart(k.cpu.id, "bio");
    // bio-based drivers (pmem) do not use the plug: pmem_submit_bio copies at once
    if (this.dev.p.completion === "task") {
      yield* this.dispatch(k, bio);
      return;
    }
    plug.bios.push(bio);
    if (plug.bios.length >= this.v.plugLimit) yield* this.flushPlug(k, plug);
  }

  /** blk_flush_plug: dispatch every plugged bio to the device (waiting for tags when full). */
  *flushPlug(k: Ctx, plug: Plug): KGen<void> {
    while (plug.bios.length > 0) {
      const bio = plug.bios.shift()!;
      yield* this.dispatch(k, bio);
    }
  }

  /** blk_mq_submit_bio -> driver: split into requests, wait for tags, start service. */
  private *dispatch(k: Ctx, bio: Bio): KGen<void> {
    const dev = this.dev;
    const bytes = bio.bytes;
    const req = dev.requestsFor(bytes);
    bio.nrRequests = req;
    bio.sectorNow = bio.sector0 + dev.splitAdvanceSectors(bytes);
    while (dev.full(req)) {
      // blk_mq_get_tag -> io_schedule
      this.tagWaiters.push(k.task);
      k.task.state = TASK_UNINTERRUPTIBLE;
      k.enter("io_schedule");
      yield SCHEDULE;
      k.leave();
    }
    this.biosDispatched++;
    if (this.cfg.failEveryNthBio > 0 && this.biosDispatched % this.cfg.failEveryNthBio === 0)
      bio.status = BLK_STS_IOERR;
    const s = this.stats;
    s.bios++;
    s.bvecs += bio.bvecs;
    s.requests += req;
    s.bytesSubmitted += bytes;
    const p = dev.p;
    if (p.completion === "task") {
      // pmem: the copy happens in the submitter, then bio_endio runs synchronously (task context)
      dev.dispatch(this.m.now, bytes, req);
      yield this.m.jit(Math.round(bytes / dev.bytesPerNs));
      dev.complete(bytes, req);
      this.noteBandwidth(bytes);
      yield* this.bio_endio(k, bio);
      return;
    }
    const doneAt = dev.dispatch(this.m.now, bytes, req);
    const cpu = p.irqCpu >= 0 ? p.irqCpu : k.cpu.id;
    if (p.completion === "ipi") {
      const submitCpu = k.cpu.id;
      this.m.raiseIrq(
        cpu === submitCpu ? (cpu + 1) % this.m.cpus.length : cpu,
        p.irqName,
        (ik) => this.ipiForward(ik, bio, submitCpu),
        doneAt,
      );
      return;
    }
    this.m.raiseIrq(cpu, p.irqName, (ik) => this.blk_mq_complete_request(ik, bio), doneAt);
  }

  private *ipiForward(_k: Ctx, bio: Bio, target: number): KGen<void> {
    yield this.m.jit(this.c.blkMqCompleteRequestNs);
    this.m.sendIpi(target, "CAL", (ik) => this.blk_mq_complete_request(ik, bio));
  }

  /** nvme_irq/... -> blk_mq_complete_request (block/blk-mq.c): hardirq, or hand off to BLOCK_SOFTIRQ. */
  *blk_mq_complete_request(k: Ctx, bio: Bio): KGen<void> {
    k.enter("blk_mq_complete_request");
    const dev = this.dev;
    dev.complete(bio.bytes, bio.nrRequests);
    this.noteBandwidth(bio.bytes);
    for (const t of this.tagWaiters.splice(0)) this.m.wakeUpProcess(t);
    if (dev.p.completion === "softirq") {
      yield this.m.jit(this.c.blkMqCompleteRequestNs);
      this.softirqDone[k.cpu.id]!.push(bio);
      this.m.raiseSoftirq(k.cpu.id, BLOCK_SOFTIRQ);
      k.leave();
      return;
    }
    yield this.m.jit(this.c.blkMqCompleteRequestNs * bio.nrRequests);
    yield* this.bio_endio(k, bio);
    k.leave();
  }

  /** blk_done_softirq (block/blk-mq.c 5.x..newest): drain this CPU's completion list. */
  *blk_done_softirq(k: Ctx): KGen<void> {
    const list = this.softirqDone[k.cpu.id]!;
    for (let guard = 0; list.length > 0 && guard < 1_000_000; guard++) {
      const bio = list.shift()!;
      k.enter("blk_done_softirq");
      yield this.m.jit(this.c.blkMqCompleteRequestNs * Math.max(0, bio.nrRequests - 1));
      yield* this.bio_endio(k, bio);
      k.leave();
    }
  }

  /** wb_update_bandwidth (mm/page-writeback.c 4.x..newest, simplified): 200 ms sampling, ~3 s averaging period. */
  private noteBandwidth(bytes: number): void {
    this.bwBytes += bytes;
    const elapsed = this.m.now - this.bwStamp;
    if (elapsed < 200e6) return;
    const inst = (this.bwBytes * 1e9) / elapsed;
    const w = Math.min(1, elapsed / 3e9);
    this.avgWriteBandwidth = Math.max(4096, this.avgWriteBandwidth + (inst - this.avgWriteBandwidth) * w);
    this.bwStamp = this.m.now;
    this.bwBytes = 0;
  }

  // ------------------------------------------------------------------------- completion

  /** bio_endio / bio_chain_endio (block/bio.c, all versions in scope): chained bios drop the ioend's remaining count; the last one runs end_io. */
  *bio_endio(k: Ctx, bio: Bio): KGen<void> {
    if (bio.flow !== 0) this.m.flowEnd(k.cpu.id, "bio", bio.flow);
    const io = bio.ioend;
    bio.done = true;
    if (bio.status !== 0) io.status = bio.status;
    io.biosPending--;
    if (io.biosPending > 0) return; // bio_chain_endio
    io.phase = IOEND_DEVICE_DONE;
    io.tDeviceDone = this.m.now;
    io.doneCpu = k.cpu.id;
    if (io.toWq || (this.v.errorsToWq && io.status !== 0)) {
      yield* k.call("xfs_end_bio", this.xfs_end_bio(k, io));
    } else {
      yield* k.call("iomap_writepage_end_bio", this.iomap_writepage_end_bio(k, io));
    }
  }

  /** iomap_writepage_end_bio (fs/iomap/buffered-io.c 5.16-6.14): finish inline in bio completion context. */
  *iomap_writepage_end_bio(k: Ctx, io: Ioend): KGen<void> {
    this.stats.ioendsInline++;
    const ns = yield* k.call("iomap_finish_ioend", this.iomap_finish_ioend(k, io, false));
    this.stats.addCompletionCpu(io.inode.ino, ns);
    this.stats.noteInline(FsModel.ctxName(k.kind), ns);
  }

  /** xfs_end_bio (fs/xfs/xfs_aops.c 5.2+): queue the inode's single work item if its list was empty. */
  *xfs_end_bio(k: Ctx, io: Ioend): KGen<void> {
    const ino = io.inode;
    const was = k.localIrqSave();
    yield this.m.jit(this.c.queueWorkNs);
    const wasEmpty = ino.ioendList.length === 0;
    if (wasEmpty) {
      // invariant 8: the work cannot be pending while the list is empty
      if (!this.m.wq.queueWorkOn(k.cpu.id, this.xfsConv, ino.work!))
        this.violation("ioend_work", k, `inode ${ino.ino}: i_ioend_work already pending with an empty list`);
    }
    ino.ioendList.push(io);
    if (this.m.trace !== null) this.m.counter(`i_ioend_list ino ${ino.ino}`, -1, ino.ioendList.length);
    io.phase = IOEND_QUEUED;
    this.stats.ioendsQueued++;
    if (!was) k.cpu.irqsOff = false;
  }

  /** xfs_end_io (fs/xfs/xfs_aops.c 5.2..newest): splice, sort, merge, complete. */
  *xfs_end_io(k: Ctx, w: WorkStruct): KGen<void> {
    const ino = w.data as XfsInode;
    const t0CpuNs = k.task.sumExecNs;
    if (this.cfg.endIoDelayNs > 0) yield* this.m.sleepNs(k, this.cfg.endIoDelayNs);
    const list = ino.ioendList.splice(0); // list_replace_init under i_ioend_lock
    if (this.m.trace !== null) this.m.counter(`i_ioend_list ino ${ino.ino}`, -1, 0);
    this.stats.endIoRuns++;
    if (list.length === 0) return;
    const n = list.length;
    // iomap_sort_ioends: list_sort by offset
    list.sort((a, b) => a.offset - b.offset || a.id - b.id);
    yield this.m.jit(this.c.ioendOverheadNs + Math.ceil(n * Math.log2(n + 1)) * this.c.sortCompareNs);
    let txns = 0;
    let at = 0;
    const v = this.v;
    while (at < n) {
      const head = list[at++]!;
      let runPages = head.pages;
      const run = [head];
      let checks = 1;
      // iomap_ioend_try_merge
      while (at < n && ioendCanMerge(v, head, runPages, list[at]!)) {
        const nx = list[at++]!;
        run.push(nx);
        runPages += nx.pages;
        checks++;
      }
      this.checkMergedRun(k, run);
      this.m.emit(
        "model",
        k.cpu.id,
        "merged_run",
        `head ${head.id} ioends ${run.length}`,
        runPages,
        run.length,
      );
      yield this.m.jit(checks * this.c.mergeCheckNs);
      this.m.counter("ioend chain", -1, run.length);
      txns += yield* k.call("xfs_end_ioend", this.xfs_end_ioend(k, run, runPages));
      this.m.counter("ioend chain", -1, 0);
      if (v.xfsEndIoResched) {
        this.stats.completionReschedCalls++;
        yield CR_XFS_END_IO;
      }
    }
    this.stats.txnsPerEndIoMax = Math.max(this.stats.txnsPerEndIoMax, txns);
    const cpuNs = k.task.sumExecNs - t0CpuNs;
    this.stats.addCompletionCpu(ino.ino, cpuNs);
    this.stats.endIoCpuNsMax = Math.max(this.stats.endIoCpuNsMax, cpuNs);
    if (cpuNs > 10e6) this.stats.endIoOver10ms++;
  }

  /** Invariant 4: a merged run is logically contiguous, same status/flags, physically contiguous by io_sector. */
  private checkMergedRun(k: Ctx, run: Ioend[]): void {
    const s = this.stats;
    s.mergedRuns++;
    let pages = 0;
    for (const io of run) pages += io.pages;
    s.mergedRunPagesMax = Math.max(s.mergedRunPagesMax, pages);
    s.mergedRunIoendsMax = Math.max(s.mergedRunIoendsMax, run.length);
    const head = run[0]!;
    for (let i = 1; i < run.length; i++) {
      const a = run[i - 1]!;
      const b = run[i]!;
      if (a.end !== b.offset || a.status !== head.status || b.shared !== head.shared || b.type !== head.type)
        this.violation("merge_rule", k, `merged run ${head.id}: ioend ${b.id} is not mergeable`);
      if (this.v.mergePhysical !== "none" && a.endSector !== b.sector)
        this.violation(
          "merge_physical",
          k,
          `merged run ${head.id}: ioend ${b.id} not physically contiguous by io_sector`,
          {
            expected: a.endSector,
            got: b.sector,
          },
        );
    }
  }

  /** xfs_end_ioend (fs/xfs/xfs_aops.c 5.2..newest): transactions for a merged run, then finish it. */
  *xfs_end_ioend(k: Ctx, run: Ioend[], runPages: number): KGen<number> {
    const head = run[0]!;
    const ino = head.inode;
    const off = head.offset;
    const error = head.status !== 0;
    let txns = 0;
    if (k.kind !== CTX_TASK) this.violation("context", k, "xfs_end_ioend outside task context");
    if (error) {
      if (head.shared) XfsInode.punch(ino.cowFork, off, runPages); // xfs_reflink_cancel_cow_range
    } else {
      for (const io of run)
        if (io.phase !== IOEND_QUEUED && io.phase !== IOEND_DEVICE_DONE)
          this.violation("conversion_before_io", k, `ioend ${io.id} converted before its I/O completed`);
      if (head.shared) {
        k.enter("xfs_reflink_end_cow");
        const n = ino.endCow(off, runPages);
        yield this.m.jit(n * this.c.cowRemapTxnNs);
        k.leave();
        txns += n;
      } else if (head.type === IOMAP_UNWRITTEN) {
        // xfs_iomap_write_unwritten: one transaction per physical extent, no yield
        k.enter("xfs_iomap_write_unwritten");
        const n = ino.convertUnwritten(off, runPages);
        yield this.m.jit(n * this.c.unwrittenConvTxnNs);
        k.leave();
        txns += n;
      }
      const end = (off + runPages) * 4096;
      if (end > ino.diskSize) {
        // xfs_setfilesize: invariant 2
        k.enter("xfs_setfilesize");
        yield this.m.jit(this.c.setFileSizeTxnNs);
        k.leave();
        const newSize = Math.min(end, ino.size);
        if (newSize > ino.size) this.violation("disk_size", k, `i_disk_size ${newSize} > i_size ${ino.size}`);
        if (newSize > ino.diskSize) ino.diskSize = newSize;
        ino.setFileSizeTxns++;
        txns++;
      }
    }
    this.stats.txns += txns;
    yield* k.call("iomap_finish_ioends", this.iomap_finish_ioends(k, run));
    return txns;
  }

  /** iomap_finish_ioends (fs/iomap/buffered-io.c 5.16-6.14, fs/iomap/ioend.c newest). */
  *iomap_finish_ioends(k: Ctx, run: Ioend[]): KGen<void> {
    const v = this.v;
    if (v.finishIoendsMightSleep) {
      this.stats.completionReschedCalls++;
      yield MS_FINISH_IOENDS;
    }
    const rule = v.finishIoendsResched;
    let count = 0;
    for (let i = 0; i < run.length; i++) {
      const io = run[i]!;
      if (i > 0) {
        if (rule.kind === "per-ioend") {
          this.stats.completionReschedCalls++;
          yield CR_FINISH_IOENDS;
        } else if (rule.kind === "count" && count > rule.limit) {
          this.stats.completionReschedCalls++;
          yield CR_FINISH_IOENDS;
          count = 0;
        }
      }
      yield* k.call("iomap_finish_ioend", this.iomap_finish_ioend(k, io, true));
      if (rule.kind === "count") count += finishCount(rule.unit, io, this.folioPages);
    }
  }

  /**
   * iomap_finish_ioend (fs/iomap/buffered-io.c; iomap_finish_ioend_buffered newest): walk the bios and
   * end writeback on every page (<= 5.16) or folio (5.17+), waking waiters. Returns the CPU ns charged.
   * `nonAtomic`: called from the workqueue (brian's series passes this down).
   */
  *iomap_finish_ioend(k: Ctx, io: Ioend, nonAtomic: boolean): KGen<number> {
    const v = this.v;
    const c = this.c;
    const pc = io.inode.pc;
    const fp = this.folioPages;
    const error = io.status !== 0;
    let charged = 0;
    let bvecs = 0;
    for (const b of io.bios) bvecs += b.bvecs;
    const fixed = c.ioendOverheadNs + bvecs * c.bioWalkPerBvecNs;
    charged += fixed;
    yield this.m.jit(fixed);
    const f0 = io.offset / fp;
    const f1 = io.end / fp;
    // units the loop walks: pages (5.16 bio_for_each_segment_all) or folios (5.17+)
    const perPage = v.completionWalk === "page";
    // chunking: trond has a resched point per page (checked once per loop quantum); brian every N
    // pages on the non-atomic path; otherwise none (chunks of a state quantum)
    let crEvery = 0;
    let cr = CR_TROND;
    if (v.finishIoendPerPageResched) crEvery = 1;
    else if (nonAtomic && v.finishIoendNonAtomicReschedPages > 0) {
      crEvery = Math.max(1, v.finishIoendNonAtomicReschedPages / fp);
      cr = CR_BRIAN;
    }
    // iomap_finish_folio_write: mapping_set_error (errseq) before each folio's writeback ends, so a
    // waiter woken by the clear sees the error
    if (error) io.inode.wbErrSeq++;
    let sinceCr = 0;
    let f = f0;
    for (let guard = 0; f < f1 && guard < 100_000_000; guard++) {
      const unitNs = this.folioCost();
      const perFolioNs = perPage ? unitNs * fp : unitNs;
      const quantum = crEvery === 1 ? this.cfg.loopQuantumNs : this.cfg.stateQuantumNs;
      let chunk = Math.max(1, Math.floor(quantum / perFolioNs));
      if (crEvery > 1) chunk = Math.min(chunk, crEvery - sinceCr);
      const e = Math.min(f1, f + chunk);
      const ns = (e - f) * perFolioNs;
      charged += ns;
      yield this.m.jit(ns);
      const bad = pc.endWriteback(f, e, error);
      if (bad > 0)
        this.violation(
          "writeback_ownership",
          k,
          `ioend ${io.id}: ${bad} folios were not under writeback at completion`,
        );
      const waiters = pc.lastWaitersCleared;
      if (waiters > 0) {
        // folio_wake_bit: hashed wait-queue bucket lock (irqsave), walk, try_to_wake_up
        this.wakeFolioWaiters(io.inode, f, e);
        const wns = waiters * c.wakeWaitersNs;
        charged += wns;
        yield this.m.jit(wns);
      }
      sinceCr += e - f;
      f = e;
      if (crEvery > 0 && sinceCr >= crEvery) {
        sinceCr = 0;
        this.stats.completionReschedCalls++;
        yield cr;
      }
    }
    io.phase = IOEND_FINISHED;
    io.tFinished = this.m.now;
    pageCounters(this);
    this.m.emit(
      "model",
      k.cpu.id,
      "ioend_complete",
      `ioend ${io.id} ino ${io.inode.ino}`,
      io.pages,
      io.tFinished - io.tDeviceDone,
    );
    this.stats.deviceToClearNs.recordValue(Math.max(1, io.tFinished - io.tDeviceDone));
    this.wakeThrottled();
    for (const t of this.progressWaiters.splice(0)) this.m.wakeUpProcess(t);
    if (this.onProgress !== null) this.onProgress();
    return charged;
  }

  /** Per-folio completion cost now: contended while a writeback pass runs on the bdi (§5.1). */
  private folioCost(): number {
    const c = this.c;
    const base = this.writebackActive > 0 ? c.folioEndWritebackBusyNs : c.folioEndWritebackIdleNs;
    if (this.folioPages === 1) return base;
    return base + c.largeFolioExtraNs + c.largeFolioPerPageNs * this.folioPages;
  }

  private wakeFolioWaiters(ino: XfsInode, f0: number, f1: number): void {
    const ws = this.folioWaiters;
    for (let i = 0; i < ws.length; ) {
      const w = ws[i]!;
      if (w.ino === ino && w.f >= f0 && w.f < f1) {
        ws.splice(i, 1);
        this.m.wakeUpProcess(w.task);
      } else i++;
    }
  }

  /** Context names for reports. */
  static ctxName(kind: number): string {
    return kind === CTX_HARDIRQ ? "hardirq" : kind === CTX_SOFTIRQ ? "softirq" : "task";
  }
}

export { TASK_RUNNING };
