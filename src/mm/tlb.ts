// Per-CPU data TLBs for 4 KiB pages: one or two levels (an L1 dTLB and a second-level TLB), each
// set-associative, tagged by mm id (as with PCIDs / ASIDs), holding the PTE value a walk found.
// Entries stay until a flush invalidates them or a fill replaces them: a PTE write-protected without
// a flush leaves a stale writable entry behind (arch/x86/mm/tlb.c semantics at the granularity the
// model needs). A page walk fills both levels; an L1 miss that hits the second level refills L1.
// Replacement is round-robin per set (hardware uses pseudo-LRU): a fill's victim depends only on the
// set's own fills, never on invalid ways, so a remote invalidation commutes with a local fill of
// another page, as the explore driver's footprints (pte:MM:VPN) assume.
import type { FootprintHost } from "../sim/tracked.js";
import type { ArrayPool } from "./pool.js";

/** One TLB level: `entries` = sets * ways, sets a power of two. */
export interface TlbLevel {
  entries: number;
  ways: number;
}

/** A TLB geometry: its levels, first-level first, and where the sizes come from. */
export interface TlbGeometry {
  name: string;
  levels: readonly TlbLevel[];
  source: string;
}

/**
 * The TLB geometries a scenario can choose (`machine.tlb` / MmScenarioConfig.tlb). Without a choice
 * the kernel's arch picks one (defaultTlb): "zen3", the CPU of this project's machine, for x86;
 * "neoverse-n1" for arm64.
 */
export const TLB_GEOMETRIES: Readonly<Record<string, TlbGeometry>> = {
  zen3: {
    name: "zen3",
    levels: [
      { entries: 64, ways: 64 },
      { entries: 2048, ways: 8 },
    ],
    source:
      "AMD family 19h model 01h (EPYC, Zen 3), this project's machine: cpuid 0x80000005/0x80000006 read by calib/tlb_geometry.c (L1 dTLB 64 entries fully associative, L2 dTLB 2048 entries 8-way); AMD Software Optimization Guide for Family 19h Processors (pub. 56665) §2.10",
  },
  skylake: {
    name: "skylake",
    levels: [
      { entries: 64, ways: 4 },
      { entries: 1536, ways: 12 },
    ],
    source:
      "Intel Skylake client/server core: L1 dTLB 64 entries 4-way for 4 KiB pages, STLB 1536 entries 12-way (Intel 64 and IA-32 Architectures Optimization Reference Manual, Skylake microarchitecture, TLB parameters table)",
  },
  "neoverse-n1": {
    name: "neoverse-n1",
    levels: [
      { entries: 48, ways: 48 },
      { entries: 1280, ways: 5 },
    ],
    source:
      "Arm Neoverse N1 core (Ampere Altra, AWS Graviton2): L1 data TLB 48 entries fully associative, unified L2 TLB 1280 entries 5-way (Arm Neoverse N1 Core Technical Reference Manual, r4p1, Memory Management Unit chapter, TLB organization)",
  },
  direct64: {
    name: "direct64",
    levels: [{ entries: 64, ways: 1 }],
    source:
      "the model's earlier small TLB: 64 entries, direct-mapped, one level (no hardware has it; its set conflicts evict entries that real TLBs keep)",
  },
};

/** The geometry a kernel arch runs on when the scenario names none (powerpc: no cited one, the x86 one). */
export const DEFAULT_TLB_BY_ARCH: Readonly<Record<string, string>> = {
  x86: "zen3",
  arm64: "neoverse-n1",
  powerpc: "zen3",
};

/** The default geometry (x86's). */
export const DEFAULT_TLB = DEFAULT_TLB_BY_ARCH.x86!;

/** The geometry name for `arch` (an unknown arch: the x86 one). */
export function defaultTlb(arch: string | undefined): string {
  return DEFAULT_TLB_BY_ARCH[arch ?? "x86"] ?? DEFAULT_TLB;
}

/** Above this many pages a range flush becomes a full flush (tlb_single_page_flush_ceiling). */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

/**
 * One level of every CPU's TLB: entry i of CPU c, set s, way w at (c * sets + s) * ways + w.
 * A wide set (8 ways or more: a fully associative L1 has 64) also keeps, per CPU and set, how many
 * valid entries fall in each of a few hash buckets of their vpn, so that a lookup of a vpn whose
 * bucket is empty (most misses) is answered without walking the ways. The counts are derived from
 * the entries and never change which entry a lookup finds or a fill replaces.
 */
class Level {
  readonly sets: number;
  readonly ways: number;
  readonly setMask: number;
  readonly setBits: number;
  readonly perCpu: number;
  /** mm id + 1 of each entry (0 = invalid). */
  readonly mm: Int32Array;
  readonly vpn: Int32Array;
  readonly pte: Int32Array;
  /** The next way to replace, per CPU and set. */
  readonly next: Uint8Array;
  /** Valid entries per (CPU, set, vpn bucket), or null for narrow sets (a walk of the ways is cheap). */
  readonly bucketCount: Uint8Array | null;
  readonly bucketMask: number;

