// The oracle of the mm model: the invariants a correct kernel keeps (docs/design/mm-model.md §5),
// checked at hooks the model calls (MmSim.oracle), each broken one reported as a finding (never an
// exception). The kernel has no such checks: they stand for what KASAN, a lost write or a crash
// would show later. Every invariant is checked here; the model only calls the hooks (and keeps the
// guards that let it go on after a finding, e.g. vma_start_read failing on a freed VMA).
//
// Verified, at the hook named:
//   1 vma_mutual_exclusion         vmaModify: a writer modifies (range, flags, anon_vma, detach) a VMA
//                                   a fault holds read-locked; vmaWriteLocked: vma_start_write
//                                   returns while a fault still uses the VMA
//   2 vma_write_lock_without_mmap_write_lock
//                                   vmaStartWrite: vma_start_write without mmap_lock held for write;
//                                   vmaModify: a VMA modified while another task holds mmap_lock for
//                                   write
//   3 reader_on_stale_vma          lockedVma: lock_vma_under_rcu returns a live, attached VMA of this
//                                   mm covering the address; install: the VMA locked is unchanged
//                                   (generation, incarnation, attached) when a PTE is installed under
//                                   the VMA lock, and still maps the address under mmap_lock
//   4 lost_update                  userStore keeps the shadow (the last value stored to each word);
//                                   userLoad: a load returns it; sweepLostUpdates (end of run):
//                                   every stored word holds it
//   5 cow_premise                  cowCopy/cowInstalled: no CPU held a writable TLB entry for the
//                                   frame wp_page_copy copied, when that copy is installed (a copy
//                                   that fails pte_same is discarded: a second COW fault on the page,
//                                   or one racing a reuse, copies the old frame legitimately)
//   6 anon_vma_changed_during_fork forkCopied: the parent's anon_vma is the one anon_vma_fork saw
//   7 vma_lifetime                 vmaTouched: lock_vma_under_rcu (6.4 rwsem) touches a VMA freed or
//                                   reused since its walk; vmaStartRead: vma_start_read on a freed
//                                   VMA; vmaFree: a VMA freed twice; userAccess: a load or store
//                                   through a stale TLB entry to a freed frame
//   8 pte_installed_during_teardown install: no PTE appears between zap and free_pgtables
//   9 vma_lock_counter_identity    faultIdentity: one fault counts exactly one of
//                                   vma_lock_{abort,success,retry} (6.4 flow; an access-error fallback
//                                   counts none)
// Not verified: memory ordering (the model is sequentially consistent, so a missing barrier cannot
// show), the contents of page-table pages (only their presence), lock ordering (lockdep in src/sync
// does that), TLB entries of huge pages, what the child of a fork observes (invariant 4 covers the
// parent's words only), and anything the kernel does outside the modelled paths.

import { holdsMmapWrite } from "./locking.js";
import type { MmSim } from "./sim.js";
import type { MmThread } from "./thread.js";
import { hex, MmStruct, VMA_FREE, VMA_LIVE, type Vma } from "./types.js";
import { vmaAttached } from "./vma_lock.js";

/** The invariants of the model (docs/design/mm-model.md §5; finding kinds). */
export const INVARIANTS = {
  1: "vma_mutual_exclusion",
  2: "vma_write_lock_without_mmap_write_lock",
  3: "reader_on_stale_vma",
  4: "lost_update",
  5: "cow_premise",
  6: "anon_vma_changed_during_fork",
  7: "vma_lifetime",
  8: "pte_installed_during_teardown",
  9: "vma_lock_counter_identity",
} as const;
/**
 * Every finding kind the per-VMA-lock model reports (MmSim.finding): the invariants and the checks
 * beside them. `faultline check --kind` accepts these and the engine's (ENGINE_FINDING_KINDS).
 */
