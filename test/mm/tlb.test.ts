// TLB geometry (src/mm/tlb.ts): the default is this machine's CPU (an L1 dTLB and a second-level
// TLB), the earlier 64-entry direct-mapped array is an option; flush semantics are the same in all.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runMmScenario } from "../../src/mm/scenario.js";
import { DEFAULT_TLB, TLB_GEOMETRIES, Tlbs, tlbGeometry } from "../../src/mm/tlb.js";
import { mkPte, PTE_WRITE } from "../../src/mm/types.js";

describe("TLB geometry", () => {
  it("zen3 is an L1 dTLB of 64 entries and a 2048-entry 8-way second level; every geometry is cited", () => {
    expect(DEFAULT_TLB).toBe("direct64");
    expect(new Tlbs(1).geometry.name).toBe("direct64");
    const t = new Tlbs(1, TLB_GEOMETRIES.zen3);
    expect(t.geometry.levels).toEqual([
      { entries: 64, ways: 64 },
      { entries: 2048, ways: 8 },
    ]);
    expect(t.entriesPerCpu).toBe(2112);
    for (const g of Object.values(TLB_GEOMETRIES)) expect(g.source.length).toBeGreaterThan(20);
    expect(() => tlbGeometry("pentium")).toThrow(
      /unknown TLB geometry "pentium" \(known: zen3, skylake, direct64\)/,
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
});
