// fs/xfs/xfs_aops.c: block mapping for writeback (xfs_map_blocks) and the XFS completion path:
// xfs_end_bio queues the inode's single work item, xfs_end_io splices, sorts and merges the inode's
// ioends, xfs_end_ioend runs the transactions of a merged run and calls iomap_finish_ioends.
import { type Ctx, condResched, type KGen, type WorkStruct, yieldPoint } from "../sim/index.js";
import { spin_lock_irqsave, spin_unlock_irqrestore } from "../sync/spinlock.js";
import type { Wpc } from "./buffered-io.js";
import { iomap_finish_ioends } from "./buffered-io.js";
import { flushCost, type SubmitCost } from "./chunks.js";
import type { FsModel } from "./fs.js";
import {
  EXT_DELALLOC,
  EXT_UNWRITTEN,
  IOMAP_MAPPED,
  IOMAP_UNWRITTEN,
  type IomapMapping,
  XfsInode,
} from "./inode.js";
import { IOEND_QUEUED, type Ioend, ioendCanMerge } from "./ioend.js";
import { CR_WCP, XFS_END_BIO_SITE, XFS_END_IO_SITE } from "./page-writeback.js";

/** xfs_end_bio's list_add_tail after its list_empty test (a step of its own with an i_ioend_lock site off). */
const YP_END_BIO_ADD = yieldPoint("xfs_end_bio:list_add_tail");
/** xfs_end_io's INIT_LIST_HEAD after list_replace_init read the list (likewise). */
const YP_END_IO_INIT = yieldPoint("xfs_end_io:INIT_LIST_HEAD");

/** cond_resched() after each xfs_end_ioend in xfs_end_io (v5.17 ebb7fb1557b1; xfs_aops.c:185 per the lkp build report). */
const CR_XFS_END_IO = condResched("fs/xfs/xfs_aops.c", 185);

