// fs/iomap/buffered-io.c (5.16..6.14; the ioend half moved to fs/iomap/ioend.c in v6.15, 63b66913d11c):
// the buffered write, the writepage callback that maps blocks and builds ioends and bios, submission,
// and completion (iomap_writepage_end_bio, iomap_finish_ioends, iomap_finish_ioend).

import { CTX_HARDIRQ, CTX_SOFTIRQ, type Ctx, condResched, type KGen, mightSleep } from "../sim/index.js";
import { spinLockLoop } from "../sync/looplock.js";
import { type Plug, submit_bio } from "./blk.js";
import { finishChunkEnd, flushCost, type SubmitCost } from "./chunks.js";
import { folio_wake_bit } from "./filemap.js";
import type { FsModel } from "./fs.js";
import { IOMAP_UNWRITTEN, type IomapMapping, XfsInode } from "./inode.js";
import {
  BIO_MAX_PAGES_BYTES_LIMIT,
  BIO_MAX_VECS,
  Bio,
  finishCount,
  IOEND_FINISHED,
  IOEND_SUBMITTED,
  Ioend,
  ioendCapacityPages,
} from "./ioend.js";
import {
  CR_WCP,
  END_WRITEBACK_SITE,
  START_WRITEBACK_SITE,
  wakeThrottled,
  xa_marks_rmw,
  YP_FOLIO_LOCK,
} from "./page-writeback.js";
import { type PageCache, PG_DIRTY, PG_WRITEBACK, TAG_TOWRITE, TAG_WRITEBACK } from "./pagecache.js";
import { pageCounters } from "./trace.js";
import { xfs_map_blocks } from "./xfs_aops.js";

/** The mark words __folio_start_writeback writes (PAGECACHE_TAG_WRITEBACK and PAGECACHE_TAG_TOWRITE). */
const MARKS = TAG_WRITEBACK | TAG_TOWRITE;

// Line numbers in the might_sleep splat are approximate positions in the v5.16/v5.17 file.
const F_BUFFERED = "fs/iomap/buffered-io.c";
/** cond_resched() in iomap_finish_ioends (v5.17 ebb7fb1557b1: > IOEND_BATCH_SIZE * 8 folios). */
const CR_FINISH_IOENDS = condResched(F_BUFFERED, 1113);
/** might_sleep() on entry to iomap_finish_ioends (v5.17 ebb7fb1557b1). */
const MS_FINISH_IOENDS = mightSleep(F_BUFFERED, 1101);
/** Trond's cond_resched() in the per-segment loop of iomap_finish_ioend (<20211230193522.55520-1-trondmy@kernel.org>). */
const CR_TROND = condResched(F_BUFFERED, 1064);
/** Brian's non-atomic resched in iomap_finish_ioend (<20210517171722.1266878-1-bfoster@redhat.com>). */
const CR_BRIAN = condResched(F_BUFFERED, 1070);

/** iomap_writepage_ctx */
export interface Wpc {
  map: IomapMapping | null;
  ioend: Ioend | null;
  submitList: Ioend[];
}

/**
 * iomap_file_buffered_write (fs/iomap/buffered-io.c 5.16..newest) via xfs_file_buffered_write:
 * delalloc reservation, copy, dirtying, i_size growth. Pages [page, page + n).
 */
export function* iomap_file_buffered_write(
  fs: FsModel,
  _k: Ctx,
  ino: XfsInode,
  page: number,
  n: number,
  endBytes = (page + n) * 4096,
): KGen<void> {
  const fp = fs.folioPages;
  const added = ino.reserveDelalloc(page, n);
  const ns = fs.c.writeCallNs + n * fs.c.writePerPageNs + added * fs.c.mapBlocksMissNs;
  fs.stats.writeCpuNs += ns;
  yield fs.m.jit(ns);
  ino.pc.dirtyRange(Math.floor(page / fp), Math.ceil((page + n) / fp));
  const end = Math.min((page + n) * 4096, endBytes);
  ino.size = Math.max(ino.size, end);
  if (ino.dirtiedWhen < 0) ino.dirtiedWhen = fs.m.now;
  fs.stats.bytesWrittenByUser += end - page * 4096;
}

/**
 * iomap_writepage_map for folios [f0, f1) (fs/iomap/buffered-io.c 5.16..6.14): map blocks (xfs_map_blocks),
 * add to the ioend (iomap_add_to_ioend / iomap_can_add_to_ioend), fill and chain bios.
 */
