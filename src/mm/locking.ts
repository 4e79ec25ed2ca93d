// mmap_lock (an rw_semaphore) and the split page-table locks (spinlocks) as the mm model uses them,
// with named acquisition sites that a scenario can disable, and per-site contention statistics.
// include/linux/mmap_lock.h (6.4: vma_end_write_all in mmap_write_unlock/downgrade; 6.15: mm_lock_seq
// seqcount begin in mmap_write_lock), kernel/locking/rwsem.c, kernel/locking/qspinlock.c semantics.
import type { KGen } from "../sim/effects.js";
import {
  down_read,
  down_read_trylock,
  down_write,
  downgrade_write,
  RwSemaphore,
  up_read,
  up_write,
} from "../sync/rwsem.js";
import { SpinLock, spin_lock_fast, spin_lock_nopoint, spin_unlock_fast } from "../sync/spinlock.js";
import type { MmThread } from "./thread.js";
import { type MmStruct, PTRS_PER_PTE } from "./types.js";

export { RwSemaphore, SpinLock };

/** Token returned by an acquisition: whether the lock was really taken (false: site disabled). */
export type Held = boolean;

/** Per-site acquisition statistics of the model (lockSites in a run's result). */
function recordWait(th: MmThread, site: string, since: number, contended: boolean): void {
  const s = th.sim.lockStat(site);
  s.acquired++;
  if (!contended) return;
  const ns = th.sim.m.now - since;
  s.contended++;
  s.waitNs += ns;
  if (ns > s.waitNsMax) s.waitNsMax = ns;
}

/**
 * spin_lock on a page-table lock (a src/sync SpinLock): the generator-free uncontended acquire, its
 * RMW's cost added to the thread's running CPU time; when the lock is taken, the time so far
 * passes and the thread spins in FIFO order (kernel/locking/qspinlock.c). The caller passed the
 * site's yield point. Release with ptl_unlock.
 */
export function* ptl_lock(th: MmThread, l: SpinLock, site: string): KGen<void> {
  if (!ptl_trylock_fast(th, l, site)) yield* ptl_lock_wait(th, l, site);
}

/** The uncontended half of ptl_lock, without a generator: false (nothing done) when the lock is taken. */
export function ptl_trylock_fast(th: MmThread, l: SpinLock, site: string): boolean {
  if (!spin_lock_fast(th.k, l, site, th)) return false;
  recordWait(th, site, 0, false);
  return true;
}

/** The contended half of ptl_lock: the time so far passes, then spin in FIFO order. */
export function* ptl_lock_wait(th: MmThread, l: SpinLock, site: string): KGen<void> {
  yield* charge(th);
  const since = th.sim.m.now;
  yield* spin_lock_nopoint(th.k, l, site);
  recordWait(th, site, since, true);
}

/**
 * spin_unlock of a page-table lock without a generator: true when the caller must
 * `yield PREEMPT_ENABLE` (a reschedule is due at this preempt_enable()).
 */
export function ptl_unlock(th: MmThread, l: SpinLock): boolean {
  return spin_unlock_fast(th.k, l, th);
}

// ---------------------------------------------------------------- mm wrappers

/** Charge the CPU time accumulated so far (timed driver) before entering a src/sync primitive. */
export function* charge(th: MmThread): KGen<void> {
  if (!charged(th)) yield th.due;
}

/**
 * charge() without a generator: true when nothing is left to charge (no time, the explore driver,
 * or the time passed in place: MmThread.pass); false when the caller must `yield th.due`.
 */
export function charged(th: MmThread): boolean {
  if (th.cost <= 0) return true;
  if (!th.sim.timed) {
    th.cost = 0;
    return true;
  }
  return th.pass();
}

/** mm->mmap_lock: one lock class for every mm (as lockdep sees it). */
export function mmapLockOf(mm: MmStruct): RwSemaphore {
  return mm.mmap_lock;
}

