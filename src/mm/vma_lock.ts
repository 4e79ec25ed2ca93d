// Per-VMA locks: D1 (6.4-6.14: a src/sync rw_semaphore in a separately allocated struct vma_lock,
// used with trylock by readers, + vm_lock_seq + detached) and D2 (6.15+: vm_refcnt, a src/sync
// atomic with the kernel's states), calling the oracle's hooks of invariants 1, 2 and 7. Every atomic
// and every read of vm_lock_seq / mm_lock_seq is one access to the cache line the kernel keeps it on
// (Vma.line, Vma.vm_lock.line, Vma.refcnt.line, MmStruct.lockLine), in the kernel's order.
// include/linux/mm.h v6.4 (vma_start_read, vma_end_read, vma_start_write); mm/mmap_lock.c v6.15.
import { type KGen, SCHEDULE } from "../sim/effects.js";
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE } from "../sim/task.js";
import { atomic_add_return, refcount_inc_not_zero_limited } from "../sync/atomic.js";
import { down_read_trylock_fast, down_write_nopoint, up_read_fast, up_write_fast } from "../sync/rwsem.js";
import { kasan_report } from "./debug.js";
import { charge } from "./locking.js";
import { type MmThread, yieldAt, yp } from "./thread.js";
import {
  VM_REFCNT_EXCLUDE_READERS_FLAG as F,
  type MmStruct,
  VM_REFCNT_LIMIT,
  VMA_FREE,
  type Vma,
} from "./types.js";

/** READ_ONCE(vma->vm_lock_seq) == READ_ONCE(mm->mm_lock_seq): two loads, the VMA's first line and mmap_lock's line. */
function seqMatches(th: MmThread, v: Vma, mm: MmStruct): boolean {
  const k = th.k;
  th.cost += v.line.read(k) + mm.lockLine.read(k);
  return v.vm_lock_seq === mm.mm_lock_seq;
}

/** Result codes of vma_start_read. */
export const VSR_FAIL = 0;
export const VSR_LOCKED = 1;
/** The read site is disabled: the reader proceeds without a lock (nothing to release). */
export const VSR_SKIPPED = 2;
/** D2: the VMA is detached (refcount 0); the caller retries the walk. */
export const VSR_EAGAIN = 3;
/** D2: the VMA was recycled into another mm; the reference is still held: drop it with vma_put_recycled. */
export const VSR_RECYCLED = 4;

// D2 windows of the recycled-VMA race (9bbffee67ffd): between the reader's increment and its put,
// between the put's decrement and its rcuwait_wake_up, and between a writer's refcount_add and its
// wait-condition check in __vma_enter_locked. Each also takes an injected delay.
const Y_RECYCLED_PUT = yp("vma_start_read:vma_refcount_put");
const Y_RECYCLED_WAKE = yp("vma_refcount_put:rcuwait_wake_up");
const Y_ENTER_LOCKED = yp("__vma_enter_locked:rcuwait_wait_event");

function* window(th: MmThread, e: ReturnType<typeof yp>, site: string): KGen<void> {
  yield* yieldAt(th, e);
  const delay = th.sim.timed ? th.sim.injectedDelay(site) : 0;
  if (delay > 0) yield delay; // fault injection: an mdelay() in the window
}

/** vma_start_read (include/linux/mm.h 6.4 D1; mm/mmap_lock.c 6.15 D2). Caller is in an RCU read section. */
export function vma_start_read(th: MmThread, mm: MmStruct, v: Vma, site: string): number {
  const sim = th.sim;
  if (sim.disabled.size !== 0 && sim.disabled.has(site)) return VSR_SKIPPED;
  if (sim.sw.vmaLockImpl === "rwsem") {
    const vmm = v.vm_mm;
    sim.oracle.vmaStartRead(th, v); // invariant 7
    if (vmm === null || v.state === VMA_FREE) return VSR_FAIL;
    // 1. early lockless check
    if (seqMatches(th, v, vmm)) return VSR_FAIL;
    // 2. down_read_trylock(&vma->vm_lock->lock): fails when a writer holds it or waits
    if (!down_read_trylock_fast(th.k, v.vm_lock, site, th)) return VSR_FAIL;
    // 3. re-check under the lock
    if (seqMatches(th, v, vmm)) {
      up_read_fast(th.k, v.vm_lock, th);
      return VSR_FAIL;
    }
    return VSR_LOCKED;
  }
  // D2: 1. early check against the faulting mm
  if (seqMatches(th, v, mm)) return VSR_FAIL;
  // 2. __refcount_inc_not_zero_limited_acquire(&vma->vm_refcnt, &oldcnt, VM_REFCNT_LIMIT)
  const old = refcount_inc_not_zero_limited(th.k, v.refcnt, VM_REFCNT_LIMIT, th, true);
  if (old === 0) return VSR_EAGAIN;
  if (old + 1 > VM_REFCNT_LIMIT) return VSR_FAIL;
  // 3. recycled into another mm (SLAB_TYPESAFE_BY_RCU): vm_mm is on the VMA's first line; the
  // caller drops the reference (vma_put_recycled: where the yields of the race are)
  th.cost += v.line.read(th.k);
  if (v.vm_mm !== mm) return VSR_RECYCLED;
  // 4. re-check the sequence with the reference held
  if (seqMatches(th, v, mm)) {
    vma_refcount_put(th, v);
    return VSR_FAIL;
  }
  sim.vmaLockStatR.acquired(false);
  return VSR_LOCKED;
}