export const MM_FINDING_KINDS = [
  ...Object.values(INVARIANTS),
  "model_bookkeeping",
  "fault_livelock",
  // what KASAN and lockdep print (src/mm/debug.ts)
  "use_after_free",
  "bad_unlock_balance",
  // mbind(MPOL_MF_MOVE) left a page where the old policy put it (src/mm/mempolicy.ts)
  "mempolicy_violation",
] as const;
export type InvariantKind = (typeof MM_FINDING_KINDS)[number];

/** The hooks the model calls; MmSim.oracle holds the kernel's invariants (KERNEL_INVARIANTS). */
export interface MmOracle {
  /** lock_vma_under_rcu is about to return `v`, read-locked, for vpn (invariant 3). */
  lockedVma(th: MmThread, mm: MmStruct, v: Vma, vpn: number): void;
  /** A PTE is about to be installed at vpn for `v` (invariants 3 and 8). */
  install(th: MmThread, mm: MmStruct, v: Vma, vpn: number, underVmaLock: boolean): void;
  /** The per-VMA attempt of one fault is over (invariant 9). */
  faultIdentity(th: MmThread, vpn: number, before: number, accessFallback: boolean): void;
  /**
   * wp_page_copy is about to copy frame `old` mapped at vpn (invariant 5): the CPU holding a
   * writable TLB entry for that frame there, or -1, for cowInstalled.
   */
  cowCopy(th: MmThread, mm: MmStruct, vpn: number, old: number): number;
  /** wp_page_copy installs its copy of `old` (pte_same held); `holder` is what cowCopy returned. */
  cowInstalled(th: MmThread, vpn: number, old: number, holder: number): void;
  /** dup_mmap copied `p`, whose anon_vma was `av` at anon_vma_fork (invariant 6). */
  forkCopied(th: MmThread, p: Vma, av: number): void;
  /** End of run: every shadowed word of mm holds its last stored value (invariant 4); the count lost. */
  sweepLostUpdates(sim: MmSim, mm: MmStruct): number;
  /** A writer is about to modify `v` (`what`: the step) (invariants 1 and 2). */
  vmaModify(th: MmThread, v: Vma, what: string): void;
  /** vma_start_write(v) at `site` begins (invariant 2). */
  vmaStartWrite(th: MmThread, v: Vma, site: string): void;
  /** vma_start_write(v) at `site` returns (invariant 1). */
  vmaWriteLocked(th: MmThread, v: Vma, site: string): void;
  /** 6.4 vma_start_read(v) begins (invariant 7). */
  vmaStartRead(th: MmThread, v: Vma): void;
  /** lock_vma_under_rcu (6.4 rwsem) touches `v`, walked at incarnation `inc`, for vpn (invariant 7). */
  vmaTouched(th: MmThread, v: Vma, inc: number, vpn: number): void;
  /** vm_area_free(v) (invariant 7). */
  vmaFree(sim: MmSim, v: Vma): void;
  /** A user load or store at vpn goes to `frame` through the CPU's TLB entry (invariant 7). */
  userAccess(th: MmThread, vpn: number, frame: number, write: boolean): void;
  /** A user store wrote `val` to word `word` of vpn (the shadow of invariant 4). */
  userStore(th: MmThread, mm: MmStruct, vpn: number, word: number, val: number): void;
  /** A user load read `have` from word `word` of vpn in `frame` (invariant 4). */
  userLoad(th: MmThread, mm: MmStruct, vpn: number, word: number, have: number, frame: number): void;
}

