// The explore driver on the writeback model: fsync callers racing over one file. With the per-folio
// lock-and-recheck the search finds nothing; without it, a double submission at once.
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/checker.js";
import { iomapCheckTarget } from "../../src/check/iomap.js";

describe("race check: concurrent fsync on one file", () => {
  it("5.17 with the folio lock: no violation in 150 random schedules", () => {
    const r = check(iomapCheckTarget({ variant: "5.17", pages: 64, fsyncers: 2 }), {
      strategy: "random",
      budget: 150,
      timeS: 1e9,
    });
    expect(r.verdict).toBe("no violation found");
    expect(r.schedules).toBe(150);
  });

  it("without write_cache_pages:folio_lock the checker finds the double submission", () => {
    const r = check(
      iomapCheckTarget({
        variant: "5.16",
        pages: 64,
        fsyncers: 2,
        disableLockSites: ["write_cache_pages:folio_lock"],
      }),
      { strategy: "random", budget: 50, timeS: 1e9 },
    );
    expect(r.verdict).toBe("violation");
    expect(r.counterexample).not.toBeNull();
  });

  it("PCT over three fsync callers with small bios stays clean", () => {
    const r = check(iomapCheckTarget({ variant: "newest", pages: 48, fsyncers: 3, physRunPages: 1 }), {
      strategy: "pct",
      budget: 60,
      timeS: 1e9,
    });
    expect(r.verdict).toBe("no violation found");
  });
});
