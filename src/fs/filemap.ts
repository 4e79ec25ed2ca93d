// mm/filemap.c (and fs/sync.c): fsync's write-and-wait, waiting on PG_writeback, waking waiters.
import { type Ctx, type KGen, SCHEDULE, TASK_UNINTERRUPTIBLE } from "../sim/index.js";
import { flushPlug, type Plug } from "./blk.js";
import type { FsModel } from "./fs.js";
import type { XfsInode } from "./inode.js";
import { do_writepages, type Wbc } from "./page-writeback.js";
import { PG_WRITEBACK } from "./pagecache.js";

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
  yield* do_writepages(fs, k, ino, wbc, plug);
  yield* flushPlug(fs, k, plug);
  yield* filemap_fdatawait_range(fs, k, ino, 0, ino.pc.nrFolios);
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
  for (let guard = 0; guard < 100_000_000; guard++) {
    f = ino.pc.findSet(f, to, PG_WRITEBACK);
    if (f < 0) return;
    yield* folio_wait_writeback(fs, k, ino, f);
  }
}

/** folio_wait_writeback (mm/page-writeback.c 5.16+; wait_on_page_writeback before): sleep (D) until PG_writeback clears. */
export function* folio_wait_writeback(fs: FsModel, k: Ctx, ino: XfsInode, f: number): KGen<void> {
  while ((ino.pc.flags[f]! & PG_WRITEBACK) !== 0) {
    ino.pc.setWaiter(f);
    fs.folioWaiters.push({ ino, f, task: k.task });
    k.task.state = TASK_UNINTERRUPTIBLE;
    k.enter("folio_wait_writeback");
    yield SCHEDULE;
    k.leave();
  }
}

/** folio_wake_bit(PG_writeback) (mm/filemap.c 5.16+; wake_up_page_bit before) for folios [f0, f1) of `ino`. */
export function wakeFolioWaiters(fs: FsModel, ino: XfsInode, f0: number, f1: number): void {
  const ws = fs.folioWaiters;
  for (let i = 0; i < ws.length; ) {
    const w = ws[i]!;
    if (w.ino === ino && w.f >= f0 && w.f < f1) {
      ws.splice(i, 1);
      fs.m.wakeUpProcess(w.task);
    } else i++;
  }
}
