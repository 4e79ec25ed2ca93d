// mm_struct, vm_area_struct and the PTE encoding of the model (include/linux/mm_types.h).
import type { Ctx } from "../sim/task.js";
import { type FootprintHost, trackedArray, trackFields } from "../sim/tracked.js";
import { Atomic } from "../sync/atomic.js";
import { CacheLine } from "../sync/cacheline.js";
import { RwSemaphore } from "../sync/rwsem.js";
import { SpinLock } from "../sync/spinlock.js";

// ---- PTE encoding (Int32): frame << 3 | flags; a swap entry keeps its slot in the frame field.
export const PTE_PRESENT = 1;
export const PTE_WRITE = 2;
export const PTE_SWAP = 4;
export const PTE_SHIFT = 3;
export const pteFrame = (pte: number): number => pte >>> PTE_SHIFT;
export const mkPte = (frame: number, write: boolean): number =>
  (frame << PTE_SHIFT) | PTE_PRESENT | (write ? PTE_WRITE : 0);
export const mkSwapPte = (slot: number): number => (slot << PTE_SHIFT) | PTE_SWAP;

/** Remove the pair [start, end) from a flat list of ranges (no-op when absent). */
export function rangeRemove(list: number[], start: number, end: number): void {
  for (let i = 0; i < list.length; i += 2)
    if (list[i] === start && list[i + 1] === end) {
      list.splice(i, 2);
      return;
    }
}

/** Pages per page table (one split PTE lock each). */
export const PTRS_PER_PTE = 512;
/** Pages covered by one PTE table (PTRS_PER_PTE) and by one PMD table (PTRS_PER_PMD * PTRS_PER_PTE). */
export const PTE_TABLE_SHIFT = 9;
export const PMD_TABLE_SHIFT = 18;

/** The page tables of one mm (src/mm/pgtable.ts allocates and frees them): which PTE and PMD tables exist, and their locks. */
export class PageTables {
  /** One byte per 2 MiB range: its PTE table is installed (pmd_none is false). */
  readonly pte: Uint8Array;
  /** One byte per 1 GiB range: its PMD table is installed (pud_none is false). */
  readonly pmd: Uint8Array;
  /** Split PMD locks, one per PMD table page (pmd_lockptr), made on first use. */
  private readonly pmdLocks: SpinLock[] = [];
  /** mm->page_table_lock (pud_lock and the non-split paths). */
  readonly page_table_lock: SpinLock;
  /** Explore driver: where the table accessors below record ptp:MM:IDX and pmd:MM:IDX (null: timed). */
  host: FootprintHost | null = null;

  constructor(
    readonly mmId: number,
    vaPages: number,
  ) {
    this.pte = new Uint8Array((vaPages >> PTE_TABLE_SHIFT) + 1);
    this.pmd = new Uint8Array((vaPages >> PMD_TABLE_SHIFT) + 1);
    this.page_table_lock = new SpinLock("&mm->page_table_lock", `page_table_lock:${mmId}`);
  }

  /** pmd_lockptr (include/linux/mm.h v6.4, split PMD locks): the lock of the PMD table covering vpn. */
  pmdLock(mmId: number, vpn: number): SpinLock {
    const i = vpn >> PMD_TABLE_SHIFT;
    let l = this.pmdLocks[i];
    if (l === undefined) l = this.pmdLocks[i] = new SpinLock("ptlock", `pmd:${mmId}:${i}`);
    return l;
  }

