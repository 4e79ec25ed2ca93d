// fork's address-space copy (kernel/fork.c dup_mmap 6.4; mm/mmap.c 6.15) and exit_mmap (mm/mmap.c).
// The parent's anonymous PTEs are write-protected without a TLB flush; the one flush_tlb_mm comes
// at the end (kernel/fork.c v6.4 dup_mmap: flush_tlb_mm(oldmm) after the copy loop). Whether parent VMAs are write-locked is the 6.4.0 switch.

import { type KGen, PREEMPT_ENABLE } from "../sim/effects.js";
import { putFrame } from "./fault.js";
import { ZERO_FRAME } from "./frames.js";
import { mmap_write_lock, mmap_write_unlock, ptl_lock, ptl_unlock, ptlOf } from "./locking.js";
import { anon_vma_fork } from "./rmap.js";
import { remove_vma, vm_area_dup } from "./syscalls.js";
import { type MmThread, yieldAt, yp } from "./thread.js";
import { flush_tlb_mm } from "./tlbflush.js";
import { traced } from "./trace.js";
import {
  type MmStruct,
  mkSwapPte,
  PTE_PRESENT,
  PTE_SWAP,
  PTE_WRITE,
  pteChunkEnd,
  pteFrame,
  ptesAny,
  VM_DONTCOPY,
  VM_SHARED,
  type Vma,
} from "./types.js";
import { mmdrop, vma_mark_attached, vma_start_write } from "./vma_lock.js";
import { VM } from "./vmstat.js";

const Y_COPY = yp("copy_pte_range:pte_offset_map_lock");
const Y_EXIT_ZAP = yp("zap_pte_range:pte_offset_map_lock");

/** dup_mmap (kernel/fork.c 6.4-6.14; mm/mmap.c 6.15+): copy the parent's address space into a new mm; returns the child mm. */
export function* dup_mmap(th: MmThread, oldmm: MmStruct): KGen<MmStruct> {
  const sim = th.sim;
  sim.count(VM.FORK);
  th.cost += sim.costs.syscallNs + sim.costs.forkBaseNs;
  const pheld = yield* mmap_write_lock(th, oldmm, "dup_mmap:mmap_write_lock");
  const mm = sim.newMm(oldmm.vaPages, false);
  // the child's lock is invisible to others: taken by the forker itself (mmap_write_lock_nested)
  const cheld = yield* mmap_write_lock(th, mm, "dup_mmap:mmap_write_lock_nested");
  mm.brkStart = oldmm.brkStart;
  mm.brkEnd = oldmm.brkEnd;
  sim.note(th.cpu, "dup_mmap", 0, mm.id);
  const parents = oldmm.vmas;
  // 2b4f3b4987b5 (mm tree): write-lock every parent VMA before copying any
  if (sim.sw.forkLockVmas === "all-first")
    for (const p of parents)
      yield* traced(th, "vma_start_write", vma_start_write(th, p, "dup_mmap:vma_start_write"));
  for (const p of parents) {
    // fb49c455323f (mainline, 6.4.3): lock each parent VMA at the top of the copy loop
    if (sim.sw.forkLockVmas === "per-vma")
      yield* traced(th, "vma_start_write", vma_start_write(th, p, "dup_mmap:vma_start_write"));
    if (p.flags & VM_DONTCOPY) continue;
    const tmp = vm_area_dup(th, p);
    tmp.vm_mm = mm;
    // anon_vma_fork: the child gets its own anon_vma linked to the parent's
    const av = p.anon_vma;
    anon_vma_fork(th, tmp, p);
    if (av !== 0) th.cost += sim.costs.forkAnonVmaNs;
    // vm_area_dup, the tree store and the rest of the loop body
    th.cost += sim.costs.forkPerVmaNs;
    // vma_iter_bulk_store: the child's tree is not visible to anyone else yet (its mmap_lock is held
    // and no task runs on it), and the parent's VMAs come in address order: append
    mm.append(tmp);
    vma_mark_attached(th, tmp);
    // timed driver: that work passes between anon_vma_fork and vma_needs_copy (fb49c455323f's
    // second hazard: a fault may set the parent's anon_vma in between)
    if (th.timed && th.cost > 0) yield th.charge();
    // copy_page_range only when vma_needs_copy (mm/memory.c v6.4) sees an anon_vma now (file and
    // shared pages are faulted in again by the child)
    if (p.anon_vma !== 0) yield* traced(th, "copy_page_range", copy_page_range(th, mm, oldmm, p));
    sim.oracle.forkCopied(th, p, av); // invariant 6: P.anon_vma unchanged since anon_vma_fork
  }
  yield* mmap_write_unlock(th, mm, cheld);
  yield* flush_tlb_mm(th, oldmm);
  yield* mmap_write_unlock(th, oldmm, pheld);
  return mm;
}

