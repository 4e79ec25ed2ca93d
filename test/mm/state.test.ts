// Unit tests of the model's state: frames, TLBs, the VMA tree, the variants table.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findMmVariant, MM_VARIANTS, mmSwitches, mmVariantInfos } from "../../src/kernels/mm.js";
import { Frames, ZERO_FRAME } from "../../src/mm/frames.js";
import { LOCK_SITES } from "../../src/mm/switches.js";
import { TLB_GEOMETRIES, Tlbs } from "../../src/mm/tlb.js";
import { MmStruct, mkPte, PTE_WRITE, pteFrame, Vma } from "../../src/mm/types.js";

describe("Frames", () => {
  it("allocates zeroed frames, copies contents and frees on the last put", () => {
    const f = new Frames(4, 2);
    const a = f.alloc();
    expect(a).not.toBe(ZERO_FRAME);
    f.content[a * 4 + 1] = 77;
    const b = f.alloc();
    f.copy(b, a);
    expect(f.content[b * 4 + 1]).toBe(77);
    f.refcount[a]++;
    expect(f.put(a)).toBe(false);
    expect(f.put(a)).toBe(true);
    expect(f.isFree(a)).toBe(true);
    expect(f.put(a)).toBe("underflow");
    const c = f.alloc(); // reuses a, zeroed
    expect(c).toBe(a);
    expect(f.content[c * 4 + 1]).toBe(0);
    expect(f.put(ZERO_FRAME)).toBe(false);
  });

  it("keeps allocated = allocs - frees over random sequences (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (ops) => {
        const f = new Frames(2, 1);
        const live: number[] = [];
        for (const alloc of ops) {
          if (alloc || live.length === 0) live.push(f.alloc());
          else expect(f.put(live.pop()!)).toBe(true);
        }
        expect(f.allocated).toBe(live.length);
        expect(new Set(live).size).toBe(live.length);
        for (const x of live) expect(f.isFree(x)).toBe(false);
      }),
    );
  });
});

describe("Tlbs", () => {
  it("caches per CPU and mm until flushed", () => {
    const t = new Tlbs(2, TLB_GEOMETRIES.direct64);
    t.fill(0, 3, 100, mkPte(9, true));
    expect(pteFrame(t.lookup(0, 3, 100))).toBe(9);
    expect(t.lookup(1, 3, 100)).toBe(0);
    expect(t.lookup(0, 4, 100)).toBe(0);
    // direct-mapped: a conflicting page evicts
    t.fill(0, 3, 100 + 64, mkPte(10, false));
    expect(t.lookup(0, 3, 100)).toBe(0);
    t.fill(0, 3, 101, mkPte(11, true));
    expect(t.flushOne(0, 3, 101)).toBe(true);
    expect(t.lookup(0, 3, 101)).toBe(0);
    t.fill(1, 3, 5, mkPte(12, true));
    t.fill(1, 2, 6, mkPte(13, true));
    t.flushMm(1, 3);
    expect(t.lookup(1, 3, 5)).toBe(0);
    expect(t.lookup(1, 2, 6) & PTE_WRITE).toBe(PTE_WRITE);
  });
});

