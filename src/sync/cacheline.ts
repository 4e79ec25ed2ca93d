// Atomics on shared cache lines with a cost model: a line last written by another CPU costs a
// transfer, and concurrent read-modify-writes of one line serialise (each waits for the previous
// owner's transfer to finish). Plain reads take a shared copy that stays valid until the next write
// (MESI's S state): a line only read by many CPUs costs each of them one transfer, then nothing.
// Used by every lock word and by shared counters (mm_count, refcounts, vm_refcnt).
import type { Ctx } from "../sim/task.js";

// Measured by calib/cacheline.c (output in calib/cacheline.out.txt: 21 runs on this project's
// 2-vCPU KVM guest, AMD EPYC host, machine loaded by other jobs, medians). The transfer costs are
// bimodal on this guest: in about 6 of 21 runs the host had placed the two vCPUs close together
// (25-50 ns per transfer), in the rest 105-140 ns; the medians below are the usual placement.
export interface CacheCosts {
  /** RMW on a line this CPU already owns. [calib/cacheline.c rmw_local_chain: a dependent chain of `lock xadd`, 3.14 ns] */
  atomicLocalNs: number;
  /** RMW on a line another CPU wrote last, transfer included. [calib/cacheline.c rmw_pingpong_oneway: `lock cmpxchg` ping-pong / 2, 121.5 ns; rmw_remote_single 130.5 ns above a local RMW] */
  atomicRemoteNs: number;
  /** Plain read of a line another CPU wrote since (shared transfer). [calib/cacheline.c read_remote_single: one load timed with rdtscp, 140.3 ns above a local load] */
  readRemoteNs: number;
}

export const DEFAULT_CACHE_COSTS: CacheCosts = {
  atomicLocalNs: 3, // calib/cacheline.c rmw_local_chain 3.14 ns
  atomicRemoteNs: 122, // calib/cacheline.c rmw_pingpong_oneway 121.5 ns
  readRemoteNs: 140, // calib/cacheline.c read_remote_single 140.3 ns
};

/** Where a generator-free primitive adds the CPU time its atomics cost (the caller charges it at its next yield). */
export interface CostSink {
  cost: number;
}

export class CacheLine {
  /** CPU that owns the line exclusively (-1: nobody yet). */
  owner = -1;
  /** Time until which the line is busy with a transfer in flight. */
  busyUntil = 0;
  transfers = 0;
  /** Read-modify-writes done on the line (all CPUs). */
  rmws = 0;
  /** Writes so far: a CPU's shared copy is valid while it saw the current version. */
  private version = 1;
  /** Per CPU, the version its shared copy holds (allocated at the first remote read). */
  private seen: Int32Array | null = null;
  /** Other CPUs hold shared copies (the owner's next RMW must invalidate them: a transfer). */
  private shared = false;
  constructor(readonly costs: CacheCosts = DEFAULT_CACHE_COSTS) {}

  /**
   * Cost (ns) of an atomic read-modify-write by `k`'s CPU now, including waiting behind transfers
   * already in flight. Also returns whether the line bounced (came from another CPU).
   */
  rmw(k: Ctx): number {
    const cpu = k.cpu.id;
    const now = k.m.now;
    this.rmws++;
    if (this.owner === cpu && !this.shared && this.busyUntil <= now) {
      this.version++;
      return this.costs.atomicLocalNs;
    }
    const start = this.busyUntil > now ? this.busyUntil : now;
    const cost = this.owner === cpu && !this.shared ? this.costs.atomicLocalNs : this.costs.atomicRemoteNs;
    if (this.owner !== cpu && this.owner >= 0) this.transfers++;
    this.owner = cpu;
    this.shared = false;
    this.version++;
    this.busyUntil = start + cost;
    return this.busyUntil - now;
  }

  /** A plain store (WRITE_ONCE / smp_store_release): takes the line exclusive like an RMW, but is no atomic. */
  write(k: Ctx): number {
    const c = this.rmw(k);
    this.rmws--;
    return c;
  }

  /** Cost of a plain read: free on the owner or a CPU whose shared copy is current, else one transfer. */
  read(k: Ctx): number {
    const cpu = k.cpu.id;
    if (this.owner === cpu || this.owner < 0) return 1;
    let seen = this.seen;
    if (seen === null) seen = this.seen = new Int32Array(k.m.cpus.length);
    if (seen[cpu] === this.version) return 1;
    seen[cpu] = this.version;
    this.shared = true;
    return this.costs.readRemoteNs;
  }

  /** Did the last access come from another CPU? (a "bounce" in lock_stat terms) */
  bouncesFor(k: Ctx): boolean {
    return this.owner >= 0 && this.owner !== k.cpu.id;
  }
}
