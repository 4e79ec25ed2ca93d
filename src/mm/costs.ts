// Cost table of the mm model, one entry per modelled step. Units are last in every name; every entry
// names its source: "cal §n" = the calibration measurements of this project's machine (Linux 6.18 in
// a 2-vCPU KVM guest; docs/design/mm-model.md lists them), calib/*.c = a program in this repository
// measuring that kernel (calib/*.sh with its .out.txt), or "est" = estimated. Calibration §3 is validation data and is
// deliberately not used here. Lock words and other shared cache lines cost what src/sync's
// CacheLine model says (atomicLocalNs / atomicRemoteNs, serialised transfers).

export interface MmCosts {
  /**
   * Fault trap and zero-page PTE install, without the VMA lookup and its lock atomics (charged by
   * lvurNs / mmapFindVmaNs and on the lock's cache line). [cal §2: anon first-touch read fault 549 ns
   * on the per-VMA path, minus lvurNs 97, minus vma_start_read + vma_end_read (2 x 3 ns, src/sync
   * DEFAULT_CACHE_COSTS.atomicLocalNs, calib/cacheline.c)]
   */
  faultBaseNs: number;
  /**
   * lock_vma_under_rcu besides its atomics: rcu_read_lock, mas_walk, the eligibility, range and
   * detached checks. [calib/fault_paths.c: no difference of user-visible operations isolates it on
   * 6.18 (every user fault tries it first); its CPU time is the maple-tree walk that find_vma also
   * makes, so the walk measured by mmap_path minus its two atomics: 103 - 2 x 3]
   */
  lvurNs: number;
  /**
   * mmap_read_lock + find_vma + mmap_read_unlock besides the rwsem atomics (charged on mmap_lock's
   * line). [calib/fault_paths.c mmap_path: get_mempolicy(MPOL_F_ADDR) - get_mempolicy(0), 103 ns
   * with 3 VMAs (126-146 with 10,000), minus down_read + up_read (2 x 3 ns, calib/cacheline.c)]
   */
  mmapFindVmaNs: number;
  /**
   * Anonymous page allocation, zeroing and memcg charge, besides the per-page rmqueue_bulk and
   * lru_add work charged under their locks. [cal §2 (a) 1299 (512 MiB of first touches: every page
   * came through a pcp refill and an lru_add batch) - read fault 549 - rmqueueBulkPerPageNs -
   * lruAddPerFolioNs]
   */
  anonFaultAllocZeroNs: number;
  /**
   * rmqueue_bulk per page moved to a pcp list, under zone->lock (__rmqueue, list_add_tail).
   * [measured: calib/page_batches.sh, output calib/page_batches.out.txt: the interval between
   * consecutive kmem:mm_page_alloc_zone_locked events of one refill on 6.18, the probe's cost
   * removed (events in 1..4 tracefs instances, line at k = 0); median of the runs' figures]
   */
  rmqueueBulkPerPageNs: number;
  /**
   * lru_add per folio in folio_batch_move_lru, under lru_lock (lruvec_add_folio, memcg LRU sizes).
   * [measured: calib/page_batches.sh (pagemap:mm_lru_insertion), as rmqueueBulkPerPageNs]
   */
  lruAddPerFolioNs: number;
  /**
   * pte_alloc_one / pmd_alloc_one besides the pcp list: clearing the 4 KiB page (__GFP_ZERO) and the
   * constructor. [cal §2: user-space memset of one mapped 4 KiB page, 405 ns]
   */
  pageTableAllocNs: number;
  /** wp_page_copy: allocation, 4 KiB copy, flush, rmap. [cal §2 (d) 2110 - 549] */
  wpCopyNs: number;
  /** wp_page_reuse on a write-protected exclusive page. [cal §2 (d) 621 - 549] */
  wpReuseNs: number;
  /** Page-cache file read fault on top of the base. [cal §2 (c) 1044 - 549] */
  fileFaultNs: number;
  /** Syscall entry and exit. [cal §4 getpid p50] */
  syscallNs: number;
  /** mmap of a 64 KiB anonymous region (whole syscall). [cal §4 p50 451] */
  mmapNs: number;
  /** munmap of an untouched 64 KiB region (whole syscall). [cal §4 p50 701] */
  munmapNs: number;
  /** Zap of one present PTE (MADV_DONTNEED, munmap, exit). [cal §2 (e) 107 ns/page] */
  zapPerPageNs: number;
  /** mprotect of a whole VMA without PTEs. [cal §4 p50 273] */
  mprotectNs: number;
  /** mprotect per present PTE changed, flush included. [cal §4 (2718 - 273) / 16] */
  mprotectPerPteNs: number;
  /** VMA split or merge. [cal §4 (1361 + 1419) / 2] */
  splitMergeNs: number;
  /** fork: copying one present PTE. [cal §4 7.08 ms / 262144 PTEs] */
  forkPerPteNs: number;
  /** fork of a small process besides its PTEs and VMAs (task, mm). [est] */
  forkBaseNs: number;
  /**
   * dup_mmap per parent VMA: vm_area_dup, the tree store and the loop's checks. [measured:
   * calib/fork_vmas.c, fork CPU time against untouched one-page VMAs, slope 1.1 us/VMA on 6.18;
   * that kernel's vma_start_write per VMA is inside the figure, the model adds its own atomics]
   */
  forkPerVmaNs: number;
  /**
   * dup_mmap per parent VMA with an anon_vma: anon_vma_fork and copy_page_range's per-VMA setup.
   * [measured: calib/fork_vmas.c, touched minus untouched slope (1.72 - 1.10 us/VMA) minus one PTE]
   */
  forkAnonVmaNs: number;
  /** Child exit + wait per PTE. [cal §4 8.69 ms / 262144 PTEs] */
  exitPerPteNs: number;
  /** Child exit besides its PTEs. [est] */
  exitBaseNs: number;
  /** Local TLB invalidation of one page (invlpg). [est] */
  tlbFlushLocalNs: number;
  /** Remote TLB shootdown: IPIs and waiting for the acknowledgements. [est, KVM guest] */
  tlbFlushIpiNs: number;
  /** Hardware page walk on a TLB miss. [est] */
  pageWalkNs: number;
  /** Swap-in of one page. [est: no swap on the calibration machine] */
  swapInNs: number;
  /** Swap-out of one page (MADV_PAGEOUT). [est] */
  swapOutNs: number;
  /** userfaultfd monitor resolving a missing fault. [est] */
  uffdResolveNs: number;
}

