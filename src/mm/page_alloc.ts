// The shared resources behind a fault's new page: per-CPU page lists refilled from the zone under
// zone->lock (mm/page_alloc.c v6.4 rmqueue_pcplist -> rmqueue_bulk), and LRU insertion through a
// per-CPU folio batch moved to the LRU list under the lruvec's lru_lock (mm/swap.c v6.4
// folio_add_lru -> folio_batch_move_lru). Both locks are src/sync spinlocks taken with interrupts
// off, so their contention (and lock_stat rows) comes out of who else refills or drains, never from
// a per-page constant. Freed pages go straight back to the allocator (free_pcppages_bulk is not
// modelled), and page-table pages are not allocated.
import { IRQ_ENABLE, type KGen, PREEMPT_ENABLE } from "../sim/effects.js";
import { SpinLock, spin_lock_fast, spin_lock_nopoint, spin_unlock_fast } from "../sync/spinlock.js";
import { charged } from "./locking.js";
import type { MmThread } from "./thread.js";

/**
 * pcp->batch of a zone of 1 GiB or more: zone_batchsize() (mm/page_alloc.c v6.4) takes
 * min(managed pages >> 10, 1 MiB / PAGE_SIZE) = 256, divides by 4 (64), then
 * rounddown_pow_of_two(64 + 32) - 1 = 63. rmqueue_bulk moves that many order-0 pages at once.
 */
export const PCP_BATCH = 63;

/** PAGEVEC_SIZE (include/linux/pagevec.h v6.4): the per-CPU lru_add folio batch holds 15 folios. */
export const PAGEVEC_SIZE = 15;

/** PAGEVEC_SIZE from v6.9 (9cecde80aae0 "mm: increase folio batch size"): 31 folios. */
export const PAGEVEC_SIZE_6_9 = 31;

const ZONE_SITE = "rmqueue_bulk:zone_lock";
const LRU_SITE = "folio_batch_move_lru:lru_lock";

/** The zone, its lock, and the per-CPU lists and batches of one machine. */
export class PageAlloc {
  readonly zoneLock = new SpinLock("&zone->lock", "zone:Normal");
  readonly lruLock = new SpinLock("&lruvec->lru_lock", "lruvec:0");
  /** Pages on each CPU's pcp list (a running system's lists start populated: one batch each). */
  readonly pcpCount: Int32Array;
  /** Folios in each CPU's lru_add batch. */
  readonly lruBatch: Int32Array;
  constructor(ncpu: number) {
    this.pcpCount = new Int32Array(ncpu).fill(PCP_BATCH);
    this.lruBatch = new Int32Array(ncpu);
  }
}

/** spin_lock_irqsave's contended half (after spin_lock_fast refused): the time so far passes, then spin. */
function* lockIrqsaveWait(th: MmThread, l: SpinLock, site: string): KGen<void> {
  if (!charged(th)) yield th.due;
  yield* spin_lock_nopoint(th.k, l, site);
}

/** unlockIrqrestore(): the caller yields IRQ_ENABLE (local_irq_restore with an interrupt pending). */
const U_IRQ_ENABLE = 1;
/** unlockIrqrestore(): the caller yields PREEMPT_ENABLE (a reschedule is due at preempt_enable()). */
const U_PREEMPT_ENABLE = 2;

/**
 * spin_unlock_irqrestore on one of the allocator's locks, after the critical section's CPU time
 * passed with the lock held (so others queue): the release, and local_irq_restore passed in place
 * when the CPU loop would only do it (Machine.passIrqEnable). Returns what the caller must still
 * yield, in this order: `if (u & U_IRQ_ENABLE) yield IRQ_ENABLE; if (u & U_PREEMPT_ENABLE) yield PREEMPT_ENABLE;`
 */
function unlockIrqrestore(th: MmThread, l: SpinLock, flags: boolean): number {
  const k = th.k;
  const resched = spin_unlock_fast(k, l, th);
  return (!flags && !k.m.passIrqEnable(k) ? U_IRQ_ENABLE : 0) | (resched ? U_PREEMPT_ENABLE : 0);
}

/**
 * An order-0 page from this CPU's pcp list (rmqueue_pcplist): the caller takes it with
 * `if (pcp_empty(th)) yield* rmqueue_bulk(th);` then `pcp_take(th)`.
 */
export function pcp_empty(th: MmThread): boolean {
  return th.sim.pageAlloc.pcpCount[th.cpu] === 0;
}

export function pcp_take(th: MmThread): void {
  th.sim.pageAlloc.pcpCount[th.cpu]--;
}

/** rmqueue_bulk (mm/page_alloc.c v6.4): refill the pcp list with pcp->batch pages under zone->lock. */
export function* rmqueue_bulk(th: MmThread): KGen<void> {
  const pa = th.sim.pageAlloc;
  const flags = th.k.localIrqSave();
  if (!spin_lock_fast(th.k, pa.zoneLock, ZONE_SITE, th)) yield* lockIrqsaveWait(th, pa.zoneLock, ZONE_SITE);
  th.cost += PCP_BATCH * th.sim.costs.rmqueueBulkPerPageNs;
  pa.pcpCount[th.cpu] += PCP_BATCH;
  if (!charged(th)) yield th.due;
  const u = unlockIrqrestore(th, pa.zoneLock, flags);
  if (u & U_IRQ_ENABLE) yield IRQ_ENABLE;
  if (u & U_PREEMPT_ENABLE) yield PREEMPT_ENABLE;
}

/**
 * folio_add_lru (mm/swap.c v6.4): one more folio in this CPU's batch; true when the batch is full
 * (folio_batch_add returns no space left) and the caller must `yield* folio_batch_move_lru(th)`.
 */
export function folio_add_lru(th: MmThread): boolean {
  return ++th.sim.pageAlloc.lruBatch[th.cpu]! >= (th.sim.sw.folioBatch31 ? PAGEVEC_SIZE_6_9 : PAGEVEC_SIZE);
}

/** folio_batch_move_lru (mm/swap.c v6.4): the whole batch onto the LRU list under lru_lock. */
export function* folio_batch_move_lru(th: MmThread): KGen<void> {
  const pa = th.sim.pageAlloc;
  const flags = th.k.localIrqSave();
  if (!spin_lock_fast(th.k, pa.lruLock, LRU_SITE, th)) yield* lockIrqsaveWait(th, pa.lruLock, LRU_SITE);
  th.cost += pa.lruBatch[th.cpu]! * th.sim.costs.lruAddPerFolioNs;
  pa.lruBatch[th.cpu] = 0;
  if (!charged(th)) yield th.due;
  const u = unlockIrqrestore(th, pa.lruLock, flags);
  if (u & U_IRQ_ENABLE) yield IRQ_ENABLE;
  if (u & U_PREEMPT_ENABLE) yield PREEMPT_ENABLE;
}
