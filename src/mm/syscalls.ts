// System calls that change an address space: mmap (mm/mmap.c mmap_region), munmap (mm/mmap.c 6.4
// do_vmi_align_munmap; mm/vma.c vms_gather/complete_munmap_vmas 6.15), mprotect (mm/mprotect.c),
// madvise MADV_DONTNEED/MADV_PAGEOUT (mm/madvise.c), mremap (mm/mremap.c move_vma), brk (mm/mmap.c).
import { type KGen, PREEMPT_ENABLE } from "../sim/effects.js";
import { putFrame } from "./fault.js";
import { ZERO_FRAME } from "./frames.js";
import {
  mmap_read_lock,
  mmap_read_unlock,
  mmap_write_downgrade,
  mmap_write_lock,
  mmap_write_unlock,
  ptl_lock,
  ptl_unlock,
  ptlOf,
} from "./locking.js";
import { mpol_get, mpol_put } from "./mempolicy.js";
import { freePteTables } from "./pgtable.js";
import { anon_vma_clone_nofail, dup_anon_vma, folio_lock_anon_vma_read, unlink_anon_vmas } from "./rmap.js";
import { type MmThread, yieldAt, yp } from "./thread.js";
import { flush_tlb_range } from "./tlbflush.js";
import {
  type MmFile,
  type MmStruct,
  mkSwapPte,
  PTE_PRESENT,
  PTE_SWAP,
  PTE_WRITE,
  PTRS_PER_PTE,
  pteChunkEnd,
  pteFrame,
  ptesAny,
  rangeRemove,
  VM_GROWSDOWN,
  VM_READ,
  VM_SHARED,
  VM_UFFD_MISSING,
  VM_WRITE,
  type Vma,
} from "./types.js";
import { vma_mark_attached, vma_mark_detached, vma_start_write, vmaModify } from "./vma_lock.js";
import { VM } from "./vmstat.js";

export const PROT_READ = 1;
const ENOMEM = 12;
export const PROT_WRITE = 2;

export interface MmapOpts {
  /** Fixed start page (MAP_FIXED_NOREPLACE); otherwise the first gap at or above `hint`. */
  at?: number;
  hint?: number;
  prot?: number;
  growsdown?: boolean;
  shared?: boolean;
  file?: MmFile;
  pgoff?: number;
  uffd?: boolean;
}

const Y_ZAP = yp("zap_pte_range:pte_offset_map_lock");
const Y_POST_INSERT = yp("mmap_region:post_insert");
const Y_CHANGE = yp("change_pte_range:pte_offset_map_lock");
const Y_MOVE = yp("move_ptes:pte_offset_map_lock");

function protFlags(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0);
}

/** vma_link / vma_iter_store (mm/mmap.c 6.4, mm/vma.c 6.15): publish the tree with v added (D2: attach on insertion). */
function vma_link(th: MmThread, mm: MmStruct, v: Vma): void {
  mm.publish([...mm.vmas, v]);
  vma_mark_attached(th, v);
}

/** Publish the tree without the given VMAs (vma_iter_clear / vma_iter_store of NULL). */
function vma_unlink(_th: MmThread, mm: MmStruct, gone: readonly Vma[]): void {
  mm.publish(mm.vmas.filter((v) => !gone.includes(v)));
}

/** remove_vma -> vm_area_free (mm/mmap.c, kernel/fork.c 6.4; mm/vma.c 6.15): D1 through call_rcu, D2 to the typesafe slab; exit_mmap frees directly. */
export function remove_vma(th: MmThread, v: Vma, unreachable: boolean): void {
  // free_pgtables -> unlink_anon_vmas, then vm_area_free
  unlink_anon_vmas(th, v);
  mpol_put(th, v.vm_policy);
  th.sim.slab.release(v, th.sim.sw.vmaLockImpl === "rwsem" && !unreachable);
}

