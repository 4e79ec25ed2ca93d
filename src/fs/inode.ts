// An XFS inode as the writeback path sees it: i_size, i_disk_size, the data fork of extents
// (delalloc, unwritten, written), the COW fork, the allocation plan (where the allocator will place
// delalloc blocks: the fragmentation generator's output), and the per-inode completion list.
// Units: blocks = 4 KiB pages; folio-aligned.
import type { WorkStruct } from "../sim/workqueue.js";
import { LoopSpinLock } from "../sync/looplock.js";
import { SpinLock } from "../sync/spinlock.js";
import type { Ioend } from "./ioend.js";
import type { PageCache } from "./pagecache.js";

export const EXT_DELALLOC = 0;
export const EXT_UNWRITTEN = 1;
export const EXT_WRITTEN = 2;
export const EXT_NAMES = ["delalloc", "unwritten", "written"] as const;

/** XFS MAXEXTLEN before the large-extent-count work: 2^21 - 1 blocks (fs/xfs/libxfs/xfs_format.h, before v5.19's large extent counts). */
export const MAXEXTLEN = (1 << 21) - 1;

export interface Extent {
  /** File block. */
  off: number;
  len: number;
  /** Physical block (-1 for delalloc). */
  pblk: number;
  state: number;
}

/** iomap types (include/linux/iomap.h). */
export const IOMAP_HOLE = 0;
export const IOMAP_MAPPED = 2;
export const IOMAP_UNWRITTEN = 3;

/** A cached mapping (wpc->iomap). */
export interface IomapMapping {
  off: number;
  len: number;
  pblk: number;
  type: number;
  shared: boolean;
  dataSeq: number;
  cowSeq: number;
}

export class XfsInode {
  /** i_size in bytes. */
  size = 0;
  /** i_disk_size in bytes (moves only at I/O completion, through a transaction). */
  diskSize = 0;
  readonly dataFork: Extent[] = [];
  readonly cowFork: Extent[] = [];
  dataSeq = 0;
  cowSeq = 0;
  /** i_ioend_list */
  readonly ioendList: Ioend[] = [];
  /** mapping->i_pages xa_lock (irq-safe): taken per folio by folio_start_writeback and __folio_end_writeback. */
  readonly iPages: LoopSpinLock;
  /** ip->i_ioend_lock (fs/xfs/xfs_inode.h, v5.2+): guards i_ioend_list (xfs_end_bio, xfs_end_io). */
  readonly ioendLock: SpinLock;
  /** Ioends xfs_end_bio added to i_ioend_list, and ioends xfs_end_io took from it (end-of-run check). */
  ioendsAdded = 0;
  ioendsTaken = 0;
  /** Ioends built and not yet finished (insertion order), for the fsync data-integrity check. */
  readonly liveIoends = new Set<Ioend>();
  /** xfs_end_io runs of this inode now. */
  endIoRunning = 0;
  /** i_ioend_work (one work item per inode, xfs_end_io). */
  work: WorkStruct | null = null;
  /** mapping->writeback_index (folio index). */
  writebackIndex = 0;
  /** __mark_inode_dirty: when it was first dirtied (ns), -1 when clean. */
  dirtiedWhen = -1;
  /** errseq: mapping error generation and the one the file has seen. */
  wbErrSeq = 0;
  wbErrSeen = 0;
  /** Statistics. */
  unwrittenConversions = 0;
  cowRemaps = 0;
  setFileSizeTxns = 0;
  delallocConversions = 0;

  constructor(
    readonly ino: number,
    readonly name: string,
    readonly pc: PageCache,
    /** Physical placement of delalloc blocks when they are allocated (sorted by off). */
    readonly allocPlan: Extent[],
    /** Data-fork delalloc conversions inside EOF produce unwritten extents (v5.8+ a5949d3faedf). */
    readonly delallocToUnwritten: boolean,
  ) {
    this.iPages = new LoopSpinLock("&mapping->i_pages", `i_pages:${ino}`);
    this.ioendLock = new SpinLock("&ip->i_ioend_lock", `i_ioend_lock:${ino}`);
  }

  get folioPages(): number {
    return this.pc.folioPages;
  }

