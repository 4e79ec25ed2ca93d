// User programs for the mm model: fault storms (pft / will-it-scale page_fault shapes), an address-
// space writer beside them, read-first (zero-page) faults, and the multi-threaded fork race of 6.4.0.
// The shapes follow the scenario schema's workload types (fault-loop, mmap-writer, fork-race, fork).

import { MADV_DONTNEED, MADV_PAGEOUT, MREMAP_DONTUNMAP, PROT_READ, PROT_WRITE } from "../mm/syscalls.js";
import type { MmThread } from "../mm/thread.js";
import type { MmStruct } from "../mm/types.js";
import { MmFile } from "../mm/types.js";
import { faultCall, SEGV, sys, UA_FAULT, UA_SLOW, ua, uaFaulted, uaSlow, user_access } from "../mm/user.js";
import type { KGen } from "../sim/effects.js";
import { SCHEDULE } from "../sim/effects.js";
import type { Rng } from "../sim/prng.js";
import { TASK_UNINTERRUPTIBLE } from "../sim/task.js";
import { startVmaMergeRace, type VmaMergeRace } from "./mm-races.js";

export type { VmaMergeRace };

const PAGE = 4096;

interface Common {
  name?: string;
  enabled?: boolean;
  /** Virtual time (ns) at which the workload starts. */
  start?: number;
}

/** Threads taking page faults on anonymous memory (schema type fault-loop). */
export interface FaultLoop extends Common {
  type: "fault-loop";
  threads: number;
  /** Bytes of each thread's region. */
  regionSize: number;
  /** All threads fault on one VMA (disjoint slices) instead of one VMA each. */
  sharedVma?: boolean;
  access?: "read" | "write" | "read-then-write";
  pattern?: "sequential" | "random";
  /** Touch every page once (writes: anon_vma set) and zap before measuring. */
  prefault?: boolean;
  /** munmap and mmap the region again after this many faults (pft-like); default: MADV_DONTNEED per pass. */
  unmapEvery?: number;
  /** Faults per thread to take (default: one pass over the region). */
  faultsPerThread?: number;
  /** Fresh VMA (no anon_vma) for every pass: munmap + mmap instead of MADV_DONTNEED (read-first case). */
  freshVmaPerPass?: boolean;
  /** User CPU time between accesses (ns). */
  thinkNs?: number;
}

/** A thread that keeps taking mmap_lock for write on an unrelated region (schema type mmap-writer). */
export interface MmapWriter extends Common {
  type: "mmap-writer";
  op?: "mmap-munmap" | "mprotect" | "brk" | "mremap" | "mbind" | "pageout";
  /** Bytes changed per operation. */
  size?: number;
  /** Pause between operations (ns). */
  interval?: number;
  /** Operations before the thread exits (default: until the run stops). */
  count?: number;
  /** Touch the mapped region's pages (munmap then zaps them). */
  touch?: boolean;
  /**
   * "own" (default): an unrelated region. "faulters": the first region of a fault-loop workload
   * (mprotect toggles it; mmap-munmap unmaps and maps it again at the same place).
   */
  target?: "own" | "faulters" | "next-to-faulters";
  /** op mremap: MREMAP_DONTUNMAP (the old VMA stays, empty, without anon_vma). */
  dontunmap?: boolean;
  /** Map a shared file instead of anonymous memory (mmap_region's post-insertion edits, §4.5 #2). */
  file?: boolean;
}

/** The 6.4.0 fork race: writers with warm writable TLB entries, faulters, and a forking thread. */
export interface ForkRace extends Common {
  type: "fork-race";
  forks: number;
  /** Threads storing to and re-loading a few hot pages (their TLB entries stay writable). */
  writers?: number;
  /** Threads writing random pages of the region (they take the COW faults during fork). */
  faulters?: number;
  /** Pages of the shared anonymous region. */
  pages?: number;
  /** Hot pages per writer thread. */
  hotPages?: number;
  /**
   * Where the hot pages are: "per-writer" (default) slices from the region's start, one per writer;
   * "first" / "last": the region's first / last `hotPages` pages, shared by every writer; "random":
   * `hotPages` random pages per writer.
   */
  hotPlacement?: "per-writer" | "first" | "last" | "random";
  /** Pause between forks (ns). */
  interval?: number;
  /** Lifetime of each child before exit_mmap (ns). */
  childLifeNs?: number;
  /** User CPU time between accesses (ns). */
  thinkNs?: number;
}

