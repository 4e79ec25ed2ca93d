// A spinlock taken once per iteration of a long loop (mapping->i_pages in folio_start_writeback and
// __folio_end_writeback: once per folio, millions of times), charged a chunk of iterations at a
// time. Stepping every acquisition as an event would cost ~6 events per folio (30 M events for S2);
// instead each chunk is registered on the lock as a loop {cpu, from, to, hold, period}, and a chunk
// pays for the other CPUs' loops that overlap it in virtual time:
//   - an acquisition finds the lock held by loop L with probability hold_L / period_L (L's duty
//     cycle) and then spins for L's residual hold, hold_L / 2 on average (FIFO qspinlock hand-off);
//   - an acquisition pays a cache-line transfer (atomicRemoteNs instead of atomicLocalNs, the
//     cache-line model of cacheline.ts) when L acquired the line since this loop's last acquisition:
//     probability min(1, period / period_L).
// This is an expected-value interleaving of overlapping loops, computed from who else holds or
// wants the lock and the cache-line costs; nothing in it is a per-page constant. It is charged to
// the later chunk only (an earlier chunk already running is not slowed retroactively), so with
// chunks of at most a state quantum the contention an overlap produces is seen by one side up to a
// quantum late. lock_stat rows get the acquisitions, the expected contentions (rounded), wait and
// hold times of every chunk. Single acquisitions (i_ioend_lock, wait-queue buckets) use spin_lock.
import type { Ctx } from "../sim/task.js";
import { lockStats } from "./lockstat.js";
import { SpinLock } from "./spinlock.js";

interface Loop {
  cpu: number;
  from: number;
  to: number;
  holdNs: number;
  periodNs: number;
}

/** A spinlock that per-iteration loops take (also usable with spin_lock for single acquisitions). */
export class LoopSpinLock extends SpinLock {
  /** The loops registered on the lock, oldest first (pruned as they end). */
  readonly loops: Loop[] = [];
}

export interface LoopCost {
  /** Extra ns over n * (acquire + hold + outside) from contention and cache-line transfers. */
  extraNs: number;
  contentions: number;
}

/**
 * `n` iterations of { spin_lock(lock); hold holdNs; spin_unlock(lock); outsideNs of other work }
 * by `k`'s CPU, starting at `startNs` (>= now). Returns the extra time the lock adds beyond an
 * uncontended local acquisition per iteration; records lock_stat. A switched-off site costs nothing.
 */
export function spinLockLoop(
  k: Ctx,
  lock: LoopSpinLock,
  site: string,
  startNs: number,
  n: number,
  holdNs: number,
  outsideNs: number,
): LoopCost {
  const m = k.m;
  if (n <= 0 || m.disabledSites.has(site)) return { extraNs: 0, contentions: 0 };
  const costs = lock.line.costs;
  const cpu = k.cpu.id;
  const periodNs = costs.atomicLocalNs + holdNs + outsideNs;
  const spanNs = n * periodNs;
  const loops = lock.loops;
  // prune loops that ended before this one starts (they can no longer overlap anything new)
  let keep = 0;
  for (const l of loops) if (l.to > m.now) loops[keep++] = l;
  loops.length = keep;
  let waitNs = 0;
  let contentions = 0;
  let bounces = 0;
  let waitMaxNs = 0;
  for (const l of loops) {
    if (l.cpu === cpu) continue;
    const ov = Math.min(startNs + spanNs, l.to) - Math.max(startNs, l.from);
    if (ov <= 0) continue;
    const nOv = (n * ov) / spanNs;
    const c = (nOv * l.holdNs) / l.periodNs;
    contentions += c;
    waitNs += (c * l.holdNs) / 2;
    bounces += nOv * Math.min(1, periodNs / l.periodNs);
    if (l.holdNs > waitMaxNs) waitMaxNs = l.holdNs;
  }
  const extraNs = Math.round(waitNs + bounces * (costs.atomicRemoteNs - costs.atomicLocalNs));
  loops.push({
    cpu,
    from: startNs,
    to: startNs + spanNs + extraNs,
    holdNs,
    periodNs: periodNs + extraNs / n,
  });
  const s = (lock.stats ??= lockStats(m).get(lock.name));
  const nCont = Math.round(contentions);
  const nBounce = Math.round(bounces);
  s.acquisitions += n;
  s.acqBounces += nBounce;
  if (nCont > 0) {
    s.contentions += nCont;
    s.conBounces += Math.min(nCont, nBounce);
    s.waittimeTotal += Math.round(waitNs);
    if (waitMaxNs > s.waittimeMax) s.waittimeMax = waitMaxNs;
    if (s.waittimeMin > 1) s.waittimeMin = 1;
    s.contendedAt.set(site, (s.contendedAt.get(site) ?? 0) + nCont);
  }
  s.holdCount += n;
  s.holdtimeTotal += n * holdNs;
  if (holdNs < s.holdtimeMin) s.holdtimeMin = holdNs;
  if (holdNs > s.holdtimeMax) s.holdtimeMax = holdNs;
  return { extraNs, contentions };
}
