// Per-VMA locks: D1 (6.4-6.14: rw_semaphore + vm_lock_seq + detached) and D2 (6.15+: vm_refcnt),
// with the oracle checks of invariants 1, 2 and 7 (per-vma-locks.md §1.3-1.4, §2.2-2.7).
import { type KGen, SCHEDULE } from "../sim/effects.js";
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE } from "../sim/task.js";
import { holdsMmapWrite } from "./locking.js";
import { type MmThread, touch, tracing } from "./thread.js";
import {
  VM_REFCNT_EXCLUDE_READERS_FLAG as F,
  type MmStruct,
  VM_REFCNT_LIMIT,
  VMA_FREE,
  type Vma,
} from "./types.js";

/**
 * The explore driver's footprint of a reader-side VMA lock operation (vma_start_read, vma_end_read):
 * readers' count updates commute with each other, so they are reads of the VMA, unless a writer
 * holds the lock, waits for it or excludes readers (then the order decides who waits and who is
 * woken: a write). Writers (vma_start_write, vmaModify) always write the VMA.
 */
export function touchVmaReader(th: MmThread, v: Vma): void {
  if (!tracing(th)) return;
  const mm = v.vm_mm;
  const writer =
    v.lockWriter ||
    v.lockWriterWaiting !== null ||
    (v.vm_refcnt & F) !== 0 ||
    (mm !== null && mm.vma_writer_wait !== null);
  touch(th, `vma:${v.id}`, writer);
}

/** An atomic on the VMA lock's cache line (src/sync CacheLine: transfers between CPUs serialise). */
function lineCost(th: MmThread, v: Vma): void {
  th.cost += v.lockLine.rmw(th.k);
}

/** Result codes of vma_start_read. */
export const VSR_FAIL = 0;
export const VSR_LOCKED = 1;
/** The read site is disabled: the reader proceeds without a lock (nothing to release). */
export const VSR_SKIPPED = 2;
/** D2: the VMA is detached (refcount 0); the caller retries the walk. */
export const VSR_EAGAIN = 3;

/** vma_start_read (include/linux/mm.h 6.4 D1; mm/mmap_lock.c 6.15 D2). Caller is in an RCU read section. */
export function vma_start_read(th: MmThread, mm: MmStruct, v: Vma, site: string): number {
  const sim = th.sim;
  if (sim.disabled.has(site)) return VSR_SKIPPED;
  if (sim.sw.vmaLockImpl === "rwsem") {
    const vmm = v.vm_mm;
    if (vmm === null || v.state === VMA_FREE) {
      sim.finding("vma_lifetime", [th.cpu], [v.start], `vma_start_read on freed ${v.describe()}`);
      return VSR_FAIL;
    }
    // 1. early lockless check
    if (v.vm_lock_seq === vmm.mm_lock_seq) return VSR_FAIL;
    // 2. down_read_trylock: fails when a writer holds it or waits
    lineCost(th, v);
    if (v.lockWriter || v.lockWriterWaiting !== null) return VSR_FAIL;
    v.lockReaders++;
    // 3. re-check under the lock
    if (v.vm_lock_seq === vmm.mm_lock_seq) {
      d1UpRead(th, v);
      return VSR_FAIL;
    }
    sim.vmaLockStatR.acquired(false);
    return VSR_LOCKED;
  }
  // D2: 1. early check against the faulting mm
  if (v.vm_lock_seq === mm.mm_lock_seq) return VSR_FAIL;
  // 2. __refcount_inc_not_zero_limited_acquire
  lineCost(th, v);
  const old = v.vm_refcnt;
  if (old === 0) return VSR_EAGAIN;
  if (old >= VM_REFCNT_LIMIT) return VSR_FAIL;
  v.vm_refcnt = old + 1;
  // 3. recycled into another mm (SLAB_TYPESAFE_BY_RCU)
  if (v.vm_mm !== mm) {
    vma_refcount_put(th, v);
    return VSR_FAIL;
  }
  // 4. re-check the sequence with the reference held
  if (v.vm_lock_seq === mm.mm_lock_seq) {
    vma_refcount_put(th, v);
    return VSR_FAIL;
  }
  sim.vmaLockStatR.acquired(false);
  return VSR_LOCKED;
}

