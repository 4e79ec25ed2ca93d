// Kernel variants of the mm model as data: which per-VMA-lock behaviour each version has.
// Sources: the 6.4 per-VMA locks series (50ee32537206 lock_vma_under_rcu, 0bff0aaea03e x86,
// c7f8f31c00d1 separate vma->lock), the fork fixes 2b4f3b4987b5 (mm tree, all VMAs first) and
// fb49c455323f (mainline and 6.4.3, in the copy loop), 6.4.3's 33313a747e81 and stack-expansion lock,
// the 6.15 refcount series ("reimplement per-vma lock as a refcount", v9, Jan 2025).
import { LOCK_SITES, MM_YIELDS, type MmSwitches } from "../mm/switches.js";

export interface MmVariant {
  name: string;
  aliases: readonly string[];
  summary: string;
  switches: MmSwitches;
}

const V63: MmSwitches = {
  perVmaLock: false,
  vmaLockImpl: "rwsem",
  forkLockVmas: "none",
  anonVmaCheck: "before-lock",
  eligibleFile: false,
  eligibleSwap: false,
  eligibleUffd: false,
  dropLockOnRetry: false,
  badAccessUnderVmaLock: false,
  lockMmAndFindVma: false,
  lockVmaBeforeStackExpand: false,
  lockNewVmaBeforeInsert: false,
  detachedBeforeRange: false,
  lockVmaInDupAnonVma: false,
  lockVmaBeforeMpolReplace: false,
  pageWalkLock: false,
  munmapReattachOnError: true,
  ppcBadAccessFallback: true,
  // D1 has no vm_refcnt (nothing to grab); 6.15 as modelled is 6.15.10+, with the fix
  grabRecycledVmaMm: true,
  folioBatch31: false,
  arch: "x86",
};

const V640: MmSwitches = { ...V63, perVmaLock: true };

const V643: MmSwitches = {
  ...V640,
  forkLockVmas: "per-vma",
  lockMmAndFindVma: true,
  lockVmaBeforeStackExpand: true,
  lockNewVmaBeforeInsert: true,
};

// the summer-2023 fixes of per-vma-locks.md §4.5 (#4, #6, #8, #9), all in 6.5 (6.4.8-6.4.10 stable)
const V65: MmSwitches = {
  ...V643,
  anonVmaCheck: "after-lock",
  lockVmaInDupAnonVma: true,
  // 49b0638502da replaced 6c21e066f925's explicit loop in do_mbind by the walk's PGWALK_WRLOCK
  lockVmaBeforeMpolReplace: false,
  pageWalkLock: true,
};

const V615: MmSwitches = {
  ...V65,
  vmaLockImpl: "refcnt",
  anonVmaCheck: "none",
  eligibleFile: true,
  eligibleSwap: true,
  eligibleUffd: true,
  dropLockOnRetry: true,
  badAccessUnderVmaLock: true,
  detachedBeforeRange: true,
  folioBatch31: true,
};

export const MM_VARIANTS: readonly MmVariant[] = [
  {
    name: "6.3",
    aliases: ["no-pervma", "D0"],
    summary: "no per-VMA locks: every fault takes mmap_lock for read",
    switches: V63,
  },
  {
    name: "6.4.0",
    aliases: ["6.4", "6.4.0-forkbug", "D1"],
    summary: "per-VMA rwsem locks; dup_mmap does not write-lock parent VMAs (the fork race)",
    switches: V640,
  },
  {
    name: "6.4.3",
    aliases: ["fork-fixed", "D1f"],
    summary: "fork fixed as mainline did (vma_start_write in the dup_mmap loop), StackRot and new-VMA fixes",
    switches: V643,
  },
  {
    name: "6.5",
    aliases: ["D1f-2023"],
    summary:
      "6.4.3 with the summer-2023 fixes: anon_vma checked after the VMA lock, dup_anon_vma, mbind and page walks write-lock the VMA",
    switches: V65,
  },
  {
    name: "6.15",
    aliases: ["refcount", "D2"],
    summary:
      "vm_refcnt VMA lock, typesafe-by-RCU VMAs, file/swap/uffd faults and anon_vma setup under the VMA lock",
    switches: V615,
  },
];

export function findMmVariant(name: string): MmVariant | undefined {
  return MM_VARIANTS.find((v) => v.name === name) ?? MM_VARIANTS.find((v) => v.aliases.includes(name));
}

