// The mm model's machine-wide state: frames, TLBs, swap, the VMA slab, vmstat, lock statistics and
// the findings that the oracle's hooks (src/mm/oracle.ts) report for broken invariants.

import type { Machine } from "../sim/machine.js";
import { type LockClassStat, lockStats } from "../sync/lockstat.js";
import { MM_COSTS_CALIBRATION, type MmCosts } from "./costs.js";
import { Frames } from "./frames.js";
import type { LatencyRecorder } from "./latency.js";
import { Mempolicies } from "./mempolicy.js";
import { type InvariantKind, KERNEL_INVARIANTS, type MmOracle } from "./oracle.js";
import { PageAlloc } from "./page_alloc.js";
import { type ArrayPool, newRingArrays, type RingArrays } from "./pool.js";
import { AnonVmas } from "./rmap.js";
import type { MmSwitches } from "./switches.js";
import { type TlbGeometry, Tlbs } from "./tlb.js";
import {
  hex,
  MmStruct,
  PTE_SHIFT,
  PTE_WRITE,
  TrackedVma,
  VMA_FREE,
  VMA_LIVE,
  VMA_RCU_PENDING,
  Vma,
} from "./types.js";
import { type VM, Vmstat } from "./vmstat.js";

export { INVARIANTS, type InvariantKind } from "./oracle.js";

export interface MmOptions {
  switches: MmSwitches;
  costs?: Partial<MmCosts>;
  disabledSites?: readonly string[];
  /** TLB shootdowns by engine IPIs (timed driver) instead of one atomic step. */
  ipiShootdown?: boolean;
  /** Data TLB geometry of every CPU (default: TLB_GEOMETRIES[DEFAULT_TLB], x86's). */
  tlb?: TlbGeometry;
  /** Words per page (sub-page locations that stores write independently). */
  wordsPerPage?: number;
  /** Expected peak of frames in use (preallocates the frame arrays). */
  framesHint?: number;
  /** Findings kept per invariant (the rest are counted). */
  maxFindingsPerKind?: number;
  /** Take the address spaces' arrays from here (race-checker builds; see recycle()). */
  pool?: ArrayPool;
  /** Fault injection (kernel.faultInjection of a scenario). */
  inject?: MmFaultInjection;
  /**
   * The generator-free forms of the fault path's uncontended steps (default on); off, every step
   * runs as its generator. Results are byte-identical either way (test/mm/fastpaths.test.ts).
   */
  fastPaths?: boolean;
}

/**
 * Fault injection, as the kernel's reporters used it to hit narrow windows: `failslab` names
 * allocation sites that fail (CONFIG_FAILSLAB with a call-site filter), `delay` holds a CPU at a
 * named yield point for so many ns (the mdelay() of a delay-injected reproducer).
 */
export interface MmFaultInjection {
  failslab?: readonly string[];
  delay?: Readonly<Record<string, number>>;
}

export interface LockStat {
  acquired: number;
  contended: number;
  waitNs: number;
  waitNsMax: number;
}

// Ring of recent model events, for the "steps" of a finding.
// 4,096: a fork of a 1,024-page region notes 1,024 write-protects, and a lost write's steps must still reach
// the write-protect of its page (with 256 they did not once page-table allocation added its notes)
const RING = 4096;

/** VMA objects: D1 frees through RCU (reuse after a grace period), D2 to a typesafe slab (reuse at once). */
class VmaSlab {
  /** Every VMA object the slab made (the explore driver tracks their fields). */
  readonly all: Vma[] = [];
  private free: Vma[] = [];
  private pending: { v: Vma; cpus: number[]; epochs: number[] }[] = [];
  private nextId = 1;
  constructor(private readonly sim: MmSim) {}

  alloc(): Vma {
    this.reap();
    const v = this.free.pop() ?? this.make();
    v.state = VMA_LIVE;
    v.incarnation++;
    v.start = v.end = 0;
    v.flags = 0;
    v.file = null;
    v.pgoff = 0;
    v.anon_vma = 0;
    v.anon_vma_chain.length = 0;
    v.vm_policy = 0;
    v.vm_mm = null;
    v.vm_lock_seq = -1;
    // vma_lock_alloc (kernel/fork.c v6.4) allocates a struct vma_lock with every VMA; the model keeps
    // one per slab object, as the vma_lock slab reuses its memory too (a reader that outlives the
    // VMA, possible only with lock sites switched off, then releases the lock it took)
    v.detached = false;
    v.vm_refcnt = 0;
    v.readers = 0;
    v.gen = 0;
    return v;
  }