/** vm_area_dup (kernel/fork.c 6.4-6.14; mm/vma_init.c later) */
export function vm_area_dup(th: MmThread, src: Vma): Vma {
  const v = th.sim.slab.alloc();
  v.start = src.start;
  v.end = src.end;
  v.flags = src.flags;
  v.file = src.file;
  v.pgoff = src.pgoff;
  v.anon_vma = src.anon_vma;
  v.vm_policy = src.vm_policy;
  mpol_get(th, v.vm_policy); // vma_dup_policy
  v.vm_mm = src.vm_mm;
  // D2: a new VMA is detached until inserted; D1 starts attached
  return v;
}

/** mmap -> mmap_region (mm/mmap.c 6.4; mm/vma.c __mmap_region 6.15): returns the start page or -1 (ENOMEM). */
export function* do_mmap(th: MmThread, npages: number, o: MmapOpts = {}): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  th.cost += sim.costs.syscallNs;
  sim.count(VM.MMAP);
  const held = yield* mmap_write_lock(th, mm, "mmap_region:mmap_write_lock");
  th.cost += sim.costs.mmapNs;
  let start = o.at ?? mm.findGap(npages, o.hint ?? 16);
  if (start >= 0 && o.at !== undefined)
    for (const v of mm.vmas) if (v.start < start + npages && v.end > start) start = -1;
  if (start < 0 || start + npages > mm.vaPages) {
    yield* mmap_write_unlock(th, mm, held);
    return -1;
  }
  const v = sim.slab.alloc();
  v.start = start;
  v.end = start + npages;
  v.flags =
    protFlags(o.prot ?? PROT_READ | PROT_WRITE) |
    (o.growsdown ? VM_GROWSDOWN : 0) |
    (o.shared ? VM_SHARED : 0) |
    (o.uffd ? VM_UFFD_MISSING : 0);
  v.file = o.file ?? null;
  v.pgoff = o.pgoff ?? 0;
  v.vm_mm = mm;
  if (sim.sw.vmaLockImpl === "refcnt") v.vm_refcnt = 0;
  // 33313a747e81: write-lock the new VMA before it becomes visible
  if (sim.sw.lockNewVmaBeforeInsert) yield* vma_start_write(th, v, "mmap_region:vma_start_write");
  vma_link(th, mm, v);
  sim.note(th.cpu, "mmap_region", start, npages);
  if (v.file !== null) {
    // post-insertion edits of a file mapping (i_mmap link, vma_set_page_prot): V is already
    // visible to lock_vma_under_rcu; only the write lock of 33313a747e81 keeps faults out (§4.5 #2)
    if (th.timed) {
      if (th.cost > 0) yield th.charge();
    } else yield Y_POST_INSERT;
    vmaModify(th, v, "mmap_region:vma_set_page_prot");
  }
  yield* mmap_write_unlock(th, mm, held);
  return start;
}

/** __split_vma (mm/mmap.c 6.4; mm/vma.c 6.15): split v at `at`; returns the new upper part (vma_prepare write-locks v). */
function* split_vma(th: MmThread, v: Vma, at: number): KGen<Vma> {
  yield* vma_start_write(th, v, "vma_prepare:vma_start_write");
  th.cost += th.sim.costs.splitMergeNs;
  const mm = v.vm_mm!;
  const upper = vm_area_dup(th, v);
  upper.start = at;
  upper.pgoff = v.pgoff + (at - v.start);
  if (th.sim.sw.perVmaLock) upper.vm_lock_seq = mm.mm_lock_seq; // vma_start_write(new) in vma_prepare
  anon_vma_clone_nofail(th, upper, v);
  vmaModify(th, v, "__split_vma");
  v.end = at;
  vma_link(th, mm, upper);
  return upper;
}

/** Split the VMAs straddling start and end; returns the VMAs inside [start, end). */
export function* splitRange(th: MmThread, mm: MmStruct, start: number, end: number): KGen<Vma[]> {
  for (const v of [...mm.vmas]) {
    if (v.start < start && v.end > start) yield* split_vma(th, v, start);
  }
  for (const v of [...mm.vmas]) {
    if (v.start < end && v.end > end) yield* split_vma(th, v, end);
  }
  return mm.vmas.filter((v) => v.start >= start && v.end <= end);
}