export function* iomap_writepage_map(
  fs: FsModel,
  k: Ctx,
  ino: XfsInode,
  wpc: Wpc,
  plug: Plug,
  f0: number,
  f1: number,
  cost: SubmitCost,
): KGen<number> {
  const fp = fs.folioPages;
  const pc = ino.pc;
  const v = fs.v;
  let p = f0 * fp;
  const pEnd = f1 * fp;
  for (let guard = 0; p < pEnd && guard < 10_000_000; guard++) {
    // ioends closed while mapping the previous folio are submitted once it is unlocked
    if (wpc.submitList.length > 0) {
      yield* flushCost(fs, k, cost, CR_WCP);
      yield* submitList(fs, k, wpc, plug);
    }
    // i_size is read per folio, after any yield: a writer may have extended the file meanwhile
    const eof = ino.eofBlock();
    if (p >= eof) {
      // folios wholly beyond i_size: cleaned, no I/O
      const e = pc.runEnd(p / fp, pEnd / fp, PG_DIRTY, PG_WRITEBACK) * fp;
      if (e <= p) break;
      pc.startWriteback(p / fp, e / fp);
      pc.endWriteback(p / fp, e / fp, false);
      fs.stats.pagesCleanedWithoutIo += e - p;
      p = e;
      break;
    }
    const map = yield* xfs_map_blocks(fs, k, ino, wpc, p, cost);
    if (map === null) {
      // IOMAP_HOLE: skip the blocks (only after truncate races)
      let holeEnd = Math.min(pEnd, Math.max(p + fp, holeEndOf(ino, p)));
      holeEnd = pc.runEnd(p / fp, holeEnd / fp, PG_DIRTY, PG_WRITEBACK) * fp;
      if (holeEnd <= p) break;
      pc.startWriteback(p / fp, holeEnd / fp);
      pc.endWriteback(p / fp, holeEnd / fp, false);
      fs.stats.pagesCleanedWithoutIo += holeEnd - p;
      p = holeEnd;
      continue;
    }
    let segEnd = Math.min(pEnd, map.off + map.len, eof);
    const sector = (map.pblk + (p - map.off)) * 8;
    let io = wpc.ioend;
    // iomap_can_add_to_ioend: a new ioend is needed for the block at p (allocated below, once the
    // folio is locked and still dirty: iomap_add_to_ioend runs only for such a folio)
    const fresh =
      io === null ||
      io.shared !== map.shared ||
      io.type !== map.type ||
      io.end !== p ||
      io.endSector !== sector ||
      ioendCapacityPages(v, io, fp) <= 0;
    const capPages = ioendCapacityPages(v, fresh ? EMPTY_IOEND : io!, fp);
    // the cap is checked per folio: a folio that crosses it still joins (rounded up to whole folios)
    if (capPages < Number.POSITIVE_INFINITY)
      segEnd = Math.min(segEnd, p + Math.max(1, Math.ceil(capPages / fp)) * fp);
    // bio capacity from the physical runs of the page cache
    // charge at most a submission quantum per piece, so that write_cache_pages' per-pagevec
    // cond_resched is seen within submitQuantumNs however large the bio grows
    segEnd = Math.min(segEnd, p + fs.maxPiecePages);
    let bioEnd = bioCapacityEnd(fs, pc, fresh ? EMPTY_BIO : io!.bio, p, segEnd);
    // each folio is locked and re-checked (dirty, not under writeback) right before it is added:
    // another writer (fsync vs flusher) may have taken it while this task was charged CPU time
    // folio_lock: another CPU may act here (explore driver step boundary)
    yield YP_FOLIO_LOCK;
    if (bioEnd > p && !fs.folioLockOff) {
      const okEnd = pc.runEnd(p / fp, bioEnd / fp, PG_DIRTY, PG_WRITEBACK) * fp;
      // taken by another writer: skipped, and the open ioend stays open
      if (okEnd <= p) break;
      bioEnd = okEnd;
    }
    if (fresh) {
      if (io !== null) closeIoend(wpc, io);
      io = iomap_alloc_ioend(fs, ino, p, sector, map.type, map.shared);
      wpc.ioend = io;
      cost.ns += fs.c.bioAllocNs;
    }
    // the open ioend: the one allocated above, or the one that can take the block
    const open = io!;
    const bio = open.bio;
    if (bioEnd <= p) {
      // bio full: chain a new one (5.16-6.8) or close the ioend (newest)
      if (v.chainBios) {
        yield* iomap_chain_bio(fs, k, open, plug, cost);
      } else {
        closeIoend(wpc, open);
        wpc.ioend = null;
      }
      continue;
    }
    addToBio(fs, pc, open, bio, p, bioEnd);
    // __folio_start_writeback's marks, read and written in two steps with an i_pages site off
    if (fs.xaSplit)
      yield* xa_marks_rmw(k, ino, START_WRITEBACK_SITE, p / fp, bioEnd / fp, MARKS, pc.startMarksFn);
    // folio_start_writeback: mapping->i_pages xa_lock_irqsave per folio, inside the per-folio work
    const nf = (bioEnd - p) / fp;
    const c = fs.c;
    const lk = spinLockLoop(
      k,
      ino.iPages,
      START_WRITEBACK_SITE,
      fs.m.now + cost.ns,
      nf,
      c.iPagesStartHoldNs,
      c.writebackPerFolioNs - c.iPagesStartHoldNs - ino.iPages.line.costs.atomicLocalNs,
    );
    cost.ns += nf * c.writebackPerFolioNs + lk.extraNs;
    p = bioEnd;
    if (cost.ns >= fs.cfg.submitQuantumNs) yield* flushCost(fs, k, cost, CR_WCP);
  }
  if (v.submitImmediately || wpc.submitList.length > 0) yield* submitList(fs, k, wpc, plug);
  return p / fp;
}