  private make(): Vma {
    const id = this.nextId++;
    const v = this.sim.tracking ? new TrackedVma(id, this.sim.m) : new Vma(id);
    this.all.push(v);
    return v;
  }

  /** vm_area_free: D1 call_rcu (vm_rcu overlays vm_start/vm_end at once); D2 kmem_cache_free. */
  release(v: Vma, viaRcu: boolean): void {
    this.sim.oracle.vmaFree(this.sim, v); // invariant 7
    if (v.state !== VMA_LIVE) return;
    if (!viaRcu) {
      v.state = VMA_FREE;
      this.free.push(v);
      return;
    }
    v.state = VMA_RCU_PENDING;
    v.start = -1;
    v.end = -1;
    const cpus: number[] = [];
    const epochs: number[] = [];
    const d = this.sim.rcuDepth;
    for (let c = 0; c < d.length; c++) {
      if (this.sim.tracking) this.sim.rcuTouch(c, false);
      if (d[c]! > 0) {
        cpus.push(c);
        epochs.push(this.sim.rcuEpoch[c]!);
      }
    }
    this.pending.push({ v, cpus, epochs });
  }

  /** Has the VMA object `v` (as it was at `incarnation`) been freed (its grace period over) or reused? */
  freed(v: Vma, incarnation: number): boolean {
    this.reap();
    return v.state === VMA_FREE || v.incarnation !== incarnation;
  }

  /** Grace periods that have ended: every CPU in a read section at free time has left it. */
  private reap(): void {
    const p = this.pending;
    if (p.length === 0) return;
    const ep = this.sim.rcuEpoch;
    let w = 0;
    for (let i = 0; i < p.length; i++) {
      const e = p[i]!;
      let done = true;
      for (let j = 0; j < e.cpus.length; j++) {
        if (this.sim.tracking) this.sim.rcuTouch(e.cpus[j]!, false);
        if (ep[e.cpus[j]!] === e.epochs[j]) {
          done = false;
          break;
        }
      }
      if (done) {
        e.v.state = VMA_FREE;
        this.free.push(e.v);
      } else p[w++] = e;
    }
    p.length = w;
  }
}

// Cost tables merged with the calibration, per overrides object: race-checker targets build a model
// per schedule with the same overrides, and merging ~70 fields each time was a seventh of a build.
const resolvedCosts = new WeakMap<Partial<MmCosts>, MmCosts>();

function resolveCosts(over: Partial<MmCosts> | undefined): MmCosts {
  if (over === undefined) return MM_COSTS_CALIBRATION;
  let c = resolvedCosts.get(over);
  if (c === undefined) {
    c = Object.freeze({ ...MM_COSTS_CALIBRATION, ...over });
    resolvedCosts.set(over, c);
  }
  return c;
}