  /** pmd_none is false for the PTE table covering vpn (a read of ptp:MM:IDX). */
  hasPteTable(vpn: number): boolean {
    const i = vpn >> PTE_TABLE_SHIFT;
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`ptp:${this.mmId}:${i}`, false);
    return this.pte[i] !== 0;
  }

  /** pmd_populate (on) or free_pte_range (off) of PTE table i (a write of ptp:MM:i). */
  setPteTable(i: number, on: boolean): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`ptp:${this.mmId}:${i}`, true);
    this.pte[i] = on ? 1 : 0;
  }

  /** pud_none is false for the PMD table covering vpn (a read of pmd:MM:IDX). */
  hasPmdTable(vpn: number): boolean {
    const i = vpn >> PMD_TABLE_SHIFT;
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`pmd:${this.mmId}:${i}`, false);
    return this.pmd[i] !== 0;
  }

  /** pud_populate of PMD table i (a write of pmd:MM:i). */
  setPmdTable(i: number): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`pmd:${this.mmId}:${i}`, true);
    this.pmd[i] = 1;
  }

  /** Mark the tables of [start, end) present without a fault (fork's copy, mremap's move). */
  populate(start: number, end: number): void {
    if (start >= end) return;
    const h = this.host;
    if (h !== null && h.footprint !== null) {
      for (let i = start >> PTE_TABLE_SHIFT; i <= (end - 1) >> PTE_TABLE_SHIFT; i++)
        h.footprint.touch(`ptp:${this.mmId}:${i}`, true);
      for (let i = start >> PMD_TABLE_SHIFT; i <= (end - 1) >> PMD_TABLE_SHIFT; i++)
        h.footprint.touch(`pmd:${this.mmId}:${i}`, true);
    }
    for (let i = start >> PTE_TABLE_SHIFT; i <= (end - 1) >> PTE_TABLE_SHIFT; i++) this.pte[i] = 1;
    for (let i = start >> PMD_TABLE_SHIFT; i <= (end - 1) >> PMD_TABLE_SHIFT; i++) this.pmd[i] = 1;
  }
}

/** End of the page-table page that holds `vpn`, capped at `end` (the chunk every PTE walker takes: pmd_addr_end). */
export function pteChunkEnd(vpn: number, end: number): number {
  return Math.min(end, (Math.floor(vpn / PTRS_PER_PTE) + 1) * PTRS_PER_PTE);
}

/** Is any PTE of [c, ce) non-zero (mask -1) or does any have a bit of `mask` set? Walkers skip empty tables. */
export function ptesAny(pte: Int32Array, c: number, ce: number, mask = -1): boolean {
  for (let v = c; v < ce; v++) if (pte[v]! & mask) return true;
  return false;
}

// ---- vm_flags
export const VM_READ = 1;
export const VM_WRITE = 2;
export const VM_EXEC = 4;
export const VM_SHARED = 8;
export const VM_GROWSDOWN = 0x100;
export const VM_UFFD_MISSING = 0x200;
export const VM_DONTCOPY = 0x20000;

/** D2: VM_REFCNT_EXCLUDE_READERS_FLAG (VMA_LOCK_OFFSET in 6.15-6.19). */
export const VM_REFCNT_EXCLUDE_READERS_FLAG = 1 << 30;
export const VM_REFCNT_LIMIT = VM_REFCNT_EXCLUDE_READERS_FLAG - 1;

export const VMA_LIVE = 0;
export const VMA_RCU_PENDING = 1;
export const VMA_FREE = 2;

/** A file for file-backed mappings: its page cache maps page index -> frame + 1. */
export class MmFile {
  pages: Int32Array;
  constructor(
    readonly id: number,
    readonly name: string,
    npages: number,
  ) {
    this.pages = new Int32Array(npages);
  }
}

