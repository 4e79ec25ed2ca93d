// mm/filemap.c (and fs/sync.c): fsync's write-and-wait, waiting on PG_writeback, waking waiters.
import {
  type Ctx,
  type KGen,
  SCHEDULE,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  type Task,
  yieldPoint,
} from "../sim/index.js";
import {
  SpinLock,
  spin_lock_irq,
  spin_lock_irqsave,
  spin_unlock_irq,
  spin_unlock_irqrestore,
} from "../sync/spinlock.js";
import { flushPlug, type Plug } from "./blk.js";
import type { FsModel } from "./fs.js";
import type { XfsInode } from "./inode.js";
import { do_writepages, type Wbc } from "./page-writeback.js";
import { PG_WRITEBACK, TAG_WRITEBACK } from "./pagecache.js";

/**
 * vfs_fsync_range -> xfs_file_fsync -> file_write_and_wait_range (fs/sync.c, mm/filemap.c 4.x..newest):
 * WB_SYNC_ALL writepages of the range, then filemap_fdatawait_range one folio at a time, then the
 * errseq check. Returns 0 or -EIO.
 */
export function* vfs_fsync_range(fs: FsModel, k: Ctx, ino: XfsInode): KGen<number> {
  const t0 = fs.m.now;
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
  // the data-integrity check's snapshots: the folios dirty at tagging, the folios under writeback
  // when the wait begins (FsOracle.onFsyncReturn)
  const snap: number[] = [];
  wbc.syncSnap = snap;
  yield* do_writepages(fs, k, ino, wbc, plug);
  yield* flushPlug(fs, k, plug);
  const inFlight = fs.oracle.writebackInFlight(ino);
  yield* filemap_fdatawait_range(fs, k, ino, 0, ino.pc.nrFolios);
  fs.oracle.onFsyncReturn(k, ino, snap, inFlight);
  k.leave();
  fs.stats.fsyncNs.recordValue(Math.max(1, fs.m.now - t0));
  // file_check_and_advance_wb_err (errseq, invariant 7: reported once)
  if (ino.wbErrSeq !== ino.wbErrSeen) {
    ino.wbErrSeen = ino.wbErrSeq;
    fs.stats.fsyncErrors++;
    return -5;
  }
  return 0;
}

/** filemap_fdatawait_range (mm/filemap.c, 4.x..newest): wait on each folio under writeback, in index order. */
export function* filemap_fdatawait_range(
  fs: FsModel,
  k: Ctx,
  ino: XfsInode,
  from: number,
  to: number,
): KGen<void> {
  let f = from;
  const fl = ino.pc.flags;
  for (let guard = 0; guard < 100_000_000; guard++) {
    // filemap_get_folios_tag(PAGECACHE_TAG_WRITEBACK) (pagevec_lookup_range_tag before 6.2)
    f = ino.pc.findSet(f, to, TAG_WRITEBACK);
    if (f < 0) return;
    yield* folio_wait_writeback(fs, k, ino, f);
    // a WRITEBACK mark left on a folio whose PG_writeback is clear (only with an i_pages lock site
    // off): the lookup moves past it
    if ((fl[f]! & (PG_WRITEBACK | TAG_WRITEBACK)) === TAG_WRITEBACK) f++;
  }
}

/** PAGE_WAIT_TABLE_BITS (mm/filemap.c, v4.14+): 256 hashed wait-queue heads shared by every page/folio. */
export const PAGE_WAIT_TABLE_BITS = 8;
/** WAITQUEUE_WALK_BREAK_CNT (kernel/sched/wait.c, v4.14+ 2554db916586): a waker drops the head's lock every 64 entries. */
export const WAITQUEUE_WALK_BREAK_CNT = 64;
/** Lock sites of the page wait-queue heads. */
export const WAIT_BIT_SITE = "folio_wait_bit_common:spin_lock_irq";
export const WAKE_BIT_SITE = "folio_wake_bit:spin_lock_irqsave";

/** An entry of a page wait-queue head: a task sleeping until PG_writeback of (ino, folio) clears. */
export interface FolioWaiter {
  ino: XfsInode;
  f: number;
  task: Task;
}

/** One of the page_wait_table heads: its lock and its entries (waiters of every folio that hashes here). */
export interface PageWaitHead {
  readonly lock: SpinLock;
  readonly entries: FolioWaiter[];
}

/** page_wait_table (mm/filemap.c): 1 << PAGE_WAIT_TABLE_BITS heads; lockdep names each "page_wait_table + i". */
export class PageWaitTable {
  readonly heads: PageWaitHead[] = [];
  /** Entries over all heads (so completion scans only when someone waits). */
  count = 0;
  constructor() {
    for (let i = 0; i < 1 << PAGE_WAIT_TABLE_BITS; i++)
      this.heads.push({ lock: new SpinLock("page_wait_table + i", `page_wait_table:${i}`), entries: [] });
  }

  /** folio_waitqueue(): hash_ptr(folio, PAGE_WAIT_TABLE_BITS), here a multiplicative hash of (inode, index). */
  head(ino: XfsInode, f: number): PageWaitHead {
    const key = (Math.imul(ino.ino, 0x9e3779b1) ^ f) >>> 0;
    return this.heads[Math.imul(key, 0x61c88647) >>> (32 - PAGE_WAIT_TABLE_BITS)]!;
  }

