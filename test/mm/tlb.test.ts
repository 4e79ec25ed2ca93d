// TLB geometry (src/mm/tlb.ts): the default is the arch's CPU (x86: this machine's zen3, an L1 dTLB
// and a second-level TLB; arm64: Neoverse N1), the earlier 64-entry direct-mapped array is an
// option; flush semantics are the same in all.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runMmScenario } from "../../src/mm/scenario.js";
import {
  DEFAULT_TLB,
  DEFAULT_TLB_BY_ARCH,
  defaultTlb,
  TLB_GEOMETRIES,
  Tlbs,
  tlbGeometry,
} from "../../src/mm/tlb.js";
import { mkPte, PTE_WRITE } from "../../src/mm/types.js";

const HOT_PAGES = new Set([0, 1, 2, 3].map((i) => 0x10 + i));

describe("TLB geometry", () => {
  it("zen3 is an L1 dTLB of 64 entries and a 2048-entry 8-way second level; every geometry is cited", () => {
    expect(DEFAULT_TLB).toBe("zen3");
    expect(new Tlbs(1).geometry.name).toBe("zen3");
    expect(defaultTlb("x86")).toBe("zen3");
    expect(defaultTlb("arm64")).toBe("neoverse-n1");
    expect(defaultTlb(undefined)).toBe("zen3");
    for (const g of Object.values(DEFAULT_TLB_BY_ARCH)) expect(TLB_GEOMETRIES[g]).toBeDefined();
    expect(TLB_GEOMETRIES["neoverse-n1"]!.levels).toEqual([
      { entries: 48, ways: 48 },
      { entries: 1280, ways: 5 },
    ]);
    const t = new Tlbs(1, TLB_GEOMETRIES.zen3);
    expect(t.geometry.levels).toEqual([
      { entries: 64, ways: 64 },
      { entries: 2048, ways: 8 },
    ]);
    expect(t.entriesPerCpu).toBe(2112);
    for (const g of Object.values(TLB_GEOMETRIES)) expect(g.source.length).toBeGreaterThan(20);
    expect(() => tlbGeometry("pentium")).toThrow(
      /unknown TLB geometry "pentium" \(known: zen3, skylake, neoverse-n1, direct64\)/,
    );
  });

  it("the second level holds what the first evicted; a second-level hit refills the first", () => {
    const t = new Tlbs(1, TLB_GEOMETRIES.zen3);
    // 65 pages: the fully associative 64-entry L1 replaces round-robin, so page 0 leaves L1 ...
    for (let v = 0; v <= 64; v++) t.fill(0, 0, v, mkPte(v + 1, false));
    // ... but stays in the 8-way second level (65 pages spread over 256 sets)
    expect(t.lookup(0, 0, 0) >>> 3).toBe(1);
    // the small direct-mapped TLB has lost it
    const d = new Tlbs(1, TLB_GEOMETRIES.direct64);
    for (let v = 0; v <= 64; v++) d.fill(0, 0, v, mkPte(v + 1, false));
    expect(d.lookup(0, 0, 0)).toBe(0);
    expect(d.lookup(0, 0, 64) >>> 3).toBe(65);
  });

  it("reach: 2112 pages fit (64 + 2048, no more than 8 per second-level set), 2048 + 9 pages in one set do not", () => {
    const t = new Tlbs(1, TLB_GEOMETRIES.zen3);
    // pages 0..2047 fill the second level exactly (8 ways x 256 sets)
    for (let v = 0; v < 2048; v++) t.fill(0, 0, v, mkPte(v + 1, false));
    let hits = 0;
    for (let v = 0; v < 2048; v++) if (t.peek(0, 0, v) !== 0) hits++;
    expect(hits).toBe(2048);
    // nine pages of the same set (stride 256): the set keeps 8, the L1 the last 64 fills
    const s = new Tlbs(1, TLB_GEOMETRIES.zen3);
    for (let i = 0; i < 9; i++) s.fill(0, 0, 7 + 256 * i, mkPte(i + 1, false));
    for (let i = 0; i < 100; i++) s.fill(0, 0, 100_000 + i * 256 + 1, mkPte(1, false)); // push L1
    expect(s.peek(0, 0, 7)).toBe(0); // the set's oldest, round-robin victim
    for (let i = 1; i < 9; i++) expect(s.peek(0, 0, 7 + 256 * i)).not.toBe(0);
  });

  it("peek does not change the TLB; lookup refills L1 only from the second level", () => {
    const t = new Tlbs(1, TLB_GEOMETRIES.zen3);
    for (let v = 0; v <= 64; v++) t.fill(0, 0, v, mkPte(v + 1, false));
    const before = [...Array(65).keys()].map((v) => t.peek(0, 0, v));
    expect(t.peek(0, 0, 0)).not.toBe(0);
    expect([...Array(65).keys()].map((v) => t.peek(0, 0, v))).toEqual(before);
  });

  it("flushes drop an entry from every level, per mm, on every geometry (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(TLB_GEOMETRIES)),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 5000 })), {
          minLength: 1,
          maxLength: 300,
        }),
        (name, fills) => {
          const t = new Tlbs(2, TLB_GEOMETRIES[name]);
          for (const [mm, v] of fills) t.fill(1, mm, v, mkPte(v + 2, true));
          const [mm0, v0] = fills[fills.length - 1]!;
          // the latest fill is always present (in L1 at least), until flushed
          expect(t.lookup(1, mm0, v0) & PTE_WRITE).toBe(PTE_WRITE);
          expect(t.lookup(0, mm0, v0)).toBe(0); // per CPU
          expect(t.flushOne(1, mm0, v0)).toBe(true);
          expect(t.peek(1, mm0, v0)).toBe(0);
          expect(t.flushOne(1, mm0, v0)).toBe(false);
          t.flushMm(1, 0);
          for (const [mm, v] of fills) if (mm === 0) expect(t.peek(1, 0, v)).toBe(0);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it("a remote invalidation commutes with a local fill of another page (footprint premise)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(TLB_GEOMETRIES)),
        fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 0, max: 600 }),
        (name, pre, a, b) => {
          fc.pre(a !== b);
          const mk = () => {
            const t = new Tlbs(1, TLB_GEOMETRIES[name]);
            for (const v of pre) t.fill(0, 0, v, mkPte(v + 1, false));
            return t;
          };
          const x = mk();
          x.flushOne(0, 0, a);
          x.fill(0, 0, b, mkPte(9, true));
          const y = mk();
          y.fill(0, 0, b, mkPte(9, true));
          y.flushOne(0, 0, a);
          for (let v = 0; v <= 600; v++) expect(x.peek(0, 0, v)).toBe(y.peek(0, 0, v));
        },
      ),
      { numRuns: 60, seed: 12 },
    );
  });

  it("a scenario's TLB geometry changes page walks, not what the fault path does", () => {
    const run = (tlb: string) =>
      runMmScenario({
        variant: "6.4.3",
        cpus: 2,
        seed: 4,
        tlb,
        workloads: [
          {
            type: "fault-loop",
            threads: 2,
            regionSize: 4096 * 256,
            faultsPerThread: 1024,
            access: "read-then-write",
          },
        ],
      });
    const big = run("zen3");
    const small = run("direct64");
    expect(big.faults).toBe(small.faults);
    expect(big.vmstat.pgfault).toBe(small.vmstat.pgfault);
    expect(big.findings).toEqual([]);
    expect(() => run("nope")).toThrow(/unknown TLB geometry/);
  });

  it("a scenario without machine.tlb runs on its arch's geometry", () => {
    const geometryOf = (switches: Record<string, unknown>, tlb?: string) =>
      runMmScenario({
        variant: "6.4.3",
        cpus: 1,
        seed: 1,
        switches,
        ...(tlb !== undefined ? { tlb } : {}),
        workloads: [{ type: "fault-loop", threads: 1, regionSize: 4096 * 8, faultsPerThread: 8 }],
      }).sim.tlbs.geometry.name;
    expect(geometryOf({})).toBe("zen3");
    expect(geometryOf({ arch: "arm64" })).toBe("neoverse-n1");
    expect(geometryOf({ arch: "arm64" }, "direct64")).toBe("direct64");
  });

  it("the fork race's premise: a faulter that touched a page since the last flush keeps its entry on zen3, not on direct64", () => {
    // the faulter (CPU 2) wrote hot page H, then 100 other pages of a 1,024-page region (the
    // pervma-fork-race workload between two forks); dup_mmap then write-protects H without a flush
    const H = 0x12;
    const others = Array.from({ length: 100 }, (_, i) => 0x10 + 4 + ((i * 37) % 1020));
    expect(others.some((v) => (v & 63) === (H & 63))).toBe(true); // one shares H's direct64 set
    const hotEntryAtFork = (name: string) => {
      const t = new Tlbs(4, TLB_GEOMETRIES[name]);
      t.fill(2, 0, H, mkPte(7, true));
      for (const v of others) t.fill(2, 0, v, mkPte(v, true));
      return t.lookup(2, 0, H);
    };
    // zen3 / skylake / neoverse-n1: the store goes through the stale writable entry (no fault, no
    // COW copy, so nothing for the writer's store to be lost from)
    for (const g of ["zen3", "skylake", "neoverse-n1"])
      expect(hotEntryAtFork(g) & PTE_WRITE, g).toBe(PTE_WRITE);
    // direct64: a set conflict evicted it, the walk finds the read-only PTE: a COW fault (the race)
    expect(hotEntryAtFork("direct64")).toBe(0);
  });

  it("the built-in 6.4.0 fork race on zen3 breaks the COW premise only on pages nobody writes again, and loses no write (seeds 1-3)", () => {
    for (const seed of [1, 2, 3]) {
      const r = runMmScenario({
        variant: "6.4.0",
        cpus: 4,
        seed,
        tlb: "zen3",
        workloads: [{ type: "fork-race", forks: 10, writers: 2, faulters: 1, pages: 1024 }],
        stop: { timeNs: 1e9 },
      });
      expect(r.findingCounts.lost_update ?? 0, `seed ${seed}`).toBe(0);
      const cow = r.findings.filter((f) => f.kind === "cow_premise");
      expect(cow.length, `seed ${seed}`).toBeGreaterThan(0);
      // the writers' warm-up entries (every page, kept by the 2,048-entry second level) at the first
      // fork: never the writers' hot pages 0x10-0x13, which they store to again
      for (const f of cow) expect(HOT_PAGES.has(Number(f.details.addr0)), f.message).toBe(false);
    }
  });
});