/** vm_area_struct; objects come from a slab and are recycled (see VmaSlab). */
export class Vma {
  /** Slab object id (stable across reuse; for reports). */
  readonly id: number;
  // The shared fields (VMA_TRACKED) are declared here and set in the constructor, so that the
  // explore driver's TrackedVma can give them accessors on its prototype that record vma:ID.
  declare start: number;
  declare end: number;
  declare flags: number;
  declare file: MmFile | null;
  declare pgoff: number;
  /** anon_vma id, 0 = NULL. */
  declare anon_vma: number;
  /** anon_vma_chain: the anon_vmas this VMA is linked to (ids; src/mm/rmap.ts). */
  readonly anon_vma_chain: number[] = [];
  /** vm_policy: a mempolicy id, 0 = NULL (the task/default policy; src/mm/mempolicy.ts). */
  declare vm_policy: number;
  declare vm_mm: MmStruct | null;
  declare vm_lock_seq: number;
  /**
   * The VMA's first cache line: vm_start, vm_end, vm_mm, vm_page_prot, vm_flags, vm_lock_seq (and
   * 6.4's vm_lock pointer and detached flag) (include/linux/mm_types.h v6.4, v6.15 struct
   * vm_area_struct). Faults read it; writers store to it.
   */
  readonly line = new CacheLine();
  /**
   * D1 (6.4-6.14): struct vma_lock, a separate slab allocation holding the rw_semaphore
   * (c7f8f31c00d1 "mm: separate vma->lock from vm_area_struct", patch 33/33 of the 6.4 series: the
   * count and owner words, updated by every fault, bounced the line that holds the fields page
   * faults read). Allocated with the VMA (vma_lock_alloc in vm_area_alloc / vm_area_dup).
   */
  vm_lock: RwSemaphore;
  declare detached: boolean;
  /**
   * D2 (6.15+): refcount_t vm_refcnt, ____cacheline_aligned_in_smp inside the VMA (include/linux/
   * mm_types.h v6.15): 0 detached, 1 attached, +1 per reader, VM_REFCNT_EXCLUDE_READERS_FLAG while
   * a writer or detacher excludes readers.
   */
  readonly refcnt: Atomic;
  // lifecycle and oracle
  declare state: number;
  /** Bumped at every allocation from the slab (detects reuse). */
  incarnation = 0;
  /** Generation: bumped by every modification (oracle for readers). */
  declare gen: number;
  /** Threads using the VMA under a VMA read lock (or with the read site disabled). */
  readers = 0;

  constructor(id: number) {
    this.id = id;
    this.start = 0;
    this.end = 0;
    this.flags = 0;
    this.file = null;
    this.pgoff = 0;
    this.anon_vma = 0;
    this.vm_policy = 0;
    this.vm_mm = null;
    this.vm_lock_seq = -1;
    this.detached = false;
    this.state = VMA_LIVE;
    this.gen = 0;
    this.vm_lock = newVmaLock(id);
    this.refcnt = new Atomic("vm_refcnt", `vm_refcnt:${id}`);
  }

  get vm_refcnt(): number {
    return this.refcnt.value;
  }
  set vm_refcnt(n: number) {
    this.refcnt.value = n;
  }

  get anonymous(): boolean {
    return this.file === null;
  }

  describe(): string {
    return `vma#${this.id}[${hex(this.start)}-${hex(this.end)})`;
  }
}

/** The shared fields of a VMA (vma:ID in footprints). */
const VMA_TRACKED = [
  "start",
  "end",
  "flags",
  "file",
  "pgoff",
  "anon_vma",
  "vm_policy",
  "vm_mm",
  "vm_lock_seq",
  "detached",
  "state",
  "gen",
] as const satisfies readonly (keyof Vma)[];

/**
 * The explore driver's VMA (src/mm/sim.ts makes these when the model tracks its shared state): the
 * shared fields (VMA_TRACKED, gen among them: every writer's modification bumps it in vmaModify) are
 * accessors on the prototype that record vma:ID in the running step's footprint, once per step and
 * kind; anon_vma_chain records vma:ID too; vm_refcnt's plain loads and stores record its atomic (a
 * write: its value depends on the order of the readers' updates). The oracle's counts of the VMA's
 * users (readers) and its slab incarnation stay plain: readers' updates of them commute.
 */
export class TrackedVma extends Vma {
  host: FootprintHost | undefined;
  private readStep = -1;
  private writeStep = -1;
  private rangeReadStep = -1;
  private rangeWriteStep = -1;
  private readonly fpKey: string;
  private readonly rangeKey: string;

  constructor(id: number, host: FootprintHost) {
    super(id);
    this.host = host;
    this.fpKey = `vma:${id}`;
    this.rangeKey = `vmarange:${id}`;
    trackVmaParts(this, host);
  }

  /** Turn a timed-driver VMA into a tracked one (a warm start's switch to the explore driver). */
  static from(v: Vma, host: FootprintHost): TrackedVma {
    if (v instanceof TrackedVma) return v;
    const vals = VMA_TRACKED.map((f) => v[f]);
    Object.setPrototypeOf(v, TrackedVma.prototype);
    const t = v as TrackedVma & Record<string, unknown>; // its prototype is TrackedVma's from here on
    VMA_TRACKED.forEach((f, i) => {
      delete t[f];
      t[`$${f}`] = vals[i];
    });
    t.host = host;
    t.readStep = -1;
    t.writeStep = -1;
    t.rangeReadStep = -1;
    t.rangeWriteStep = -1;
    Object.defineProperty(t, "fpKey", { value: `vma:${v.id}` });
    Object.defineProperty(t, "rangeKey", { value: `vmarange:${v.id}` });
    trackVmaParts(t, host);
    return t;
  }

