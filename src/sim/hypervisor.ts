// Steal time: the hypervisor deschedules a guest's vCPUs. While a vCPU is stolen it executes nothing
// (a burst in progress stretches, interrupts and timers aimed at it wait until it runs again) and the
// guest clock runs on: local_clock()/running_clock() on KVM (kvm-clock) and Xen (xen_clocksource)
// include the stolen time, so the soft-lockup detector (kernel/watchdog.c get_timestamp), RCU stall
// checks (jiffies) and the holdoff accounting all count it, while the task's own runtime does not
// (CONFIG_PARAVIRT_TIME_ACCOUNTING subtracts steal from rq->clock_task, kernel/sched/core.c
// update_rq_clock_task). The machine calls finishAt/workBetween for bursts and runnableAt before
// running a CPU (src/sim/machine.ts hooks).
//
// Each vCPU alternates run and stolen intervals, both exponentially distributed (a host scheduler
// switching between runnable vCPU threads), from the profile's named parameters below.
import type { Rng } from "./prng.js";

export interface StealProfile {
  name: string;
  /** Long-run fraction of wall time a vCPU is descheduled (what /proc/stat "steal" reports). */
  stealFraction: number;
  /** Mean length of one stolen interval (ns). */
  meanStealNs: number;
  /** Where the parameters come from. */
  source: string;
}

/** Named steal profiles. No built-in scenario is tuned to an outcome with these. */
export const STEAL_PROFILES: Record<string, StealProfile> = {
  none: {
    name: "none",
    stealFraction: 0,
    meanStealNs: 0,
    source: "bare metal, or a VM with dedicated host CPUs",
  },
  /**
   * Two runnable vCPU threads per host CPU under the host's CFS (Linux <= 6.5): each runs one slice
   * and waits one; the slice is sysctl_sched_latency / nr_running = 24 ms / 2 at >= 8 host CPUs
   * (kernel/sched/fair.c: 6 ms x (1 + ilog2(min(ncpus, 8)))).
   */
  "kvm-cfs-2to1": {
    name: "kvm-cfs-2to1",
    stealFraction: 0.5,
    meanStealNs: 12_000_000,
    source: "host CFS sched_latency 24 ms shared by 2 vCPU threads (kernel/sched/fair.c, <= v6.5)",
  },
  /** Xen credit1 scheduler, 2 vCPUs per physical CPU: descheduled for one 30 ms timeslice at a time. */
  "xen-credit-2to1": {
    name: "xen-credit-2to1",
    stealFraction: 0.5,
    meanStealNs: 30_000_000,
    source: "Xen credit1 sched_credit_tslice_ms default 30 (xen-command-line), 2 vCPUs per pCPU",
  },
};

export const STEAL_PROFILE_NAMES: readonly string[] = Object.keys(STEAL_PROFILES);

export function stealProfile(name: string): StealProfile {
  const p = STEAL_PROFILES[name];
  if (p === undefined)
    throw new RangeError(
      `steal profile: unknown ${JSON.stringify(name)}; known: ${STEAL_PROFILE_NAMES.join(", ")}`,
    );
  return p;
}

/** The stolen intervals of one vCPU, generated lazily in time order. */
class VcpuSchedule {
  /** Stolen intervals [s, e) not yet behind every query, ascending. */
  private readonly iv: number[] = [];
  private head = 0;
  /** End of the last generated interval. */
  private genTo = 0;
  /** Stolen ns of the intervals already pruned. */
  private stolenPruned = 0;

  constructor(
    private readonly rng: Rng,
    private readonly meanRunNs: number,
    private readonly meanStealNs: number,
  ) {}

  private generate(): void {
    const s = this.genTo + Math.max(1, Math.round(this.rng.exp(this.meanRunNs)));
    const e = s + Math.max(1, Math.round(this.rng.exp(this.meanStealNs)));
    this.iv.push(s, e);
    this.genTo = e;
  }

  /** Index (even) of the first interval with end > t. */
  private first(t: number): number {
    for (;;) {
      for (let i = this.head; i < this.iv.length; i += 2) if (this.iv[i + 1]! > t) return i;
      this.generate();
    }
  }

  /** Forget intervals that end at or before t (no later query starts before t). */
  prune(t: number): void {
    while (this.head < this.iv.length && this.iv[this.head + 1]! <= t) {
      this.stolenPruned += this.iv[this.head + 1]! - this.iv[this.head]!;
      this.head += 2;
    }
    if (this.head > 256) {
      this.iv.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Stolen ns in [0, t) (t not before the last prune). */
  stolenUntil(t: number): number {
    let n = this.stolenPruned;
    for (let i = this.head; i < this.iv.length && this.iv[i]! < t; i += 2)
      n += Math.min(this.iv[i + 1]!, t) - this.iv[i]!;
    return n;
  }

  runnableAt(t: number): number {
    const i = this.first(t);
    return this.iv[i]! <= t ? this.iv[i + 1]! : t;
  }

  finishAt(t: number, work: number): number {
    let now = t;
    let w = work;
    for (let i = this.first(now); ; i += 2) {
      if (i >= this.iv.length) this.generate();
      const s = this.iv[i]!;
      const e = this.iv[i + 1]!;
      if (s > now) {
        if (w <= s - now) return now + w;
        w -= s - now;
      }
      if (e > now) now = e;
    }
  }

  workBetween(t0: number, t1: number): number {
    let work = 0;
    let now = t0;
    for (let i = this.first(t0); now < t1; i += 2) {
      if (i >= this.iv.length) this.generate();
      const s = this.iv[i]!;
      const e = this.iv[i + 1]!;
      if (s > now) work += Math.min(s, t1) - now;
      now = Math.max(now, e);
    }
    return work;
  }
}

export class Hypervisor {
  private readonly vcpus: VcpuSchedule[];

  constructor(
    readonly profile: StealProfile,
    rngFor: (cpu: number) => Rng,
    nrCpus: number,
  ) {
    const f = profile.stealFraction;
    if (!(f > 0 && f < 1) || !(profile.meanStealNs > 0))
      throw new RangeError(`steal profile ${profile.name}: needs 0 < stealFraction < 1 and meanStealNs > 0`);
    const meanRunNs = (profile.meanStealNs * (1 - f)) / f;
    this.vcpus = Array.from(
      { length: nrCpus },
      (_, i) => new VcpuSchedule(rngFor(i), meanRunNs, profile.meanStealNs),
    );
  }

  /** The earliest time >= t at which the vCPU runs. */
  runnableAt(cpu: number, t: number): number {
    return this.vcpus[cpu]!.runnableAt(t);
  }

  /** Wall time at which `work` ns of execution started at t (a running time) are done. */
  finishAt(cpu: number, t: number, work: number): number {
    const v = this.vcpus[cpu]!;
    v.prune(t);
    return v.finishAt(t, work);
  }

  /** Execution ns the vCPU got in [t0, t1). */
  workBetween(cpu: number, t0: number, t1: number): number {
    return this.vcpus[cpu]!.workBetween(t0, t1);
  }

  /** Stolen ns of the vCPU in [0, t) (/proc/stat steal), t >= the last burst start. */
  stolenNs(cpu: number, t: number): number {
    return this.vcpus[cpu]!.stolenUntil(t);
  }
}