/** The TLB without its vpn-bucket counts: every lookup walks the ways (the reference for the counts). */
class PlainTlb {
  private readonly lv: {
    sets: number;
    ways: number;
    mm: number[];
    vpn: number[];
    pte: number[];
    next: number[];
  }[];
  constructor(ncpu: number, name: string) {
    this.lv = TLB_GEOMETRIES[name]!.levels.map((l) => {
      const sets = l.entries / l.ways;
      const n = ncpu * l.entries;
      return {
        sets,
        ways: l.ways,
        mm: Array(n).fill(0),
        vpn: Array(n).fill(0),
        pte: Array(n).fill(0),
        next: Array(ncpu * sets).fill(0),
      };
    });
  }
  private find(l: PlainTlb["lv"][number], cpu: number, tag: number, vpn: number): number {
    const base = (cpu * l.sets + (vpn & (l.sets - 1))) * l.ways;
    for (let i = base; i < base + l.ways; i++) if (l.vpn[i] === vpn && l.mm[i] === tag) return i;
    return -1;
  }
  private put(l: PlainTlb["lv"][number], cpu: number, tag: number, vpn: number, pte: number): void {
    let i = this.find(l, cpu, tag, vpn);
    if (i < 0) {
      const set = cpu * l.sets + (vpn & (l.sets - 1));
      const w = l.next[set]!;
      l.next[set] = (w + 1) % l.ways;
      i = set * l.ways + w;
      l.mm[i] = tag;
      l.vpn[i] = vpn;
    }
    l.pte[i] = pte;
  }
  lookup(cpu: number, mm: number, vpn: number): number {
    const [l1, l2] = this.lv;
    const i = this.find(l1!, cpu, mm + 1, vpn);
    if (i >= 0) return l1!.pte[i]!;
    if (l2 === undefined) return 0;
    const j = this.find(l2, cpu, mm + 1, vpn);
    if (j < 0) return 0;
    this.put(l1!, cpu, mm + 1, vpn, l2.pte[j]!);
    return l2.pte[j]!;
  }
  fill(cpu: number, mm: number, vpn: number, pte: number): void {
    for (const l of this.lv) this.put(l, cpu, mm + 1, vpn, pte);
  }
  peek(cpu: number, mm: number, vpn: number): number {
    for (const l of this.lv) {
      const i = this.find(l, cpu, mm + 1, vpn);
      if (i >= 0) return l.pte[i]!;
    }
    return 0;
  }
  flushOne(cpu: number, mm: number, vpn: number): boolean {
    let d = false;
    for (const l of this.lv) {
      const i = this.find(l, cpu, mm + 1, vpn);
      if (i >= 0) {
        l.mm[i] = 0;
        d = true;
      }
    }
    return d;
  }
  flushMm(cpu: number, mm: number): void {
    for (const l of this.lv)
      for (let i = cpu * l.sets * l.ways; i < (cpu + 1) * l.sets * l.ways; i++)
        if (l.mm[i] === mm + 1) l.mm[i] = 0;
  }
}