/** xfs_map_blocks (fs/xfs/xfs_aops.c 5.16..newest): reuse the cached map or look up/convert; null = hole. */
export function* xfs_map_blocks(
  fs: FsModel,
  k: Ctx,
  ino: XfsInode,
  wpc: Wpc,
  p: number,
  cost: SubmitCost,
): KGen<IomapMapping | null> {
  const m = wpc.map;
  if (m !== null && p >= m.off && p < m.off + m.len && m.dataSeq === ino.dataSeq && m.cowSeq === ino.cowSeq) {
    cost.ns += fs.c.mapBlocksNs;
    return m;
  }
  cost.ns += fs.c.mapBlocksMissNs;
  let { ext, shared } = ino.lookupMapping(p);
  if (ext === null) return null;
  if (ext.state === EXT_DELALLOC) {
    // xfs_bmapi_convert_delalloc: an allocation transaction under ILOCK (may sleep on log space).
    // The allocation is made at once (others serialise on ILOCK and find it done), then charged.
    ino.convertDelalloc(p);
    yield* flushCost(fs, k, cost, CR_WCP);
    k.enter("xfs_bmapi_convert_delalloc");
    yield fs.m.jit(fs.c.delallocConvertNs);
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

/** xfs_end_bio (fs/xfs/xfs_aops.c 5.2+): queue the inode's single work item if its list was empty. */
export function* xfs_end_bio(fs: FsModel, k: Ctx, io: Ioend): KGen<void> {
  const ino = io.inode;
  const flags = yield* spin_lock_irqsave(k, ino.ioendLock, XFS_END_BIO_SITE);
  const split = fs.ioendSplit;
  // if (list_empty(&ip->i_ioend_list)) WARN_ON_ONCE(!queue_work(...)): the test comes before
  // queue_work's cost (under the lock, reading it before or after is the same)
  let wasEmpty = split && ino.ioendList.length === 0;
  yield fs.m.jit(fs.c.queueWorkNs);
  if (!split) wasEmpty = ino.ioendList.length === 0;
  // invariant 8: the work cannot be pending while the list is empty
  if (wasEmpty) fs.oracle.onQueueWork(k, fs.m.wq.queueWorkOn(k.cpu.id, fs.xfsConv, ino.work!), ino.ino);
  // without i_ioend_lock on one side, list_add_tail is a step of its own: xfs_end_io may splice
  // the list between the test and the add (the add then lands on a list no work will look at) or
  // between its list_replace_init and INIT_LIST_HEAD (the ioend is in neither list)
  if (split) yield YP_END_BIO_ADD;
  ino.ioendsAdded++;
  ino.ioendList.push(io);
  // the test saw a non-empty list, which xfs_end_io spliced away before this add: nothing is queued
  // or running to take the ioend
  if (split && !wasEmpty && !ino.work!.pending && ino.endIoRunning === 0)
    fs.oracle.violation(
      "ioend_work",
      k,
      `inode ${ino.ino}: ioend ${io.id} added to i_ioend_list but i_ioend_work is neither queued nor running: xfs_end_io spliced the list between xfs_end_bio's list_empty test and its list_add_tail (never completed)`,
    );
  if (fs.m.trace !== null) fs.m.counter(`i_ioend_list ino ${ino.ino}`, -1, ino.ioendList.length);
  io.phase = IOEND_QUEUED;
  fs.stats.ioendsQueued++;
  yield* spin_unlock_irqrestore(k, ino.ioendLock, flags);
}

/** xfs_end_io (fs/xfs/xfs_aops.c 5.2..newest): splice, sort, merge, complete. */
export function* xfs_end_io(fs: FsModel, k: Ctx, w: WorkStruct): KGen<void> {
  const ino = w.data as XfsInode;
  const t0CpuNs = k.task.sumExecNs;
  ino.endIoRunning++;
  if (fs.cfg.endIoDelayNs > 0) yield* fs.m.sleepNs(k, fs.cfg.endIoDelayNs);
  const flags = yield* spin_lock_irqsave(k, ino.ioendLock, XFS_END_IO_SITE);
  let list: Ioend[];
  if (fs.ioendSplit) {
    // list_replace_init(&ip->i_ioend_list, &tmp): tmp takes the entries read now; INIT_LIST_HEAD
    // (another step without the lock) drops whatever a concurrent list_add_tail linked meanwhile
    list = ino.ioendList.slice();
    yield YP_END_IO_INIT;
    const dropped = ino.ioendList.length - list.length;
    ino.ioendList.length = 0;
    if (dropped > 0)
      fs.oracle.violation(
        "ioend_work",
        k,
        `inode ${ino.ino}: ${dropped} ioends added to i_ioend_list by xfs_end_bio never reached xfs_end_io: their list_add_tail came between its list_replace_init and INIT_LIST_HEAD (their folios stay under writeback)`,
      );
  } else list = ino.ioendList.splice(0); // list_replace_init
  ino.ioendsTaken += list.length;
  if (fs.m.trace !== null) fs.m.counter(`i_ioend_list ino ${ino.ino}`, -1, 0);
  yield* spin_unlock_irqrestore(k, ino.ioendLock, flags);
  fs.stats.endIoRuns++;
  if (list.length === 0) {
    ino.endIoRunning--;
    return;
  }
  const n = list.length;
  // iomap_sort_ioends: list_sort by offset
  list.sort((a, b) => a.offset - b.offset || a.id - b.id);
  yield fs.m.jit(fs.c.ioendOverheadNs + Math.ceil(n * Math.log2(n + 1)) * fs.c.sortCompareNs);
  let txns = 0;
  let at = 0;
  const v = fs.v;
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
    fs.oracle.onMergedRun(k, run);
    fs.m.emit("model", k.cpu.id, "merged_run", `head ${head.id} ioends ${run.length}`, runPages, run.length);
    yield fs.m.jit(checks * fs.c.mergeCheckNs);
    fs.m.counter("ioend chain", -1, run.length);
    txns += yield* k.call("xfs_end_ioend", xfs_end_ioend(fs, k, run, runPages));
    fs.m.counter("ioend chain", -1, 0);
    if (v.xfsEndIoResched) {
      fs.stats.completionReschedCalls++;
      yield CR_XFS_END_IO;
    }
  }
  ino.endIoRunning--;
  fs.stats.txnsPerEndIoMax = Math.max(fs.stats.txnsPerEndIoMax, txns);
  const cpuNs = k.task.sumExecNs - t0CpuNs;
  fs.stats.addCompletionCpu(ino.ino, cpuNs);
  fs.stats.endIoCpuNsMax = Math.max(fs.stats.endIoCpuNsMax, cpuNs);
  if (cpuNs > 10e6) fs.stats.endIoOver10ms++;
}

/** xfs_end_ioend (fs/xfs/xfs_aops.c 5.2..newest): transactions for a merged run, then finish it. */
export function* xfs_end_ioend(fs: FsModel, k: Ctx, run: Ioend[], runPages: number): KGen<number> {
  const head = run[0]!;
  const ino = head.inode;
  const off = head.offset;
  const error = head.status !== 0;
  let txns = 0;
  fs.oracle.onEndIoend(k, run, error);
  if (error) {
    if (head.shared) XfsInode.punch(ino.cowFork, off, runPages); // xfs_reflink_cancel_cow_range
  } else {
    if (head.shared) {
      k.enter("xfs_reflink_end_cow");
      const n = ino.endCow(off, runPages);
      yield fs.m.jit(n * fs.c.cowRemapTxnNs);
      k.leave();
      txns += n;
    } else if (head.type === IOMAP_UNWRITTEN) {
      // xfs_iomap_write_unwritten: one transaction per physical extent, no yield
      k.enter("xfs_iomap_write_unwritten");
      const n = ino.convertUnwritten(off, runPages);
      yield fs.m.jit(n * fs.c.unwrittenConvTxnNs);
      k.leave();
      txns += n;
    }
    const end = (off + runPages) * 4096;
    if (end > ino.diskSize) {
      // xfs_setfilesize: invariant 2
      k.enter("xfs_setfilesize");
      yield fs.m.jit(fs.c.setFileSizeTxnNs);
      k.leave();
      const newSize = Math.min(end, ino.size);
      fs.oracle.onSetFileSize(k, newSize, ino.size);
      if (newSize > ino.diskSize) ino.diskSize = newSize;
      ino.setFileSizeTxns++;
      txns++;
    }
  }
  fs.stats.txns += txns;
  yield* k.call("iomap_finish_ioends", iomap_finish_ioends(fs, k, run));
  return txns;
}