/** vma_refcount_put (include/linux/mm.h 6.15): __refcount_dec_and_test; the last reader wakes a waiting writer/detacher. */
function vma_refcount_put(th: MmThread, v: Vma): void {
  const mm = v.vm_mm;
  if (vma_refcount_dec(th, v) && mm !== null) rcuwait_wake_up(th, mm, v.start);
}

/** vma_refcount_put's decrement: does the new count ask for a wake-up (flag set, at most F + 1)? */
function vma_refcount_dec(th: MmThread, v: Vma): boolean {
  const n = atomic_add_return(th.k, v.refcnt, -1, th, true);
  if (n < 0) {
    th.sim.finding("model_bookkeeping", [th.cpu], [v.start], `vm_refcnt of ${v.describe()} below zero`);
    v.vm_refcnt = 0;
  }
  return (n & F) !== 0 && n <= F + 1;
}

/** rcuwait_wake_up(&mm->vma_writer_wait) (kernel/exit.c): reads the waiter of an mm_struct that may be freed. */
function rcuwait_wake_up(th: MmThread, mm: MmStruct, vpn: number): void {
  if (mm.freedBy !== null) {
    kasan_report(
      th,
      "rcuwait_wake_up",
      false,
      8,
      {
        cache: "mm_struct",
        name: `mm_struct of mm ${mm.id}`,
        freedBy: mm.freedBy,
        freedIn: "__mmdrop (mmput at exit)",
      },
      vpn,
    );
    return;
  }
  const w = mm.vma_writer_wait;
  if (w !== null) th.sim.m.wakeUpProcess(w.task, "vm_lock");
}

/** mmgrab (include/linux/sched/mm.h): pin the mm_struct. */
export function mmgrab(th: MmThread, mm: MmStruct): void {
  atomic_add_return(th.k, mm.mm_count, 1, th);
}

/** mmdrop (include/linux/sched/mm.h): the last reference frees the mm_struct (__mmdrop). */
export function mmdrop(th: MmThread, mm: MmStruct): void {
  if (atomic_add_return(th.k, mm.mm_count, -1, th) !== 0) return;
  const t = th.k.task;
  mm.freedBy = `${t.comm}/${t.pid}`;
  mm.vma_writer_wait = null;
}

/**
 * Drop the reference vma_start_read took on a VMA recycled into another mm (VSR_RECYCLED), in RCU.
 * Since 9bbffee67ffd (mm/mmap_lock.c vma_start_read, 6.15.10) vma_start_read pins that mm with
 * mmgrab around vma_refcount_put; before it lock_vma_under_rcu saw vm_mm != mm and called
 * vma_end_read, whose put could wake the writer of an mm that had exited meanwhile (the model
 * keeps the check at vma_start_read's step 3 in both versions).
 */
export function* vma_put_recycled(th: MmThread, v: Vma): KGen<void> {
  const other = v.vm_mm!;
  yield* window(th, Y_RECYCLED_PUT, "vma_start_read:vma_refcount_put");
  const grab = th.sim.sw.grabRecycledVmaMm;
  if (grab) mmgrab(th, other);
  if (vma_refcount_dec(th, v)) {
    yield* window(th, Y_RECYCLED_WAKE, "vma_refcount_put:rcuwait_wake_up");
    rcuwait_wake_up(th, other, v.start);
  }
  if (grab) mmdrop(th, other);
}