export class MmSim {
  readonly sw: MmSwitches;
  readonly costs: MmCosts;
  readonly disabled: ReadonlySet<string>;
  readonly frames: Frames;
  /** The invariants checked at the model's hooks (src/mm/oracle.ts). */
  oracle: MmOracle = KERNEL_INVARIANTS;
  readonly tlbs: Tlbs;
  /** The zone's lock, per-CPU page lists and LRU batches. */
  readonly pageAlloc: PageAlloc;
  readonly vmstat = new Vmstat();
  readonly mms: MmStruct[] = [];
  readonly slab: VmaSlab;
  /** Timed driver; false from the start in explore runs, or from a warm start's switch (Machine.enterExplore). */
  timed: boolean;
  /** Use the generator-free forms of uncontended steps (MmOptions.fastPaths; timed driver only). */
  fastPaths: boolean;
  /** The shared state records its own footprint (explore driver; see track()). */
  tracking = false;
  /** Called with every model event's name (warm starts stop the timed run at a named event). */
  onNote: ((fn: string) => void) | null = null;
  private pool: ArrayPool | null;
  private readonly pooled: (Int32Array | Int16Array)[] = [];
  readonly words: number;
  readonly ipiShootdown: boolean;
  /** Per CPU rcu_read_lock nesting and exits (grace-period tracking for VMA frees). */
  readonly rcuDepth: Int32Array;
  readonly rcuEpoch: Int32Array;
  readonly lockStats = new Map<string, LockStat>();
  /**
   * lock_stat classes of the VMA lock (read side: vma_start_read; write side: vma_start_write): D1
   * the rw_semaphore's own classes (&vma->vm_lock->lock-R/-W), D2 the lockdep map of vm_refcnt
   * (vmlock_dep_map, named "vm_lock" in mm/mmap_lock.c v6.15 vma_lock_init).
   */
  readonly vmaLockStatR: LockClassStat;
  readonly vmaLockStatW: LockClassStat;
  /** Per-fault latency (ns), null when not recorded. */
  faultLat: LatencyRecorder | null = null;
  /** Next value a user store writes (every store a fresh value). */
  nextValue = 1;
  nextAnonVma = 1;
  /** anon_vma objects, their chains' references, and each anonymous page's anon_vma (mm/rmap.c). */
  readonly rmap = new AnonVmas();
  /** mempolicy objects (mm/mempolicy.c). */
  readonly mpol = new Mempolicies();
  /** Fault injection of the scenario (CONFIG_FAILSLAB-style failures, injected delays), or null. */
  readonly inject: MmFaultInjection | null;
  private nextMmId = 0;
  // swap space
  swapContent = new Int32Array(0);
  private swapFree: number[] = [];
  private swapTop = 0;
  // findings
  readonly findingCounts = new Map<string, number>();
  private readonly maxPerKind: number;
  // event ring
  private readonly ring: RingArrays;
  private ringN = 0;

  constructor(
    readonly m: Machine,
    opts: MmOptions,
  ) {
    this.sw = opts.switches;
    this.costs = resolveCosts(opts.costs);
    for (const site of opts.disabledSites ?? []) m.disabledSites.add(site);
    this.disabled = m.disabledSites;
    this.words = opts.wordsPerPage ?? 4;
    this.ipiShootdown = opts.ipiShootdown ?? false;
    this.pool = opts.pool ?? null;
    this.ring = this.pool !== null ? this.pool.ring(RING) : newRingArrays(RING);
    // explore runs are a few dozen steps and use a handful of frames; timed runs preallocate
    this.frames = new Frames(
      this.words,
      m.mode === "explore" ? 64 : Math.max(1024, Math.min(opts.framesHint ?? 0, 1 << 24)),
    );
    this.frames.sink = m;
    this.tlbs = new Tlbs(m.cpus.length, opts.tlb, this.pool);
    this.pageAlloc = new PageAlloc(m.cpus.length);
    this.slab = new VmaSlab(this);
    this.timed = m.mode === "timed";
    if (!this.timed) this.track();
    else m.hooks.explore.push(() => this.track());
    this.fastPaths = opts.fastPaths ?? true;
    this.rcuDepth = new Int32Array(m.cpus.length);
    this.rcuEpoch = new Int32Array(m.cpus.length);
    this.maxPerKind = opts.maxFindingsPerKind ?? 20;
    const inj = opts.inject;
    this.inject =
      inj !== undefined && ((inj.failslab?.length ?? 0) > 0 || Object.keys(inj.delay ?? {}).length > 0)
        ? inj
        : null;
    const ls = lockStats(m);
    const cls = this.sw.vmaLockImpl === "rwsem" ? "&vma->vm_lock->lock" : "vm_lock";
    this.vmaLockStatR = ls.get(`${cls}-R`);
    this.vmaLockStatW = ls.get(`${cls}-W`);
  }

  /**
   * Explore driver (from the build, or from a warm start's switch): the shared state of the model
   * records its own footprint from now on. VMA fields and chains, VMA trees, mm_lock_seq, PTEs and
   * page tables, TLB entries, anon_vma and mempolicy objects become tracked accessors (src/sim/
   * tracked.ts); frames record theirs through Frames.sink. The timed driver's objects stay plain.
   */
  track(): void {
    if (this.tracking) return;
    this.tracking = true;
    const m = this.m;
    for (const v of this.slab.all) TrackedVma.from(v, m);
    for (const mm of this.mms) mm.track(m);
    this.tlbs.host = m;
    this.rmap.track(m);
    this.mpol.track(m);
  }