  constructor(ncpu: number, l: TlbLevel, pool: ArrayPool | null) {
    this.ways = l.ways;
    this.sets = l.entries / l.ways;
    this.setMask = this.sets - 1;
    this.setBits = Math.log2(this.sets);
    this.perCpu = l.entries;
    const i32 = (n: number) => (pool !== null ? pool.int32(n) : new Int32Array(n));
    const u8 = (n: number) => (pool !== null ? pool.uint8(n) : new Uint8Array(n));
    this.mm = i32(ncpu * l.entries);
    this.vpn = i32(ncpu * l.entries);
    this.pte = i32(ncpu * l.entries);
    this.next = u8(ncpu * this.sets);
    if (l.ways >= 8) {
      let b = 1;
      while (b < 4 * l.ways) b *= 2;
      this.bucketMask = b - 1;
      this.bucketCount = u8(ncpu * this.sets * b);
    } else {
      this.bucketMask = 0;
      this.bucketCount = null;
    }
  }

  /** The bucket counter of `vpn` in set `set` (= cpu * sets + vpn's set index). */
  private bucket(set: number, vpn: number): number {
    return set * (this.bucketMask + 1) + ((vpn >>> this.setBits) & this.bucketMask);
  }

  /** Give the level's arrays to `pool` (the level is never used again). */
  recycle(pool: ArrayPool): void {
    pool.give(this.mm);
    pool.give(this.vpn);
    pool.give(this.pte);
    pool.give(this.next);
    if (this.bucketCount !== null) pool.give(this.bucketCount);
  }

  /** Index of (mm tag, vpn) on `cpu`, or -1. */
  find(cpu: number, tag: number, vpn: number): number {
    const ways = this.ways;
    const set = cpu * this.sets + (vpn & this.setMask);
    const bc = this.bucketCount;
    if (bc !== null && bc[this.bucket(set, vpn)] === 0) return -1;
    const base = set * ways;
    for (let i = base; i < base + ways; i++) if (this.vpn[i] === vpn && this.mm[i] === tag) return i;
    return -1;
  }

  /** Store (tag, vpn) -> pte: in place if present, else over the set's round-robin victim. */
  fill(cpu: number, tag: number, vpn: number, pte: number): void {
    const i = this.find(cpu, tag, vpn);
    if (i < 0) this.fillNew(cpu, tag, vpn, pte);
    else this.pte[i] = pte;
  }

  /** fill() of an entry the level does not hold (find() gave -1): over the set's round-robin victim. */
  fillNew(cpu: number, tag: number, vpn: number, pte: number): void {
    const set = cpu * this.sets + (vpn & this.setMask);
    const w = this.next[set]!;
    this.next[set] = w + 1 === this.ways ? 0 : w + 1;
    const i = set * this.ways + w;
    const bc = this.bucketCount;
    if (bc !== null) {
      if (this.mm[i] !== 0) bc[this.bucket(set, this.vpn[i]!)]--;
      bc[this.bucket(set, vpn)]++;
    }
    this.mm[i] = tag;
    this.vpn[i] = vpn;
    this.pte[i] = pte;
  }

  /** Invalidate entry i (valid) of `cpu`. */
  invalidate(cpu: number, i: number): void {
    const bc = this.bucketCount;
    if (bc !== null) {
      const vpn = this.vpn[i]!;
      bc[this.bucket(cpu * this.sets + (vpn & this.setMask), vpn)]--;
    }
    this.mm[i] = 0;
  }
}

export class Tlbs {
  /**
   * Explore driver: where lookups, fills and flushes record tlb:CPU:MM, the entries of mm MM on CPU
   * CPU (null in the timed driver). Only that CPU's steps look them up and fill them (a read: the
   * other CPUs' steps never see them); a flush, by the CPU itself or by another one's shootdown,
   * drops them (a write).
   */
  host: FootprintHost | null = null;
  private readonly levels: Level[];
  private readonly l1: Level;
  /** The second level, or null for a one-level TLB. */
  private readonly l2: Level | null;

  constructor(
    readonly ncpu: number,
    readonly geometry: TlbGeometry = TLB_GEOMETRIES[DEFAULT_TLB]!,
    /** Take the entry arrays from here, zeroed (race-checker builds; recycle() gives them back). */
    pool: ArrayPool | null = null,
  ) {
    const ls = geometry.levels;
    if (ls.length < 1 || ls.length > 2) throw new RangeError(`TLB ${geometry.name}: one or two levels`);
    for (const l of ls) {
      const sets = l.entries / l.ways;
      if (!Number.isInteger(sets) || sets < 1 || (sets & (sets - 1)) !== 0 || l.ways > 255)
        throw new RangeError(
          `TLB ${geometry.name}: ${l.entries} entries in ${l.ways} ways is not a power-of-two number of sets`,
        );
    }
    this.levels = ls.map((l) => new Level(ncpu, l, pool));
    this.l1 = this.levels[0]!;
    this.l2 = this.levels[1] ?? null;
  }