function d1UpRead(th: MmThread, v: Vma): void {
  lineCost(th, v);
  if (v.lockReaders <= 0) {
    th.sim.finding(
      "model_bookkeeping",
      [th.cpu],
      [v.start],
      `vma_end_read of ${v.describe()} without readers`,
    );
    return;
  }
  v.lockReaders--;
  const w = v.lockWriterWaiting;
  if (v.lockReaders === 0 && w !== null) th.sim.m.wakeUpProcess(w.task);
}

/** vma_refcount_put (mm/mmap_lock.c 6.15): the last reader wakes a waiting writer/detacher. */
function vma_refcount_put(th: MmThread, v: Vma): void {
  const mm = v.vm_mm;
  lineCost(th, v);
  v.vm_refcnt--;
  if (v.vm_refcnt < 0) {
    th.sim.finding("model_bookkeeping", [th.cpu], [v.start], `vm_refcnt of ${v.describe()} below zero`);
    v.vm_refcnt = 0;
  }
  if (mm !== null && v.vm_refcnt & F && v.vm_refcnt <= F + 1) {
    const w = mm.vma_writer_wait;
    if (w !== null) th.sim.m.wakeUpProcess(w.task);
  }
}

/** vma_end_read (include/linux/mm.h 6.4: up_read inside an RCU bracket; 6.15: vma_refcount_put). */
export function vma_end_read(th: MmThread, v: Vma, how: number): void {
  if (how !== VSR_LOCKED && how !== VSR_SKIPPED) return; // nothing held (already dropped)
  touchVmaReader(th, v);
  if (v.readers > 0) v.readers--;
  if (how !== VSR_LOCKED) return;
  if (th.sim.sw.vmaLockImpl === "rwsem") d1UpRead(th, v);
  else vma_refcount_put(th, v);
}

/** __is_vma_write_locked as the oracle sees it: stamped with the current sequence. */
export function isVmaWriteLocked(v: Vma): boolean {
  const mm = v.vm_mm;
  return mm !== null && v.vm_lock_seq === mm.mm_lock_seq;
}

