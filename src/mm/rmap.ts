// Anonymous reverse mapping (mm/rmap.c, 6.4): anon_vma objects, the anon_vma_chain links of each
// VMA, __anon_vma_prepare with find_mergeable_anon_vma (mm/mmap.c), anon_vma_clone / anon_vma_fork /
// unlink_anon_vmas, dup_anon_vma of VMA merges (mm/mmap.c), and the anon_vma of each anonymous page
// (folio->mapping). An anon_vma lives while some VMA's chain links it; a page holds no reference of
// its own, which is why a page left without a linked VMA makes rmap walks read a freed anon_vma.
// Simplification: one anon_vma per chain link (no root/parent hierarchy, no degree heuristics).
import type { KGen } from "../sim/effects.js";
import { type FootprintHost, trackedTable } from "../sim/tracked.js";
import { kasan_report } from "./debug.js";
import { type MmThread, yieldAt, yp } from "./thread.js";
import { MmStruct, VM_GROWSDOWN, VM_READ, VM_SHARED, VM_WRITE, type Vma } from "./types.js";
import { vma_start_write, vmaModify } from "./vma_lock.js";

export const ENOMEM = 12;

const Y_CLONE_ALLOC = yp("anon_vma_clone:anon_vma_chain_alloc");
const Y_REUSABLE = yp("find_mergeable_anon_vma:reusable_anon_vma");

/** The machine's anon_vma objects (index = id; 0 is NULL) and each frame's anon_vma. */
export class AnonVmas {
  /** Chain links per anon_vma; -1 once freed. */
  refs: number[] = [0];
  /** Who freed each anon_vma (for KASAN's "Freed by task"). */
  freedBy: string[] = [""];
  /** folio->mapping of anonymous pages: anon_vma id per frame (0: none). */
  pageAnonVma = new Int32Array(1024);
  /** Explore driver: where setPage / pageOf record frame:F (the anon_vma table records anonvma:ID). */
  private host: FootprintHost | null = null;

  /** Explore driver: every anon_vma's count and freeing record anonvma:ID (src/sim/tracked.ts). */
  track(host: FootprintHost): void {
    this.refs = trackedTable(this.refs, "anonvma:", host);
    this.freedBy = trackedTable(this.freedBy, "anonvma:", host);
    this.host = host;
  }

  private touchFrame(frame: number, write: boolean): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`frame:${frame}`, write);
  }

  alloc(): number {
    this.refs.push(0);
    this.freedBy.push("");
    return this.refs.length - 1;
  }

  setPage(frame: number, av: number): void {
    this.touchFrame(frame, true);
    if (frame >= this.pageAnonVma.length) {
      const n = new Int32Array(Math.max(frame + 1, this.pageAnonVma.length * 2));
      n.set(this.pageAnonVma);
      this.pageAnonVma = n;
    }
    this.pageAnonVma[frame] = av;
  }

  pageOf(frame: number): number {
    this.touchFrame(frame, false);
    return frame < this.pageAnonVma.length ? this.pageAnonVma[frame]! : 0;
  }

  isFreed(av: number): boolean {
    return av > 0 && av < this.refs.length && this.refs[av]! < 0;
  }
}

/** anon_vma_chain_link: the VMA links the anon_vma (the anon_vma lives while a link does). */
function anon_vma_chain_link(th: MmThread, v: Vma, av: number): void {
  const r = th.sim.rmap;
  if (av <= 0 || r.isFreed(av)) return;
  v.anon_vma_chain.push(av);
  r.refs[av]!++;
}

/** anon_vma_alloc (mm/rmap.c) */
function anon_vma_alloc(th: MmThread): number {
  return th.sim.rmap.alloc();
}

/**
 * unlink_anon_vmas (mm/rmap.c 6.4): drop the VMA's links; an anon_vma nobody links any more is
 * freed (put_anon_vma -> __put_anon_vma -> anon_vma_free). Clears vma->anon_vma (2555283eb40d).
 */