/** unmap_vmas -> zap_pte_range (mm/memory.c): zap [start, end) chunk by chunk under the PTL; frames are freed after the flush (mmu_gather). */
function* zap_range(
  th: MmThread,
  mm: MmStruct,
  start: number,
  end: number,
  perPageNs: number,
  out: number[],
): KGen<void> {
  const sim = th.sim;
  for (let c = start; c < end; ) {
    const ce = pteChunkEnd(c, end);
    if (ptesAny(mm.ptesRead(c, ce), c, ce)) {
      yield* yieldAt(th, Y_ZAP);
      const ptl = ptlOf(mm, c);
      yield* ptl_lock(th, ptl, "zap_pte_range:pte_offset_map_lock");
      const pte = mm.ptesSweep(c, ce);
      for (let v = c; v < ce; v++) {
        const p = pte[v]!;
        if (p === 0) continue;
        pte[v] = 0;
        th.cost += perPageNs;
        if (p & PTE_PRESENT) {
          const f = pteFrame(p);
          if (f !== ZERO_FRAME) {
            sim.frames.unmapOne(f);
            out.push(f, v);
          }
        } else if (p & PTE_SWAP) sim.freeSwap(pteFrame(p));
      }
      if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
    }
    c = ce;
  }
}

function freeFrames(th: MmThread, out: number[]): void {
  for (let i = 0; i < out.length; i += 2) putFrame(th, out[i]!, out[i + 1]!);
  out.length = 0;
}

function resetShadow(th: MmThread, mm: MmStruct, start: number, end: number): void {
  const w = th.sim.words;
  mm.expected?.fill(0, start * w, end * w);
}

/** munmap -> do_vmi_align_munmap (mm/mmap.c 6.4; mm/vma.c vms_*_munmap_vmas 6.15), §3.1 order: returns 0 or -1. */
export function* do_munmap(th: MmThread, start: number, npages: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const end = start + npages;
  th.cost += sim.costs.syscallNs;
  sim.count(VM.MUNMAP);
  const held = yield* mmap_write_lock(th, mm, "munmap:mmap_write_lock");
  th.cost += sim.costs.munmapNs;
  const victims = yield* splitRange(th, mm, start, end);
  // munmap_sidetree: write-lock and detach every VMA in the range
  for (const v of victims) {
    yield* vma_start_write(th, v, "munmap_sidetree:vma_start_write");
    yield* vma_mark_detached(th, v);
  }
  // vma_iter_clear_gfp: the point of no return; its node allocation can fail (failslab)
  if (victims.length > 0 && sim.shouldFail("vma_iter_clear_gfp")) {
    sim.note(th.cpu, "do_vmi_align_munmap:-ENOMEM", start, npages);
    // 606c812eb1d5: the error path re-attaches the detached VMAs; before it they stayed detached
    // in the tree, where every lock_vma_under_rcu finds, locks and retries them
    if (sim.sw.munmapReattachOnError) for (const v of victims) vma_mark_attached(th, v);
    yield* mmap_write_unlock(th, mm, held);
    return -ENOMEM;
  }
  vma_unlink(th, mm, victims);
  sim.note(th.cpu, "do_vmi_align_munmap", start, npages);
  // 6.4 do_vmi_align_munmap: no downgrade next to a VM_GROWSDOWN VMA (a stack may grow into the
  // range under the read lock); otherwise downgrade to the read lock before unmap_region
  const next = mm.findVma(end);
  const downgrade = !(next !== null && next.flags & VM_GROWSDOWN);
  if (downgrade) yield* mmap_write_downgrade(th, mm, held);
  mm.tearing.push(start, end);
  mm.busy.push(start, end);
  const out: number[] = [];
  for (const v of victims) yield* zap_range(th, mm, v.start, v.end, sim.costs.zapPerPageNs, out);
  yield* flush_tlb_range(th, mm, start, end);
  freeFrames(th, out);
  // free_pgtables(mm_wr_locked = !downgrade): write-locks each VMA only with the write lock held
  if (!downgrade) for (const v of victims) yield* vma_start_write(th, v, "free_pgtables:vma_start_write");
  freePteTables(mm, start, end);
  rangeRemove(mm.tearing, start, end);
  for (const v of victims) remove_vma(th, v, false);
  resetShadow(th, mm, start, end);
  rangeRemove(mm.busy, start, end);
  if (downgrade) yield* mmap_read_unlock(th, mm, held);
  else yield* mmap_write_unlock(th, mm, held);
  return 0;
}