export const MM_COSTS_CALIBRATION: MmCosts = {
  faultBaseNs: 446,
  lvurNs: 97,
  mmapFindVmaNs: 97,
  anonFaultAllocZeroNs: 553,
  rmqueueBulkPerPageNs: 96,
  lruAddPerFolioNs: 101,
  pageTableAllocNs: 405,
  wpCopyNs: 1561,
  wpReuseNs: 72,
  fileFaultNs: 495,
  syscallNs: 107,
  mmapNs: 451,
  munmapNs: 701,
  zapPerPageNs: 107,
  mprotectNs: 273,
  mprotectPerPteNs: 153,
  splitMergeNs: 1390,
  forkPerPteNs: 27,
  forkBaseNs: 40_000,
  forkPerVmaNs: 1100,
  forkAnonVmaNs: 590,
  exitPerPteNs: 33,
  exitBaseNs: 20_000,
  tlbFlushLocalNs: 100,
  tlbFlushIpiNs: 1500,
  pageWalkNs: 30,
  swapInNs: 20_000,
  swapOutNs: 10_000,
  uffdResolveNs: 5000,
};

export const MM_COST_SOURCES: Readonly<Record<keyof MmCosts, string>> = {
  faultBaseNs:
    "machine calibration §2: anon first-touch read fault (zero page) 549 ns, minus lvurNs and the two VMA-lock atomics (2 x 3 ns, calib/cacheline.c)",
  lvurNs:
    "calib/fault_paths.c: the maple-tree walk (mmap_path 103 ns minus two atomics of 3 ns, calib/cacheline.c); the per-VMA path cannot be isolated from user space on 6.18",
  mmapFindVmaNs:
    "calib/fault_paths.c mmap_path: get_mempolicy(MPOL_F_ADDR) minus get_mempolicy(0), 103 ns, minus down_read + up_read (2 x 3 ns, calib/cacheline.c)",
  anonFaultAllocZeroNs:
    "machine calibration §2 (a) 1299 ns minus the read fault 549 ns minus rmqueue_bulk's and lru_add's per-page work (96 + 101 ns, calib/page_batches.sh)",
  rmqueueBulkPerPageNs:
    "calib/page_batches.sh (calib/page_batches.out.txt): interval between consecutive kmem:mm_page_alloc_zone_locked events of one rmqueue_bulk on 6.18, probe removed (1..4 tracefs instances, line at k = 0), median of the runs",
  lruAddPerFolioNs:
    "calib/page_batches.sh (calib/page_batches.out.txt): interval between consecutive pagemap:mm_lru_insertion events of one folio_batch_move_lru on 6.18, probe removed (1..4 tracefs instances, line at k = 0), median of the runs",
  pageTableAllocNs:
    "machine calibration §2: memset of one mapped 4 KiB page (the page table's __GFP_ZERO clearing)",
  wpCopyNs: "machine calibration §2 (d) COW fault 2110 ns minus 549 ns",
  wpReuseNs: "machine calibration §2 (d) reuse fault 621 ns minus 549 ns",
  fileFaultNs: "machine calibration §2 (c) 1044 ns minus 549 ns",
  syscallNs: "machine calibration §4 getpid p50",
  mmapNs: "machine calibration §4 mmap 64 KiB p50",
  munmapNs: "machine calibration §4 munmap 64 KiB untouched p50",
  zapPerPageNs: "machine calibration §2 (e) MADV_DONTNEED per page",
  mprotectNs: "machine calibration §4 mprotect, no PTEs, p50",
  mprotectPerPteNs: "machine calibration §4 (2718 - 273) / 16",
  splitMergeNs: "machine calibration §4 split/merge mean of p50s",
  forkPerPteNs: "machine calibration §4 fork 1 GiB 7.08 ms / 262144 PTEs",
  forkBaseNs: "estimated",
  forkPerVmaNs: "calib/fork_vmas.c: fork CPU time per untouched one-page VMA (6.18, this machine)",
  forkAnonVmaNs: "calib/fork_vmas.c: touched minus untouched per-VMA fork CPU time, minus one PTE copy",
  exitPerPteNs: "machine calibration §4 child exit 8.69 ms / 262144 PTEs",
  exitBaseNs: "estimated",
  tlbFlushLocalNs: "estimated",
  tlbFlushIpiNs: "estimated (KVM guest shootdown)",
  pageWalkNs: "estimated",
  swapInNs: "estimated (no swap on the calibration machine)",
  swapOutNs: "estimated",
  uffdResolveNs: "estimated",
};