function holeEndOf(ino: XfsInode, p: number): number {
  const nx = ino.dataFork[XfsInode.after(ino.dataFork, p)];
  return nx === undefined ? ino.eofBlock() : nx.off;
}

/** iomap_alloc_ioend (fs/iomap/buffered-io.c 5.5..6.14; fs/iomap/ioend.c newest): a new ioend with its inline bio. */
export function iomap_alloc_ioend(
  fs: FsModel,
  ino: XfsInode,
  p: number,
  sector: number,
  type: number,
  shared: boolean,
): Ioend {
  const io = new Ioend(fs.nextIoendId++, ino, p, sector, type, shared);
  io.endedTo = p / fs.folioPages;
  ino.liveIoends.add(io);
  io.bios.push(new Bio(io, sector, p, false));
  io.biosPending = 1; // the current bio: completes only after it is submitted
  fs.stats.ioendsBuilt++;
  if (fs.keepIoends) fs.ioends.push(io);
  return io;
}

/** The counters of an ioend with nothing added yet (its capacity before it is allocated). */
const EMPTY_IOEND = { bytes: 0, segments: 0, pages: 0, folios: 0 } as const;
/** A bio with nothing added yet (the capacity of a new ioend's bio before it is allocated). */
const EMPTY_BIO = { bvecs: 0, lastFolio: -1, pages: 0 } as const;