  /** The run is over and nothing will look at these TLBs again: their arrays go to `pool`. */
  recycle(pool: ArrayPool): void {
    for (const l of this.levels) l.recycle(pool);
  }

  /** A copy of every level's entries, first level first (the footprint audit compares them around a step). */
  snapshot(): { mm: Int32Array; vpn: Int32Array; pte: Int32Array } {
    const cat = (f: (l: Level) => Int32Array): Int32Array => {
      const out = new Int32Array(this.levels.reduce((n, l) => n + f(l).length, 0));
      let at = 0;
      for (const l of this.levels) {
        out.set(f(l), at);
        at += f(l).length;
      }
      return out;
    };
    return { mm: cat((l) => l.mm), vpn: cat((l) => l.vpn), pte: cat((l) => l.pte) };
  }

  private record(cpu: number, mmId: number, write: boolean): void {
    const h = this.host;
    if (h !== null && h.footprint !== null) h.footprint.touch(`tlb:${cpu}:${mmId}`, write);
  }

  /** Entries one CPU holds in all levels. */
  get entriesPerCpu(): number {
    let n = 0;
    for (const l of this.levels) n += l.perCpu;
    return n;
  }

  /**
   * The hardware lookup of (mm, vpn) on `cpu`: the cached PTE, or 0 on a miss. A second-level hit
   * refills the first level.
   */
  lookup(cpu: number, mmId: number, vpn: number): number {
    if (this.host !== null) this.record(cpu, mmId, false);
    const tag = mmId + 1;
    const l1 = this.l1;
    const i = l1.find(cpu, tag, vpn);
    if (i >= 0) return l1.pte[i]!;
    const l2 = this.l2;
    if (l2 === null) return 0;
    const j = l2.find(cpu, tag, vpn);
    if (j < 0) return 0;
    const pte = l2.pte[j]!;
    l1.fill(cpu, tag, vpn, pte);
    return pte;
  }

  /** The cached PTE for (mm, vpn) on `cpu` in any level, or 0, without changing the TLB (oracles, views). */
  peek(cpu: number, mmId: number, vpn: number): number {
    const tag = mmId + 1;
    for (const l of this.levels) {
      const i = l.find(cpu, tag, vpn);
      if (i >= 0) return l.pte[i]!;
    }
    return 0;
  }

  /** A page walk's result into every level. */
  fill(cpu: number, mmId: number, vpn: number, pte: number): void {
    if (this.host !== null) this.record(cpu, mmId, false);
    const tag = mmId + 1;
    for (const l of this.levels) l.fill(cpu, tag, vpn, pte);
  }

  /**
   * fill() right after a lookup() of (mm, vpn) on `cpu` that missed in every level (returned 0), with
   * no TLB change in between: no level holds the entry, so each takes it over its victim without
   * searching its set again (the same entries as fill()).
   */
  fillMissed(cpu: number, mmId: number, vpn: number, pte: number): void {
    if (this.host !== null) this.record(cpu, mmId, false);
    const tag = mmId + 1;
    this.l1.fillNew(cpu, tag, vpn, pte);
    if (this.l2 !== null) this.l2.fillNew(cpu, tag, vpn, pte);
  }

  /** Invalidate (mm, vpn) on `cpu` (invlpg: every level); true if an entry was dropped. */
  flushOne(cpu: number, mmId: number, vpn: number): boolean {
    if (this.host !== null) this.record(cpu, mmId, true);
    const tag = mmId + 1;
    let dropped = false;
    for (const l of this.levels) {
      const i = l.find(cpu, tag, vpn);
      if (i >= 0) {
        l.invalidate(cpu, i);
        dropped = true;
      }
    }
    return dropped;
  }

  /** Invalidate every entry of `mm` on `cpu`. */
  flushMm(cpu: number, mmId: number): void {
    if (this.host !== null) this.record(cpu, mmId, true);
    const tag = mmId + 1;
    for (const l of this.levels) {
      const mm = l.mm;
      const base = cpu * l.perCpu;
      for (let i = base; i < base + l.perCpu; i++) if (mm[i] === tag) l.invalidate(cpu, i);
    }
  }
}

/** The geometry named `name`, or a RangeError naming the known ones. */
export function tlbGeometry(name: string | undefined): TlbGeometry {
  const g = TLB_GEOMETRIES[name ?? DEFAULT_TLB];
  if (g === undefined)
    throw new RangeError(
      `unknown TLB geometry ${JSON.stringify(name)} (known: ${Object.keys(TLB_GEOMETRIES).join(", ")})`,
    );
  return g;
}
