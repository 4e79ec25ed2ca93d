// mmap_lock (an rw_semaphore) and the split page-table locks (spinlocks) as the mm model uses them,
// with named acquisition sites that a scenario can disable, and per-site contention statistics.
// include/linux/mmap_lock.h (6.4: vma_end_write_all in mmap_write_unlock/downgrade; 6.15: mm_lock_seq
// seqcount begin in mmap_write_lock), kernel/locking/rwsem.c, kernel/locking/qspinlock.c semantics.
import { type KGen, SPIN } from "../sim/effects.js";
import { lockStats } from "../sync/lockstat.js";
import {
  down_read,
  down_read_trylock,
  down_write,
  downgrade_write,
  RwSemaphore,
  up_read,
  up_write,
} from "../sync/rwsem.js";
import { SpinLock } from "../sync/spinlock.js";
import type { MmThread } from "./thread.js";
import { type MmStruct, PTRS_PER_PTE } from "./types.js";

export { RwSemaphore, SpinLock };

/** Token returned by an acquisition: whether the lock was really taken (false: site disabled). */
export type Held = boolean;

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
 * Uncontended spin_lock without a generator: 1 taken, 0 site disabled (nothing held), 2 contended
 * (the caller continues with `yield* spinWait`).
 */
export function spinLockFast(th: MmThread, l: SpinLock, site: string): number {
  th.sim.m.touch(l.key, true);
  if (th.sim.disabled.has(site)) return 0;
  if (l.owner !== null || l.waiters.length > 0) return 2;
  const k = th.k;
  const bounce = l.line.bouncesFor(k);
  th.cost += l.line.rmw(k);
  k.preemptDisable();
  l.owner = k;
  (l.stats ??= lockStats(th.sim.m).get(l.name)).acquired(bounce);
  recordWait(th, site, 0, false);
  return 1;
}

/** The contended half of spinLockFast: queue and spin until handed the lock. */
export function* spinWait(th: MmThread, l: SpinLock, site: string): KGen<number> {
  return (yield* spinLock(th, l, site)) ? 1 : 0;
}

/**
 * spin_lock on a page-table lock: the src/sync SpinLock object and cache-line model, with the cost
 * added to the thread's running total instead of a separate yield (the caller yields just before:
 * this is the fault path's hot spot). kernel/locking/qspinlock.c FIFO hand-off semantics.
 */
export function* spinLock(th: MmThread, l: SpinLock, site: string): KGen<Held> {
  th.sim.m.touch(l.key, true);
  if (th.sim.disabled.has(site)) return false;
  const k = th.k;
  const bounce = l.line.bouncesFor(k);
  th.cost += l.line.rmw(k);
  k.preemptDisable();
  const stats = (l.stats ??= lockStats(th.sim.m).get(l.name));
  if (l.owner === null && l.waiters.length === 0) {
    l.owner = k;
    stats.acquired(bounce);
    recordWait(th, site, 0, false);
    return true;
  }
  const since = th.sim.m.now;
  l.waiters.push({ k, since, site });
  th.sim.m.emit("contention_begin", th.cpu, l.name, site, 0);
  for (let guard = 0; l.owner !== k; guard++) {
    if (guard > 1_000_000) throw new Error("spinlock: waiter never granted");
    yield SPIN;
  }
  th.sim.m.emit("contention_end", th.cpu, l.name, site, 0);
  if (k.flowIn !== 0) th.sim.m.flowIn(k, l.name);
  stats.contended(site, th.sim.m.now - since, bounce);
  stats.acquired(true);
  recordWait(th, site, since, true);
  return true;
}

/** spin_unlock: hand the lock to the next spinner (one cache-line transfer to it). */
export function spinUnlock(th: MmThread, l: SpinLock, held: Held): void {
  if (!held) return;
  const k = th.k;
  if (k.cpu.preemptCount > 0) k.cpu.preemptCount--;
  const next = l.waiters.shift();
  if (next === undefined) {
    l.owner = null;
    return;
  }
  l.owner = next.k;
  if (th.sim.m.trace !== null) th.sim.m.flowTo(next.k, l.name);
  th.sim.m.kickSpinner(next.k, l.line.rmw(next.k));
}

// ---------------------------------------------------------------- mm wrappers

/** Charge the CPU time accumulated so far (timed driver) before entering a src/sync primitive. */
function* charge(th: MmThread): KGen<void> {
  const c = th.cost;
  if (c > 0) {
    th.cost = 0;
    if (th.sim.timed) yield th.sim.m.jit(c);
  }
}

/** mm->mmap_lock: one lock class for every mm (as lockdep sees it). */
export function mmapLockOf(mm: MmStruct): RwSemaphore {
  let s = mm.mmapLock as RwSemaphore | null;
  if (s === null) s = mm.mmapLock = new RwSemaphore("&mm->mmap_lock", `mmap_lock:${mm.id}`);
  return s;
}

/** The split PTE lock of the page table covering vpn (pte_lockptr). */
export function ptlOf(mm: MmStruct, vpn: number): SpinLock {
  const i = (vpn / PTRS_PER_PTE) | 0;
  let l = mm.ptl[i] as SpinLock | undefined;
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
    th.sim.m.touch(`seq:${mm.id}`, true);
    mm.mm_lock_seq++;
  }
  return held;
}

/** vma_end_write_all (include/linux/mmap_lock.h 6.4+): advance mm_lock_seq, releasing every VMA write lock at once. */
export function vma_end_write_all(th: MmThread, mm: MmStruct): void {
  th.sim.m.touch(`seq:${mm.id}`, true);
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
