// The invariants of the writeback model (docs/fs.md "Invariants"), beside the model and called through
// hooks from the kernel steps. A broken invariant of the modelled kernel is a finding (`fs:<kind>`),
// counted always and reported up to 5 times per kind; it is not a simulator bug.
//
// Verified (with the hook that checks it):
//   1. writeback ownership: a folio added to an ioend was not under writeback, and a folio ended by
//      a completion was (onStartWriteback, onEndWriteback)          -> fs:writeback_ownership
//   2. i_disk_size <= i_size, moved only by xfs_setfilesize in task context (onSetFileSize, final)
//                                                                   -> fs:disk_size, fs:context
//   3. unwritten/COW conversion only after the data I/O of every ioend of the run completed
//      (onEndIoend)                                                 -> fs:conversion_before_io
//   4. a merged run is logically contiguous with equal status/SHARED/type and, from dave-v1 on,
//      physically contiguous by io_sector (onMergedRun)            -> fs:merge_rule, fs:merge_physical
//   5. the variant's ioend cap (pages or folios, +1 folio for a split folio) (onIoendSubmit)
//                                                                   -> fs:ioend_cap
//   8. i_ioend_work is never pending while i_ioend_list is empty (onQueueWork) -> fs:ioend_work
//  10. data integrity: fsync returns only when every folio dirty at its tagging was submitted and
//      every folio under writeback when its wait began was ended (onFsyncReturn) -> fs:fsync_integrity
//   end of run: no folio left under writeback once the device and the queues are idle
//                                                                   -> fs:writeback_leak
//   end of run: no task asleep on a folio whose PG_writeback is clear    -> lost_wakeup
// Not verified here:
//   6. sleeping in atomic context: the engine's might_sleep/cond_resched checks report it
//      (might_sleep findings), not this file;
//   7. errseq delivery (fsync returns the error once): tested by test/fs, not checked per run;
//   9. determinism: tested by test/scenario/determinism.test.ts;
//   the segments cap of dave-v2 (io_segments is an estimate of the bvecs submitted, see buffered-io);
//   lock ordering and lock-holding rules (src/sync/lockdep covers the locks it knows).
import type { Ctx } from "../sim/index.js";
import { CTX_TASK, TASK_RUNNING, type Task } from "../sim/index.js";
import type { FsModel } from "./fs.js";
import type { XfsInode } from "./inode.js";
import { IOEND_DEVICE_DONE, IOEND_FINISHED, IOEND_QUEUED, type Ioend } from "./ioend.js";
import { PG_WRITEBACK } from "./pagecache.js";

/**
 * Every invariant kind FsOracle.violation reports, as `fs:KIND` (the list above); the order is
 * FS_CHECK_KINDS' (src/check/iomap.ts), which adds lost_wakeup.
 */
export const FS_INVARIANTS = [
  "writeback_ownership",
  "writeback_leak",
  "merge_rule",
  "merge_physical",
  "conversion_before_io",
  "disk_size",
  "context",
  "ioend_cap",
  "ioend_work",
  "fsync_integrity",
] as const;
export type FsInvariantKind = (typeof FS_INVARIANTS)[number];

export class FsOracle {
  private readonly reported = new Map<string, number>();

  constructor(private readonly fs: FsModel) {}

  /** A broken invariant of the modelled kernel: counted always, reported (finding) up to 5 per kind. */
  violation(
    kind: FsInvariantKind,
    k: Ctx | null,
    message: string,
    details: Record<string, number | string | boolean> = {},
  ): void {
    const counts = this.fs.stats.invariantCounts;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const r = this.reported.get(kind) ?? 0;
    if (r >= 5) return;
    this.reported.set(kind, r + 1);
    this.fs.m.report({ kind: `fs:${kind}`, cpus: k === null ? [] : [k.cpu.id], message, details });
  }