/** A thread that forks; each child exits at once (schema type fork). */
export interface Fork extends Common {
  type: "fork";
  count: number;
  interval?: number;
  /** One-page VMAs the forker maps and writes before forking (a process with many VMAs). */
  vmas?: number;
}

/** The smallest fork-race: one writer B with a warm TLB entry, one faulter A, one forker (explore). */
export interface ForkRaceMini extends Common {
  type: "fork-race-mini";
  /** Store/load rounds of the writer. */
  rounds?: number;
  /** Populated one-page VMAs after the shared page (a longer dup_mmap). */
  extraVmas?: number;
}

/**
 * Stack growth beside faults in the stack VMA: 6.4.0 grows the stack under mmap_lock for read and
 * without the VMA write lock (fixed by the StackRot series and c137381f71ae in 6.4.1/6.4.3).
 */
export interface StackRace extends Common {
  type: "stack-race";
  /** Pages the stack grows by (one fault below it each). */
  grows?: number;
  /** Pages at the top of the stack the faulter keeps re-faulting. */
  hotPages?: number;
}

export type MmWorkload = FaultLoop | MmapWriter | ForkRace | Fork | ForkRaceMini | StackRace | VmaMergeRace;

/** What the runner gives workloads. */
export interface WorkloadHost {
  /** The process all workloads run in. */
  mm: MmStruct;
  /** Create a user thread of `mm` on the next CPU (round robin); it starts at once. */
  spawn(name: string, mm: MmStruct, prog: (th: MmThread) => KGen<unknown>, cpu?: number): MmThread;
  /** Regions premapped by fault-loop workloads (for writers that target them). */
  regions: { start: number; npages: number }[];
  /** Map a region before the run (no syscall): returns its first page. */
  premap(npages: number, o?: { gapPages?: number; growsdown?: boolean }): number;
  rng(name: string): Rng;
  /** False once every finite workload is done (loops of background writers end). */
  running(): boolean;
  /** A finite workload thread finished. */
  done(): void;
  /** Register a finite workload thread (the run ends when all are done). */
  finite(): void;
  /** Fault latency recording on/off for a thread (prefault passes are not measured). */
  measure(th: MmThread, on: boolean): void;
  sleep(th: MmThread, ns: number): KGen<void>;
  wake(th: MmThread): void;
}

const pages = (bytes: number) => Math.max(1, Math.ceil(bytes / PAGE));

/** Frames a workload may hold at once (a sizing hint). */
export function workloadFrames(w: MmWorkload): number {
  switch (w.type) {
    case "fault-loop":
      return w.threads * Math.min(pages(w.regionSize), w.faultsPerThread ?? pages(w.regionSize));
    case "fork-race":
      return 2 * (w.pages ?? 1024);
    case "fork":
      return 64 + 2 * (w.vmas ?? 0);
    default:
      return 64;
  }
}

/** Start a workload's threads. */
export function startWorkload(h: WorkloadHost, w: MmWorkload, index: number): void {
  if (w.enabled === false) return;
  switch (w.type) {
    case "fault-loop":
      startFaultLoop(h, w, index);
      return;
    case "mmap-writer":
      startMmapWriter(h, w, index);
      return;
    case "fork-race":
      startForkRace(h, w, index);
      return;
    case "fork":
      startFork(h, w, index);
      return;
    case "fork-race-mini":
      startForkRaceMini(h, w, index);
      return;
    case "stack-race":
      startStackRace(h, w, index);
      return;
    case "vma-merge-race":
      startVmaMergeRace(h, w, index);
      return;
  }
}

