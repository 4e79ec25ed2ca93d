// The catalog of real per-VMA-lock bugs the mm model reproduces: each one as the kernel had it before
// its fix, brought back by removing the fix's lock site or by setting the fix's switch to the old
// behaviour on a variant that has the fix. `faultline bugs` lists and verifies it.
// Sources: each entry's fix commit in torvalds/linux (or the fix's message id on linux-mm), whose
// commit message tells the interleaving the entry reproduces.
import type { LockSite, MmSwitches } from "../mm/switches.js";

/** How the fix appears in the model: a lock site the fixed variants take, or a switch they set. */
export type MmBugFix =
  | { kind: "site"; site: LockSite }
  | {
      kind: "switch";
      name: keyof MmSwitches;
      /** The value of the fixed variants. */
      fixed: boolean | string;
      /** The value before the fix. */
      buggy: boolean | string;
    };

export interface MmBug {
  /** Upstream commit id (12 hex digits), or the fix's lore message id when it was squashed before merging. */
  id: string;
  /** Short name: the built-in scenario is pervma-bug-<short>. */
  short: string;
  /** The fix's subject line. */
  subject: string;
  /** First kernel with the bug and first with the fix, as the catalog reports them. */
  introduced: string;
  fixedIn: string;
  fix: MmBugFix;
  /** Built-in scenario for the timed driver (on a variant with the fix). */
  scenario: string;
  /** Built-in scenario for `faultline check` (a smaller configuration where needed). */
  checkScenario: string;
  /** Finding kinds that show the bug (any of them). */
  kinds: readonly string[];
  /** What the kernel printed or would print, one line. */
  symptom: string;
}