  /**
   * The run is over and nothing will look at this model again: hand the address spaces' arrays
   * back to the pool they came from (no-op without a pool).
   */
  recycle(): void {
    const pool = this.pool;
    if (pool === null) return;
    this.pool = null;
    for (const a of this.pooled) pool.give(a);
    pool.giveRing(this.ring);
    this.tlbs.recycle(pool);
    this.pooled.length = 0;
  }

  count(i: VM, n = 1): void {
    this.vmstat.v[i] += n;
  }

  newMm(vaPages: number, checked: boolean): MmStruct {
    const pool = this.pool;
    const mm = new MmStruct(this.nextMmId++, vaPages, this.m.cpus.length, pool?.int32(vaPages));
    if (checked) {
      mm.expected = pool !== null ? pool.int32(vaPages * this.words) : new Int32Array(vaPages * this.words);
      mm.lastStoreCpu =
        pool !== null ? pool.int16(vaPages * this.words, -1) : new Int16Array(vaPages * this.words).fill(-1);
      mm.storedBlocks = new Uint8Array((vaPages + 63) >> 6);
    }
    if (pool !== null) {
      this.pooled.push(mm.pte);
      if (mm.expected !== null) this.pooled.push(mm.expected);
      if (mm.lastStoreCpu !== null) this.pooled.push(mm.lastStoreCpu);
    }
    this.mms.push(mm);
    if (this.tracking) mm.track(this.m);
    return mm;
  }

  // ---------------------------------------------------------------- swap slots

  allocSwap(): number {
    const s = this.swapFree.pop();
    if (s !== undefined) return s;
    const slot = this.swapTop++;
    if ((slot + 1) * this.words > this.swapContent.length) {
      const n = new Int32Array(Math.max(1024, this.swapContent.length * 2));
      n.set(this.swapContent);
      this.swapContent = n;
    }
    return slot;
  }

  freeSwap(slot: number): void {
    this.swapFree.push(slot);
  }

  // ---------------------------------------------------------------- RCU read sections (per CPU)

  rcuReadLock(cpu: number): void {
    if (this.tracking) this.rcuTouch(cpu, true);
    this.rcuDepth[cpu]++;
  }

  rcuReadUnlock(cpu: number): void {
    if (this.tracking) this.rcuTouch(cpu, true);
    if (--this.rcuDepth[cpu]! === 0) this.rcuEpoch[cpu]++;
    else if (this.rcuDepth[cpu]! < 0) this.rcuDepth[cpu] = 0;
  }

  /** Explore driver: an access to CPU `cpu`'s RCU read-side state (rcu:CPU: nesting and epoch). */
  rcuTouch(cpu: number, write: boolean): void {
    const fp = this.m.footprint;
    if (fp !== null) fp.touch(`rcu:${cpu}`, write);
  }

  // ---------------------------------------------------------------- lock statistics

  lockStat(site: string): LockStat {
    // one entry of cache: a fault storm asks for the same site (its page-table lock) every time
    if (site === this.lastStatSite) return this.lastStat!;
    let s = this.lockStats.get(site);
    if (s === undefined) {
      s = { acquired: 0, contended: 0, waitNs: 0, waitNsMax: 0 };
      this.lockStats.set(site, s);
    }
    this.lastStatSite = site;
    this.lastStat = s;
    return s;
  }
  private lastStatSite = "";
  private lastStat: LockStat | null = null;

  // ---------------------------------------------------------------- oracle

  /** Record a model event for the steps of later findings. */
  note(cpu: number, fn: string, vpn: number, aux = 0, fold = false): void {
    if (this.onNote !== null) this.onNote(fn);
    if (this.m.modelTrace && !fold) this.m.emit("model", cpu, fn, `${hex(vpn)} ${aux}`, vpn, aux);
    // fold a repeat of one of the last few events (e.g. a stream of stores through a stale TLB entry)
    if (fold)
      for (let j = this.ringN - 1; j >= 0 && j >= this.ringN - 8; j--) {
        const p = j & (RING - 1);
        if (
          this.ring.fn[p] === fn &&
          this.ring.cpu[p] === cpu &&
          this.ring.vpn[p] === vpn &&
          this.ring.aux[p] === aux
        ) {
          this.ring.count[p]++;
          this.ring.last[p] = this.m.now;
          return;
        }
      }
    const i = this.ringN++ & (RING - 1);
    this.ring.count[i] = 1;
    this.ring.t[i] = this.m.now;
    this.ring.cpu[i] = cpu;
    this.ring.fn[i] = fn;
    this.ring.vpn[i] = vpn;
    this.ring.aux[i] = aux;
  }