/** mprotect -> mprotect_fixup + change_protection (mm/mprotect.c, all versions): returns 0 or -1. */
export function* do_mprotect(th: MmThread, start: number, npages: number, prot: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const end = start + npages;
  th.cost += sim.costs.syscallNs;
  sim.count(VM.MPROTECT);
  const held = yield* mmap_write_lock(th, mm, "mprotect:mmap_write_lock");
  th.cost += sim.costs.mprotectNs;
  const vmas = yield* splitRange(th, mm, start, end);
  const newFlags = protFlags(prot);
  const removeWrite = (prot & PROT_WRITE) === 0;
  for (const v of vmas) {
    // vm_flags_reset -> vma_start_write (6.4 c732293331a2)
    yield* vma_start_write(th, v, "mprotect_fixup:vma_start_write");
    vmaModify(th, v, "mprotect_fixup");
    v.flags = (v.flags & ~(VM_READ | VM_WRITE)) | newFlags;
    if (!removeWrite) continue;
    // change_protection: write-protect present PTEs chunk by chunk, then flush
    for (let c = v.start; c < v.end; ) {
      const ce = pteChunkEnd(c, v.end);
      if (ptesAny(mm.ptesRead(c, ce), c, ce, PTE_WRITE)) {
        yield* yieldAt(th, Y_CHANGE);
        const ptl = ptlOf(mm, c);
        yield* ptl_lock(th, ptl, "change_pte_range:pte_offset_map_lock");
        const pte = mm.ptesSweep(c, ce);
        for (let x = c; x < ce; x++)
          if (pte[x]! & PTE_WRITE) {
            pte[x] = pte[x]! & ~PTE_WRITE;
            th.cost += sim.costs.mprotectPerPteNs;
          }
        if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
      }
      c = ce;
    }
    yield* flush_tlb_range(th, mm, v.start, v.end);
  }
  yield* vma_merge_range(th, mm, start, end);
  sim.note(th.cpu, "mprotect_fixup", start, prot);
  yield* mmap_write_unlock(th, mm, held);
  return vmas.length > 0 ? 0 : -1;
}

/** vma_merge (mm/mmap.c 6.4; mm/vma.c vma_merge_existing_range 6.15): fold adjacent anonymous VMAs with equal flags and anon_vma (vma_prepare locks both). */
function* vma_merge_range(th: MmThread, mm: MmStruct, start: number, end: number): KGen<void> {
  for (let guard = 0; guard < 64; guard++) {
    const vs = mm.vmas;
    let merged = false;
    for (let i = 0; i + 1 < vs.length; i++) {
      const a = vs[i]!;
      const b = vs[i + 1]!;
      if (a.end !== b.start || a.flags !== b.flags || !a.anonymous || !b.anonymous) continue;
      if (a.anon_vma !== b.anon_vma && a.anon_vma !== 0 && b.anon_vma !== 0) continue;
      if (b.end < start || a.start > end) continue;
      // 6.4 vma_merge: dup_anon_vma(prev, curr) comes before vma_prepare write-locks anything
      if ((yield* dup_anon_vma(th, a, b)) !== 0) return; // -ENOMEM: the merge is abandoned
      yield* vma_start_write(th, a, "vma_prepare:vma_start_write");
      yield* vma_start_write(th, b, "vma_prepare:vma_start_write");
      th.cost += th.sim.costs.splitMergeNs;
      yield* vma_mark_detached(th, b);
      vmaModify(th, a, "vma_merge");
      a.end = b.end;
      if (a.anon_vma === 0) {
        a.anon_vma = b.anon_vma;
        anon_vma_clone_nofail(th, a, b);
      }
      vma_unlink(th, mm, [b]);
      remove_vma(th, b, false);
      merged = true;
      break;
    }
    if (!merged) return;
  }
}