  /** Invariant 1 (submission side): `bad` folios of [f0, ...) were already under writeback. */
  onStartWriteback(io: Ioend, f0: number, bad: number): void {
    if (bad > 0)
      // as the kernel reports it: iomap_writepage_map (fs/iomap/buffered-io.c v5.17) checks
      // WARN_ON_ONCE(folio_test_writeback(folio)) right before folio_start_writeback
      this.violation(
        "writeback_ownership",
        null,
        `WARNING at fs/iomap/buffered-io.c iomap_writepage_map: WARN_ON_ONCE(folio_test_writeback(folio)): folio ${f0} of inode ${io.inode.ino} already under writeback, added to ioend ${io.id} (${bad} folios)`,
        {
          ino: io.inode.ino,
          folio: f0,
          count: bad,
        },
      );
  }

  /** Invariant 1 (completion side): `bad` folios were not under writeback when the ioend ended them. */
  onEndWriteback(k: Ctx, io: Ioend, bad: number): void {
    if (bad > 0)
      this.violation(
        "writeback_ownership",
        k,
        // folio_end_writeback (mm/filemap.c v5.17): if (!__folio_end_writeback(folio)) BUG();
        `kernel BUG in folio_end_writeback (mm/filemap.c): ioend ${io.id}: ${bad} folios were not under writeback at completion`,
      );
  }

  /** Invariant 5: the variant's cap held (split folios count once, in the later ioend). */
  onIoendSubmit(k: Ctx, io: Ioend): void {
    const cap = this.fs.v.ioendCap;
    if (cap.kind === "pages" && io.pages > cap.limit + this.fs.folioPages)
      this.violation("ioend_cap", k, `ioend ${io.id} has ${io.pages} pages > ${cap.limit}`);
    if (cap.kind === "folios" && io.folios > cap.limit + 1)
      this.violation("ioend_cap", k, `ioend ${io.id} has ${io.folios} folios > ${cap.limit}`);
  }

  /** Invariant 8: queue_work found i_ioend_work pending although i_ioend_list was empty. */
  onQueueWork(k: Ctx, queued: boolean, ino: number): void {
    if (!queued)
      // as the kernel reports it: xfs_end_bio (fs/xfs/xfs_aops.c v5.16) WARN_ON_ONCE(!queue_work(...))
      this.violation(
        "ioend_work",
        k,
        `WARNING at fs/xfs/xfs_aops.c xfs_end_bio: WARN_ON_ONCE(!queue_work(...)): inode ${ino}: i_ioend_work already pending with an empty i_ioend_list`,
      );
  }