describe("TLB lookups skip a wide set whose vpn bucket is empty", () => {
  it("every geometry answers every lookup, fill and flush as a plain walk of the ways does (property)", () => {
    const op = fc.tuple(
      fc.constantFrom("lookup", "fill", "flushOne", "flushMm"),
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 0, max: 2 }),
      fc.oneof(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 4 }).map((k) => 7 + 256 * k),
      ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(TLB_GEOMETRIES)),
        fc.array(op, { maxLength: 600 }),
        (name, ops) => {
          const t = new Tlbs(2, TLB_GEOMETRIES[name]);
          const p = new PlainTlb(2, name);
          let n = 1;
          for (const [o, cpu, mm, vpn] of ops) {
            if (o === "lookup") expect(t.lookup(cpu, mm, vpn)).toBe(p.lookup(cpu, mm, vpn));
            else if (o === "fill") {
              const pte = mkPte(n++, (n & 1) === 0);
              t.fill(cpu, mm, vpn, pte);
              p.fill(cpu, mm, vpn, pte);
            } else if (o === "flushOne") expect(t.flushOne(cpu, mm, vpn)).toBe(p.flushOne(cpu, mm, vpn));
            else {
              t.flushMm(cpu, mm);
              p.flushMm(cpu, mm);
            }
          }
          for (let cpu = 0; cpu < 2; cpu++)
            for (let mm = 0; mm < 3; mm++)
              for (let v = 0; v <= 300; v++) expect(t.peek(cpu, mm, v)).toBe(p.peek(cpu, mm, v));
        },
      ),
      { numRuns: 150, seed: 23 },
    );
  });
});