  /** The CPU of the latest ring event `fn` at vpn, or -1. */
  lastEventCpu(fn: string, vpn: number): number {
    const n = Math.min(this.ringN, RING);
    for (let j = this.ringN - 1; j >= this.ringN - n; j--) {
      const i = j & (RING - 1);
      if (this.ring.vpn[i] === vpn && this.ring.fn[i] === fn) return this.ring.cpu[i]!;
    }
    return -1;
  }

  /** The recent model events that touch one of `vpns` (all recent ones if none given), repeats folded. */
  steps(vpns: readonly number[], max = 24): string[] {
    const n = Math.min(this.ringN, RING);
    const recs: {
      t: number;
      last: number;
      cpu: number;
      fn: string;
      vpn: number;
      aux: number;
      count: number;
    }[] = [];
    for (let j = this.ringN - 1; j >= this.ringN - n && recs.length < max; j--) {
      const i = j & (RING - 1);
      const vpn = this.ring.vpn[i]!;
      if (vpns.length > 0 && !vpns.includes(vpn)) continue;
      const r = {
        t: this.ring.t[i]!,
        last: this.ring.last[i]!,
        cpu: this.ring.cpu[i]!,
        fn: this.ring.fn[i]!,
        vpn,
        aux: this.ring.aux[i]!,
        count: this.ring.count[i]!,
      };
      const prev = recs[recs.length - 1];
      if (
        prev !== undefined &&
        prev.cpu === r.cpu &&
        prev.fn === r.fn &&
        prev.vpn === r.vpn &&
        prev.aux === r.aux
      ) {
        prev.count += r.count;
        prev.t = r.t;
        continue;
      }
      if (r.count === 1) r.last = r.t;
      recs.push(r);
    }
    return recs.reverse().map((r) => {
      const rep = r.count > 1 ? ` (x${r.count} until t=${r.last})` : "";
      return `t=${r.t} cpu${r.cpu} ${r.fn} ${hex(r.vpn)} ${r.aux}${rep}`;
    });
  }

  /** Report a broken invariant of the modelled kernel (a finding, never an exception). */
  finding(
    kind: InvariantKind,
    cpus: number[],
    vpns: number[],
    message: string,
    extra: Record<string, number | string> = {},
  ): void {
    const n = (this.findingCounts.get(kind) ?? 0) + 1;
    this.findingCounts.set(kind, n);
    if (n > this.maxPerKind) return;
    const details: Record<string, number | string> = { ...extra };
    vpns.forEach((v, i) => {
      details[`addr${i}`] = hex(v);
    });
    const own = this.steps(vpns);
    const explore = this.m.stepLabels.length > 0 ? this.m.stepLabels.slice(-48) : [];
    this.m.report({ kind, cpus, message, details, steps: explore.length > 0 ? [...explore, ...own] : own });
  }

  /** should_failslab at an allocation site (fault injection): true = the allocation fails. */
  shouldFail(site: string): boolean {
    return this.inject?.failslab?.includes(site) ?? false;
  }

  /** Injected delay at a yield point (ns, 0 = none). */
  injectedDelay(site: string): number {
    return this.inject?.delay?.[site] ?? 0;
  }

  findingCount(kind: string): number {
    return this.findingCounts.get(kind) ?? 0;
  }

  /** End-of-run sweep of invariant 4 (src/mm/oracle.ts): every shadowed word holds its last stored value. */
  sweepLostUpdates(mm: MmStruct): number {
    return this.oracle.sweepLostUpdates(this, mm);
  }

  /**
   * Is any CPU holding a writable TLB entry for (mm, vpn) that maps `frame` (any frame if -1)?
   * Returns the CPU or -1.
   */
  writableTlbHolder(mm: MmStruct, vpn: number, frame = -1): number {
    const t = this.tlbs;
    for (let c = 0; c < t.ncpu; c++) {
      const pte = t.peek(c, mm.id, vpn);
      if (pte & PTE_WRITE && (frame < 0 || pte >> PTE_SHIFT === frame)) return c;
    }
    return -1;
  }
}