/** vma_end_read (include/linux/mm.h 6.4: up_read inside an RCU bracket; 6.15: vma_refcount_put). */
export function vma_end_read(th: MmThread, v: Vma, how: number): void {
  if (how !== VSR_LOCKED && how !== VSR_SKIPPED) return; // nothing held (already dropped)
  if (v.readers > 0) v.readers--;
  if (how !== VSR_LOCKED) return;
  if (th.sim.sw.vmaLockImpl === "rwsem") {
    if (v.vm_lock.readers <= 0) {
      th.sim.finding(
        "model_bookkeeping",
        [th.cpu],
        [v.start],
        `vma_end_read of ${v.describe()} without readers`,
      );
      return;
    }
    up_read_fast(th.k, v.vm_lock, th);
  } else vma_refcount_put(th, v);
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
  sim.oracle.vmaStartWrite(th, v, site); // invariant 2
  if (sim.disabled.has(site)) return;
  // __is_vma_write_locked: already stamped with the current sequence
  if (seqMatches(th, v, mm)) return;
  const k = th.k;
  const since = sim.m.now;
  let waited = false;
  if (sim.sw.vmaLockImpl === "rwsem") {
    // down_write(&vma->vm_lock->lock): waits until every reader has left; new trylocks fail meanwhile
    yield* charge(th);
    yield* down_write_nopoint(k, v.vm_lock, site);
    th.cost += v.line.write(k);
    v.vm_lock_seq = mm.mm_lock_seq;
    up_write_fast(k, v.vm_lock, th);
  } else {
    if (v.vm_refcnt !== 0) {
      // __vma_start_exclude_readers: refcount_add(F), wait for vm_refcnt == F + 1
      atomic_add_return(k, v.refcnt, F, th);
      if (v.vm_refcnt !== F + 1 && v.vm_refcnt > F)
        yield* window(th, Y_ENTER_LOCKED, "__vma_enter_locked:rcuwait_wait_event");
      for (let guard = 0; v.vm_refcnt !== F + 1 && v.vm_refcnt > F; guard++) {
        if (guard > 1_000_000) throw new Error("vma_start_write: readers never drained");
        waited = true;
        mm.vma_writer_wait = k;
        k.task.state = TASK_UNINTERRUPTIBLE;
        yield SCHEDULE;
        k.task.state = TASK_RUNNING;
      }
      if (mm.vma_writer_wait === k) mm.vma_writer_wait = null;
      th.cost += v.line.write(k);
      v.vm_lock_seq = mm.mm_lock_seq;
      atomic_add_return(k, v.refcnt, -F, th);
    } else {
      th.cost += v.line.write(k);
      v.vm_lock_seq = mm.mm_lock_seq;
    }
    const st = sim.vmaLockStatW;
    if (waited) st.contended(site, sim.m.now - since, false);
    st.acquired(false);
  }
  sim.oracle.vmaWriteLocked(th, v, site); // invariant 1
}

/** vma_mark_detached (include/linux/mm.h 6.4: set the flag; mm/mmap_lock.c 6.15: drop the attach reference, waiting out transient readers). */
export function* vma_mark_detached(th: MmThread, v: Vma): KGen<void> {
  vmaModify(th, v, "vma_mark_detached");
  const k = th.k;
  if (th.sim.sw.vmaLockImpl === "rwsem") {
    th.cost += v.line.write(k);
    v.detached = true;
    return;
  }
  if (v.vm_refcnt <= 0) return;
  // __refcount_dec_and_test: the attach reference goes
  if (atomic_add_return(k, v.refcnt, -1, th) === 0) return;
  // __vma_exclude_readers_for_detach: wait for the transient readers to drop their references
  const mm = v.vm_mm!;
  atomic_add_return(k, v.refcnt, F, th);
  if (v.vm_refcnt !== F) yield* window(th, Y_ENTER_LOCKED, "__vma_enter_locked:rcuwait_wait_event");
  for (let guard = 0; v.vm_refcnt !== F; guard++) {
    if (guard > 1_000_000) throw new Error("vma_mark_detached: readers never drained");
    mm.vma_writer_wait = k;
    k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
    k.task.state = TASK_RUNNING;
  }
  if (mm.vma_writer_wait === k) mm.vma_writer_wait = null;
  atomic_add_return(k, v.refcnt, -F, th);
}

/** vma_mark_attached (include/linux/mm.h 6.15: refcount 1; 6.4 vma_mark_detached(false): clear the flag). */
export function vma_mark_attached(th: MmThread, v: Vma): void {
  // a recycled object's new attach is a write (of the flag, or of the count a stale reader may still increment)
  if (th.sim.sw.vmaLockImpl === "rwsem") {
    th.cost += v.line.write(th.k);
    v.detached = false;
  } else {
    // refcount_set_release(&vma->vm_refcnt, 1)
    th.cost += v.refcnt.line.write(th.k);
    v.vm_refcnt = 1;
  }
}

/** The attached state set before the run (premapped regions: no CPU, no cache-line traffic). */
export function vmaAttachBoot(sim: { sw: { vmaLockImpl: string } }, v: Vma): void {
  if (sim.sw.vmaLockImpl === "rwsem") v.detached = false;
  else v.vm_refcnt = 1;
}

/** Is the VMA attached (D1 flag / D2 refcount)? */
export function vmaAttached(th: MmThread, v: Vma): boolean {
  return th.sim.sw.vmaLockImpl === "rwsem" ? !v.detached : v.vm_refcnt > 0;
}

/** Before a writer modifies a VMA (range, flags, anon_vma, detach): its generation, and the oracle (invariants 1, 2). */
export function vmaModify(th: MmThread, v: Vma, what: string): void {
  v.gen++; // a write of the VMA (gen is one of its tracked fields)
  th.sim.oracle.vmaModify(th, v, what);
}
