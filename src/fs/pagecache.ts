// Page-cache state of one file: per-folio flag bytes in a typed array, and the physical placement of
// the folios as runs of contiguous page frames (which decides multipage-bvec merging, block/bio.c bvec_try_merge_page, v5.1+).
// No per-page objects: every operation is a range loop over the flag array.
import type { Rng } from "../sim/prng.js";

/** PG_dirty / PAGECACHE_TAG_DIRTY (mm/filemap.c: the page flag and the xarray mark move together). */
export const PG_DIRTY = 1;
/** PAGECACHE_TAG_TOWRITE (tag_pages_for_writeback). */
export const TAG_TOWRITE = 2;
/** PG_writeback / PAGECACHE_TAG_WRITEBACK. */
export const PG_WRITEBACK = 4;
/** PG_waiters: some task sleeps in folio_wait_bit on this folio. */
export const PG_WAITERS = 8;
/** PG_error (5.16/5.17: set on a failed write). */
export const PG_ERROR = 16;
/** In the page cache at all. */
export const PG_PRESENT = 32;
/**
 * PAGECACHE_TAG_WRITEBACK, the xarray mark filemap_fdatawait_range looks folios up by. It moves with
 * PG_writeback under mapping->i_pages (__folio_start_writeback, __folio_end_writeback); only with
 * an i_pages lock site off can the two differ (FsModel.xaSplit).
 */
export const TAG_WRITEBACK = 64;
/** XA_CHUNK_SIZE (include/linux/xarray.h, XA_CHUNK_SHIFT 6): slots per xa_node, bits per mark word. */
export const XA_CHUNK_SIZE = 64;

export class PageCache {
  /** Flag byte per folio. */
  readonly flags: Uint8Array;
  nrDirty = 0;
  nrWriteback = 0;
  /** Folios with PG_WAITERS set (so completion scans for waiters only when there are any). */
  nrWaiters = 0;
  /** PG_WAITERS bits the last endWriteback cleared (the folios whose waiters must be woken). */
  lastWaitersCleared = 0;
  /** Folio index of the first folio of each physically contiguous run; runStart[0] = 0. */
  readonly runStart: Float64Array;
  readonly nrRuns: number;

  constructor(
    readonly nrFolios: number,
    /** Pages per folio (1 << folio order). */
    readonly folioPages: number,
    /** Mean folios per physically contiguous run (geometric). 1 = fully fragmented memory. */
    physRunFolios: number,
    rng: Rng,
  ) {
    if (!Number.isInteger(nrFolios) || nrFolios < 1) throw new RangeError(`PageCache: nrFolios ${nrFolios}`);
    this.flags = new Uint8Array(nrFolios);
    const starts: number[] = [0];
    if (physRunFolios <= 1) {
      // every folio is its own run: represent implicitly (runStart[i] = i)
      this.nrRuns = nrFolios;
      this.runStart = new Float64Array(0);
    } else {
      let at = 0;
      for (let guard = 0; guard < nrFolios; guard++) {
        const len = Math.max(1, Math.round(rng.exp(physRunFolios)));
        at += len;
        if (at >= nrFolios) break;
        starts.push(at);
      }
      this.runStart = Float64Array.from(starts);
      this.nrRuns = starts.length;
    }
  }