/** Last page + 1 that fits in `bio` from page p (multipage bvecs: one slot per physical run). */
function bioCapacityEnd(
  fs: FsModel,
  pc: PageCache,
  bio: Pick<Bio, "bvecs" | "lastFolio" | "pages">,
  p: number,
  limit: number,
): number {
  const fp = fs.folioPages;
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

/** bio_add_folio (block/bio.c) + folio_start_writeback (mm/page-writeback.c) for pages [p, e) (folio-aligned). */
function addToBio(fs: FsModel, pc: PageCache, io: Ioend, bio: Bio, p: number, e: number): void {
  const fp = fs.folioPages;
  const f0 = p / fp;
  const f1 = e / fp;
  const cont = bio.lastFolio >= 0 && bio.lastFolio + 1 === f0 && !pc.startsRun(f0);
  const newBvecs = pc.runOf(f1 - 1) - pc.runOf(f0) + 1 - (cont ? 1 : 0);
  bio.bvecs += newBvecs;
  bio.pages += e - p;
  bio.lastFolio = f1 - 1;
  io.pages += e - p;
  io.folios += f1 - f0;
  fs.oracle.onStartWriteback(io, f0, pc.startWriteback(f0, f1, !fs.xaSplit));
}

function closeIoend(wpc: Wpc, io: Ioend): void {
  wpc.submitList.push(io);
  if (wpc.ioend === io) wpc.ioend = null;
}

/** iomap_chain_bio (fs/iomap/buffered-io.c 5.16-6.8): chain a new bio and submit the previous one. */
function* iomap_chain_bio(fs: FsModel, k: Ctx, io: Ioend, plug: Plug, cost: SubmitCost): KGen<void> {
  const prev = io.bio;
  // dave-v2: io_segments += bio_segments(prev), which walks single pages (bio_for_each_segment),
  // not the multi-page bvecs
  io.segments += prev.pages;
  prev.chained = true;
  const nb = new Bio(io, prev.sector0 + prev.pages * 8, prev.page0 + prev.pages, false);
  io.bios.push(nb);
  io.biosPending++; // bio_chain: the new bio's __bi_remaining holds the ioend open
  cost.ns += fs.c.bioAllocNs + fs.c.submitBioNs;
  yield* flushCost(fs, k, cost, CR_WCP);
  yield* k.traced("submit_bio", submit_bio(fs, k, prev, plug));
}

/** Submit the ioends closed so far (5.16/5.17 submit_list, or at once in 6.9+ 410bb2ce6111). */
export function* submitList(fs: FsModel, k: Ctx, wpc: Wpc, plug: Plug): KGen<void> {
  while (wpc.submitList.length > 0) {
    const io = wpc.submitList.shift()!;
    yield* k.traced("iomap_submit_ioend", iomap_submit_ioend(fs, k, io, plug));
  }
}

/**
 * iomap_submit_ioend + xfs_prepare_ioend (fs/iomap/buffered-io.c, fs/xfs/xfs_aops.c 5.16-6.14;
 * xfs_writeback_submit newest): choose the end_io, then submit the ioend's current bio.
 */
export function* iomap_submit_ioend(fs: FsModel, k: Ctx, io: Ioend, plug: Plug): KGen<void> {
  const ino = io.inode;
  // an ioend exists only once a block of a locked, dirty folio was added to it (iomap_add_to_ioend)
  if (io.pages === 0) throw new Error(`model bug: ioend ${io.id} of inode ${ino.ino} submitted empty`);
  io.append = io.end * 4096 > ino.diskSize;
  const v = fs.v;
  io.toWq =
    fs.cfg.fsKind === "xfs" &&
    (io.shared ||
      io.type === IOMAP_UNWRITTEN ||
      io.append ||
      (v.largeIoendToWqBytes > 0 && io.bytes >= v.largeIoendToWqBytes));
  if (io.shared) yield fs.m.jit(fs.c.cowRemapTxnNs / 4); // xfs_reflink_convert_cow
  io.segments += io.bio.pages; // dave-v2: bio_segments(io_bio) at submission
  io.phase = IOEND_SUBMITTED;
  io.tSubmit = fs.m.now;
  const s = fs.stats;
  s.ioendPagesMax = Math.max(s.ioendPagesMax, io.pages);
  s.ioendFoliosMax = Math.max(s.ioendFoliosMax, io.folios);
  s.ioendBiosMax = Math.max(s.ioendBiosMax, io.bios.length);
  s.ioendPagesSum += io.pages;
  s.ioendBiosSum += io.bios.length;
  fs.oracle.onIoendSubmit(k, io);
  fs.m.emit("model", k.cpu.id, "ioend_submit", `ioend ${io.id} ino ${ino.ino}`, io.pages, io.bios.length);
  yield fs.m.jit(fs.c.submitBioNs);
  yield* k.traced("submit_bio", submit_bio(fs, k, io.bio, plug));
  pageCounters(fs);
}

/** Context names for reports. */
export function ctxName(kind: number): string {
  return kind === CTX_HARDIRQ ? "hardirq" : kind === CTX_SOFTIRQ ? "softirq" : "task";
}

/** iomap_writepage_end_bio (fs/iomap/buffered-io.c 5.16-6.14): finish inline in bio completion context. */
export function* iomap_writepage_end_bio(fs: FsModel, k: Ctx, io: Ioend): KGen<void> {
  fs.stats.ioendsInline++;
  const ns = yield* k.call("iomap_finish_ioend", iomap_finish_ioend(fs, k, io, false));
  fs.stats.addCompletionCpu(io.inode.ino, ns);
  fs.stats.noteInline(ctxName(k.kind), ns);
}

/** iomap_finish_ioends (fs/iomap/buffered-io.c 5.16-6.14, fs/iomap/ioend.c newest). */
export function* iomap_finish_ioends(fs: FsModel, k: Ctx, run: Ioend[]): KGen<void> {
  const v = fs.v;
  if (v.finishIoendsMightSleep) {
    fs.stats.completionReschedCalls++;
    yield MS_FINISH_IOENDS;
  }
  const rule = v.finishIoendsResched;
  let count = 0;
  for (let i = 0; i < run.length; i++) {
    const io = run[i]!;
    if (i > 0) {
      if (rule.kind === "per-ioend") {
        fs.stats.completionReschedCalls++;
        yield CR_FINISH_IOENDS;
      } else if (rule.kind === "count" && count > rule.limit) {
        fs.stats.completionReschedCalls++;
        yield CR_FINISH_IOENDS;
        count = 0;
      }
    }
    yield* k.call("iomap_finish_ioend", iomap_finish_ioend(fs, k, io, true));
    if (rule.kind === "count") count += finishCount(rule.unit, io, fs.folioPages);
  }
}

/**
 * iomap_finish_ioend (fs/iomap/buffered-io.c; iomap_finish_ioend_buffered newest): walk the bios and
 * end writeback on every page (<= 5.16) or folio (5.17+), waking waiters. Returns the CPU ns charged.
 * `nonAtomic`: called from the workqueue (brian's series passes this down).
 */
export function* iomap_finish_ioend(fs: FsModel, k: Ctx, io: Ioend, nonAtomic: boolean): KGen<number> {
  const v = fs.v;
  const c = fs.c;
  const pc = io.inode.pc;
  const fp = fs.folioPages;
  const error = io.status !== 0;
  fs.finishing++;
  let charged = 0;
  let bvecs = 0;
  for (const b of io.bios) bvecs += b.bvecs;
  const fixed = c.ioendOverheadNs + bvecs * c.bioWalkPerBvecNs;
  charged += fixed;
  yield fs.m.jit(fixed);
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
    const unitNs = folioCost(fs);
    const perFolioNs = perPage ? unitNs * fp : unitNs;
    const e = finishChunkEnd(fs, f, f1, perFolioNs, crEvery, sinceCr);
    // __folio_end_writeback (end_page_writeback per page <= 5.16): mapping->i_pages xa_lock_irqsave
    // per unit, contended by submission (folio_start_writeback, tagging) on other CPUs
    const units = perPage ? (e - f) * fp : e - f;
    const unit = perPage ? unitNs : perFolioNs;
    const lk = spinLockLoop(
      k,
      io.inode.iPages,
      END_WRITEBACK_SITE,
      fs.m.now,
      units,
      c.iPagesEndHoldNs,
      Math.max(0, unit - c.iPagesEndHoldNs - io.inode.iPages.line.costs.atomicLocalNs),
    );
    const ns = (e - f) * perFolioNs + lk.extraNs;
    charged += ns;
    yield fs.m.jit(ns);
    fs.oracle.onEndWriteback(k, io, pc.endWriteback(f, e, error, !fs.xaSplit));
    const waitersCleared = pc.lastWaitersCleared;
    const waking = fs.waitSplit ? { ino: io.inode, lo: f, hi: e } : null;
    if (waking !== null) fs.waking.push(waking);
    io.endedTo = e;
    // __folio_end_writeback's __xa_clear_mark(PAGECACHE_TAG_WRITEBACK), two steps with an i_pages site off
    if (fs.xaSplit) yield* xa_marks_rmw(k, io.inode, END_WRITEBACK_SITE, f, e, TAG_WRITEBACK, pc.endMarksFn);
    if (waitersCleared > 0) {
      // folio_wake_bit for each folio whose PG_waiters was set: hashed head lock, walk, wake
      for (const wf of fs.waitTable.waitedFolios(io.inode, f, e))
        charged += yield* folio_wake_bit(fs, k, io.inode, wf);
    }
    if (waking !== null) fs.waking.splice(fs.waking.indexOf(waking), 1);
    sinceCr += e - f;
    f = e;
    if (crEvery > 0 && sinceCr >= crEvery) {
      sinceCr = 0;
      fs.stats.completionReschedCalls++;
      yield cr;
    }
  }
  io.phase = IOEND_FINISHED;
  io.inode.liveIoends.delete(io);
  fs.finishing--;
  pageCounters(fs);
  io.tFinished = fs.m.now;
  fs.m.emit(
    "model",
    k.cpu.id,
    "ioend_complete",
    `ioend ${io.id} ino ${io.inode.ino}`,
    io.pages,
    io.tFinished - io.tDeviceDone,
  );
  fs.stats.deviceToClearNs.recordValue(Math.max(1, io.tFinished - io.tDeviceDone));
  wakeThrottled(fs);
  for (const t of fs.progressWaiters.splice(0)) fs.m.wakeUpProcess(t);
  if (fs.onProgress !== null) fs.onProgress();
  return charged;
}

/** Per-folio completion CPU, uncontended (the i_pages lock adds its contention separately). */
function folioCost(fs: FsModel): number {
  const c = fs.c;
  const base = c.folioEndWritebackNs;
  if (fs.folioPages === 1) return base;
  return base + c.largeFolioExtraNs + c.largeFolioPerPageNs * fs.folioPages;
}
