// The behaviour switches of the mm model. Kernel versions (src/kernels) are values of this type; a
// scenario may override any switch and remove any lock site (see LOCK_SITES).

export type VmaLockImpl = "rwsem" | "refcnt";
export type ForkLockVmas = "none" | "per-vma" | "all-first";
export type AnonVmaCheck = "before-lock" | "after-lock" | "none";
export type Arch = "x86" | "arm64" | "powerpc";

export interface MmSwitches {
  /** CONFIG_PER_VMA_LOCK: user faults try lock_vma_under_rcu first (6.4+). */
  perVmaLock: boolean;
  /** D1 rw_semaphore + vm_lock_seq + detached flag (6.4-6.14) or D2 vm_refcnt (6.15+). */
  vmaLockImpl: VmaLockImpl;
  /** dup_mmap write-locks parent VMAs: none (6.4.0 bug), per-vma in the copy loop (fb49c455323f), all-first (2b4f3b4987b5). */
  forkLockVmas: ForkLockVmas;
  /** lock_vma_under_rcu anon_vma test: before vma_start_read (6.4.0-6.4.8), after (657b5146955e), none (6.10+ vmf_anon_prepare). */
  anonVmaCheck: AnonVmaCheck;
  /** File-backed VMAs handled under the VMA lock (6.6/6.7+). */
  eligibleFile: boolean;
  /** Swap-in under the VMA lock (6.6+); false: do_swap_page returns VM_FAULT_RETRY at once (6.4). */
  eligibleSwap: boolean;
  /** userfaultfd-armed VMAs handled under the VMA lock (6.6+). */
  eligibleUffd: boolean;
  /** handle_mm_fault drops the VMA lock itself on RETRY/COMPLETED (6.6+). */
  dropLockOnRetry: boolean;
  /** access_error under the VMA lock signals directly, counted as vma_lock_success (6.10+ bc7996c864bf). */
  badAccessUnderVmaLock: boolean;
  /** Fallback path uses lock_mm_and_find_vma and grows stacks under the write lock (6.4.1+, StackRot fix). */
  lockMmAndFindVma: boolean;
  /** expand_downwards write-locks the stack VMA (c137381f71ae, 6.4.3). */
  lockVmaBeforeStackExpand: boolean;
  /** mmap_region write-locks the new VMA before it becomes visible (33313a747e81, 6.4.3). */
  lockNewVmaBeforeInsert: boolean;
  /** lock_vma_under_rcu tests detached before the range (Jann Horn, Aug 2024). */
  detachedBeforeRange: boolean;
  /** dup_anon_vma write-locks the VMA it gives an anon_vma (d8ab9f7b644a, 6.4.8 / 6.5). */
  lockVmaInDupAnonVma: boolean;
  /** do_mbind write-locks the VMAs before its page walk (6c21e066f925, 6.4.8; superseded in 6.5 by pageWalkLock). */
  lockVmaBeforeMpolReplace: boolean;
  /** do_vmi_align_munmap's error path re-attaches the VMAs it detached (606c812eb1d5, 6.4-rc7). */
  munmapReattachOnError: boolean;
  /** Page-table walks under mmap_lock for write write-lock each VMA (49b0638502da, PGWALK_WRLOCK; 6.4.10 / 6.5). */
  pageWalkLock: boolean;
  /**
   * powerpc: an access error under the VMA lock ends the read and falls back to the mmap_lock path
   * ("powerpc/mm: fix mmap_lock bad unlock", squashed into the series before 6.4-rc1).
   */
  ppcBadAccessFallback: boolean;
  /**
   * D2: vma_start_read checks vm_mm itself and pins a recycled VMA's other mm (mmgrab) around
   * vma_refcount_put (9bbffee67ffd, 6.15.10 / 6.16.1); false: the put wakes that mm's writer unpinned.
   */
  grabRecycledVmaMm: boolean;
  /**
   * The per-CPU lru_add folio batch holds PAGEVEC_SIZE = 31 folios (9cecde80aae0 "mm: increase folio
   * batch size", v6.9); false: 15, as include/linux/pagevec.h had it up to 6.8.
   */
  folioBatch31: boolean;
  /** Architecture of the fault handler: x86 do_user_addr_fault, arm64 do_page_fault, powerpc ___do_page_fault. */
  arch: Arch;
}

/** Every lock acquisition site of the model. A scenario may disable any of them. */
export const LOCK_SITES = [
  "do_user_addr_fault:mmap_read_lock",
  "lock_mm_and_find_vma:mmap_read_lock",
  "lock_mm_and_find_vma:mmap_write_lock",
  "lock_vma_under_rcu:rcu_read_lock",
  "lock_vma_under_rcu:vma_start_read",
  "handle_pte_fault:pte_offset_map_lock",
  "do_anonymous_page:pte_offset_map_lock",
  "wp_page_copy:pte_offset_map_lock",
  "do_swap_page:pte_offset_map_lock",
  "do_fault:pte_offset_map_lock",
  "vmf_anon_prepare:mmap_read_trylock",
  "expand_downwards:vma_start_write",
  "mmap_region:mmap_write_lock",
  "mmap_region:vma_start_write",
  "munmap:mmap_write_lock",
  "vma_prepare:vma_start_write",
  "munmap_sidetree:vma_start_write",
  "zap_pte_range:pte_offset_map_lock",
  "free_pgtables:vma_start_write",
  "mprotect:mmap_write_lock",
  "mprotect_fixup:vma_start_write",
  "change_pte_range:pte_offset_map_lock",
  "madvise:mmap_read_lock",
  "mremap:mmap_write_lock",
  "move_vma:vma_start_write",
  "move_ptes:pte_offset_map_lock",
  "brk:mmap_write_lock",
  "dup_mmap:mmap_write_lock",
  "dup_mmap:mmap_write_lock_nested",
  "dup_mmap:vma_start_write",
  "copy_pte_range:pte_offset_map_lock",
  "exit_mmap:mmap_write_lock",
  "dup_anon_vma:vma_start_write",
  "mbind:mmap_write_lock",
  "do_mbind:vma_start_write",
  "walk_page_range:vma_start_write",
] as const;
export type LockSite = (typeof LOCK_SITES)[number];

/** Named yield points (where another CPU may act) besides the lock sites, which are yield points too. */
export const MM_YIELDS = [
  "user_access",
  "wp_page_copy:copy",
  "mmap_region:post_insert",
  "anon_vma_clone:anon_vma_chain_alloc",
  "find_mergeable_anon_vma:reusable_anon_vma",
  "get_vma_policy:mpol_get",
  "queue_pages_pte_range:pte_offset_map_lock",
  "vma_start_read:vma_refcount_put",
  "vma_refcount_put:rcuwait_wake_up",
  "__vma_enter_locked:rcuwait_wait_event",
] as const;