export const MADV_DONTNEED = 4;
export const MADV_PAGEOUT = 21;

/** madvise(MADV_DONTNEED | MADV_PAGEOUT) (mm/madvise.c, all versions) under mmap_read_lock. */
export function* do_madvise(th: MmThread, start: number, npages: number, advice: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const end = start + npages;
  th.cost += sim.costs.syscallNs;
  sim.count(VM.MADVISE);
  const held = yield* mmap_read_lock(th, mm, "madvise:mmap_read_lock");
  mm.busy.push(start, end);
  const out: number[] = [];
  for (const v of mm.vmas) {
    if (v.end <= start || v.start >= end) continue;
    const s = Math.max(start, v.start);
    const e = Math.min(end, v.end);
    if (advice === MADV_DONTNEED) yield* zap_range(th, mm, s, e, sim.costs.zapPerPageNs, out);
    else if (advice === MADV_PAGEOUT && v.anonymous) yield* pageout_range(th, mm, s, e, out);
  }
  yield* flush_tlb_range(th, mm, start, end);
  freeFrames(th, out);
  if (advice === MADV_DONTNEED) resetShadow(th, mm, start, end);
  rangeRemove(mm.busy, start, end);
  sim.note(th.cpu, "madvise", start, advice);
  yield* mmap_read_unlock(th, mm, held);
  return 0;
}

/** madvise_pageout (mm/madvise.c): exclusive anonymous pages to a swap slot, the PTE becomes a swap entry. */
function* pageout_range(th: MmThread, mm: MmStruct, start: number, end: number, out: number[]): KGen<void> {
  const sim = th.sim;
  const fr = sim.frames;
  const w = sim.words;
  yield* yieldAt(th, Y_ZAP);
  const ptl = ptlOf(mm, start);
  yield* ptl_lock(th, ptl, "zap_pte_range:pte_offset_map_lock");
  const pte = mm.ptesSweep(start, end);
  for (let v = start; v < end; v++) {
    const p = pte[v]!;
    if (!(p & PTE_PRESENT)) continue;
    const f = pteFrame(p);
    if (f === ZERO_FRAME || !fr.mappedOnce(f)) continue;
    // shrink_folio_list -> try_to_unmap -> rmap_walk_anon
    folio_lock_anon_vma_read(th, f, v);
    const slot = sim.allocSwap();
    fr.swapOut(f, sim.swapContent, slot * w);
    pte[v] = mkSwapPte(slot);
    out.push(f, v);
    th.cost += sim.costs.swapOutNs;
    sim.count(VM.PSWPOUT);
  }
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
}

export const MREMAP_DONTUNMAP = 4;

/**
 * mremap(MREMAP_MAYMOVE [| MREMAP_DONTUNMAP]) -> move_vma (mm/mremap.c, 5.7+ for DONTUNMAP) of a whole
 * VMA to a new place: returns the new start or -1. With MREMAP_DONTUNMAP the old VMA stays mapped,
 * empty, and loses its anon_vma links (unlink_anon_vmas; per-vma-locks.md §4.5 #4).
 */