export function unlink_anon_vmas(th: MmThread, v: Vma): void {
  const r = th.sim.rmap;
  const t = th.k.task;
  for (const av of v.anon_vma_chain) {
    if (r.refs[av]! > 0 && --r.refs[av]! === 0) {
      r.refs[av] = -1;
      r.freedBy[av] = `${t.comm}/${t.pid}`;
      th.sim.note(th.cpu, "anon_vma_free", v.start < 0 ? 0 : v.start, av);
    }
  }
  v.anon_vma_chain.length = 0;
  v.anon_vma = 0;
}

/**
 * anon_vma_clone (mm/rmap.c): link `dst` to every anon_vma of `src`. The chain allocation may sleep
 * (GFP_KERNEL); when it fails (fault injection: failslab at anon_vma_clone) dst->anon_vma is reset
 * to NULL, dst's links are dropped and -ENOMEM returned.
 */
export function* anon_vma_clone(th: MmThread, dst: Vma, src: Vma): KGen<number> {
  const sim = th.sim;
  if (src.anon_vma_chain.length === 0) return 0;
  const delay = sim.injectedDelay("anon_vma_clone:anon_vma_chain_alloc");
  if (delay > 0) th.cost += delay;
  yield* yieldAt(th, Y_CLONE_ALLOC);
  if (sim.shouldFail("anon_vma_clone")) {
    sim.note(th.cpu, "anon_vma_clone:-ENOMEM", dst.start, src.anon_vma);
    vmaModify(th, dst, "anon_vma_clone");
    unlink_anon_vmas(th, dst);
    return -ENOMEM;
  }
  for (const av of src.anon_vma_chain) anon_vma_chain_link(th, dst, av);
  return 0;
}

/** Link a VMA copied by vm_area_dup (split, mremap's copy_vma) to the anon_vmas of its source. */
export function anon_vma_clone_nofail(th: MmThread, dst: Vma, src: Vma): void {
  dst.anon_vma_chain.length = 0;
  for (const av of src.anon_vma_chain) anon_vma_chain_link(th, dst, av);
}

/** anon_vma_fork (mm/rmap.c): the child links the parent's anon_vmas and gets one of its own. */
export function anon_vma_fork(th: MmThread, child: Vma, parent: Vma): void {
  child.anon_vma_chain.length = 0;
  child.anon_vma = 0;
  if (parent.anon_vma === 0) return;
  for (const av of parent.anon_vma_chain) anon_vma_chain_link(th, child, av);
  const own = anon_vma_alloc(th);
  anon_vma_chain_link(th, child, own);
  child.anon_vma = own;
}

/**
 * dup_anon_vma (mm/mmap.c 6.4): a merge that expands `dst` over `src` gives dst src's anon_vma. 6.4.0
 * assigns it before anything write-locks dst; d8ab9f7b644a (6.4.8, 6.5) write-locks dst first.
 */
export function* dup_anon_vma(th: MmThread, dst: Vma, src: Vma): KGen<number> {
  if (src.anon_vma === 0 || dst.anon_vma !== 0) return 0;
  if (th.sim.sw.lockVmaInDupAnonVma) yield* vma_start_write(th, dst, "dup_anon_vma:vma_start_write");
  vmaModify(th, dst, "dup_anon_vma");
  dst.anon_vma = src.anon_vma;
  th.sim.note(th.cpu, "dup_anon_vma", dst.start, src.anon_vma);
  return yield* anon_vma_clone(th, dst, src);
}

/** anon_vma_compatible (mm/mmap.c): may a and b (a just below b) share an anon_vma? */
function anon_vma_compatible(a: Vma, b: Vma): boolean {
  const mask = VM_READ | VM_WRITE | VM_SHARED | VM_GROWSDOWN;
  return (
    a.end === b.start &&
    a.file === b.file &&
    a.vm_policy === b.vm_policy &&
    ((a.flags ^ b.flags) & ~(VM_READ | VM_WRITE)) === 0 &&
    (a.flags & mask) !== 0 &&
    b.pgoff === a.pgoff + (b.start - a.start)
  );
}