/** Pages of virtual address space a workload needs (for sizing the mm). */
export function workloadVaPages(w: MmWorkload): number {
  switch (w.type) {
    case "fault-loop":
      return (pages(w.regionSize) + 2) * w.threads * (w.freshVmaPerPass || w.unmapEvery ? 2 : 1) + 64;
    case "mmap-writer":
      return pages(w.size ?? 65536) * 4 + 64;
    case "fork-race":
      return (w.pages ?? 1024) + 64;
    case "fork":
      return 64 + 2 * (w.vmas ?? 0);
    case "fork-race-mini":
      return 16 + 2 * (w.extraVmas ?? 4);
    case "stack-race": {
      // startStackRace premaps the gap (grows + 2) and then the stack (hotPages + 4, one page after it):
      // a hot set much larger than the growth needs more than the usual 2 * grows + 64
      const grows = w.grows ?? 256;
      return Math.max(2 * grows + 64, grows + 2 + (w.hotPages ?? 4) + 4 + 1 + 64);
    }
    case "vma-merge-race":
      return 64;
  }
}

function* startDelay(h: WorkloadHost, th: MmThread, w: Common): KGen<void> {
  if (w.start !== undefined && w.start > 0) yield* h.sleep(th, w.start);
}

function startFaultLoop(h: WorkloadHost, w: FaultLoop, index: number): void {
  const n = pages(w.regionSize);
  const shared = w.sharedVma === true;
  const base = shared ? h.premap(n * w.threads) : -1;
  if (shared) h.regions.push({ start: base, npages: n * w.threads });
  for (let t = 0; t < w.threads; t++) {
    let start = shared ? base + t * n : h.premap(n);
    if (!shared) h.regions.push({ start, npages: n });
    const rng = h.rng(`fault-loop.${index}.${t}`);
    h.finite();
    h.spawn(`${w.name ?? "pft"}-${t}`, h.mm, function* (th) {
      yield* startDelay(h, th, w);
      const think = w.thinkNs ?? 0;
      const access = w.access ?? "write";
      // visiting order of the region's pages: sequential, or shuffled every pass
      const order = w.pattern === "random" ? Int32Array.from({ length: n }, (_, i) => i) : null;
      const word = t % th.sim.words;
      if (w.prefault) {
        h.measure(th, false);
        for (let i = 0; i < n; i++) yield* user_access(th, start + i, word, true, think);
        yield* sys.madvise(th, start, n, MADV_DONTNEED);
      }
      h.measure(th, true);
      const target = w.faultsPerThread ?? n;
      let sinceUnmap = 0;
      const f0 = th.faults;
      const doRead = access === "read" || access === "read-then-write";
      const doWrite = access === "write" || access === "read-then-write";
      for (let pass = 0; th.faults - f0 < target && pass < 1_000_000; pass++) {
        if (order !== null) shuffle(order, rng);
        for (let i = 0; i < n && th.faults - f0 < target; i++) {
          const vpn = start + (order !== null ? order[i]! : i);
          // ua(): the generator-free form of user_access (see src/mm/user.ts); a fault enters
          // do_user_addr_fault from here
          if (doRead) {
            let r = ua(th, vpn, word, false, think);
            while (r === UA_FAULT) {
              const c = faultCall(th, vpn, false);
              r = uaFaulted(th, typeof c === "number" ? c : ((yield c) as number));
            }
            if (r === UA_SLOW) {
              // explore driver: suspended at user_access's first yield, the loop's future is this
              if (!th.timed && order === null)
                th.k.task.quiescent = `fault-loop:${index}.${t}:${pass}:${i}:${start}:${sinceUnmap}:${f0}:r`;
              yield* uaSlow(th);
            }
          }
          if (doWrite) {
            let r = ua(th, vpn, word, true, think);
            while (r === UA_FAULT) {
              const c = faultCall(th, vpn, true);
              r = uaFaulted(th, typeof c === "number" ? c : ((yield c) as number));
            }
            if (r === UA_SLOW) {
              if (!th.timed && order === null)
                th.k.task.quiescent = `fault-loop:${index}.${t}:${pass}:${i}:${start}:${sinceUnmap}:${f0}:w`;
              yield* uaSlow(th);
            }
          }
          if (w.unmapEvery !== undefined && ++sinceUnmap >= w.unmapEvery && !shared) {
            sinceUnmap = 0;
            start = yield* remap(th, start, n);
          }
        }
        if (th.faults - f0 >= target) break;
        if (w.freshVmaPerPass && !shared) start = yield* remap(th, start, n);
        else yield* sys.madvise(th, start, n, MADV_DONTNEED);
      }
      h.done();
    });
  }
}