  /** Index of the physical run containing folio `f` (binary search). */
  runOf(f: number): number {
    if (this.runStart.length === 0) return f;
    const rs = this.runStart;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (rs[mid]! <= f) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** First folio of run `r` (nrFolios past the last run). */
  runFirst(r: number): number {
    if (r >= this.nrRuns) return this.nrFolios;
    return this.runStart.length === 0 ? r : this.runStart[r]!;
  }

  /** Is folio `f` the first folio of a physical run (cannot merge into the previous folio's bvec)? */
  startsRun(f: number): boolean {
    if (this.runStart.length === 0) return true;
    return this.runStart[this.runOf(f)] === f;
  }

  /** Every DIRTY (and TOWRITE) folio lies in [dirtyLo, dirtyHi); every WRITEBACK one in [wbLo, wbHi). */
  private dirtyLo = Number.POSITIVE_INFINITY;
  private dirtyHi = 0;
  private wbLo = Number.POSITIVE_INFINITY;
  private wbHi = 0;

  /**
   * First folio in [from, to) with any of `bits` set, or -1. Scans only inside the bounds of the
   * dirty or writeback folios and tightens them, so repeated cyclic scans of a huge, mostly clean
   * file stay cheap.
   */
  findSet(from: number, to: number, bits: number): number {
    const fl = this.flags;
    const dirtyScan = (bits & ~(PG_DIRTY | TAG_TOWRITE)) === 0;
    const wbScan = bits === TAG_WRITEBACK;
    let lo = from;
    let hi = to;
    if (dirtyScan) {
      lo = Math.max(from, this.dirtyLo);
      hi = Math.min(to, this.dirtyHi);
    } else if (wbScan) {
      lo = Math.max(from, this.wbLo);
      hi = Math.min(to, this.wbHi);
    }
    let found = -1;
    for (let i = lo; i < hi; i++) {
      if ((fl[i]! & bits) !== 0) {
        found = i;
        break;
      }
    }
    if (dirtyScan && (bits & PG_DIRTY) !== 0) {
      if (from <= this.dirtyLo) {
        if (found >= 0) this.dirtyLo = found;
        else if (to >= this.dirtyHi) {
          this.dirtyLo = Number.POSITIVE_INFINITY;
          this.dirtyHi = 0;
        }
      }
    } else if (wbScan && from <= this.wbLo) {
      if (found >= 0) this.wbLo = found;
      else if (to >= this.wbHi) {
        this.wbLo = Number.POSITIVE_INFINITY;
        this.wbHi = 0;
      }
    }
    return found;
  }

  /** End of the run of folios from `from` (< to) that all have `need` set and none of `stop`. */
  runEnd(from: number, to: number, need: number, stop: number): number {
    const fl = this.flags;
    let i = from;
    while (i < to) {
      const x = fl[i]!;
      if ((x & need) === 0 || (x & stop) !== 0) break;
      i++;
    }
    return i;
  }

  /** filemap_dirty_folio (mm/page-writeback.c 5.18+; __set_page_dirty_nobuffers before) over [from, to): returns folios newly dirtied. */
  dirtyRange(from: number, to: number): number {
    const fl = this.flags;
    let n = 0;
    for (let i = from; i < to; i++) {
      const x = fl[i]!;
      if ((x & PG_DIRTY) === 0) n++;
      fl[i] = x | PG_DIRTY | PG_PRESENT;
    }
    this.nrDirty += n;
    if (to > from) {
      if (from < this.dirtyLo) this.dirtyLo = from;
      if (to > this.dirtyHi) this.dirtyHi = to;
    }
    return n;
  }

  /** tag_pages_for_writeback (mm/page-writeback.c, all versions in scope): DIRTY -> TOWRITE over [from, to); returns folios tagged. */
  tagRange(from: number, to: number): number {
    const fl = this.flags;
    let n = 0;
    // only dirty folios are tagged, and every one lies in [dirtyLo, dirtyHi) (the xarray walks the
    // DIRTY mark, not every index)
    const lo = Math.max(from, this.dirtyLo);
    const hi = Math.min(to, this.dirtyHi);
    let first = -1;
    let last = -1;
    for (let i = lo; i < hi; i++) {
      const x = fl[i]!;
      if ((x & (PG_DIRTY | TAG_TOWRITE)) !== 0) {
        if (first < 0) first = i;
        last = i;
      }
      if ((x & PG_DIRTY) !== 0 && (x & TAG_TOWRITE) === 0) {
        fl[i] = x | TAG_TOWRITE;
        n++;
      }
    }
    // the scan saw every dirty folio of [lo, hi): tighten the bounds to what it found
    if (lo === this.dirtyLo && hi === this.dirtyHi) {
      if (first < 0) {
        this.dirtyLo = Number.POSITIVE_INFINITY;
        this.dirtyHi = 0;
      } else {
        this.dirtyLo = first;
        this.dirtyHi = last + 1;
      }
    }
    return n;
  }

  /**
   * folio_clear_dirty_for_io + folio_start_writeback (mm/page-writeback.c 5.16+; the page versions
   * before) over [from, to) (all dirty, none under writeback
   * by construction of the caller's run). Returns the number of folios that were already under
   * writeback (invariant 1 violations; 0 when the model is right).
   */
  startWriteback(from: number, to: number, marks = true): number {
    const fl = this.flags;
    let bad = 0;
    let cleaned = 0;
    // with `marks` false only PG_writeback is set: startMarks clears the DIRTY (flag and mark) and
    // TOWRITE marks and sets the WRITEBACK mark a step later (xa_marks_rmw), so that in between the
    // folio keeps the DIRTY mark a tagger walks, as the kernel's does until __folio_start_writeback
    const clear = marks ? PG_DIRTY | TAG_TOWRITE : 0;
    const set = marks ? PG_WRITEBACK | TAG_WRITEBACK : PG_WRITEBACK;
    for (let i = from; i < to; i++) {
      const x = fl[i]!;
      if ((x & PG_WRITEBACK) !== 0) bad++;
      if ((x & clear & PG_DIRTY) !== 0) cleaned++;
      fl[i] = (x & ~clear) | set;
    }
    if (marks && this.syncPending.length > 0) this.dropPending(from, to);
    this.nrDirty -= cleaned;
    this.nrWriteback += to - from - bad;
    if (to > from) {
      if (from < this.wbLo) this.wbLo = from;
      if (to > this.wbHi) this.wbHi = to;
    }
    return bad;
  }

  /** startMarks and endMarks bound to this page cache (xa_marks_rmw's `apply`). */
  readonly startMarksFn = (a: number, b: number): void => this.startMarks(a, b);
  readonly endMarksFn = (a: number, b: number): void => this.endMarks(a, b);

  /** __folio_start_writeback's mark updates over [from, to) (after startWriteback(.., false)). */
  startMarks(from: number, to: number): void {
    const fl = this.flags;
    let cleaned = 0;
    for (let i = from; i < to; i++) {
      const x = fl[i]!;
      if ((x & PG_DIRTY) !== 0) cleaned++;
      fl[i] = (x & ~(PG_DIRTY | TAG_TOWRITE)) | TAG_WRITEBACK;
    }
    this.nrDirty -= cleaned;
    if (this.syncPending.length > 0) this.dropPending(from, to);
  }

  /** __folio_end_writeback's __xa_clear_mark(PAGECACHE_TAG_WRITEBACK) over [from, to). */
  endMarks(from: number, to: number): void {
    const fl = this.flags;
    for (let i = from; i < to; i++) fl[i] = fl[i]! & ~TAG_WRITEBACK;
  }

  /** Folios with PG_WAITERS in [from, to) (scanned only when nrWaiters > 0). */
  countWaiters(from: number, to: number): number {
    if (this.nrWaiters === 0) return 0;
    const fl = this.flags;
    let n = 0;
    for (let i = from; i < to; i++) if ((fl[i]! & PG_WAITERS) !== 0) n++;
    return n;
  }

  /**
   * folio_end_writeback (mm/filemap.c 5.16+; end_page_writeback before) over [from, to): clear PG_writeback (and PG_waiters: the waker clears it when
   * no waiter is left; every waiter of these folios is woken). Sets PG_error when `error`.
   * Returns the number of folios that were NOT under writeback (invariant 1 violations).
   */
  endWriteback(from: number, to: number, error: boolean, marks = true): number {
    const fl = this.flags;
    let bad = 0;
    let waiters = 0;
    const clear = marks ? PG_WRITEBACK | TAG_WRITEBACK | PG_WAITERS : PG_WRITEBACK | PG_WAITERS;
    const set = error ? PG_ERROR : 0;
    for (let i = from; i < to; i++) {
      const x = fl[i]!;
      if ((x & PG_WRITEBACK) === 0) bad++;
      if ((x & PG_WAITERS) !== 0) waiters++;
      fl[i] = (x & ~clear) | set;
    }
    this.nrWriteback -= to - from - bad;
    this.nrWaiters -= waiters;
    this.lastWaitersCleared = waiters;
    return bad;
  }

  /**
   * The folio runs [lo, hi) (flat pairs) that each fsync in progress must see submitted before it
   * returns: the dirty folios when its tag_pages_for_writeback ran. startWriteback removes what it
   * starts (the data-integrity check, FsOracle.onFsyncReturn).
   */
  readonly syncPending: number[][] = [];

  /** The runs of dirty folios in [from, to), as flat [lo, hi) pairs. */
  dirtyRuns(from: number, to: number): number[] {
    const fl = this.flags;
    const out: number[] = [];
    const lo = Math.max(from, this.dirtyLo);
    const hi = Math.min(to, this.dirtyHi);
    let start = -1;
    for (let i = lo; i < hi; i++) {
      const d = (fl[i]! & PG_DIRTY) !== 0;
      if (d && start < 0) start = i;
      else if (!d && start >= 0) {
        out.push(start, i);
        start = -1;
      }
    }
    if (start >= 0) out.push(start, hi);
    return out;
  }

  /** Remove [from, to) from every pending sync snapshot. */
  private dropPending(from: number, to: number): void {
    for (const runs of this.syncPending) {
      let w = 0;
      const n = runs.length;
      const out: number[] = [];
      for (let r = 0; r < n; r += 2) {
        const a = runs[r]!;
        const b = runs[r + 1]!;
        if (b <= from || a >= to) out.push(a, b);
        else {
          if (a < from) out.push(a, from);
          if (b > to) out.push(to, b);
        }
      }
      for (const x of out) runs[w++] = x;
      runs.length = w;
    }
  }

  /** Mark a waiter on folio f (folio_wait_bit_common sets PG_waiters). */
  setWaiter(f: number): void {
    const x = this.flags[f]!;
    if ((x & PG_WAITERS) === 0) {
      this.flags[f] = x | PG_WAITERS;
      this.nrWaiters++;
    }
  }
}

/** Build run lengths for fully written/prefilled files with a given contiguity: exported for tests. */
export function meanRunFolios(physRunBytes: number, folioBytes: number): number {
  return Math.max(1, physRunBytes / folioBytes);
}
