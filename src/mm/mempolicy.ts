// NUMA memory policies of VMAs (mm/mempolicy.c, 6.4): mbind -> do_mbind -> mbind_range ->
// vma_replace_policy, which frees the old policy, and the fault side's vma_alloc_folio, which reads
// vma->vm_policy and uses it while allocating. 6.4.0-6.4.7 replaced the policy without write-locking
// the VMA, so a fault under the VMA lock could use a freed policy (6c21e066f925, CVE-2023-4611).
// Nodes are not modelled: a policy is an object with a mode, a reference count and a lifetime.
import { type KGen, PREEMPT_ENABLE } from "../sim/effects.js";
import { type FootprintHost, trackedTable } from "../sim/tracked.js";
import { kasan_report } from "./debug.js";
import { ZERO_FRAME } from "./frames.js";
import { mmap_write_lock, mmap_write_unlock, ptl_lock, ptl_unlock, ptlOf } from "./locking.js";
import { splitRange } from "./syscalls.js";
import { type MmThread, yieldAt, yp } from "./thread.js";
import { hex, PTE_PRESENT, pteChunkEnd, pteFrame, ptesAny, type Vma } from "./types.js";
import { vma_start_write, vmaModify } from "./vma_lock.js";

export const MPOL_PREFERRED = 1;
export const MPOL_BIND = 2;

const Y_MPOL = yp("get_vma_policy:mpol_get");
const Y_QUEUE = yp("queue_pages_pte_range:pte_offset_map_lock");
const Y_MBIND_RANGE = yp("mbind_range");

/** The machine's mempolicy objects (index = id; 0 is the default policy, never freed). */
export class Mempolicies {
  /** Reference count per policy; -1 once freed. */
  refs: number[] = [1];
  mode: number[] = [0];
  freedBy: string[] = [""];
  /** The policy each frame was placed by (alloc or migration); "where the page is", nodes not modelled. */
  pagePolicy = new Int32Array(1024);
  /** Explore driver: where placePage records frame:F (the policy table records mpol:ID). */
  private host: FootprintHost | null = null;

  /** Explore driver: every policy's count, mode and freeing record mpol:ID (src/sim/tracked.ts). */
  track(host: FootprintHost): void {
    this.refs = trackedTable(this.refs, "mpol:", host);
    this.mode = trackedTable(this.mode, "mpol:", host);
    this.freedBy = trackedTable(this.freedBy, "mpol:", host);
    this.host = host;
  }

  placePage(frame: number, p: number): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`frame:${frame}`, true);
    if (frame >= this.pagePolicy.length) {
      const n = new Int32Array(Math.max(frame + 1, this.pagePolicy.length * 2));
      n.set(this.pagePolicy);
      this.pagePolicy = n;
    }
    this.pagePolicy[frame] = p;
  }

  /** mpol_new: refcount 1. */
  alloc(mode: number): number {
    this.refs.push(1);
    this.mode.push(mode);
    this.freedBy.push("");
    return this.refs.length - 1;
  }

  isFreed(p: number): boolean {
    return p > 0 && this.refs[p]! < 0;
  }
}

/** mpol_get (include/linux/mempolicy.h): one more reference (vma_dup_policy of a copied VMA). */
export function mpol_get(th: MmThread, p: number): void {
  const r = th.sim.mpol;
  if (p !== 0 && r.refs[p]! > 0) r.refs[p]!++;
}

/** mpol_put (include/linux/mempolicy.h): drop a reference, free the policy with the last one. */
export function mpol_put(th: MmThread, p: number): void {
  const r = th.sim.mpol;
  if (p === 0 || r.refs[p]! <= 0) return;
  if (--r.refs[p]! === 0) {
    r.refs[p] = -1;
    r.freedBy[p] = `${th.k.task.comm}/${th.k.task.pid}`;
    th.sim.note(th.cpu, "mpol_free", 0, p);
  }
}

/** vma_replace_policy (mm/mempolicy.c): the VMA gets a copy of `pol`; the old policy is put. */
function vma_replace_policy(th: MmThread, v: Vma, pol: number): void {
  const r = th.sim.mpol;
  vmaModify(th, v, "vma_replace_policy");
  const fresh = r.alloc(r.mode[pol]!); // mpol_dup
  const old = v.vm_policy;
  v.vm_policy = fresh;
  mpol_put(th, old);
}

/**
 * mbind(start, npages, mode) -> do_mbind (mm/mempolicy.c 6.4): under mmap_lock for write, split the
 * VMAs at the range's edges and give each VMA in it the new policy. 6c21e066f925 (6.4.8, 6.5)
 * write-locks the VMAs first.
 */