/** The split PTE lock of the page table covering vpn (pte_lockptr). */
export function ptlOf(mm: MmStruct, vpn: number): SpinLock {
  const i = (vpn / PTRS_PER_PTE) | 0;
  let l = mm.ptl[i];
  if (l === undefined) l = mm.ptl[i] = new SpinLock("ptlock", `ptl:${mm.id}:${i}`);
  return l;
}

/** mmap_read_lock (include/linux/mmap_lock.h) */
export function* mmap_read_lock(th: MmThread, mm: MmStruct, site: string): KGen<Held> {
  yield* charge(th);
  yield* down_read(th.k, mmapLockOf(mm), site);
  const held = !th.sim.disabled.has(site);
  if (held) mm.readers++;
  return held;
}

/** mmap_read_trylock (include/linux/mmap_lock.h, all versions): 1 taken, 0 failed, -1 site disabled. */
export function* mmap_read_trylock(th: MmThread, mm: MmStruct, site: string): KGen<number> {
  yield* charge(th);
  const ok = yield* down_read_trylock(th.k, mmapLockOf(mm), site);
  if (!ok) return 0;
  if (th.sim.disabled.has(site)) return -1;
  mm.readers++;
  return 1;
}

/** mmap_read_unlock (include/linux/mmap_lock.h, all versions) */
export function* mmap_read_unlock(th: MmThread, mm: MmStruct, held: Held): KGen<void> {
  yield* charge(th); // the critical section's CPU time passes with the lock held
  if (held) mm.readers--;
  yield* up_read(th.k, mmapLockOf(mm));
}

/** mmap_write_lock (include/linux/mmap_lock.h; 6.15: mm_lock_seqcount_begin makes mm_lock_seq odd) */
export function* mmap_write_lock(th: MmThread, mm: MmStruct, site: string): KGen<Held> {
  yield* charge(th);
  yield* down_write(th.k, mmapLockOf(mm), site);
  const held = !th.sim.disabled.has(site);
  if (held) mm.writerPid = th.pid;
  if (th.sim.sw.vmaLockImpl === "refcnt") {
    // mm_lock_seqcount_begin: a store to the line mm_lock_seq shares with mmap_lock
    th.cost += mm.lockLine.write(th.k);
    mm.mm_lock_seq++;
  }
  return held;
}

/** vma_end_write_all (include/linux/mmap_lock.h 6.4+): advance mm_lock_seq, releasing every VMA write lock at once. */
export function vma_end_write_all(th: MmThread, mm: MmStruct): void {
  // smp_store_release(&mm->mm_lock_seq, ...): a store to mmap_lock's line (only with per-VMA locks)
  if (th.sim.sw.perVmaLock) th.cost += mm.lockLine.write(th.k);
  mm.mm_lock_seq++;
}

/** mmap_write_unlock (include/linux/mmap_lock.h 6.4+): vma_end_write_all, then up_write (a fault may take a VMA lock in between). */
export function* mmap_write_unlock(th: MmThread, mm: MmStruct, _held: Held): KGen<void> {
  yield* charge(th);
  vma_end_write_all(th, mm);
  if (mm.writerPid === th.pid) mm.writerPid = 0;
  yield* up_write(th.k, mmapLockOf(mm));
}

/** mmap_write_downgrade (include/linux/mmap_lock.h 6.4+: vma_end_write_all, then downgrade_write) */
export function* mmap_write_downgrade(th: MmThread, mm: MmStruct, held: Held): KGen<void> {
  yield* charge(th);
  vma_end_write_all(th, mm);
  if (mm.writerPid === th.pid) mm.writerPid = 0;
  if (held) mm.readers++;
  yield* downgrade_write(th.k, mmapLockOf(mm));
}

/** Is the thread the (oracle) holder of mmap_lock for write? */
export function holdsMmapWrite(th: MmThread, mm: MmStruct): boolean {
  return mm.writerPid === th.pid;
}
