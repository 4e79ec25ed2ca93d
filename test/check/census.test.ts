// The dependence census (src/check/census.ts): a measurement beside the exhaustive search that must
// not change it, and that accounts for every alternative the search explores.
import { describe, expect, it } from "vitest";
import { keyKind, RaceCensus } from "../../src/check/census.js";
import { exhaustive } from "../../src/check/exhaustive.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import { faultLoops } from "./targets.js";

describe("exhaustive search: the dependence census", () => {
  it("groups keys by their non-numeric parts", () => {
    expect(keyKind("pte:0:16")).toBe("pte");
    expect(keyKind("rwsem:mmap_lock:0")).toBe("rwsem:mmap_lock");
    expect(keyKind("spinlock:ptl:0:1")).toBe("spinlock:ptl");
    expect(keyKind("timers")).toBe("timers");
  });

  it("changes nothing in the search and attributes every explored alternative to a race", () => {
    const cfg = {
      variant: "6.4.3",
      cpus: 3,
      seed: 1,
      workloads: [...faultLoops(2, 0, 1), { type: "fork" as const, count: 1 }],
    };
    const t = mmCheckTarget(cfg, { maxSteps: 20_000 });
    const plain = exhaustive(t, { grain: 1e9, maxMs: 600_000 });
    const c = new RaceCensus();
    const counted = exhaustive(t, { grain: 1e9, maxMs: 600_000, census: c });
    expect(counted.complete).toBe(true);
    expect(counted.schedules).toBe(plain.schedules);
    expect(counted.states).toBe(plain.states);
    expect(counted.stepsExecuted).toBe(plain.stepsExecuted);
    const report = c.report();
    // one unit of work: every run after the first begins at an alternative DPOR added for a race
    expect(report).toContain(`explored_alternatives=${plain.schedules - 1} schedules=${plain.schedules}`);
    expect(c.races).toBeGreaterThanOrEqual(c.newPoints);
    // the fork's mmap_write_lock against the faulters' mmap_read_lock is among the reasons
    expect(report).toMatch(/rwsem:mmap_lock/);
  });
});