function* remap(th: MmThread, start: number, n: number): KGen<number> {
  yield* sys.munmap(th, start, n);
  const s = yield* sys.mmap(th, n, { hint: start });
  return s < 0 ? start : s;
}

function shuffle(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const x = a[i]!;
    a[i] = a[j]!;
    a[j] = x;
  }
}

function startMmapWriter(h: WorkloadHost, w: MmapWriter, _index: number): void {
  const op = w.op ?? "mmap-munmap";
  const first = h.regions[0];
  // next-to-faulters: the one-page gap just above the first fault-loop region
  const target =
    w.target === "faulters"
      ? first
      : w.target === "next-to-faulters" && first !== undefined
        ? { start: first.start + first.npages, npages: 1 }
        : undefined;
  // with a target, `size` (if given) limits the change to the first bytes of the faulters' region
  const n =
    target !== undefined
      ? Math.min(target.npages, w.size !== undefined ? pages(w.size) : target.npages)
      : pages(w.size ?? 65536);
  const region =
    target?.start ?? (op === "mmap-munmap" || op === "mremap" ? -1 : h.premap(n, { gapPages: 1 }));
  const file = new MmFile(1000 + _index, `file${_index}`, n);
  h.spawn(w.name ?? `mmap-writer`, h.mm, function* (th) {
    yield* startDelay(h, th, w);
    let prot = PROT_READ;
    let brkEnd = 0;
    if (op === "brk") {
      th.mm.brkStart = region;
      brkEnd = region;
    }
    for (let i = 0; h.running() && i < (w.count ?? 100_000_000); i++) {
      if (op === "mremap") {
        const at = target !== undefined ? region : yield* sys.mmap(th, n, {});
        if (at >= 0) {
          if (target === undefined && w.touch) yield* user_access(th, at, 0, true);
          const to = yield* sys.mremap(th, at, n, w.dontunmap ? MREMAP_DONTUNMAP : 0);
          if (to >= 0) yield* sys.munmap(th, to, n);
          // without DONTUNMAP the region moved away: map it again where the faulters expect it
          if (!w.dontunmap && target !== undefined) yield* sys.mmap(th, n, { at: region });
          else if (target === undefined) yield* sys.munmap(th, at, n);
        }
      } else if (op === "mbind") {
        yield* sys.mbind(th, region, n, (i % 2) + 1);
      } else if (op === "pageout") {
        yield* sys.madvise(th, region, n, MADV_PAGEOUT);
      } else if (op === "mmap-munmap" && target !== undefined) {
        yield* sys.munmap(th, region, n);
        yield* sys.mmap(th, n, w.file ? { at: region, file, shared: true } : { at: region });
      } else if (op === "mmap-munmap") {
        const s = yield* sys.mmap(th, n, w.file ? { file, shared: true } : {});
        if (s >= 0) {
          if (w.touch) for (let p = 0; p < Math.min(n, 1); p++) yield* user_access(th, s + p, 0, true);
          yield* sys.munmap(th, s, n);
        }
      } else if (op === "mprotect") {
        yield* sys.mprotect(th, region, n, prot | (prot === PROT_READ ? 0 : PROT_WRITE));
        prot = prot === PROT_READ ? PROT_READ | PROT_WRITE : PROT_READ;
      } else {
        brkEnd = brkEnd + 1 > region + n ? region : brkEnd + 1;
        if (brkEnd === region) th.mm.brkStart = region;
        yield* sys.brk(th, brkEnd === region ? region + 1 : brkEnd);
      }
      if ((w.interval ?? 0) > 0) yield* h.sleep(th, w.interval!);
    }
  });
}