export function* do_mremap(th: MmThread, old: number, npages: number, flags = 0): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  th.cost += sim.costs.syscallNs;
  const held = yield* mmap_write_lock(th, mm, "mremap:mmap_write_lock");
  th.cost += sim.costs.mmapNs;
  const v = mm.vmas.find((x) => x.start === old && x.end === old + npages);
  const to = v === undefined ? -1 : mm.findGap(npages, old + npages + 1);
  if (v === undefined || to < 0) {
    yield* mmap_write_unlock(th, mm, held);
    return -1;
  }
  yield* vma_start_write(th, v, "move_vma:vma_start_write");
  const nv = vm_area_dup(th, v);
  nv.start = to;
  nv.end = to + npages;
  if (sim.sw.perVmaLock) nv.vm_lock_seq = mm.mm_lock_seq;
  anon_vma_clone_nofail(th, nv, v); // copy_vma -> anon_vma_clone
  vma_link(th, mm, nv);
  // move_ptes, chunk by chunk under both PTLs (move_page_tables allocates the destination's tables)
  mm.pgtables.populate(to, to + npages);
  const w = sim.words;
  for (let c = 0; c < npages; c += PTRS_PER_PTE) {
    const ce = Math.min(npages, c + PTRS_PER_PTE);
    yield* yieldAt(th, Y_MOVE);
    const a = ptlOf(mm, old + c);
    yield* ptl_lock(th, a, "move_ptes:pte_offset_map_lock");
    const pte = mm.ptesSweep(old + c, old + ce);
    mm.ptesSweep(to + c, to + ce);
    for (let i = c; i < ce; i++) {
      pte[to + i] = pte[old + i]!;
      pte[old + i] = 0;
    }
    if (ptl_unlock(th, a)) yield PREEMPT_ENABLE;
  }
  yield* flush_tlb_range(th, mm, old, old + npages);
  if (mm.expected !== null) {
    mm.expected.copyWithin(to * w, old * w, (old + npages) * w);
    for (let b = to >> 6; b <= (to + npages - 1) >> 6; b++) mm.storedBlocks![b] = 1;
    resetShadow(th, mm, old, old + npages);
  }
  if (flags & MREMAP_DONTUNMAP) {
    // the old VMA stays, its page tables moved away: it no longer needs its anon_vma links
    vmaModify(th, v, "move_vma:unlink_anon_vmas");
    unlink_anon_vmas(th, v);
  } else {
    yield* vma_mark_detached(th, v);
    vma_unlink(th, mm, [v]);
    remove_vma(th, v, false);
  }
  sim.note(th.cpu, "move_vma", old, to);
  yield* mmap_write_unlock(th, mm, held);
  return to;
}

/** brk -> do_brk_flags (mm/mmap.c, all versions): grow the heap VMA in place (vma_prepare write-locks it) or create it. */
export function* do_brk(th: MmThread, newEnd: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  th.cost += sim.costs.syscallNs;
  const held = yield* mmap_write_lock(th, mm, "brk:mmap_write_lock");
  th.cost += sim.costs.mmapNs;
  const v = mm.vmas.find((x) => x.start === mm.brkStart);
  let r = 0;
  if (v === undefined) {
    if (newEnd > mm.brkStart && mm.findGap(newEnd - mm.brkStart, mm.brkStart) === mm.brkStart) {
      const nv = sim.slab.alloc();
      nv.start = mm.brkStart;
      nv.end = newEnd;
      nv.flags = VM_READ | VM_WRITE;
      nv.vm_mm = mm;
      if (sim.sw.lockNewVmaBeforeInsert) yield* vma_start_write(th, nv, "vma_prepare:vma_start_write");
      vma_link(th, mm, nv);
    } else r = -1;
  } else if (newEnd > v.end) {
    const next = mm.vmas.find((x) => x.start >= v.end);
    if (next !== undefined && next.start < newEnd) r = -1;
    else {
      yield* vma_start_write(th, v, "vma_prepare:vma_start_write");
      vmaModify(th, v, "do_brk_flags");
      v.end = newEnd;
    }
  }
  if (r === 0) mm.brkEnd = newEnd;
  yield* mmap_write_unlock(th, mm, held);
  return r;
}
