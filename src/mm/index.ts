// The mm model: per-VMA-lock page faults and the address-space operations (docs/mm.md).
// MmSimulation assembles a machine, the model state and one process; src/mm/scenario.ts runs scenarios.

import type { KGen } from "../sim/effects.js";
import { Machine } from "../sim/machine.js";
import type { Histogram } from "../sim/stats.js";
import type { MmCosts } from "./costs.js";
import { LatencyRecorder } from "./latency.js";
import type { ArrayPool } from "./pool.js";
import { type MmFaultInjection, MmSim } from "./sim.js";
import type { MmSwitches } from "./switches.js";
import { MmThread } from "./thread.js";
import { defaultTlb, tlbGeometry } from "./tlb.js";
import { type MmStruct, VM_GROWSDOWN, VM_READ, VM_WRITE } from "./types.js";
import { vmaAttachBoot } from "./vma_lock.js";

export * from "./costs.js";
export * from "./fault.js";
export * from "./fork.js";
export * from "./frames.js";
export * from "./latency.js";
export * from "./pool.js";
export * from "./sim.js";
export * from "./switches.js";
export * from "./syscalls.js";
export * from "./thread.js";
export * from "./types.js";
export * from "./user.js";
export * from "./vmstat.js";

export interface MmSimulationOptions {
  cpus: number;
  seed: number;
  mode: "timed" | "explore";
  preempt: "none" | "voluntary" | "full" | "lazy";
  jitter: number;
  switches: MmSwitches;
  disabledSites: readonly string[];
  costs: Partial<MmCosts>;
  wordsPerPage: number;
  /** Virtual address space of the process, in pages. */
  vaPages: number;
  latency: boolean;
  /** Expected peak of frames in use (preallocation). */
  framesHint?: number;
  /** TLB shootdowns: one atomic step (default) or engine IPIs (timed driver). */
  tlbShootdown?: "atomic" | "ipi";
  /** Data TLB geometry by name (src/mm/tlb.ts TLB_GEOMETRIES); default: the arch's (defaultTlb: x86 zen3, arm64 neoverse-n1). */
  tlb?: string;
  /** Use this machine (its cpus, seed and mode win) instead of creating one. */
  machine?: Machine;
  /** Reuse address-space arrays from here (race-checker builds; MmSim.recycle gives them back). */
  pool?: ArrayPool;
  /** Fault injection (failing allocations, injected delays). */
  inject?: MmFaultInjection;
  /** The generator-free forms of uncontended fault steps (MmOptions.fastPaths); default true. */
  fastPaths?: boolean;
}

/** A machine with the mm model and one checked process (mm 0). */
export class MmSimulation {
  readonly m: Machine;
  readonly sim: MmSim;
  readonly mm: MmStruct;
  readonly threads: MmThread[] = [];
  /** Fault latencies (ns) recorded on the hot path; faultLatHistogram() gives the HDR histogram. */
  readonly faultLat = new LatencyRecorder();
  private nextPremap = 16;

  constructor(o: MmSimulationOptions) {
    this.m =
      o.machine ??
      new Machine({ cpus: o.cpus, seed: o.seed, mode: o.mode, preempt: o.preempt, jitter: o.jitter });
    this.sim = new MmSim(this.m, {
      switches: o.switches,
      costs: o.costs,
      disabledSites: o.disabledSites,
      wordsPerPage: o.wordsPerPage,
      ...(o.framesHint !== undefined ? { framesHint: o.framesHint } : {}),
      ipiShootdown: o.tlbShootdown === "ipi",
      tlb: tlbGeometry(o.tlb ?? defaultTlb(o.switches.arch)),
      ...(o.pool !== undefined ? { pool: o.pool } : {}),
      ...(o.inject !== undefined ? { inject: o.inject } : {}),
      ...(o.fastPaths !== undefined ? { fastPaths: o.fastPaths } : {}),
    });
    if (o.latency) this.sim.faultLat = this.faultLat;
    this.mm = this.sim.newMm(o.vaPages, true);
    // end of run (Machine.finish): the lost-update sweep
    this.m.hooks.end.push(() => this.finish());
    // a warm start goes on in the explore driver: no more timed fast paths
    this.m.hooks.explore.push(() => {
      this.sim.timed = false;
      for (const th of this.threads) th.timed = false;
    });
  }

  /** Create a user thread of `mm` on `cpu` running `prog`. */
  spawn(name: string, mm: MmStruct, cpu: number, prog: (th: MmThread) => KGen<unknown>): MmThread {
    let th: MmThread | null = null;
    const task = this.m.createTask(name.slice(0, 15), cpu, () => prog(th!), { kthread: false });
    th = new MmThread(this.sim, task.frame, mm, name);
    task.data.mm = th;
    mm.users++;
    this.threads.push(th);
    return th;
  }

  /** Map an anonymous read-write region before the run (no syscall, no locks): its first page. */
  premap(npages: number, gapPages = 1, growsdown = false): number {
    const mm = this.mm;
    const start = this.nextPremap;
    if (start + npages > mm.vaPages)
      throw new RangeError(`premap: ${npages} pages do not fit in the ${mm.vaPages}-page address space`);
    this.nextPremap = start + npages + gapPages;
    const v = this.sim.slab.alloc();
    v.start = start;
    v.end = start + npages;
    v.flags = VM_READ | VM_WRITE | (growsdown ? VM_GROWSDOWN : 0);
    v.vm_mm = mm;
    // before the run nobody walks the tree: regions come in address order, append
    mm.vmas.push(v);
    vmaAttachBoot(this.sim, v);
    return start;
  }

  faultLatHistogram(): Histogram {
    return this.faultLat.toHistogram();
  }

  measure(th: MmThread, on: boolean): void {
    th.measure = on;
  }

  /** End-of-run checks: the lost-update sweep of every checked mm. */
  finish(): void {
    for (const mm of this.sim.mms) this.sim.sweepLostUpdates(mm);
  }
}