/** Fork once and let the child exit after `lifeNs`; the parent waits for the child (fork + waitpid). */
function* forkAndWait(h: WorkloadHost, th: MmThread, lifeNs: number): KGen<void> {
  const child = yield* sys.fork(th);
  const wait = { exited: false };
  // an arrow, not a generator closure: V8 gives each generator closure a hidden class of its own,
  // which would keep the parent thread (and the whole model) alive until a full collection
  h.spawn(`${th.name}-child`, child, (c) => forkChild(h, th, c, child, lifeNs, wait), th.cpu);
  for (let guard = 0; !wait.exited && guard < 1_000_000; guard++) {
    th.k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
  }
  th.k.task.state = 0;
}

/** The child of forkAndWait: lives `lifeNs`, exits (exit_mmap) and wakes the parent. */
function* forkChild(
  h: WorkloadHost,
  parent: MmThread,
  c: MmThread,
  child: MmStruct,
  lifeNs: number,
  wait: { exited: boolean },
): KGen<void> {
  if (lifeNs > 0) yield* h.sleep(c, lifeNs);
  yield* sys.exit_mmap(c, child);
  wait.exited = true;
  h.wake(parent);
}

function startForkRace(h: WorkloadHost, w: ForkRace, index: number): void {
  const np = w.pages ?? 1024;
  const region = h.premap(np);
  const writers = w.writers ?? 1;
  const faulters = w.faulters ?? 1;
  const hot = w.hotPages ?? 2;
  const think = w.thinkNs ?? 20;
  let forksDone = false;
  let warm = 0;
  const nthreads = writers + faulters;
  const hotOf = hotPageLists(h, w, index, np, writers, hot);
  const allHot = hotOf.flat();
  for (let t = 0; t < writers; t++) {
    h.spawn(`writer-${t}`, h.mm, function* (th) {
      yield* startDelay(h, th, w);
      const word = t % th.sim.words;
      for (let p = 0; p < np; p++) yield* user_access(th, region + p, word, true, think);
      warm++;
      // store and load back a few hot pages; a lost store shows up in the load (invariant 4)
      for (let i = 0; !forksDone && h.running() && i < 1e9; i++) {
        const mine = hotOf[t]!;
        const vpn = region + mine[i % mine.length]!;
        yield* user_access(th, vpn, word, true, think);
        yield* user_access(th, vpn, word, false, think);
      }
    });
  }
  for (let t = 0; t < faulters; t++) {
    const rng = h.rng(`fork-race.${index}.${t}`);
    h.spawn(`faulter-${t}`, h.mm, function* (th) {
      yield* startDelay(h, th, w);
      const word = (writers + t) % th.sim.words;
      warm++;
      for (let i = 0; !forksDone && h.running() && i < 1e9; i++) {
        // mostly cold pages (the TLB misses), sometimes the writers' hot pages
        const vpn = rng.int(4) === 0 ? region + allHot[rng.int(allHot.length)]! : region + rng.int(np);
        yield* user_access(th, vpn, word, true, think);
        yield* user_access(th, vpn, word, false, think);
      }
    });
  }
  h.finite();
  h.spawn("forker", h.mm, function* (th) {
    yield* startDelay(h, th, w);
    for (let guard = 0; warm < nthreads && guard < 1_000_000; guard++) yield* h.sleep(th, 2000);
    for (let f = 0; f < w.forks; f++) {
      yield* forkAndWait(h, th, w.childLifeNs ?? 1000);
      if ((w.interval ?? 0) > 0) yield* h.sleep(th, w.interval!);
    }
    forksDone = true;
    h.done();
  });
}

/** Each fork-race writer's hot pages (offsets into the region), by hotPlacement. */
export function hotPageLists(
  h: WorkloadHost,
  w: ForkRace,
  index: number,
  np: number,
  writers: number,
  hot: number,
): number[][] {
  const n = Math.min(hot, np);
  const place = w.hotPlacement ?? "per-writer";
  const rng = h.rng(`fork-race.${index}.hot`);
  const out: number[][] = [];
  for (let t = 0; t < writers; t++) {
    const list: number[] = [];
    for (let i = 0; i < n; i++) {
      if (place === "first") list.push(i);
      else if (place === "last") list.push(np - n + i);
      else if (place === "per-writer") list.push((t * hot + i) % np);
      else {
        let p = rng.int(np);
        while (list.includes(p)) p = (p + 1) % np;
        list.push(p);
      }
    }
    out.push(list);
  }
  return out;
}