/** copy_page_range -> copy_pte_range -> copy_present_pte (mm/memory.c, all versions): share pages, write-protect COW PTEs. */
function* copy_page_range(th: MmThread, dst: MmStruct, src: MmStruct, p: Vma): KGen<void> {
  const sim = th.sim;
  const fr = sim.frames;
  const w = sim.words;
  const cow = !(p.flags & VM_SHARED);
  for (let c = p.start; c < p.end; ) {
    const ce = pteChunkEnd(c, p.end);
    if (ptesAny(src.ptesRead(c, ce), c, ce)) {
      yield* yieldAt(th, Y_COPY);
      const sl = ptlOf(src, c);
      yield* ptl_lock(th, sl, "copy_pte_range:pte_offset_map_lock");
      // the parent's PTEs (write-protected) and the child's (copied)
      const sp = src.ptesSweep(c, ce);
      const dp = dst.ptesSweep(c, ce);
      // copy_pte_range's pte_alloc_map_lock: the child's table for a chunk the parent has one for
      if (src.pgtables.hasPteTable(c)) dst.pgtables.populate(c, ce);
      for (let v = c; v < ce; v++) {
        let pte = sp[v]!;
        if (pte === 0) continue;
        th.cost += sim.costs.forkPerPteNs;
        if (pte & PTE_SWAP) {
          // swap_duplicate: the child gets its own copy of the slot
          const slot = sim.allocSwap();
          const from = pteFrame(pte);
          sim.swapContent.copyWithin(slot * w, from * w, from * w + w);
          dp[v] = mkSwapPte(slot);
          continue;
        }
        if (!(pte & PTE_PRESENT)) continue;
        const f = pteFrame(pte);
        if (f !== ZERO_FRAME) {
          fr.dupMapping(f, true);
        }
        if (cow && pte & PTE_WRITE) {
          // ptep_set_wrprotect on the parent, no flush (flush_tlb_mm comes at the end of dup_mmap)
          pte &= ~PTE_WRITE;
          sp[v] = pte;
          sim.note(th.cpu, "copy_present_pte:wrprotect", v, f);
        }
        dp[v] = pte;
      }
      if (ptl_unlock(th, sl)) yield PREEMPT_ENABLE;
      // the chunk's copying time passes before the next one (and before the final flush)
      if (th.timed && th.cost > 0) yield th.charge();
    }
    c = ce;
  }
}

/** exit_mmap (mm/mmap.c, all versions): tear down every mapping of a dying mm (no faulting threads are left). */
export function* exit_mmap(th: MmThread, mm: MmStruct): KGen<void> {
  const sim = th.sim;
  th.cost += sim.costs.exitBaseNs;
  const held = yield* mmap_write_lock(th, mm, "exit_mmap:mmap_write_lock");
  const fr = sim.frames;
  const out: number[] = [];
  for (const v of mm.vmas) {
    for (let c = v.start; c < v.end; ) {
      const ce = pteChunkEnd(c, v.end);
      if (ptesAny(mm.ptesRead(c, ce), c, ce)) {
        yield* yieldAt(th, Y_EXIT_ZAP);
        const ptl = ptlOf(mm, c);
        yield* ptl_lock(th, ptl, "zap_pte_range:pte_offset_map_lock");
        const pte = mm.ptesSweep(c, ce);
        for (let x = c; x < ce; x++) {
          const p = pte[x]!;
          if (p === 0) continue;
          pte[x] = 0;
          th.cost += sim.costs.exitPerPteNs;
          if (p & PTE_PRESENT) {
            const f = pteFrame(p);
            if (f !== ZERO_FRAME) {
              fr.unmapOne(f);
              out.push(f, x);
            }
          } else if (p & PTE_SWAP) sim.freeSwap(pteFrame(p));
        }
        if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
      }
      c = ce;
    }
  }
  yield* flush_tlb_mm(th, mm);
  for (let i = 0; i < out.length; i += 2) putFrame(th, out[i]!, out[i + 1]!);
  // exit_mmap frees VMAs without call_rcu (0d2ebf9c3f78): nobody can reach them any more
  // free_pgtables(mm_wr_locked = true) write-locks each VMA before its page tables go (6.4 19th patch)
  for (const v of mm.vmas) yield* vma_start_write(th, v, "free_pgtables:vma_start_write");
  for (const v of mm.vmas) remove_vma(th, v, true);
  mm.vmas = [];
  mm.dead = true;
  // the mm_struct goes with its last user (mmput -> __mmdrop): unchecked mms leave the model's list
  if (mm.expected === null) {
    const i = sim.mms.indexOf(mm);
    if (i >= 0) sim.mms.splice(i, 1);
  }
  sim.note(th.cpu, "exit_mmap", 0, mm.id);
  yield* mmap_write_unlock(th, mm, held);
  // __mmput's mmdrop: the last user's reference to the mm_struct (freed unless someone pinned it)
  mmdrop(th, mm);
}
