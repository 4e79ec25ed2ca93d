// Each variant differs from 5.16 only where its patch differed, and the difference shows in the run.
import { describe, expect, it } from "vitest";
import { IOMAP_VARIANT_NAMES, IOMAP_VARIANTS, iomapVariant } from "../../src/kernels/iomap.js";
import { smallS2 } from "./helpers.js";

const NAMES = [
  "5.16",
  "jens",
  "trond",
  "darrick",
  "dave-v1",
  "dave-v2",
  "dave-v4",
  "brian",
  "5.17",
  "newest",
];

describe("variant registry", () => {
  it("has every row of spec §2.3 / §6.3 under the issue's names", () => {
    expect([...IOMAP_VARIANT_NAMES]).toEqual(NAMES);
    expect(() => iomapVariant("nope")).toThrow(/unknown "nope"/);
  });

  it("each variant changes only its patch's switches relative to 5.16", () => {
    const base = iomapVariant("5.16") as unknown as Record<string, unknown>;
    const changed = (name: string) =>
      Object.keys(base)
        .filter((k) => !["name", "title", "source"].includes(k))
        .filter(
          (k) =>
            JSON.stringify((iomapVariant(name) as unknown as Record<string, unknown>)[k]) !==
            JSON.stringify(base[k]),
        )
        .sort();
    expect(changed("jens")).toEqual(["finishIoendsResched"]);
    expect(changed("trond")).toEqual(["finishIoendPerPageResched"]);
    expect(changed("darrick")).toEqual(["finishIoendsResched", "ioendCap"]);
    expect(changed("dave-v1")).toEqual(["ioendCap", "mergePhysical", "xfsEndIoResched"]);
    expect(changed("brian")).toEqual(["finishIoendNonAtomicReschedPages", "largeIoendToWqBytes"]);
    expect(changed("5.17")).toEqual([
      "completionWalk",
      "finishIoendsMightSleep",
      "finishIoendsResched",
      "ioendCap",
      "mergePhysical",
      "xfsEndIoResched",
    ]);
    for (const v of IOMAP_VARIANTS) expect(v.source.length).toBeGreaterThan(5);
  });
});

describe("variants on the S2 shape (8 non-adjacent unwritten extents of 20000 pages)", () => {
  const runs = new Map(NAMES.map((n) => [n, smallS2(n, 8, 20000)]));
  const r = (n: string) => runs.get(n)!;

  it("all finish cleanly", () => {
    for (const n of NAMES) {
      expect(r(n).done, n).toBe(true);
      expect(r(n).fs.invariantCounts, n).toEqual({});
      expect(r(n).fs.bytesSubmitted, n).toBe(8 * 20000 * 4096);
      expect(r(n).fs.pagesCleanedWithoutIo, n).toBe(0);
    }
  });

  it("submission bounds: none, 16k folios, 16 MiB, 4096 pages, 4096 folios, one bio", () => {
    expect(r("5.16").fs.ioendPagesMax).toBe(20000);
    expect(r("jens").fs.ioendPagesMax).toBe(20000);
    expect(r("darrick").fs.ioendPagesMax).toBe(16384);
    expect(r("dave-v1").fs.ioendPagesMax).toBe(4096);
    expect(r("dave-v4").fs.ioendPagesMax).toBe(4096);
    expect(r("5.17").fs.ioendFoliosMax).toBe(4096);
    expect(r("newest").fs.ioendBiosMax).toBe(1);
    expect(r("5.17").fs.ioendBiosMax).toBeGreaterThanOrEqual(1);
  });

  it("merge rules: logical only before dave-v1, physical from dave-v1 on", () => {
    for (const n of ["5.16", "jens", "trond", "darrick", "brian"]) expect(r(n).fs.mergedRuns, n).toBe(1);
    // dave-v1 compares the inline bio's bi_sector, which splitting advanced: it misses merges
    expect(r("dave-v1").fs.mergedRuns).toBeGreaterThan(8);
    for (const n of ["dave-v2", "dave-v4", "5.17", "newest"]) {
      expect(r(n).fs.mergedRuns, n).toBe(8);
      expect(r(n).fs.mergedRunPagesMax, n).toBe(20000);
    }
  });

  it("yields: none in 5.16, per ioend (jens), per page (trond), per run and per 32768 (5.17)", () => {
    expect(r("5.16").fs.completionReschedCalls).toBe(0);
    expect(r("jens").fs.completionReschedCalls).toBe(7);
    expect(r("trond").fs.completionReschedCalls).toBeGreaterThan(100);
    // brian counts pages per iomap_finish_ioend call: floor(20000 / 4096) per ioend
    expect(r("brian").fs.completionReschedCalls).toBe(8 * Math.floor(20000 / 4096));
    // 5.17: might_sleep + one cond_resched after each of the 8 runs (runs < 32768 folios)
    expect(r("5.17").fs.completionReschedCalls).toBe(16);
  });
});