/**
 * reusable_anon_vma (mm/mmap.c): `old`'s anon_vma if a/b are compatible and old links only it. Reads
 * `old`, a VMA found in the tree: a freed one is what KASAN reports (657b5146955e).
 */
function reusable_anon_vma(th: MmThread, old: Vma, inc: number, a: Vma, b: Vma, vpn: number): number {
  const sim = th.sim;
  if (sim.slab.freed(old, inc)) {
    kasan_report(
      th,
      "reusable_anon_vma",
      false,
      8,
      {
        cache: "vm_area_struct",
        name: `vma#${old.id}`,
        freedBy: "the munmap of the neighbouring VMA",
        freedIn: "vm_area_free_rcu_cb (call_rcu from remove_vma)",
      },
      vpn,
    );
    return 0;
  }
  if (!anon_vma_compatible(a, b)) return 0;
  return old.anon_vma !== 0 && old.anon_vma_chain.length === 1 ? old.anon_vma : 0;
}

/**
 * find_mergeable_anon_vma (mm/mmap.c 6.4): look at the VMAs just above and below `v` in the tree for
 * an anon_vma to reuse. Safe only with mmap_lock held: the neighbours are not otherwise stable.
 */
function* find_mergeable_anon_vma(th: MmThread, v: Vma, vpn: number): KGen<number> {
  const mm = v.vm_mm!;
  const next = MmStruct.walk(mm.vmas, v.end);
  const idx = MmStruct.indexOf(mm.vmas, v);
  const prev = idx > 0 ? mm.vmas[idx - 1]! : null;
  const nextInc = next?.incarnation ?? 0;
  const prevInc = prev?.incarnation ?? 0;
  // the pointers are used after the walk; nothing keeps the neighbours alive without mmap_lock
  const delay = th.sim.injectedDelay("find_mergeable_anon_vma:reusable_anon_vma");
  if (delay > 0) th.cost += delay;
  yield* yieldAt(th, Y_REUSABLE);
  if (next !== null) {
    const av = reusable_anon_vma(th, next, nextInc, v, next, vpn);
    if (av !== 0) return av;
  }
  if (prev !== null && prev.end === v.start) return reusable_anon_vma(th, prev, prevInc, prev, v, vpn);
  return 0;
}

/**
 * __anon_vma_prepare (mm/rmap.c): give a VMA without anon_vma one, reusing a neighbour's
 * (find_mergeable_anon_vma) or a new one. Callers hold mmap_lock (6.4: read; the VMA-lock path must
 * never get here, which 657b5146955e restored).
 */
export function* __anon_vma_prepare(th: MmThread, v: Vma, vpn: number): KGen<void> {
  if (v.anon_vma !== 0) return;
  let av = yield* find_mergeable_anon_vma(th, v, vpn);
  if (v.anon_vma !== 0) return;
  if (av === 0 || th.sim.rmap.isFreed(av)) av = anon_vma_alloc(th);
  anon_vma_chain_link(th, v, av);
  v.anon_vma = av;
  th.sim.note(th.cpu, "__anon_vma_prepare", v.start, av);
}

/** folio_add_new_anon_rmap (mm/rmap.c): a new anonymous page belongs to the VMA's anon_vma. */
export function folio_add_new_anon_rmap(th: MmThread, frame: number, v: Vma): void {
  th.sim.rmap.setPage(frame, v.anon_vma);
}

/**
 * folio_lock_anon_vma_read (mm/rmap.c): an rmap walk (reclaim, MADV_PAGEOUT's try_to_unmap) reads
 * the page's anon_vma; a freed one is a use-after-free (d8ab9f7b644a).
 */
export function folio_lock_anon_vma_read(th: MmThread, frame: number, vpn: number): void {
  const r = th.sim.rmap;
  const av = r.pageOf(frame);
  if (!r.isFreed(av)) return;
  kasan_report(
    th,
    "folio_lock_anon_vma_read",
    false,
    8,
    {
      cache: "anon_vma",
      name: `anon_vma ${av}`,
      freedBy: r.freedBy[av]!,
      freedIn: "__put_anon_vma (unlink_anon_vmas)",
    },
    vpn,
  );
}
