// Atomics on shared cache lines with a cost model: a line last written by another CPU costs a
// transfer, and concurrent read-modify-writes of one line serialise (each waits for the previous
// owner's transfer to finish). Used by every lock word and by shared counters (mm_count, refcounts).
import type { Ctx } from "../sim/task.js";

export interface CacheCosts {
  /** RMW on a line this CPU already owns. [est: ~20 ns for a locked instruction] */
  atomicLocalNs: number;
  /** RMW on a line owned by another CPU (cross-core transfer). [est: 60-120 ns on x86 servers] */
  atomicRemoteNs: number;
  /** Plain read of a line another CPU wrote since (shared transfer). [est] */
  readRemoteNs: number;
}

export const DEFAULT_CACHE_COSTS: CacheCosts = { atomicLocalNs: 20, atomicRemoteNs: 100, readRemoteNs: 60 };

export class CacheLine {
  /** CPU that owns the line exclusively (-1: nobody yet). */
  owner = -1;
  /** Time until which the line is busy with a transfer in flight. */
  busyUntil = 0;
  transfers = 0;
  constructor(readonly costs: CacheCosts = DEFAULT_CACHE_COSTS) {}

  /**
   * Cost (ns) of an atomic read-modify-write by `k`'s CPU now, including waiting behind transfers
   * already in flight. Also returns whether the line bounced (came from another CPU).
   */
  rmw(k: Ctx): number {
    const cpu = k.cpu.id;
    const now = k.m.now;
    if (this.owner === cpu && this.busyUntil <= now) return this.costs.atomicLocalNs;
    const start = this.busyUntil > now ? this.busyUntil : now;
    const cost = this.owner === cpu ? this.costs.atomicLocalNs : this.costs.atomicRemoteNs;
    if (this.owner !== cpu && this.owner >= 0) this.transfers++;
    this.owner = cpu;
    this.busyUntil = start + cost;
    return this.busyUntil - now;
  }

  /** Cost of a plain read. */
  read(k: Ctx): number {
    return this.owner === k.cpu.id || this.owner < 0 ? 1 : this.costs.readRemoteNs;
  }

  /** Did the last access come from another CPU? (a "bounce" in lock_stat terms) */
  bouncesFor(k: Ctx): boolean {
    return this.owner >= 0 && this.owner !== k.cpu.id;
  }
}
