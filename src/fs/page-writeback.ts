// mm/page-writeback.c: dirty throttling (balance_dirty_pages), do_writepages, write_cache_pages
// (<= 6.8; writeback_iter 6.9+, same semantics) and the bdi bandwidth estimate.

import {
  type Ctx,
  condResched,
  type KGen,
  SCHEDULE,
  TASK_UNINTERRUPTIBLE,
  yieldPoint,
} from "../sim/index.js";
import { spinLockLoop } from "../sync/looplock.js";
import { spin_lock_irqsave, spin_unlock_irqrestore } from "../sync/spinlock.js";
import type { Plug } from "./blk.js";
import { flushPlug } from "./blk.js";
import { iomap_writepage_map, submitList, type Wpc } from "./buffered-io.js";
import { chargeSubmit, flushCost, type SubmitCost } from "./chunks.js";
import { folio_wait_writeback } from "./filemap.js";
import type { FsModel } from "./fs.js";
import type { XfsInode } from "./inode.js";
import { PG_DIRTY, PG_WRITEBACK, TAG_TOWRITE, XA_CHUNK_SIZE } from "./pagecache.js";
import { pageCounters } from "./trace.js";

/** cond_resched() in write_cache_pages between pagevecs (mm/page-writeback.c v5.16 write_cache_pages). */
export const CR_WCP = condResched("mm/page-writeback.c", 2300);
/** cond_resched() in tag_pages_for_writeback after every XA_CHECK_SCHED entries (mm/page-writeback.c v5.16 tag_pages_for_writeback). */
const CR_TAG = condResched("mm/page-writeback.c", 0);

/** Lock sites of the fs model a scenario may disable (m.disabledSites). */
export const FOLIO_LOCK_SITE = "write_cache_pages:folio_lock";
/** mapping->i_pages xa_lock_irq in tag_pages_for_writeback (one hold per XA_CHECK_SCHED entries). */
export const TAG_PAGES_SITE = "tag_pages_for_writeback:xa_lock_irq";
/** mapping->i_pages xa_lock_irqsave in folio_start_writeback (__folio_start_writeback), per folio. */
export const START_WRITEBACK_SITE = "folio_start_writeback:xa_lock_irqsave";
/** mapping->i_pages xa_lock_irqsave in __folio_end_writeback, per folio. */
export const END_WRITEBACK_SITE = "__folio_end_writeback:xa_lock_irqsave";
/** ip->i_ioend_lock in xfs_end_bio (append to i_ioend_list) and xfs_end_io (splice). */
export const XFS_END_BIO_SITE = "xfs_end_bio:spin_lock_irqsave";
export const XFS_END_IO_SITE = "xfs_end_io:spin_lock_irqsave";
export const FS_LOCK_SITES: readonly string[] = [
  FOLIO_LOCK_SITE,
  TAG_PAGES_SITE,
  START_WRITEBACK_SITE,
  END_WRITEBACK_SITE,
  XFS_END_BIO_SITE,
  XFS_END_IO_SITE,
  "folio_wait_bit_common:spin_lock_irq",
  "folio_wake_bit:spin_lock_irqsave",
];
/** XA_CHECK_SCHED (lib/xarray.c, include/linux/xarray.h): tag_pages_for_writeback drops the lock every 4096 entries. */
const XA_CHECK_SCHED = 4096;
export const YP_FOLIO_LOCK = yieldPoint(FOLIO_LOCK_SITE);
/** Between reading an xa_node's mark words and writing them back (xa_marks_rmw). */
const YP_XA_MARK_STORE = yieldPoint("xa_mark:node_marks_store");

/**
 * A mark update of folios [from, to) under mapping->i_pages with an i_pages lock site off
 * (FsModel.xaSplit): xas_set_mark/xas_clear_mark -> node_set_mark/node_clear_mark
 * (lib/xarray.c v5.16) are __test_and_set_bit/__test_and_clear_bit on the xa_node's mark words
 * (one unsigned long per mark, XA_CHUNK_SIZE slots): non-atomic read-modify-writes that only the
 * xa_lock orders. Per node, the words `words` (TAG_WRITEBACK, TAG_TOWRITE bits) are read in one step
 * and written back in the next: the other folios of the node get the values read (a concurrent
 * update of one of them in between is lost or undone), the range's folios get `apply`'s. A site
 * still on takes the real lock around its read and write, so two locked sides stay ordered. One read
 * and one write per node for the whole range (the kernel does one per folio): every outcome of this
 * is one of the kernel's. Leaf words only (the parent nodes' summary marks are not modelled).
 */
