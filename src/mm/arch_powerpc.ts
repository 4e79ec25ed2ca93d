// The powerpc fault handler's per-VMA-lock attempt (arch/powerpc/mm/fault.c ___do_page_fault, patch
// 31/33 of the per-VMA locks series v4, Feb 2023). As first posted, an access error found under the
// VMA lock went to bad_access() / bad_access_pkey() -> __bad_area(), which calls mmap_read_unlock()
// because on the mmap_lock path that lock is held: here it is not, and lockdep reports "bad unlock
// balance". Laurent Dufour's "powerpc/mm: fix mmap_lock bad unlock"
// (20230306135520.4222-1-ldufour@linux.ibm.com) ends the VMA read and falls back to the mmap_lock
// path instead; it was squashed into the series before 6.4-rc1, so no release had the bug.
import { bad_unlock_balance } from "./debug.js";
import type { MmThread } from "./thread.js";
import type { Vma } from "./types.js";

/**
 * bad_access -> __bad_area (arch/powerpc/mm/fault.c) called with only the VMA read lock held: the
 * mmap_read_unlock it does releases a lock the task does not hold. The model reports what lockdep
 * prints and does not touch mmap_lock (the kernel's up_read would corrupt the rwsem's count).
 */
export function ppc_bad_access_under_vma_lock(th: MmThread, v: Vma): void {
  // the per-VMA attempt runs without mmap_lock (lock_vma_under_rcu is only tried before taking it)
  th.sim.note(th.cpu, "__bad_area:mmap_read_unlock", v.start);
  bad_unlock_balance(th, "&mm->mmap_lock", "__bad_area (mmap_read_unlock)", [
    "&vma->vm_lock->lock (read), at: lock_vma_under_rcu",
  ]);
}