  /** Invariant 4: a merged run is logically contiguous, same status/flags, physically contiguous by io_sector. */
  onMergedRun(k: Ctx, run: Ioend[]): void {
    const s = this.fs.stats;
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
      if (this.fs.v.mergePhysical !== "none" && a.endSector !== b.sector)
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

  /** Invariants 2 (context) and 3: xfs_end_ioend runs in task context, after the I/O of the whole run. */
  onEndIoend(k: Ctx, run: Ioend[], error: boolean): void {
    if (k.kind !== CTX_TASK) this.violation("context", k, "xfs_end_ioend outside task context");
    if (error) return;
    for (const io of run)
      if (io.phase !== IOEND_QUEUED && io.phase !== IOEND_DEVICE_DONE)
        this.violation("conversion_before_io", k, `ioend ${io.id} converted before its I/O completed`);
  }

  /** Invariant 2: xfs_setfilesize never moves i_disk_size past i_size. */
  onSetFileSize(k: Ctx, newSize: number, size: number): void {
    if (newSize > size) this.violation("disk_size", k, `i_disk_size ${newSize} > i_size ${size}`);
  }

  /** A task sleeps on folio f's page_wait_table entry although its PG_writeback is clear and no waker is left. */
  lostWakeup(t: Task, ino: XfsInode, f: number): void {
    this.fs.m.report({
      kind: "lost_wakeup",
      cpus: [t.cpu.id],
      message: `lost wake-up: ${t.comm}:${t.pid} sleeps in folio_wait_writeback on folio ${f} of inode ${ino.ino} although PG_writeback is clear (INFO: task ${t.comm}:${t.pid} blocked for more than 120 seconds)`,
      details: { pid: t.pid, ino: ino.ino, folio: f },
    });
  }

  /** The folios under writeback in ioends of `ino` now: [ioend, first folio past them] pairs. */
  writebackInFlight(ino: XfsInode): [Ioend, number][] {
    const out: [Ioend, number][] = [];
    const fp = this.fs.folioPages;
    for (const io of ino.liveIoends) if (io.pages > 0) out.push([io, (io.offset + io.pages) / fp]);
    return out;
  }

  /**
   * Invariant 10, data integrity: when fsync returns, every folio dirty when its writeback tagged
   * the range has been submitted (`pending`, PageCache.syncPending, emptied by startWriteback), and
   * every folio under writeback when its wait began has been ended (`inFlight`).
   */
  onFsyncReturn(k: Ctx, ino: XfsInode, pending: number[], inFlight: [Ioend, number][]): void {
    const snaps = ino.pc.syncPending;
    const i = snaps.indexOf(pending);
    if (i >= 0) snaps.splice(i, 1);
    if (pending.length > 0)
      this.violation(
        "fsync_integrity",
        k,
        `fsync returned with folio ${pending[0]} of inode ${ino.ino} never written: dirty when tag_pages_for_writeback ran, write_cache_pages did not submit it (its PAGECACHE_TAG_TOWRITE mark was missing)`,
        { ino: ino.ino, folio: pending[0]!, count: countRuns(pending) },
      );
    for (const [io, end] of inFlight)
      if (io.phase !== IOEND_FINISHED && io.endedTo < end) {
        this.violation(
          "fsync_integrity",
          k,
          `fsync returned with folio ${io.endedTo} of inode ${ino.ino} still under writeback (ioend ${io.id}, in flight when filemap_fdatawait_range began): the wait did not find it (its PAGECACHE_TAG_WRITEBACK mark was missing)`,
          { ino: ino.ino, folio: io.endedTo, ioend: io.id },
        );
        break;
      }
  }

  /** End of run: nothing left under writeback once idle; i_disk_size <= i_size; no lost wake-up. */
  finalChecks(): void {
    const fs = this.fs;
    // a task asleep on a page_wait_table entry of a folio whose PG_writeback is clear, with no
    // completion between its clear and its folio_wake_bit: nothing will wake it (khungtaskd's
    // "task blocked for more than N seconds" in a kernel)
    if (fs.finishing === 0)
      for (const h of fs.waitTable.heads)
        for (const e of h.entries)
          if ((e.ino.pc.flags[e.f]! & PG_WRITEBACK) === 0 && e.task.state !== TASK_RUNNING)
            this.lostWakeup(e.task, e.ino, e.f);
    for (const ino of fs.inodes) {
      // every ioend xfs_end_bio queued is processed: one left on i_ioend_list with no work queued
      // or running, or one that no list holds (dropped between list_replace_init and
      // INIT_LIST_HEAD), is never completed and its folios stay under writeback
      const lost = ino.ioendsAdded - ino.ioendsTaken - ino.ioendList.length;
      if (lost > 0)
        this.violation(
          "ioend_work",
          null,
          `inode ${ino.ino}: ${lost} ioends added to i_ioend_list by xfs_end_bio never reached xfs_end_io (${ino.pc.nrWriteback} folios left under writeback)`,
        );
      else if (ino.ioendList.length > 0 && !ino.work!.pending && ino.endIoRunning === 0)
        this.violation(
          "ioend_work",
          null,
          `inode ${ino.ino}: ${ino.ioendList.length} ioends on i_ioend_list but i_ioend_work is neither queued nor running: never completed (${ino.pc.nrWriteback} folios left under writeback)`,
        );
      // (a completion running now, e.g. a run stopped by time inside xfs_end_io, is not a leak; nor
      // is a run the race checker cut at its step budget, e.g. inside write_cache_pages with folios
      // under writeback in an ioend not yet submitted: Machine.cut)
      if (
        ino.pc.nrWriteback !== 0 &&
        !fs.m.cut &&
        fs.allIdle() &&
        ino.endIoRunning === 0 &&
        fs.finishing === 0
      )
        this.violation(
          "writeback_leak",
          null,
          `inode ${ino.ino}: ${ino.pc.nrWriteback} folios left under writeback`,
        );
      if (ino.diskSize > ino.size)
        this.violation("disk_size", null, `inode ${ino.ino}: i_disk_size > i_size`);
    }
  }
}

function countRuns(runs: number[]): number {
  let n = 0;
  for (let r = 0; r < runs.length; r += 2) n += runs[r + 1]! - runs[r]!;
  return n;
}