describe("MmStruct", () => {
  it("walks the published VMA array like mas_walk and find_vma", () => {
    const mm = new MmStruct(0, 1000, 1);
    const mk = (id: number, s: number, e: number) => {
      const v = new Vma(id);
      v.start = s;
      v.end = e;
      return v;
    };
    const a = mk(1, 10, 20);
    const b = mk(2, 30, 40);
    mm.publish([b, a]);
    expect(MmStruct.walk(mm.vmas, 15)).toBe(a);
    expect(MmStruct.walk(mm.vmas, 20)).toBe(null);
    expect(MmStruct.walk(mm.vmas, 39)).toBe(b);
    expect(mm.findVma(25)).toBe(b);
    expect(mm.findVma(40)).toBe(null);
    expect(mm.findGap(5, 0)).toBe(0);
    expect(mm.findGap(15, 5)).toBe(40);
    // an old array stays usable by a reader (RCU publish)
    const old = mm.vmas;
    mm.publish([b]);
    expect(MmStruct.walk(old, 15)).toBe(a);
    expect(MmStruct.walk(mm.vmas, 15)).toBe(null);
  });

  it("finds a VMA's index as indexOf does (binary search, indexOf's answer off the search path)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 0, max: 45 }),
        fc.boolean(),
        (starts, pick, disorder) => {
          const sorted = [...starts].sort((x, y) => x - y);
          const vmas = sorted.map((s, i) => {
            const v = new Vma(i + 1);
            v.start = s * 2;
            v.end = s * 2 + 1;
            return v;
          });
          // a start changed in place out of order (mid-change), and a VMA not in the array
          if (disorder && vmas.length > 2) vmas[1]!.start = vmas[vmas.length - 1]!.start + 1;
          const stray = new Vma(999);
          stray.start = vmas[0]?.start ?? 0;
          const v = pick < vmas.length ? vmas[pick]! : stray;
          expect(MmStruct.indexOf(vmas, v)).toBe(vmas.indexOf(v));
        },
      ),
    );
  });
});

describe("variants", () => {
  it("has the five kernels with the switches the spec gives them", () => {
    expect(MM_VARIANTS.map((v) => v.name)).toEqual(["6.3", "6.4.0", "6.4.3", "6.5", "6.15"]);
    expect(findMmVariant("6.4.3")!.switches.anonVmaCheck).toBe("before-lock");
    expect(findMmVariant("6.5")!.switches.anonVmaCheck).toBe("after-lock");
    expect(findMmVariant("6.5")!.switches.lockVmaInDupAnonVma).toBe(true);
    expect(findMmVariant("6.3")!.switches.perVmaLock).toBe(false);
    expect(findMmVariant("6.4.0")!.switches.forkLockVmas).toBe("none");
    expect(findMmVariant("6.4.3")!.switches.forkLockVmas).toBe("per-vma");
    expect(findMmVariant("6.15")!.switches.vmaLockImpl).toBe("refcnt");
    expect(findMmVariant("6.15")!.switches.anonVmaCheck).toBe("none");
    expect(findMmVariant("fork-fixed")!.name).toBe("6.4.3");
  });

  it("applies overrides and rejects unknown switches or wrong types", () => {
    expect(mmSwitches("6.4.3", { forkLockVmas: "all-first" }).forkLockVmas).toBe("all-first");
    expect(() => mmSwitches("6.4.3", { nope: true })).toThrow(/unknown switch/);
    expect(() => mmSwitches("6.4.3", { perVmaLock: "yes" })).toThrow(/expected a boolean/);
    expect(() => mmSwitches("5.0")).toThrow(/unknown mm kernel variant/);
  });

  it("describes variants for the catalog with every lock site", () => {
    const infos = mmVariantInfos();
    expect(infos).toHaveLength(5);
    expect(infos[0]!.lockSites).toContain("dup_mmap:vma_start_write");
    expect(infos[0]!.lockSites).toEqual(LOCK_SITES);
    expect(infos[1]!.switches.find((s) => s.name === "forkLockVmas")!.values).toContain("all-first");
  });
});

describe("LatencyRecorder", () => {
  it("keeps percentiles within 1 % of an exact HDR histogram (property)", async () => {
    const { LatencyRecorder } = await import("../../src/mm/latency.js");
    const { newHistogram, percentiles } = await import("../../src/sim/stats.js");
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5_000_000 }), { minLength: 1, maxLength: 400 }),
        (xs) => {
          const r = new LatencyRecorder();
          const h = newHistogram();
          for (const x of xs) {
            r.record(x);
            h.recordValue(x);
          }
          const a = percentiles(r.toHistogram());
          const b = percentiles(h);
          expect(a.count).toBe(b.count);
          for (const k of ["p50", "p99", "max"] as const)
            expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(b[k] * 0.011 + 1);
        },
      ),
    );
  });
});