/** Switches of a variant with scenario overrides applied (unknown names or wrong types throw). */
export function mmSwitches(name: string, over: Readonly<Record<string, unknown>> = {}): MmSwitches {
  const v = findMmVariant(name);
  if (v === undefined) throw new RangeError(`unknown mm kernel variant ${JSON.stringify(name)}`);
  const out: Record<string, unknown> = { ...v.switches };
  for (const [k, val] of Object.entries(over)) {
    if (!(k in out)) throw new RangeError(`unknown switch ${JSON.stringify(k)} for variant ${v.name}`);
    if (typeof val !== typeof out[k]) throw new RangeError(`switch ${k}: expected a ${typeof out[k]}`);
    out[k] = val;
  }
  return out as unknown as MmSwitches;
}

const SWITCH_HELP: Readonly<Record<keyof MmSwitches, { values?: readonly string[]; summary: string }>> = {
  perVmaLock: { summary: "CONFIG_PER_VMA_LOCK: try lock_vma_under_rcu before mmap_lock" },
  vmaLockImpl: {
    values: ["rwsem", "refcnt"],
    summary: "VMA lock design: 6.4 rw_semaphore or 6.15 vm_refcnt",
  },
  forkLockVmas: {
    values: ["none", "per-vma", "all-first"],
    summary: "dup_mmap write-locks parent VMAs: none (6.4.0), per-vma (mainline), all-first (mm tree)",
  },
  anonVmaCheck: {
    values: ["before-lock", "after-lock", "none"],
    summary: "where lock_vma_under_rcu refuses VMAs without anon_vma",
  },
  eligibleFile: { summary: "file-backed faults under the VMA lock (6.7+)" },
  eligibleSwap: { summary: "swap-in under the VMA lock (6.6+); else VM_FAULT_RETRY" },
  eligibleUffd: { summary: "userfaultfd faults under the VMA lock (6.6+)" },
  dropLockOnRetry: { summary: "handle_mm_fault drops the VMA lock on VM_FAULT_RETRY (6.6+)" },
  badAccessUnderVmaLock: { summary: "signal access errors under the VMA lock (6.10+)" },
  lockMmAndFindVma: { summary: "lock_mm_and_find_vma; stack growth under the write lock (6.4.1+)" },
  lockVmaBeforeStackExpand: { summary: "expand_downwards write-locks the stack VMA (6.4.3+)" },
  lockNewVmaBeforeInsert: { summary: "mmap_region write-locks the new VMA before inserting it (6.4.3+)" },
  detachedBeforeRange: { summary: "lock_vma_under_rcu checks detached before the range (2024)" },
  lockVmaInDupAnonVma: {
    summary: "dup_anon_vma write-locks the VMA before giving it an anon_vma (d8ab9f7b644a)",
  },
  lockVmaBeforeMpolReplace: {
    summary:
      "do_mbind write-locks the VMAs before its page walk (6c21e066f925, 6.4.8; 6.5 locks them in the walk)",
  },
  munmapReattachOnError: { summary: "munmap's error path re-attaches the VMAs it detached (606c812eb1d5)" },
  pageWalkLock: { summary: "page-table walks under the mmap write lock write-lock each VMA (49b0638502da)" },
  ppcBadAccessFallback: {
    summary:
      "powerpc: access errors under the VMA lock fall back to mmap_lock (powerpc/mm: fix mmap_lock bad unlock)",
  },
  grabRecycledVmaMm: {
    summary:
      "6.15: vma_start_read pins a recycled VMA's mm (mmgrab) while it drops its reference (9bbffee67ffd)",
  },
  folioBatch31: { summary: "lru_add folio batches of 31 folios (9cecde80aae0, 6.9+); else 15" },
  arch: { values: ["x86", "arm64", "powerpc"], summary: "fault handler shape" },
};

/** Catalog entries (structurally the scenario layer's VariantInfo). */
export function mmVariantInfos() {
  return MM_VARIANTS.map((v) => ({
    name: v.name,
    aliases: v.aliases,
    model: "mm" as const,
    summary: v.summary,
    switches: (Object.keys(v.switches) as (keyof MmSwitches)[]).map((k) => {
      const val = v.switches[k];
      const help = SWITCH_HELP[k];
      return {
        name: k,
        type: typeof val as "boolean" | "string",
        ...(help.values ? { values: help.values } : {}),
        default: val,
        summary: help.summary,
      };
    }),
    lockSites: LOCK_SITES,
    yields: MM_YIELDS,
  }));
}