function startFork(h: WorkloadHost, w: Fork, _index: number): void {
  h.finite();
  const vmas: number[] = [];
  for (let i = 0; i < (w.vmas ?? 0); i++) vmas.push(h.premap(1));
  h.spawn(w.name ?? "forker", h.mm, function* (th) {
    yield* startDelay(h, th, w);
    // one write per VMA: anon_vma set and one PTE each (dup_mmap then copies every VMA)
    h.measure(th, false);
    for (const vpn of vmas) {
      let r = ua(th, vpn, 0, true);
      while (r === UA_FAULT) {
        const c = faultCall(th, vpn, true);
        r = uaFaulted(th, typeof c === "number" ? c : ((yield c) as number));
      }
      if (r === UA_SLOW) yield* uaSlow(th);
    }
    h.measure(th, true);
    for (let f = 0; f < w.count; f++) {
      yield* forkAndWait(h, th, 0);
      if ((w.interval ?? 0) > 0) yield* h.sleep(th, w.interval!);
    }
    h.done();
  });
}

/**
 * The §4.2 schedule in miniature: B warms a writable TLB entry for page X then keeps storing and
 * re-loading its word; A writes X once (a COW fault if fork has write-protected it); F forks once.
 */
function startForkRaceMini(h: WorkloadHost, w: ForkRaceMini, _index: number): void {
  const region = h.premap(2);
  // more VMAs after the region: dup_mmap keeps copying (parent PTEs write-protected, no flush yet)
  const extra: number[] = [];
  for (let i = 0; i < (w.extraVmas ?? 4); i++) extra.push(h.premap(1));
  const rounds = w.rounds ?? 12;
  /** Block (not spin: PCT-friendly) until B has warmed its TLB entry. */
  function* waitWarm(th: MmThread): KGen<void> {
    waiting.push(th);
    for (let guard = 0; !warm && guard < 1000; guard++) {
      th.k.task.state = TASK_UNINTERRUPTIBLE;
      yield SCHEDULE;
    }
    th.k.task.state = 0;
  }
  let warm = false;
  const waiting: MmThread[] = [];
  h.finite();
  h.finite();
  h.finite();
  h.spawn("B", h.mm, function* (th) {
    for (const e of extra) yield* user_access(th, e, 1, true);
    yield* user_access(th, region, 1, true);
    warm = true;
    for (const t of waiting) h.wake(t);
    for (let i = 0; i < rounds; i++) {
      yield* user_access(th, region, 1, true);
      if ((yield* user_access(th, region, 1, false)) === SEGV) break;
    }
    h.done();
  });
  h.spawn("A", h.mm, function* (th) {
    yield* waitWarm(th);
    yield* user_access(th, region, 0, true);
    yield* user_access(th, region, 0, false);
    h.done();
  });
  h.spawn("F", h.mm, function* (th) {
    yield* waitWarm(th);
    yield* forkAndWait(h, th, 0);
    h.done();
  });
}

function startStackRace(h: WorkloadHost, w: StackRace, _index: number): void {
  const grows = w.grows ?? 256;
  const hot = w.hotPages ?? 4;
  // a gap below the stack for it to grow into, then the stack VMA (VM_GROWSDOWN)
  h.premap(grows + 2, { gapPages: 0 });
  const top = h.premap(hot + 4, { growsdown: true });
  const gapStart = top - grows - 2;
  let grown = false;
  h.finite();
  h.finite();
  h.spawn("stack-faulter", h.mm, function* (th) {
    yield* startDelay(h, th, w);
    for (let i = 0; !grown && i < 1e6; i++) {
      for (let p = 0; p < hot; p++) yield* user_access(th, top + p, 0, true, 50);
      yield* sys.madvise(th, top, hot, MADV_DONTNEED);
    }
    h.done();
  });
  h.spawn("stack-grower", h.mm, function* (th) {
    yield* startDelay(h, th, w);
    // unmap the placeholder below the stack so that it can grow into the gap
    yield* sys.munmap(th, gapStart, grows + 2);
    for (let i = 1; i <= grows; i++) yield* user_access(th, top - i, 1, true, 200);
    grown = true;
    h.done();
  });
}