export const MM_BUGS: readonly MmBug[] = [
  {
    id: "fb49c455323f",
    short: "fork",
    subject: "fork: lock VMAs of the parent process when forking",
    introduced: "6.4.0",
    fixedIn: "6.4.3",
    fix: { kind: "site", site: "dup_mmap:vma_start_write" },
    scenario: "pervma-bug-fork",
    checkScenario: "pervma-fork-race-mini",
    kinds: ["cow_premise", "lost_update"],
    symptom: "parent stores lost after fork (Go/Zig runtime crashes, SUSE bug 1212775)",
  },
  {
    id: "c137381f71ae",
    short: "stack-expand",
    subject: "mm: lock a vma before stack expansion",
    introduced: "6.4.0",
    fixedIn: "6.4.3",
    fix: { kind: "site", site: "expand_downwards:vma_start_write" },
    scenario: "pervma-bug-stack-expand",
    checkScenario: "pervma-bug-stack-expand",
    kinds: ["vma_mutual_exclusion", "reader_on_stale_vma"],
    symptom: "a fault under the VMA lock sees vm_start/vm_pgoff change under it",
  },
  {
    id: "33313a747e81",
    short: "new-vma",
    subject: "mm: lock newly mapped VMA which can be modified after it becomes visible",
    introduced: "6.4.0",
    fixedIn: "6.4.3",
    fix: { kind: "site", site: "mmap_region:vma_start_write" },
    scenario: "pervma-bug-new-vma",
    checkScenario: "pervma-bug-new-vma",
    kinds: ["vma_mutual_exclusion", "reader_on_stale_vma"],
    symptom: "a file fault uses a VMA mmap_region is still setting up (harmless in 6.4; real on 6.15)",
  },
  {
    id: "d8ab9f7b644a",
    short: "dup-anon-vma",
    subject: "mm: lock VMA in dup_anon_vma() before setting ->anon_vma",
    introduced: "6.4.0",
    fixedIn: "6.4.8",
    fix: { kind: "switch", name: "lockVmaInDupAnonVma", fixed: true, buggy: false },
    scenario: "pervma-bug-dup-anon-vma",
    checkScenario: "pervma-bug-dup-anon-vma-mini",
    kinds: ["use_after_free"],
    symptom:
      "BUG: KASAN: slab-use-after-free in folio_lock_anon_vma_read (anon_vma freed under a mapped page)",
  },
  {
    id: "657b5146955e",
    short: "anon-vma-check",
    subject: "mm: lock_vma_under_rcu() must check vma->anon_vma under vma lock",
    introduced: "6.4.0",
    fixedIn: "6.4.9",
    fix: { kind: "switch", name: "anonVmaCheck", fixed: "after-lock", buggy: "before-lock" },
    scenario: "pervma-bug-anon-vma-check",
    checkScenario: "pervma-bug-anon-vma-check-mini",
    kinds: ["use_after_free"],
    symptom:
      "BUG: KASAN: slab-use-after-free in reusable_anon_vma (find_mergeable_anon_vma under the VMA lock)",
  },
  {
    id: "6c21e066f925",
    short: "mempolicy",
    subject: "mm/mempolicy: Take VMA lock before replacing policy",
    introduced: "6.4.0",
    fixedIn: "6.4.8",
    fix: { kind: "switch", name: "lockVmaBeforeMpolReplace", fixed: true, buggy: false },
    scenario: "pervma-bug-mempolicy",
    checkScenario: "pervma-bug-mempolicy-mini",
    kinds: ["use_after_free"],
    symptom: "BUG: KASAN: slab-use-after-free in vma_alloc_folio (CVE-2023-4611)",
  },
  {
    id: "606c812eb1d5",
    short: "munmap-detach",
    subject: "mm/mmap: Fix error path in do_vmi_align_munmap()",
    introduced: "6.4-rc1",
    fixedIn: "6.4.0",
    fix: { kind: "switch", name: "munmapReattachOnError", fixed: true, buggy: false },
    scenario: "pervma-bug-munmap-detach",
    checkScenario: "pervma-bug-munmap-detach-mini",
    kinds: ["fault_livelock"],
    symptom:
      "lock_vma_under_rcu retries a detached VMA forever inside rcu_read_lock (RCU stall, soft lockup)",
  },
  {
    id: "49b0638502da",
    short: "pagewalk",
    subject: "mm: enable page walking API to lock vmas during the walk",
    introduced: "6.4.0",
    fixedIn: "6.4.10",
    fix: { kind: "switch", name: "pageWalkLock", fixed: true, buggy: false },
    scenario: "pervma-bug-pagewalk",
    checkScenario: "pervma-bug-mempolicy-mini",
    kinds: ["mempolicy_violation", "use_after_free"],
    symptom: "mbind(MPOL_MF_MOVE) misses pages faulted in behind queue_pages_range",
  },
  {
    id: "20230306135520.4222-1-ldufour@linux.ibm.com",
    short: "ppc-bad-unlock",
    subject: "powerpc/mm: fix mmap_lock bad unlock",
    introduced: "v4 31/33",
    fixedIn: "6.4-rc1",
    fix: { kind: "switch", name: "ppcBadAccessFallback", fixed: true, buggy: false },
    scenario: "pervma-bug-ppc-bad-unlock",
    checkScenario: "pervma-bug-ppc-bad-unlock-mini",
    kinds: ["bad_unlock_balance"],
    symptom: "WARNING: bad unlock balance detected! (__bad_area's mmap_read_unlock under the VMA lock)",
  },
  {
    id: "9bbffee67ffd",
    short: "recycled-vma",
    subject: "mm: fix a UAF when vma->mm is freed after vma->vm_refcnt got dropped",
    introduced: "6.15",
    fixedIn: "6.15.10",
    fix: { kind: "switch", name: "grabRecycledVmaMm", fixed: true, buggy: false },
    scenario: "pervma-bug-recycled-vma",
    checkScenario: "pervma-bug-recycled-vma-mini",
    kinds: ["use_after_free"],
    symptom:
      "BUG: KASAN: slab-use-after-free in rcuwait_wake_up (vma_refcount_put wakes the writer of a recycled VMA's freed mm)",
  },
];

export function findMmBug(idOrShort: string): MmBug | undefined {
  const k = idOrShort.toLowerCase();
  return MM_BUGS.find(
    (b) => b.id === k || b.short === k || (k.length >= 7 && /^[0-9a-f]+$/.test(k) && b.id.startsWith(k)),
  );
}