export function* xa_marks_rmw(
  k: Ctx,
  ino: XfsInode,
  site: string,
  from: number,
  to: number,
  words: number,
  apply: (a: number, b: number) => void,
): KGen<void> {
  const fl = ino.pc.flags;
  for (let lo = from - (from % XA_CHUNK_SIZE); lo < to; lo += XA_CHUNK_SIZE) {
    const hi = Math.min(ino.pc.nrFolios, lo + XA_CHUNK_SIZE);
    const flags = yield* spin_lock_irqsave(k, ino.iPages, site);
    const word = fl.slice(lo, hi);
    yield YP_XA_MARK_STORE;
    const a = Math.max(from, lo);
    const b = Math.min(to, hi);
    for (let i = lo; i < hi; i++) if (i < a || i >= b) fl[i] = (fl[i]! & ~words) | (word[i - lo]! & words);
    apply(a, b);
    yield* spin_unlock_irqrestore(k, ino.iPages, flags);
  }
}

/**
 * tag_pages_for_writeback (mm/page-writeback.c v5.16) with an i_pages lock site off: per xa_node,
 * the folios with the DIRTY mark get the TOWRITE mark, read and written back in two steps.
 * Returns the folios newly tagged.
 */
function* tag_pages_split(k: Ctx, ino: XfsInode, from: number, to: number): KGen<number> {
  const fl = ino.pc.flags;
  let n = 0;
  for (let lo = from - (from % XA_CHUNK_SIZE); lo < to; lo += XA_CHUNK_SIZE) {
    const hi = Math.min(to, lo + XA_CHUNK_SIZE);
    const a = Math.max(from, lo);
    if (ino.pc.findSet(a, hi, PG_DIRTY) < 0) continue;
    const flags = yield* spin_lock_irqsave(k, ino.iPages, TAG_PAGES_SITE);
    // xas_for_each_marked(&xas, page, end, PAGECACHE_TAG_DIRTY): the DIRTY marks as they are now
    const end = Math.min(ino.pc.nrFolios, lo + XA_CHUNK_SIZE);
    const word = fl.slice(lo, end);
    yield YP_XA_MARK_STORE;
    for (let i = lo; i < end; i++) {
      let w = word[i - lo]! & TAG_TOWRITE;
      if (i >= a && i < hi && (word[i - lo]! & PG_DIRTY) !== 0 && w === 0) {
        w = TAG_TOWRITE;
        n++;
      }
      fl[i] = (fl[i]! & ~TAG_TOWRITE) | w;
    }
    yield* spin_unlock_irqrestore(k, ino.iPages, flags);
  }
  return n;
}

/** writeback_control */
export interface Wbc {
  syncAll: boolean;
  tagged: boolean;
  /** An fsync's data-integrity snapshot: filled with the dirty runs at tagging (PageCache.syncPending). */
  syncSnap?: number[];
  /** Pages still to write (WB_SYNC_NONE stops at <= 0). */
  nrToWrite: number;
  /** Folio range [start, end); cyclic when rangeCyclic. */
  start: number;
  end: number;
  rangeCyclic: boolean;
  written: number;
}

/**
 * balance_dirty_pages_ratelimited (mm/page-writeback.c 4.x..newest, simplified): kick background writeback above the
 * background threshold; above the freerun ceiling pause so that dirtying follows the write
 * bandwidth; at the hard threshold wait for completions (MAX_PAUSE 200 ms per round).
 */
export function* balance_dirty_pages(fs: FsModel, k: Ctx, pagesDirtied: number): KGen<void> {
  pageCounters(fs);
  const bg = fs.bgThreshPages();
  const thresh = fs.threshPages();
  for (let round = 0; round < 10_000; round++) {
    const nr = fs.nrDirty() + fs.nrWriteback();
    if (fs.nrDirty() > bg) wakeFlusher(fs);
    const freerun = (bg + thresh) / 2;
    if (nr <= freerun) return;
    if (nr < thresh) {
      const pause = Math.min(200e6, (pagesDirtied * 4096 * 1e9) / Math.max(1, fs.avgWriteBandwidth));
      yield* fs.m.sleepNs(k, Math.max(1_000_000, Math.round(pause)));
      return;
    }
    // over the limit: sleep until completions bring us down (woken from iomap_finish_ioend)
    k.task.state = TASK_UNINTERRUPTIBLE;
    fs.throttled.push(k.task);
    yield SCHEDULE;
  }
}