export function* do_mbind(th: MmThread, start: number, npages: number, mode: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  // mbind without pages to migrate costs what an mprotect_fixup costs (same shape: split, set a
  // field of each VMA); not measured separately (calibration.md §4 mprotect)
  th.cost += sim.costs.syscallNs;
  const pol = sim.mpol.alloc(mode);
  const held = yield* mmap_write_lock(th, mm, "mbind:mmap_write_lock");
  const vmas = yield* splitRange(th, mm, start, start + npages);
  // 6c21e066f925 (6.4.8): lock the VMAs before scanning; 49b0638502da (6.5) has the walk lock them
  if (sim.sw.lockVmaBeforeMpolReplace && !sim.sw.pageWalkLock)
    for (const v of vmas) yield* vma_start_write(th, v, "do_mbind:vma_start_write");
  const queued: number[] = [];
  yield* queue_pages_range(th, vmas, queued);
  // mbind_range's work (vma_merge / split_vma attempts) passes before the policies change
  th.cost += sim.costs.mprotectNs;
  // the explore driver's step boundary where the timed driver charges that cost: a fault may run
  // between the walk and the policy change in both
  yield* yieldAt(th, Y_MBIND_RANGE);
  for (const v of vmas) vma_replace_policy(th, v, pol);
  // migrate_pages: the queued pages move to where their VMA's (new) policy puts them
  migrate_pages(th, vmas, queued);
  checkPlacement(th, vmas);
  sim.note(th.cpu, "do_mbind", start, mode);
  yield* mmap_write_unlock(th, mm, held);
  mpol_put(th, pol);
  return vmas.length > 0 ? 0 : -1;
}

/**
 * get_vma_policy + the allocation of vma_alloc_folio (mm/mempolicy.c 6.4): read vma->vm_policy,
 * then use it to pick the page; under only the VMA lock the policy may be replaced and freed in
 * between, which KASAN reports as a use-after-free read in vma_alloc_folio.
 */
export function* vma_alloc_folio(th: MmThread, v: Vma, vpn: number): KGen<number> {
  const sim = th.sim;
  const pol = v.vm_policy;
  if (pol !== 0) {
    const delay = th.timed ? sim.injectedDelay("get_vma_policy:mpol_get") : 0;
    if (delay > 0) th.cost += delay;
    yield* yieldAt(th, Y_MPOL);
    if (sim.mpol.isFreed(pol))
      kasan_report(
        th,
        "vma_alloc_folio",
        false,
        2,
        {
          cache: "numa_policy",
          name: `mempolicy ${pol}`,
          freedBy: sim.mpol.freedBy[pol]!,
          freedIn: "__mpol_put (vma_replace_policy)",
        },
        vpn,
      );
  }
  return folio_alloc_mpol(th, pol);
}

/** The page allocation of vma_alloc_folio under policy `pol` (0: the default, local node). */
export function folio_alloc_mpol(th: MmThread, pol: number): number {
  const frame = th.sim.frames.alloc();
  th.sim.mpol.placePage(frame, pol);
  return frame;
}

/**
 * queue_pages_range (mm/mempolicy.c 6.4) for MPOL_MF_MOVE: walk the range's page tables under the
 * PTE locks and queue every present anonymous page for migration. With PGWALK_WRLOCK (49b0638502da,
 * 6.5) each VMA is write-locked as the walk reaches it; before, faults under the VMA lock could insert
 * pages behind the walk, which mbind then never moves.
 */
function* queue_pages_range(th: MmThread, vmas: readonly Vma[], out: number[]): KGen<void> {
  const sim = th.sim;
  const mm = th.mm;
  for (const v of vmas) {
    if (sim.sw.pageWalkLock) yield* vma_start_write(th, v, "walk_page_range:vma_start_write");
    for (let c = v.start; c < v.end; ) {
      const ce = pteChunkEnd(c, v.end);
      if (ptesAny(mm.ptesRead(c, ce), c, ce)) {
        yield* yieldAt(th, Y_QUEUE);
        const ptl = ptlOf(mm, c);
        yield* ptl_lock(th, ptl, "queue_pages_pte_range:pte_offset_map_lock");
        const pte = mm.ptesRead(c, ce);
        for (let x = c; x < ce; x++) {
          const p = pte[x]!;
          if (p & PTE_PRESENT && pteFrame(p) !== ZERO_FRAME) out.push(pteFrame(p));
        }
        if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
      }
      c = ce;
    }
  }
}

/** migrate_pages (mm/migrate.c), as far as placement goes: each queued page now follows its VMA's policy. */
function migrate_pages(th: MmThread, vmas: readonly Vma[], queued: readonly number[]): void {
  const q = new Set(queued);
  for (const v of vmas) {
    const pte = th.mm.ptesRead(v.start, v.end);
    for (let x = v.start; x < v.end; x++) {
      const f = pteFrame(pte[x]!);
      if (pte[x]! & PTE_PRESENT && q.has(f)) th.sim.mpol.placePage(f, v.vm_policy);
    }
  }
}

/** After migrate_pages: every present page of the range must be placed by its VMA's policy. */
function checkPlacement(th: MmThread, vmas: readonly Vma[]): void {
  const sim = th.sim;
  const pte = th.mm.pte;
  for (const v of vmas)
    for (let x = v.start; x < v.end; x++) {
      const p = pte[x]!;
      if (!(p & PTE_PRESENT) || pteFrame(p) === ZERO_FRAME) continue;
      const placed = sim.mpol.pagePolicy[pteFrame(p)] ?? 0;
      if (placed !== v.vm_policy) {
        sim.finding(
          "mempolicy_violation",
          [th.cpu, sim.lastEventCpu("do_anonymous_page", x)],
          [x],
          `mbind(MPOL_MF_MOVE) returns with the page at ${hex(x)} placed by policy ${placed}, not the VMA's policy ${v.vm_policy}: a fault inserted it behind queue_pages_range`,
        );
        return;
      }
    }
}