  /**
   * Record a read (or write) of vm_start / vm_end (vmarange:ID) in the running step's footprint, once
   * per step and kind. A key of their own: a tree walk passes over the ranges of VMAs it does not
   * return (the maple tree's pivots in the kernel), which must not conflict with vma_start_write's
   * store to vm_lock_seq of those VMAs; every store to a range is a write of it.
   */
  touchRange(write: boolean): void {
    const h = this.host;
    if (h === undefined) return;
    const fp = h.footprint;
    if (fp === null) return;
    const step = h.steps;
    if (this.rangeWriteStep === step || (!write && this.rangeReadStep === step)) return;
    if (write) this.rangeWriteStep = step;
    else this.rangeReadStep = step;
    fp.touch(this.rangeKey, write);
  }

  /** Record a read (or write) of vma:ID in the running step's footprint, once per step and kind. */
  touchVma(write: boolean): void {
    const h = this.host;
    if (h === undefined) return;
    const fp = h.footprint;
    if (fp === null) return;
    const step = h.steps;
    if (this.writeStep === step || (!write && this.readStep === step)) return;
    if (write) this.writeStep = step;
    else this.readStep = step;
    fp.touch(this.fpKey, write);
  }

  override get vm_refcnt(): number {
    const fp = this.host?.footprint;
    if (fp != null) fp.touch(this.refcnt.key, true);
    return this.refcnt.value;
  }
  override set vm_refcnt(n: number) {
    const fp = this.host?.footprint;
    if (fp != null) fp.touch(this.refcnt.key, true);
    this.refcnt.value = n;
  }
}

function trackVmaParts(v: TrackedVma, host: FootprintHost): void {
  const chain = trackedArray(v.anon_vma_chain, `vma:${v.id}`, host);
  Object.defineProperty(v, "anon_vma_chain", { value: chain, writable: false, enumerable: true });
  // D2: readers' vm_refcnt updates commute while no writer or detacher excludes them (the flag)
  v.refcnt.commuting = refcntCommutes;
}

function refcntCommutes(n: number): boolean {
  return (n & VM_REFCNT_EXCLUDE_READERS_FLAG) === 0;
}

// TrackedVma's field accessors: the value lives in `$field` (set first by Vma's constructor)
for (const f of VMA_TRACKED) {
  const slot = `$${f}`;
  const range = f === "start" || f === "end";
  Object.defineProperty(TrackedVma.prototype, f, {
    configurable: true,
    get(this: TrackedVma & Record<string, unknown>) {
      if (range) this.touchRange(false);
      else this.touchVma(false);
      return this[slot];
    },
    set(this: TrackedVma & Record<string, unknown>, v: unknown) {
      if (range) this.touchRange(true);
      else this.touchVma(true);
      this[slot] = v;
    },
  });
}

/** A read-only PTE walk longer than this is recorded as a sweep (MmStruct.ptesRead). */
const READ_SWEEP_KEYS_MAX = 64;

/** vma_lock_alloc (kernel/fork.c v6.4): a fresh struct vma_lock with an initialised rw_semaphore. */
export function newVmaLock(id: number): RwSemaphore {
  return new RwSemaphore("&vma->vm_lock->lock", `vma_lock:${id}`);
}

export function hex(vpn: number): string {
  return `0x${(vpn * 4096).toString(16)}`;
}