  /** Index of the extent of `fork` containing block b, or -1. */
  static find(fork: Extent[], b: number): number {
    let lo = 0;
    let hi = fork.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = fork[mid]!;
      if (b < e.off) hi = mid - 1;
      else if (b >= e.off + e.len) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** First extent index with off > b. */
  static after(fork: Extent[], b: number): number {
    let lo = 0;
    let hi = fork.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (fork[mid]!.off <= b) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Insert an extent keeping the fork sorted; merges with neighbours of equal state and contiguous pblk. */
  static insert(fork: Extent[], e: Extent): void {
    const i = XfsInode.after(fork, e.off);
    fork.splice(i, 0, e);
    XfsInode.mergeAround(fork, i);
  }

  static mergeAround(fork: Extent[], i: number): void {
    // merge with next
    const cur = fork[i]!;
    const nx = fork[i + 1];
    if (nx !== undefined && XfsInode.mergeable(cur, nx)) {
      cur.len += nx.len;
      fork.splice(i + 1, 1);
    }
    const pv = fork[i - 1];
    if (pv !== undefined && XfsInode.mergeable(pv, cur)) {
      pv.len += cur.len;
      fork.splice(i, 1);
    }
  }

  static mergeable(a: Extent, b: Extent): boolean {
    if (a.state !== b.state || a.off + a.len !== b.off) return false;
    if (a.len + b.len > MAXEXTLEN) return false;
    if (a.state === EXT_DELALLOC) return true;
    return a.pblk + a.len === b.pblk;
  }

  /** Remove [off, off+len) from `fork` (splitting records), returning nothing. */
  static punch(fork: Extent[], off: number, len: number): void {
    const end = off + len;
    for (let i = 0; i < fork.length; i++) {
      const e = fork[i]!;
      const eEnd = e.off + e.len;
      if (eEnd <= off || e.off >= end) continue;
      const pieces: Extent[] = [];
      if (e.off < off) pieces.push({ off: e.off, len: off - e.off, pblk: e.pblk, state: e.state });
      if (eEnd > end)
        pieces.push({
          off: end,
          len: eEnd - end,
          pblk: e.pblk < 0 ? -1 : e.pblk + (end - e.off),
          state: e.state,
        });
      fork.splice(i, 1, ...pieces);
      i += pieces.length - 1;
    }
  }

  /** Blocks in the file (EOF block, rounded up to the folio). */
  eofBlock(): number {
    const blocks = Math.ceil(this.size / 4096);
    const fp = this.folioPages;
    return Math.ceil(blocks / fp) * fp;
  }

  /** Delalloc reservation over holes in [off, off+len) (xfs_buffered_write_iomap_begin). Returns records added. */
  reserveDelalloc(off: number, len: number): number {
    const end = off + len;
    let b = off;
    let added = 0;
    for (let guard = 0; b < end && guard < 1_000_000; guard++) {
      const i = XfsInode.find(this.dataFork, b);
      if (i >= 0) {
        const e = this.dataFork[i]!;
        b = e.off + e.len;
        continue;
      }
      const nx = this.dataFork[XfsInode.after(this.dataFork, b)];
      const holeEnd = Math.min(end, nx === undefined ? end : nx.off);
      XfsInode.insert(this.dataFork, { off: b, len: holeEnd - b, pblk: -1, state: EXT_DELALLOC });
      added++;
      b = holeEnd;
    }
    if (added > 0) this.dataSeq++;
    return added;
  }

  /**
   * xfs_bmapi_convert_delalloc (fs/xfs/xfs_bmap.c, 5.16+): allocate real blocks for the delalloc
   * extent containing `b`, as placed by the allocation plan (at most one plan extent per call).
   * Returns the new extent.
   */
  convertDelalloc(b: number): Extent {
    const i = XfsInode.find(this.dataFork, b);
    const d = this.dataFork[i];
    if (d === undefined || d.state !== EXT_DELALLOC)
      throw new Error(`convertDelalloc: block ${b} not delalloc`);
    const p = this.allocPlan[XfsInode.find(this.allocPlan, b)];
    if (p === undefined) throw new Error(`convertDelalloc: no allocation plan for block ${b}`);
    const start = Math.max(d.off, p.off);
    const end = Math.min(d.off + d.len, p.off + p.len);
    const state = this.delallocToUnwritten ? EXT_UNWRITTEN : EXT_WRITTEN;
    const ne: Extent = { off: start, len: end - start, pblk: p.pblk + (start - p.off), state };
    XfsInode.punch(this.dataFork, start, end - start);
    XfsInode.insert(this.dataFork, ne);
    this.dataSeq++;
    this.delallocConversions++;
    return { ...ne };
  }

  /**
   * xfs_map_blocks (fs/xfs/xfs_aops.c 5.16..newest): the mapping around block b, trimmed to EOF and
   * to the next COW extent. Delalloc is returned as is (the caller converts it).
   */
  lookupMapping(b: number): { ext: Extent | null; holeEnd: number; shared: boolean } {
    const eof = this.eofBlock();
    const ci = this.cowFork.length > 0 ? XfsInode.find(this.cowFork, b) : -1;
    if (ci >= 0) {
      const c = this.cowFork[ci]!;
      return { ext: { ...c, len: Math.min(c.off + c.len, eof) - c.off }, holeEnd: b, shared: true };
    }
    const i = XfsInode.find(this.dataFork, b);
    if (i < 0) {
      const nx = this.dataFork[XfsInode.after(this.dataFork, b)];
      return { ext: null, holeEnd: Math.min(eof, nx === undefined ? eof : nx.off), shared: false };
    }
    const e = this.dataFork[i]!;
    let end = Math.min(e.off + e.len, Math.max(eof, b + 1));
    // trim to the next COW extent so a type change starts a new ioend
    if (this.cowFork.length > 0) {
      const nc = this.cowFork[XfsInode.after(this.cowFork, b)];
      if (nc !== undefined && nc.off < end) end = nc.off;
    }
    return { ext: { off: e.off, len: end - e.off, pblk: e.pblk, state: e.state }, holeEnd: b, shared: false };
  }

  /**
   * xfs_iomap_write_unwritten (fs/xfs/xfs_iomap.c, all versions): convert [off, off+len) to written,
   * one transaction per unwritten record it meets. Returns the number of transactions.
   */
  convertUnwritten(off: number, len: number): number {
    const end = off + len;
    let txns = 0;
    let b = off;
    for (let guard = 0; b < end && guard < 10_000_000; guard++) {
      const i = XfsInode.find(this.dataFork, b);
      if (i < 0) {
        const nx = this.dataFork[XfsInode.after(this.dataFork, b)];
        if (nx === undefined || nx.off >= end) break;
        b = nx.off;
        continue;
      }
      const e = this.dataFork[i]!;
      const segEnd = Math.min(end, e.off + e.len);
      if (e.state === EXT_UNWRITTEN) {
        const piece: Extent = { off: b, len: segEnd - b, pblk: e.pblk + (b - e.off), state: EXT_WRITTEN };
        XfsInode.punch(this.dataFork, b, segEnd - b);
        XfsInode.insert(this.dataFork, piece);
        txns++;
      }
      b = segEnd;
    }
    if (txns > 0) this.dataSeq++;
    this.unwrittenConversions += txns;
    return txns;
  }

  /** xfs_reflink_end_cow (fs/xfs/xfs_reflink.c 4.x..newest): remap COW extents of the range; one transaction each. */
  endCow(off: number, len: number): number {
    const end = off + len;
    let txns = 0;
    for (let i = 0; i < this.cowFork.length; i++) {
      const c = this.cowFork[i]!;
      if (c.off >= end || c.off + c.len <= off) continue;
      const s = Math.max(off, c.off);
      const e = Math.min(end, c.off + c.len);
      XfsInode.punch(this.dataFork, s, e - s);
      XfsInode.insert(this.dataFork, { off: s, len: e - s, pblk: c.pblk + (s - c.off), state: EXT_WRITTEN });
      txns++;
    }
    XfsInode.punch(this.cowFork, off, len);
    if (txns > 0) {
      this.dataSeq++;
      this.cowSeq++;
    }
    this.cowRemaps += txns;
    return txns;
  }

  /** Count the unwritten records overlapping [off, off+len) (transactions the conversion will need). */
  countUnwritten(off: number, len: number): number {
    let n = 0;
    for (const e of this.dataFork)
      if (e.state === EXT_UNWRITTEN && e.off < off + len && e.off + e.len > off) n++;
    return n;
  }
}