export const KERNEL_INVARIANTS: MmOracle = {
  lockedVma(th, mm, v, vpn) {
    if (v.state !== VMA_LIVE || v.vm_mm !== mm || !vmaAttached(th, v) || vpn < v.start || vpn >= v.end)
      th.sim.finding(
        "reader_on_stale_vma",
        [th.cpu],
        [vpn],
        `lock_vma_under_rcu returned ${v.describe()} (state ${v.state}, attached ${vmaAttached(th, v)}) for ${hex(vpn)}`,
      );
  },

  install(th, mm, v, vpn, underVmaLock) {
    const sim = th.sim;
    const t = mm.tearing;
    for (let i = 0; i < t.length; i += 2)
      if (vpn >= t[i]! && vpn < t[i + 1]!)
        sim.finding(
          "pte_installed_during_teardown",
          [th.cpu],
          [vpn],
          `PTE installed at ${hex(vpn)} between zap and free_pgtables of [${hex(t[i]!)}, ${hex(t[i + 1]!)})`,
        );
    if (underVmaLock) {
      const fl = th.fl;
      if (v.gen !== fl.gen || v.incarnation !== fl.incarnation || !vmaAttached(th, v) || v.state !== VMA_LIVE)
        sim.finding(
          "reader_on_stale_vma",
          [th.cpu],
          [vpn],
          `fault under the VMA lock installed a PTE in ${v.describe()} that changed (gen ${fl.gen}->${v.gen}, attached ${vmaAttached(th, v)}) since it was locked`,
        );
    } else if (
      v.state !== VMA_LIVE ||
      v.vm_mm !== mm ||
      vpn < v.start ||
      vpn >= v.end ||
      MmStruct.walk(mm.vmas, vpn) !== v
    )
      sim.finding(
        "reader_on_stale_vma",
        [th.cpu],
        [vpn],
        `fault under mmap_lock installed a PTE at ${hex(vpn)} for ${v.describe()}, which no longer maps it`,
      );
  },

  faultIdentity(th, vpn, before, accessFallback) {
    const n = th.faultCounted - before;
    if (n !== (accessFallback ? 0 : 1))
      th.sim.finding(
        "vma_lock_counter_identity",
        [th.cpu],
        [vpn],
        `one fault counted ${n} of vma_lock_{abort,success,retry}`,
      );
  },

  cowCopy(th, mm, vpn, old) {
    // an entry for the frame being copied (another CPU's COW copy of the page may already be
    // installed and writable at vpn)
    return th.sim.writableTlbHolder(mm, vpn, old);
  },

  cowInstalled(th, vpn, old, holder) {
    const sim = th.sim;
    if (holder >= 0)
      sim.finding(
        "cow_premise",
        [th.cpu, holder],
        [vpn],
        `wp_page_copy copies frame ${old} at ${hex(vpn)} while cpu${holder} holds a writable TLB entry for it`,
        { frame: old },
      );
  },

  forkCopied(th, p, av) {
    if (p.anon_vma !== av)
      th.sim.finding(
        "anon_vma_changed_during_fork",
        [th.cpu],
        [p.start],
        `anon_vma of ${p.describe()} changed from ${av} to ${p.anon_vma} while dup_mmap copied it`,
      );
  },

  sweepLostUpdates(sim, mm) {
    const exp = mm.expected;
    if (exp === null || mm.dead) return 0;
    const w = sim.words;
    const fr = sim.frames;
    let lost = 0;
    const busy = mm.busy;
    const blocks = mm.storedBlocks!;
    const ptes = mm.pte;
    for (let vpn = 0; vpn < mm.vaPages; vpn++) {
      // a block of 64 pages nobody ever stored to expects nothing
      if (blocks[vpn >> 6] === 0) {
        vpn |= 63;
        continue;
      }
      if (busy.length !== 0) {
        let inTransit = false;
        for (let b = 0; b < busy.length; b += 2) if (vpn >= busy[b]! && vpn < busy[b + 1]!) inTransit = true;
        if (inTransit) continue;
      }
      const pte = ptes[vpn]!;
      // the page's words: in its frame (present), its swap slot (swapped), or none (0)
      const mem = pte & 1 ? fr.content : pte & 4 ? sim.swapContent : null;
      const at = (pte >>> 3) * w;
      for (let i = 0, x = vpn * w; i < w; i++, x++) {
        const e = exp[x]!;
        if (e <= 0) continue;
        const have = mem !== null ? mem[at + i]! : 0;
        if (have !== e) {
          lost++;
          sim.finding(
            "lost_update",
            [mm.lastStoreCpu![vpn * w + i]!],
            [vpn],
            `end of run: ${hex(vpn)} word ${i} holds ${have}, the last store wrote ${e}`,
            { mm: mm.id, word: i, expected: e, found: have },
          );
        }
      }
    }
    return lost;
  },

  vmaModify(th, v, what) {
    const sim = th.sim;
    const mm = v.vm_mm;
    if (v.readers > 0 && sim.sw.perVmaLock)
      sim.finding(
        "vma_mutual_exclusion",
        [th.cpu],
        [v.start],
        `${what} modified ${v.describe()} while ${v.readers} fault(s) hold its read lock`,
        { what },
      );
    if (mm !== null && !holdsMmapWrite(th, mm) && mm.writerPid !== 0)
      sim.finding(
        "vma_write_lock_without_mmap_write_lock",
        [th.cpu],
        [v.start],
        `${what} modified ${v.describe()} while another task holds mmap_lock for write`,
        { what },
      );
  },

  vmaStartWrite(th, v, site) {
    const mm = v.vm_mm;
    if (mm !== null && !holdsMmapWrite(th, mm))
      th.sim.finding(
        "vma_write_lock_without_mmap_write_lock",
        [th.cpu],
        [v.start],
        `${site}: vma_start_write(${v.describe()}) without mmap_lock held for write`,
        { site },
      );
  },

  vmaWriteLocked(th, v, site) {
    if (v.readers > 0)
      th.sim.finding(
        "vma_mutual_exclusion",
        [th.cpu],
        [v.start],
        `${site}: vma_start_write(${v.describe()}) returned while ${v.readers} fault(s) still use the VMA`,
        { site },
      );
  },

  vmaStartRead(th, v) {
    if (v.vm_mm === null || v.state === VMA_FREE)
      th.sim.finding("vma_lifetime", [th.cpu], [v.start], `vma_start_read on freed ${v.describe()}`);
  },

  vmaTouched(th, v, inc, vpn) {
    if (v.state === VMA_FREE || v.incarnation !== inc)
      th.sim.finding(
        "vma_lifetime",
        [th.cpu],
        [vpn],
        `lock_vma_under_rcu touched ${v.describe()} after it was freed`,
      );
  },

  vmaFree(sim, v) {
    if (v.state !== VMA_LIVE) sim.finding("vma_lifetime", [], [v.start], `${v.describe()} freed twice`);
  },

  userAccess(th, vpn, frame, write) {
    if (th.sim.frames.isFree(frame))
      th.sim.finding(
        "vma_lifetime",
        [th.cpu],
        [vpn],
        `${write ? "store" : "load"} at ${hex(vpn)} through a stale TLB entry to freed frame ${frame}`,
        { frame },
      );
  },

  userStore(th, mm, vpn, word, val) {
    const exp = mm.expected;
    if (exp === null) return;
    const sidx = vpn * th.sim.words + word;
    exp[sidx] = val;
    mm.lastStoreCpu![sidx] = th.cpu;
    mm.storedBlocks![vpn >> 6] = 1;
  },

  userLoad(th, mm, vpn, word, have, frame) {
    const exp = mm.expected;
    if (exp === null) return;
    const sim = th.sim;
    const sidx = vpn * sim.words + word;
    const e = exp[sidx]!;
    if (e < 0 || have === e) return;
    // who: the loader, the CPU whose store was lost, and the CPU that last replaced the page
    const cpu = th.cpu;
    const storer = mm.lastStoreCpu![sidx]!;
    const copier = sim.lastEventCpu("wp_page_copy:install", vpn);
    const cpus = [cpu];
    for (const c of [storer, copier]) if (c >= 0 && !cpus.includes(c)) cpus.push(c);
    sim.finding(
      "lost_update",
      cpus,
      [vpn],
      `load at ${hex(vpn)} word ${word} on cpu${cpu} read ${have}; the last store (cpu${storer}) wrote ${e}` +
        (copier >= 0 ? `; cpu${copier} last replaced the page (wp_page_copy)` : ""),
      { mm: mm.id, word, expected: e, found: have, frame, storeCpu: storer, copyCpu: copier },
    );
  },
};