/** mm_struct */
export class MmStruct {
  /** Maple tree stand-in: VMAs sorted by start; writers publish a new array (RCU semantics). */
  vmas: Vma[] = [];
  mm_lock_seq = 0;
  /** Oracle: task pid holding mmap_lock for write (0 = none), readers count. */
  writerPid = 0;
  readers = 0;
  /** D2: the task waiting in vma_start_write / vma_mark_detached (mm->vma_writer_wait). */
  vma_writer_wait: Ctx | null = null;
  /**
   * The PTEs, one Int32 per page. Model steps use pteGet / pteSet / ptesSweep, which record their
   * footprint in the explore driver; the raw array is for the oracle, views and snapshots.
   */
  readonly pte: Int32Array;
  /** CPUs this mm has run on (mm_cpumask). */
  readonly cpumask: Uint8Array;
  /** Oracle shadow: expected value of every word (-1: unchecked). Null: not checked. */
  expected: Int32Array | null = null;
  /** Oracle: CPU and time of the last store to each word (for findings). */
  lastStoreCpu: Int16Array | null = null;
  /** Oracle: blocks of 64 pages that ever held a stored word (the end-of-run sweep visits only these). */
  storedBlocks: Uint8Array | null = null;
  /** Oracle: [start, end) ranges zapped whose page tables are not yet freed. */
  tearing: number[] = [];
  /**
   * Oracle: [start, end) ranges an operation is changing right now (contents in transit: a COW
   * between ptep_clear_flush and set_pte_at, a zap before the shadow is reset). The end-of-run
   * sweep skips them when a run stops in the middle of one.
   */
  busy: number[] = [];
  /** Threads of this mm (user tasks). */
  users = 0;
  dead = false;
  /** mm->mm_count (mmgrab/mmdrop, an atomic_t): the mm_struct is freed when it drops to zero. */
  readonly mm_count: Atomic;
  /** Who freed the mm_struct (__mmdrop), as KASAN names the task; null while it is live. */
  freedBy: string | null = null;
  brkStart = 0;
  brkEnd = 0;
  /**
   * mm->mmap_lock. Its count word shares a cache line with the fields declared beside it, among
   * them mm_lock_seq (include/linux/mm_types.h v6.4: mmap_lock, mmlist, mm_lock_seq): faults on
   * the per-VMA path read mm_lock_seq from this line, mmap_write_unlock stores to it.
   */
  readonly mmap_lock: RwSemaphore;
  /**
   * Split PTE locks, one per page-table page (pte_lockptr), made on first use. The array has its
   * length from the start: filled sparsely from empty, V8 turned it into a dictionary (a hash
   * lookup per fault in a storm over many threads' regions).
   */
  ptl: SpinLock[];
  /** Which PTE and PMD tables exist, and the locks that install them (src/mm/pgtable.ts). */
  readonly pgtables: PageTables;
  /** Explore driver: where the PTE accessors record pte:MM:VPN and ptp:MM:IDX (null: timed driver). */
  host: FootprintHost | null = null;

  constructor(
    readonly id: number,
    readonly vaPages: number,
    ncpu: number,
    pte?: Int32Array,
  ) {
    this.pte = pte ?? new Int32Array(vaPages);
    this.cpumask = new Uint8Array(ncpu);
    this.mmap_lock = new RwSemaphore("&mm->mmap_lock", `mmap_lock:${id}`);
    this.pgtables = new PageTables(id, vaPages);
    this.ptl = new Array<SpinLock>((vaPages >> PTE_TABLE_SHIFT) + 1);
    this.mm_count = new Atomic("mm_count", `mm_count:${id}`, 1);
  }

  /**
   * Explore driver: the VMA tree (tree:MM), mm_lock_seq (seq:MM) and vma_writer_wait (mm:MM) become
   * accessors recording their reads and writes, and the PTE and page-table accessors record theirs.
   */
  track(host: FootprintHost): void {
    trackFields(this, ["vmas"], `tree:${this.id}`, host);
    trackFields(this, ["mm_lock_seq"], `seq:${this.id}`, host);
    trackFields(this, ["vma_writer_wait", "freedBy"], `mm:${this.id}`, host);
    this.host = host;
    this.pgtables.host = host;
  }

  /** A step's read of the PTE of vpn: pte:MM:VPN, and a read of its page-table page (ptp:MM:IDX). */
  pteGet(vpn: number): number {
    const h = this.host;
    if (h !== null && h.footprint !== null) this.record(h, vpn, false);
    return this.pte[vpn]!;
  }