/** Wake the writers throttled in balance_dirty_pages once below the hard threshold. */
export function wakeThrottled(fs: FsModel): void {
  if (fs.throttled.length === 0) return;
  const nr = fs.nrDirty() + fs.nrWriteback();
  if (nr >= fs.threshPages()) return;
  for (const t of fs.throttled.splice(0)) fs.m.wakeUpProcess(t);
}

/** wb_wakeup (fs/fs-writeback.c): wake the flusher if it sleeps. */
export function wakeFlusher(fs: FsModel): void {
  if (fs.flusherSleeping && fs.flusher !== null) fs.m.wakeUpProcess(fs.flusher);
}

/** do_writepages -> xfs_vm_writepages -> iomap_writepages (mm/page-writeback.c, fs/xfs/xfs_aops.c). */
export function* do_writepages(fs: FsModel, k: Ctx, ino: XfsInode, wbc: Wbc, plug: Plug): KGen<void> {
  k.enter("xfs_vm_writepages");
  yield* write_cache_pages(fs, k, ino, wbc, plug);
  k.leave();
}

/**
 * write_cache_pages (mm/page-writeback.c <= 6.8; writeback_iter 6.9+, same semantics) with the
 * per-folio callback of iomap (iomap_do_writepage 5.16 / iomap_writepage_map / iomap_writeback_folio),
 * processed as runs of consecutive writable folios.
 */
export function* write_cache_pages(fs: FsModel, k: Ctx, ino: XfsInode, wbc: Wbc, plug: Plug): KGen<void> {
  const pc = ino.pc;
  const fp = fs.folioPages;
  const wpc: Wpc = { map: null, ioend: null, submitList: [] };
  let start = wbc.start;
  const end = wbc.end;
  if (wbc.rangeCyclic) start = Math.min(ino.writebackIndex, end);
  const tag = wbc.syncAll || wbc.tagged ? TAG_TOWRITE : PG_DIRTY;
  const cost: SubmitCost = { ns: 0 };
  if (tag === TAG_TOWRITE) {
    if (wbc.syncSnap !== undefined) {
      // what this fsync must see written: the folios dirty now
      for (const x of pc.dirtyRuns(start, end)) wbc.syncSnap.push(x);
      pc.syncPending.push(wbc.syncSnap);
    }
    // tag_pages_for_writeback: DIRTY -> TOWRITE, cond_resched every XA_CHECK_SCHED (4096) entries
    const n = fs.xaSplit ? yield* tag_pages_split(k, ino, start, end) : pc.tagRange(start, end);
    const holds = Math.ceil(n / XA_CHECK_SCHED);
    const holdNs = Math.min(n, XA_CHECK_SCHED) * fs.c.tagPerPageNs;
    const lk = spinLockLoop(k, ino.iPages, TAG_PAGES_SITE, fs.m.now, holds, holdNs, 0);
    // each hold ends in xas_unlock_irq + cond_resched(): charge the CPU time hold by hold
    const total = n * fs.c.tagPerPageNs + lk.extraNs;
    const per = Math.floor(total / holds);
    for (let h = 0; h < holds; h++)
      yield* chargeSubmit(fs, k, h < holds - 1 ? per : total - per * (holds - 1), CR_TAG);
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
      yield* flushCost(fs, k, cost, CR_WCP);
      yield* submitList(fs, k, wpc, plug);
      yield* flushPlug(fs, k, plug);
      yield* folio_wait_writeback(fs, k, ino, f);
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
    const reached = yield* iomap_writepage_map(fs, k, ino, wpc, plug, f, runEnd, cost);
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
  yield* flushCost(fs, k, cost, CR_WCP);
  yield* submitList(fs, k, wpc, plug);
  if (wbc.rangeCyclic) ino.writebackIndex = reachedEnd ? 0 : i;
}

/** wb_update_bandwidth (mm/page-writeback.c 4.x..newest, simplified): 200 ms sampling, ~3 s averaging period. */
export function wb_update_bandwidth(fs: FsModel, bytes: number): void {
  fs.bwBytes += bytes;
  const elapsed = fs.m.now - fs.bwStamp;
  if (elapsed < 200e6) return;
  const inst = (fs.bwBytes * 1e9) / elapsed;
  const w = Math.min(1, elapsed / 3e9);
  fs.avgWriteBandwidth = Math.max(4096, fs.avgWriteBandwidth + (inst - fs.avgWriteBandwidth) * w);
  fs.bwStamp = fs.m.now;
  fs.bwBytes = 0;
}
