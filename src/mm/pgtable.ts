// Page-table pages as a shared resource of a fault: the PTE table of a 2 MiB range and the PMD table
// of a 1 GiB range are allocated by the first fault that needs them, from the CPU's pcp list (the
// zone->lock refill of src/mm/page_alloc.ts), zeroed, and installed under a lock; a thread that
// loses the race frees its page. x86-64 has split PMD locks (ARCH_ENABLE_SPLIT_PMD_PTLOCK with
// split PTE locks), so pmd_lock() is the split lock of the PMD table's page, of the same lock class
// as the PTE locks ("ptlock"); pud_lock() is mm->page_table_lock (no split PUD locks).
// Page tables are freed by munmap's free_pgtables (freeRange), never by MADV_DONTNEED.
import { type KGen, PREEMPT_ENABLE } from "../sim/effects.js";
import { charge, ptl_lock, ptl_unlock } from "./locking.js";
import { pcp_empty, pcp_take, rmqueue_bulk } from "./page_alloc.js";
import type { MmThread } from "./thread.js";
import { type MmStruct, PMD_TABLE_SHIFT, PTE_TABLE_SHIFT } from "./types.js";

/**
 * pte_alloc_one (arch/x86/mm/pgtable.c v6.4): a zeroed page from the CPU's pcp list (GFP_PGTABLE_USER
 * has __GFP_ZERO), made a page table by pgtable_pte_ctor.
 */
function* pte_alloc_one(th: MmThread): KGen<void> {
  if (pcp_empty(th)) yield* rmqueue_bulk(th);
  pcp_take(th);
  th.cost += th.sim.costs.pageTableAllocNs;
}

/** pte_free: the loser's page goes back to the pcp list. */
function pte_free(th: MmThread): void {
  th.sim.pageAlloc.pcpCount[th.cpu]++;
}

/**
 * pte_alloc (include/linux/mm.h v6.4: `pmd_none(*pmd) && __pte_alloc(mm, pmd)`) -> __pte_alloc and
 * pmd_install (mm/memory.c v6.4): allocate the page outside any lock, then under pmd_lock populate
 * the PMD entry if it is still none (another thread may have installed a table meanwhile).
 */
export function* pte_alloc(th: MmThread, mm: MmStruct, vpn: number): KGen<void> {
  const pt = mm.pgtables;
  const i = vpn >> PTE_TABLE_SHIFT;
  if (pt.hasPteTable(vpn)) return;
  yield* pte_alloc_one(th);
  // the allocation's time passes before pmd_lock (it is not held across the allocation)
  yield* charge(th);
  const l = pt.pmdLock(mm.id, vpn);
  yield* ptl_lock(th, l, "pmd_install:pmd_lock");
  if (!pt.hasPteTable(vpn))
    pt.setPteTable(i, true); // mm_inc_nr_ptes, pmd_populate
  else pte_free(th);
  if (ptl_unlock(th, l)) yield PREEMPT_ENABLE;
}

/**
 * pmd_alloc (include/linux/mm.h v6.4: `pud_none(*pud) && __pmd_alloc(mm, pud, address)`) ->
 * __pmd_alloc (mm/memory.c v6.4): a zeroed page, then under pud_lock = mm->page_table_lock populate
 * the PUD entry if still none. Called by __handle_mm_fault before the PTE level.
 */
export function* pmd_alloc(th: MmThread, mm: MmStruct, vpn: number): KGen<void> {
  const pt = mm.pgtables;
  const i = vpn >> PMD_TABLE_SHIFT;
  if (pt.hasPmdTable(vpn)) return;
  yield* pte_alloc_one(th); // pmd_alloc_one: the same zeroed page from the pcp list
  yield* charge(th);
  const l = pt.page_table_lock;
  yield* ptl_lock(th, l, "__pmd_alloc:page_table_lock");
  if (!pt.hasPmdTable(vpn)) pt.setPmdTable(i);
  else pte_free(th);
  if (ptl_unlock(th, l)) yield PREEMPT_ENABLE;
}

/**
 * free_pgtables (mm/memory.c v6.4) after munmap of [start, end): the PTE tables entirely inside the
 * range's 2 MiB ranges that no remaining VMA maps go (free_pte_range within floor/ceiling); PMD tables stay.
 */
export function freePteTables(mm: MmStruct, start: number, end: number): void {
  const pt = mm.pgtables;
  if (start >= end) return;
  for (let i = start >> PTE_TABLE_SHIFT; i <= (end - 1) >> PTE_TABLE_SHIFT; i++) {
    const lo = i << PTE_TABLE_SHIFT;
    // floor and ceiling: a table a remaining VMA still maps part of stays
    const v = mm.findVma(lo);
    if (v === null || v.start >= lo + (1 << PTE_TABLE_SHIFT)) pt.setPteTable(i, false);
  }
}