  /** A step's store to the PTE of vpn (set_pte_at, pte_clear, ptep_set_wrprotect). */
  pteSet(vpn: number, pte: number): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) this.record(h, vpn, true);
    this.pte[vpn] = pte;
  }

  /**
   * A read-only walk over the PTEs [lo, hi) (a walker's pte_none probe, queue_pages_range): a read of
   * every PTE (pte:MM:VPN) and of its page-table pages when the range is at most READ_SWEEP_KEYS_MAX
   * PTEs; a longer one is recorded as a sweep (a write of its page-table pages: conservative, and one
   * key per 512 PTEs). Returns the PTE array to read.
   */
  ptesRead(lo: number, hi: number): Int32Array {
    const h = this.host;
    if (h === null || h.footprint === null || lo >= hi) return this.pte;
    if (hi - lo > READ_SWEEP_KEYS_MAX) return this.ptesSweep(lo, hi);
    const fp = h.footprint;
    for (let v = lo; v < hi; v++) fp.touch(`pte:${this.id}:${v}`, false);
    for (let i = lo >> PTE_TABLE_SHIFT; i <= (hi - 1) >> PTE_TABLE_SHIFT; i++)
      fp.touch(`ptp:${this.id}:${i}`, false);
    return this.pte;
  }

  /**
   * A sweep over the PTEs [lo, hi) (copy_page_range, zap_pte_range, change_pte_range, a page-table
   * walk): a write of every page-table page it covers (ptp:MM:IDX, 512 PTEs), which conflicts with
   * every single PTE access in them (those read their ptp key). Returns the PTE array to sweep.
   */
  ptesSweep(lo: number, hi: number): Int32Array {
    const h = this.host;
    if (h !== null && h.footprint !== null && lo < hi)
      for (let i = lo >> PTE_TABLE_SHIFT; i <= (hi - 1) >> PTE_TABLE_SHIFT; i++)
        h.footprint.touch(`ptp:${this.id}:${i}`, true);
    return this.pte;
  }

  private record(h: FootprintHost, vpn: number, write: boolean): void {
    const fp = h.footprint!;
    fp.touch(`pte:${this.id}:${vpn}`, write);
    fp.touch(`ptp:${this.id}:${vpn >> PTE_TABLE_SHIFT}`, false);
  }

  /** The cache line of mmap_lock's count and of mm_lock_seq. */
  get lockLine(): CacheLine {
    return this.mmap_lock.line;
  }

  /** mas_walk / find_vma_intersection at one page: binary search of the published array. */
  static walk(vmas: readonly Vma[], vpn: number): Vma | null {
    let lo = 0;
    let hi = vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = vmas[mid]!;
      if (vpn < v.start) hi = mid - 1;
      else if (vpn >= v.end) lo = mid + 1;
      else return v;
    }
    return null;
  }

  /**
   * vmas.indexOf(v) by binary search on v.start (the array is ordered by start), with indexOf's
   * result when v is not where the search looks (not in the array, or the order broken mid-change).
   */
  static indexOf(vmas: readonly Vma[], v: Vma): number {
    let lo = 0;
    let hi = vmas.length - 1;
    const start = v.start;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = vmas[mid]!;
      if (m === v) return mid;
      if (start < m.start) hi = mid - 1;
      else lo = mid + 1;
    }
    return vmas.indexOf(v);
  }

  /** find_vma: the first VMA ending above vpn. */
  findVma(vpn: number): Vma | null {
    const vmas = this.vmas;
    let lo = 0;
    let hi = vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (vmas[mid]!.end <= vpn) lo = mid + 1;
      else hi = mid;
    }
    return lo < vmas.length ? vmas[lo]! : null;
  }

  /** A free range of `npages` at or above `hint` (get_unmapped_area, bottom-up), or -1. */
  findGap(npages: number, hint = 16): number {
    let at = hint;
    for (const v of this.vmas) {
      if (v.end <= at) continue;
      if (v.start >= at + npages) break;
      at = v.end;
    }
    return at + npages <= this.vaPages ? at : -1;
  }

  /** Append a VMA above every other to a tree nobody else sees yet (dup_mmap's vma_iter_bulk_store): a write of tree:MM. */
  append(v: Vma): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`tree:${this.id}`, true);
    this.vmas.push(v);
  }

  /** Publish a new VMA array (vma_iter_store / vma_iter_clear): readers keep the old one. */
  publish(vmas: Vma[]): void {
    vmas.sort((a, b) => a.start - b.start);
    this.vmas = vmas;
  }
}
