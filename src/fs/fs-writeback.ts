// fs/fs-writeback.c: the flusher (wb_workfn -> wb_do_writeback -> wb_writeback ->
// writeback_sb_inodes -> __writeback_single_inode), writeback_chunk_size, and sync(2).
import { type Ctx, condResched, type KGen, SCHEDULE, TASK_UNINTERRUPTIBLE, type Task } from "../sim/index.js";
import { flushPlug, type Plug } from "./blk.js";
import { filemap_fdatawait_range } from "./filemap.js";
import type { FsModel } from "./fs.js";
import { do_writepages, type Wbc, wakeFlusher } from "./page-writeback.js";

/** cond_resched() between inodes in writeback_sb_inodes (fs/fs-writeback.c v5.16 writeback_sb_inodes). */
const CR_WB_SB = condResched("fs/fs-writeback.c", 1870);

/** A wb_writeback_work queued for the flusher (sync_inodes_sb). */
export interface FlusherWork {
  kind: "sync";
  done: boolean;
  waiter: Task;
}

/** sync(2) -> sync_inodes_sb (fs/sync.c, fs/fs-writeback.c): flusher does WB_SYNC_NONE then WB_SYNC_ALL; then wait on every inode. */
export function* sys_sync(fs: FsModel, k: Ctx): KGen<void> {
  if (fs.flusher === null) throw new Error("sys_sync: the flusher is disabled (flusherEnabled: false)");
  const w: FlusherWork = { kind: "sync", done: false, waiter: k.task };
  fs.flusherWork.push(w);
  wakeFlusher(fs);
  while (!w.done) {
    k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
  }
  for (const ino of fs.inodes) yield* filemap_fdatawait_range(fs, k, ino, 0, ino.pc.nrFolios);
}

/** wb_workfn -> wb_do_writeback (fs/fs-writeback.c 4.x..newest): explicit work, background, periodic. */
export function* wb_workfn(fs: FsModel, k: Ctx): KGen<void> {
  k.enter("wb_workfn");
  for (;;) {
    const w = fs.flusherWork.shift();
    if (w !== undefined) {
      yield* k.traced("wb_writeback", wb_writeback(fs, k, "sync-none"));
      yield* k.traced("wb_writeback", wb_writeback(fs, k, "sync-all"));
      w.done = true;
      fs.m.wakeUpProcess(w.waiter);
      continue;
    }
    if (fs.nrDirty() > fs.bgThreshPages()) {
      const progressed = yield* k.traced("wb_writeback", wb_writeback(fs, k, "background"));
      if (!progressed) yield* waitForProgress(fs, k);
      continue;
    }
    if (fs.m.now - fs.lastKupdate >= fs.cfg.dirtyWritebackIntervalNs) {
      fs.lastKupdate = fs.m.now;
      yield* k.traced("wb_writeback", wb_writeback(fs, k, "kupdate"));
      continue;
    }
    // sleep until woken or until the next periodic writeback
    fs.flusherSleeping = true;
    const wake = fs.lastKupdate + fs.cfg.dirtyWritebackIntervalNs - fs.m.now;
    yield* fs.m.sleepNs(k, Math.max(1_000_000, wake));
    fs.flusherSleeping = false;
  }
}

/** The flusher found nothing writable: wait for a completion (wb_writeback's inode_sleep_on_writeback). */
function* waitForProgress(fs: FsModel, k: Ctx): KGen<void> {
  fs.progressWaiters.push(k.task);
  k.task.state = TASK_UNINTERRUPTIBLE;
  yield SCHEDULE;
}

/**
 * wb_writeback + writeback_sb_inodes + __writeback_single_inode (fs/fs-writeback.c 4.x..newest): one pass over
 * the dirty inodes (oldest first) with the pass's writeback_control. Returns whether pages were written.
 */
export function* wb_writeback(
  fs: FsModel,
  k: Ctx,
  kind: "background" | "kupdate" | "sync-none" | "sync-all",
): KGen<boolean> {
  const plug: Plug = { bios: [] };
  let wrote = 0;
  const order = fs.inodes
    .filter((i) => i.pc.nrDirty > 0)
    .sort((a, b) => a.dirtiedWhen - b.dirtiedWhen || a.ino - b.ino);
  for (const ino of order) {
    if (kind === "kupdate" && fs.m.now - ino.dirtiedWhen < fs.cfg.dirtyExpireNs) continue;
    if (kind === "background" && fs.nrDirty() <= fs.bgThreshPages()) break;
    const syncAll = kind === "sync-all";
    const wbc: Wbc = {
      syncAll,
      tagged: kind === "sync-none" || syncAll,
      nrToWrite: kind === "sync-none" || syncAll ? Number.POSITIVE_INFINITY : writeback_chunk_size(fs, kind),
      start: 0,
      end: ino.pc.nrFolios,
      rangeCyclic: kind === "background" || kind === "kupdate",
      written: 0,
    };
    yield* do_writepages(fs, k, ino, wbc, plug);
    wrote += wbc.written;
    if (ino.pc.nrDirty === 0) ino.dirtiedWhen = -1;
    else if (wbc.written > 0 && kind !== "sync-all") ino.dirtiedWhen = fs.m.now; // requeue_io / redirty
    // writeback_sb_inodes: between inodes (2022+: flush the plug first when need_resched)
    if (fs.v.flushPlugOnResched && k.cpu.needResched) yield* flushPlug(fs, k, plug);
    yield CR_WB_SB;
  }
  yield* flushPlug(fs, k, plug); // blk_finish_plug
  return wrote > 0;
}

/** writeback_chunk_size (fs/fs-writeback.c, 4.x..newest): pages for one inode pass of WB_SYNC_NONE writeback. */
export function writeback_chunk_size(fs: FsModel, _kind: string): number {
  const bwPages = fs.avgWriteBandwidth / 4096 / 2;
  const limitPages = fs.threshPages() / 8; // global dirty limit / DIRTY_SCOPE
  const pages = Math.min(bwPages, limitPages);
  const MIN_WRITEBACK_PAGES = 1024;
  return Math.max(
    MIN_WRITEBACK_PAGES,
    Math.floor((pages + MIN_WRITEBACK_PAGES) / MIN_WRITEBACK_PAGES) * MIN_WRITEBACK_PAGES,
  );
}
