// vmstat counters with the kernel's /proc/vmstat names (include/linux/vm_event_item.h), plus a few
// model counters (prefixed "model_") that the kernel does not export.

export const VMSTAT_NAMES = [
  "pgfault",
  "pgmajfault",
  "pgalloc_normal",
  "pgfree",
  "pswpin",
  "pswpout",
  "vma_lock_success",
  "vma_lock_abort",
  "vma_lock_retry",
  "vma_lock_miss",
  "nr_tlb_remote_flush",
  "nr_tlb_remote_flush_received",
  "nr_tlb_local_flush_all",
  "nr_tlb_local_flush_one",
  "model_user_faults",
  "model_cow_copy",
  "model_wp_reuse",
  "model_zero_page_map",
  "model_segv",
  "model_fork",
  "model_mmap",
  "model_munmap",
  "model_mprotect",
  "model_madvise",
  "model_stack_expand",
  "model_uffd_fault",
  "model_faults_during_mmap_write",
] as const;
export type VmstatName = (typeof VMSTAT_NAMES)[number];

export enum VM {
  PGFAULT = 0,
  PGMAJFAULT,
  PGALLOC_NORMAL,
  PGFREE,
  PSWPIN,
  PSWPOUT,
  VMA_LOCK_SUCCESS,
  VMA_LOCK_ABORT,
  VMA_LOCK_RETRY,
  VMA_LOCK_MISS,
  NR_TLB_REMOTE_FLUSH,
  NR_TLB_REMOTE_FLUSH_RECEIVED,
  NR_TLB_LOCAL_FLUSH_ALL,
  NR_TLB_LOCAL_FLUSH_ONE,
  USER_FAULTS,
  COW_COPY,
  WP_REUSE,
  ZERO_PAGE_MAP,
  SEGV,
  FORK,
  MMAP,
  MUNMAP,
  MPROTECT,
  MADVISE,
  STACK_EXPAND,
  UFFD_FAULT,
  /** Faults completed while another task held mmap_lock for write. */
  FAULTS_DURING_MMAP_WRITE,
}

export class Vmstat {
  readonly v = new Float64Array(VMSTAT_NAMES.length);

  toRecord(): Record<VmstatName, number> {
    const out = {} as Record<VmstatName, number>;
    for (let i = 0; i < VMSTAT_NAMES.length; i++) out[VMSTAT_NAMES[i]!] = this.v[i]!;
    return out;
  }
}