/** vma_start_write (include/linux/mm.h 6.4; mm/mmap_lock.c __vma_start_write 6.15). */
export function* vma_start_write(th: MmThread, v: Vma, site: string): KGen<void> {
  const sim = th.sim;
  if (!sim.sw.perVmaLock) return; // !CONFIG_PER_VMA_LOCK: an empty stub
  const mm = v.vm_mm;
  if (mm === null) return;
  if (!holdsMmapWrite(th, mm))
    sim.finding(
      "vma_write_lock_without_mmap_write_lock",
      [th.cpu],
      [v.start],
      `${site}: vma_start_write(${v.describe()}) without mmap_lock held for write`,
      { site },
    );
  if (tracing(th)) {
    touch(th, `vma:${v.id}`, true);
    touch(th, `seq:${mm.id}`, false);
  }
  if (sim.disabled.has(site)) return;
  const seq = mm.mm_lock_seq;
  if (v.vm_lock_seq === seq) return;
  const k = th.k;
  const since = sim.m.now;
  let waited = false;
  if (sim.sw.vmaLockImpl === "rwsem") {
    // down_write: wait until every reader has left; new trylocks fail meanwhile
    lineCost(th, v);
    for (let guard = 0; v.lockReaders > 0 || v.lockWriter; guard++) {
      if (guard > 1_000_000) throw new Error("vma_start_write: readers never drained");
      if (v.lockWriterWaiting !== null && v.lockWriterWaiting !== k) {
        // a second writer (only possible with mmap_lock sites disabled): wait for the first one
        yield 100;
        continue;
      }
      v.lockWriterWaiting = k;
      waited = true;
      k.task.state = TASK_UNINTERRUPTIBLE;
      yield SCHEDULE;
      k.task.state = TASK_RUNNING;
    }
    // the step that ends the wait writes the lock too (found missing by the footprint audit test)
    if (waited && tracing(th)) touch(th, `vma:${v.id}`, true);
    v.lockWriterWaiting = null;
    v.lockWriter = true;
    v.vm_lock_seq = mm.mm_lock_seq;
    v.lockWriter = false; // up_write
  } else {
    lineCost(th, v);
    if (v.vm_refcnt !== 0) {
      // __vma_start_exclude_readers: add F, wait for vm_refcnt == F + 1
      v.vm_refcnt += F;
      for (let guard = 0; v.vm_refcnt !== F + 1 && v.vm_refcnt > F; guard++) {
        if (guard > 1_000_000) throw new Error("vma_start_write: readers never drained");
        waited = true;
        mm.vma_writer_wait = k;
        k.task.state = TASK_UNINTERRUPTIBLE;
        yield SCHEDULE;
        k.task.state = TASK_RUNNING;
      }
      if (waited && tracing(th)) touch(th, `vma:${v.id}`, true);
      if (mm.vma_writer_wait === k) mm.vma_writer_wait = null;
      v.vm_lock_seq = mm.mm_lock_seq;
      v.vm_refcnt -= F;
    } else v.vm_lock_seq = mm.mm_lock_seq;
  }
  const st = sim.vmaLockStatW;
  if (waited) st.contended(site, sim.m.now - since, false);
  st.acquired(false);
  if (v.readers > 0)
    sim.finding(
      "vma_mutual_exclusion",
      [th.cpu],
      [v.start],
      `${site}: vma_start_write(${v.describe()}) returned while ${v.readers} fault(s) still use the VMA`,
      { site },
    );
}

/** vma_mark_detached (include/linux/mm.h 6.4: set the flag; mm/mmap_lock.c 6.15: drop the attach reference, waiting out transient readers). */
export function* vma_mark_detached(th: MmThread, v: Vma): KGen<void> {
  vmaModify(th, v, "vma_mark_detached");
  if (th.sim.sw.vmaLockImpl === "rwsem") {
    v.detached = true;
    return;
  }
  if (v.vm_refcnt <= 0) return;
  v.vm_refcnt--;
  if (v.vm_refcnt === 0) return;
  // __vma_exclude_readers_for_detach: wait for the transient readers to drop their references
  const mm = v.vm_mm!;
  const k = th.k;
  v.vm_refcnt += F;
  for (let guard = 0; v.vm_refcnt !== F; guard++) {
    if (guard > 1_000_000) throw new Error("vma_mark_detached: readers never drained");
    mm.vma_writer_wait = k;
    k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
    k.task.state = TASK_RUNNING;
  }
  if (mm.vma_writer_wait === k) mm.vma_writer_wait = null;
  v.vm_refcnt = 0;
}

/** vma_mark_attached (include/linux/mm.h 6.15: refcount 1; 6.4 vma_mark_detached(false): clear the flag). */
export function vma_mark_attached(th: MmThread, v: Vma): void {
  if (th.sim.sw.vmaLockImpl === "rwsem") v.detached = false;
  else v.vm_refcnt = 1;
}

/** Is the VMA attached (D1 flag / D2 refcount)? */
export function vmaAttached(th: MmThread, v: Vma): boolean {
  return th.sim.sw.vmaLockImpl === "rwsem" ? !v.detached : v.vm_refcnt > 0;
}

/**
 * Oracle before a writer modifies a VMA (range, flags, anon_vma, detach): invariant 1 if a fault is
 * using the VMA under its read lock, invariant 2 if the writer does not hold mmap_lock for write.
 */
export function vmaModify(th: MmThread, v: Vma, what: string): void {
  const sim = th.sim;
  if (tracing(th)) touch(th, `vma:${v.id}`, true);
  v.gen++;
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
}