  /** Folios of `ino` in [f0, f1) that have an entry, ascending (the folios completion must wake). */
  waitedFolios(ino: XfsInode, f0: number, f1: number): number[] {
    const out: number[] = [];
    for (const h of this.heads)
      for (const e of h.entries)
        if (e.ino === ino && e.f >= f0 && e.f < f1 && !out.includes(e.f)) out.push(e.f);
    return out.sort((a, b) => a - b);
  }
}

/** Between the waiter's test of PG_writeback and its __add_wait_queue_entry_tail (a waker may act here). */
const YP_WAIT_ADD = yieldPoint("folio_wait_bit_common:__add_wait_queue_entry_tail");

/**
 * folio_wait_writeback -> folio_wait_bit_common (mm/page-writeback.c, mm/filemap.c 5.16+;
 * wait_on_page_writeback -> wait_on_page_bit_common before): under the hashed head's lock set
 * PG_waiters and queue an entry, then sleep (D) until PG_writeback clears.
 *
 * With a page_wait_table lock site off (FsModel.waitSplit) the test and __add_wait_queue_entry_tail
 * are two steps, and the task sleeps until a waker's wake_page_function removed the entry
 * (WQ_FLAG_WOKEN): the kernel does not test the bit again after queueing. A waker that cleared
 * PG_writeback and walked the queue between the two steps finds no entry: the wake-up is lost and the
 * task sleeps in D for ever (the hung task detector's report; here the lost_wakeup check).
 */
export function* folio_wait_writeback(fs: FsModel, k: Ctx, ino: XfsInode, f: number): KGen<void> {
  const pc = ino.pc;
  const table = fs.waitTable;
  const split = fs.waitSplit;
  while ((pc.flags[f]! & PG_WRITEBACK) !== 0) {
    const q = table.head(ino, f);
    yield* spin_lock_irq(k, q.lock, WAIT_BIT_SITE);
    const still = (pc.flags[f]! & PG_WRITEBACK) !== 0;
    const entry: FolioWaiter = { ino, f, task: k.task };
    if (still) {
      pc.setWaiter(f);
      if (split) yield YP_WAIT_ADD;
      q.entries.push(entry);
      table.count++;
    }
    yield* spin_unlock_irq(k, q.lock);
    if (!still) break;
    k.task.state = TASK_UNINTERRUPTIBLE;
    if (split) {
      // for (;;) { set_current_state(); if (!(wait->flags & WQ_FLAG_WOKEN)) io_schedule(); ... }
      if (!q.entries.includes(entry)) {
        k.task.state = TASK_RUNNING;
        continue;
      }
      // the bit is clear and no completion is between clearing it and waking: nobody will wake us
      if (
        (pc.flags[f]! & PG_WRITEBACK) === 0 &&
        !fs.waking.some((w) => w.ino === ino && f >= w.lo && f < w.hi)
      )
        fs.oracle.lostWakeup(k.task, ino, f);
    } else if ((pc.flags[f]! & PG_WRITEBACK) === 0) {
      // set_current_state before the final test: a waker that cleared the bit meanwhile has already
      // removed the entry (and found this task running); the test sees the bit clear
      k.task.state = TASK_RUNNING;
      const i = q.entries.indexOf(entry);
      if (i >= 0) {
        q.entries.splice(i, 1);
        table.count--;
      }
      break;
    }
    k.enter("folio_wait_writeback");
    yield SCHEDULE;
    k.leave();
  }
}

/**
 * folio_wake_bit(folio, PG_writeback) (mm/filemap.c 5.16+; wake_up_page_bit 4.14-5.15) for folio f of
 * `ino`: take the hashed head's lock with irqs off, walk its entries (those of every folio that
 * hashes there), wake the matching ones (try_to_wake_up), and drop and retake the lock every
 * WAITQUEUE_WALK_BREAK_CNT entries. Returns the CPU ns charged (lock waits included).
 */
export function* folio_wake_bit(fs: FsModel, k: Ctx, ino: XfsInode, f: number): KGen<number> {
  const t0 = fs.m.now;
  const table = fs.waitTable;
  const q = table.head(ino, f);
  let flags = yield* spin_lock_irqsave(k, q.lock, WAKE_BIT_SITE);
  let walked = 0;
  let woken = 0;
  let sinceBreak = 0;
  for (let i = 0; i < q.entries.length; ) {
    const e = q.entries[i]!;
    walked++;
    sinceBreak++;
    if (e.ino === ino && e.f === f) {
      q.entries.splice(i, 1);
      table.count--;
      fs.m.wakeUpProcess(e.task);
      woken++;
    } else i++;
    if (sinceBreak >= WAITQUEUE_WALK_BREAK_CNT && i < q.entries.length) {
      // the bookmark: charge the walk so far, let others take the lock, continue
      yield fs.m.jit(sinceBreak * fs.c.waitqueueWalkEntryNs + woken * fs.c.tryToWakeUpNs);
      woken = 0;
      sinceBreak = 0;
      yield* spin_unlock_irqrestore(k, q.lock, flags);
      flags = yield* spin_lock_irqsave(k, q.lock, WAKE_BIT_SITE);
    }
  }
  const ns = sinceBreak * fs.c.waitqueueWalkEntryNs + woken * fs.c.tryToWakeUpNs;
  if (ns > 0) yield fs.m.jit(ns);
  yield* spin_unlock_irqrestore(k, q.lock, flags);
  fs.stats.waitqueueEntriesWalked += walked;
  return fs.m.now - t0;
}
