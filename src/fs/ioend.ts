// struct iomap_ioend and struct bio as ranges (include/linux/iomap.h, include/linux/blk_types.h).
// An ioend covers a logically contiguous folio range that was physically contiguous at submission;
// its bios are consecutive pieces of that range.
import type { XfsInode } from "./inode.js";
import type { IomapVariant } from "./variant.js";

export const IOEND_BUILDING = 0;
export const IOEND_SUBMITTED = 1;
export const IOEND_DEVICE_DONE = 2;
export const IOEND_QUEUED = 3;
export const IOEND_FINISHED = 4;

/** BIO_MAX_VECS (include/linux/bio.h, v5.12+; BIO_MAX_PAGES before). */
export const BIO_MAX_VECS = 256;
/** UINT_MAX bytes per bio (bio_full / BIO_MAX_SIZE), in 4 KiB pages. */
export const BIO_MAX_PAGES_BYTES_LIMIT = Math.floor(0xffffffff / 4096);

export class Bio {
  /** Pages added. */
  pages = 0;
  /** Bvecs used (a physically contiguous run of folios shares one bvec). */
  bvecs = 0;
  /** Last folio added (for bvec merging), -1 when empty. */
  lastFolio = -1;
  /** bi_iter.bi_sector now: split-advanced at dispatch, remapped and bio_advance'd at completion (dave-v1/v2 read it). */
  sectorNow: number;
  nrRequests = 0;
  status = 0;
  done = false;
  /** Trace flow from submit_bio to the completion, 0: none. */
  flow = 0;

  constructor(
    readonly ioend: Ioend,
    /** Start sector (512 B units) at allocation. */
    readonly sector0: number,
    /** First file page. */
    readonly page0: number,
    /** Chained (bi_end_io = bio_chain_endio) rather than the ioend's own end_io bio. */
    public chained: boolean,
  ) {
    this.sectorNow = sector0;
  }

  get bytes(): number {
    return this.pages * 4096;
  }
}

export class Ioend {
  /** Blocks (pages) added: io_size >> 12. */
  pages = 0;
  /** io_folios (5.17) / wpc->nr_folios (newest): folios whose block loop ended while this ioend was open. */
  folios = 0;
  /** io_segments (dave-v2): bvecs of the bios already chained or submitted. */
  segments = 0;
  readonly bios: Bio[] = [];
  biosPending = 0;
  status = 0;
  phase = IOEND_BUILDING;
  /** IOMAP_F_SHARED */
  shared: boolean;
  /** Decided at submission (xfs_prepare_ioend): offset + size > i_disk_size. */
  append = false;
  /** bi_end_io chosen at submission: true = xfs_end_bio (workqueue), false = iomap_writepage_end_bio. */
  toWq = false;
  tSubmit = -1;
  tDeviceDone = -1;
  tFinished = -1;
  /** Head of the merged run this ioend was completed in (its own id when head). */
  mergedInto = -1;
  /** Folio index up to which iomap_finish_ioend has ended writeback (the ioend's first folio before). */
  endedTo = 0;
  /** CPU whose completion context finished the bios. */
  doneCpu = -1;

  constructor(
    readonly id: number,
    readonly inode: XfsInode,
    /** io_offset in pages. */
    readonly offset: number,
    /** io_sector (512 B units), fixed at creation. */
    readonly sector: number,
    /** IOMAP_MAPPED or IOMAP_UNWRITTEN. */
    readonly type: number,
    shared: boolean,
  ) {
    this.shared = shared;
  }

  get end(): number {
    return this.offset + this.pages;
  }

  /** bio_end_sector(io_bio) in sectors: where the next block must start to be physically contiguous. */
  get endSector(): number {
    return this.sector + this.pages * 8;
  }

  get bytes(): number {
    return this.pages * 4096;
  }

  /** The ioend's current (last) bio. */
  get bio(): Bio {
    return this.bios[this.bios.length - 1]!;
  }
}

/**
 * How many more pages the open ioend may take before the variant's cap makes
 * iomap_can_add_to_ioend fail (fs/iomap/buffered-io.c 5.16..6.8, fs/iomap/ioend.c newest).
 * Infinity = no cap. 0 = start a new ioend now.
 */
export function ioendCapacityPages(
  v: IomapVariant,
  io: Pick<Ioend, "bytes" | "segments" | "pages" | "folios">,
  folioPages: number,
): number {
  const cap = v.ioendCap;
  switch (cap.kind) {
    case "none":
      return Number.POSITIVE_INFINITY;
    case "bytes":
      return io.bytes >= cap.limit ? 0 : Math.ceil((cap.limit - io.bytes) / 4096);
    case "segments":
      return io.segments >= cap.limit ? 0 : Number.POSITIVE_INFINITY;
    case "pages":
      return io.pages >= cap.limit ? 0 : cap.limit - io.pages;
    case "folios":
      return io.folios >= cap.limit ? 0 : (cap.limit - io.folios) * folioPages;
  }
}

/** The count iomap_finish_ioends accumulates for its resched rule. */
export function finishCount(unit: "segments" | "pages" | "folios", io: Ioend, folioPages: number): number {
  if (unit === "segments") return io.segments;
  if (unit === "pages") return io.pages;
  return Math.ceil(io.pages / folioPages);
}

/**
 * iomap_ioend_can_merge (fs/iomap/buffered-io.c 5.16..6.14, fs/iomap/ioend.c newest). `head` has
 * the cumulative size of the run so far (`runPages`).
 */
export function ioendCanMerge(v: IomapVariant, head: Ioend, runPages: number, next: Ioend): boolean {
  if (head.status !== next.status) return false;
  if (head.shared !== next.shared) return false;
  if (head.type !== next.type) return false;
  if (head.offset + runPages !== next.offset) return false;
  if (v.mergePhysical === "io-sector") {
    if (head.sector + runPages * 8 !== next.sector) return false;
  } else if (v.mergePhysical === "bio-sector") {
    // dave-v1/v2: the inline bios' bi_sector at completion (split, md-remapped, bio_advance'd),
    // not where the ioend was written: io_sector (V4) fixed this
    const a = head.bios[0]!.sectorNow;
    const b = next.bios[0]!.sectorNow;
    if (a + runPages * 8 !== b) return false;
  }
  return true;
}
