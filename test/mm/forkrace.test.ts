// The 6.4.0 fork race (per-vma-locks.md §4.2): a parent store lost across fork on 6.4.0 only, under
// the timed driver over a range of seeds and under the explore driver (random strategy and the
// race checker), and never on 6.3, 6.4.3 (both fix shapes) or 6.15.
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/index.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import { runMmScenario } from "../../src/mm/scenario.js";
import type { MmWorkload } from "../../src/workloads/mm.js";

const timedRace: MmWorkload[] = [{ type: "fork-race", forks: 10, writers: 2, faulters: 1, pages: 1024 }];
// the timed runs use the built-in scenario's small TLB: on the x86 default (zen3) this 4 MiB region
// never misses in the faulter's TLB during dup_mmap, so no write is lost (test/mm/tlb.test.ts, docs/mm.md)
const TLB = "direct64";
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

function lostSeeds(variant: string, switches: Record<string, unknown> = {}, sites: string[] = []): number[] {
  const out: number[] = [];
  for (const seed of SEEDS) {
    const r = runMmScenario({
      variant,
      switches,
      disableLockSites: sites,
      cpus: 4,
      seed,
      tlb: TLB,
      workloads: timedRace,
    });
    expect(r.completed).toBe(true);
    expect(r.vmstat.model_fork).toBe(10);
    if ((r.findingCounts.lost_update ?? 0) > 0) out.push(seed);
  }
  return out;
}

describe("fork race, timed driver", () => {
  it("6.4.0 loses parent writes on most seeds, with the finding naming invariant, CPUs, address and steps", () => {
    const hits = lostSeeds("6.4.0");
    expect(hits.length).toBeGreaterThanOrEqual(3);
    const r = runMmScenario({ variant: "6.4.0", cpus: 4, seed: hits[0]!, tlb: TLB, workloads: timedRace });
    const f = r.findings.find((x) => x.kind === "lost_update")!;
    expect(f.cpus.length).toBeGreaterThanOrEqual(1);
    expect(String(f.details.addr0)).toMatch(/^0x[0-9a-f]+$/);
    expect(f.steps.some((s) => s.includes("wp_page_copy:copy"))).toBe(true);
    expect(f.steps.some((s) => s.includes("copy_present_pte:wrprotect"))).toBe(true);
    // the COW premise (invariant 5) breaks with it
    expect(r.findingCounts.cow_premise ?? 0).toBeGreaterThan(0);
  });

  for (const variant of ["6.3", "6.4.3", "6.15"])
    it(`${variant} never loses a write`, () => {
      expect(lostSeeds(variant)).toEqual([]);
    });

  it("6.4.3 with the mm-tree fix shape (all VMAs locked first) never loses a write", () => {
    expect(lostSeeds("6.4.3", { forkLockVmas: "all-first" })).toEqual([]);
  });

  it("6.4.3 without its dup_mmap:vma_start_write site loses writes like 6.4.0", () => {
    expect(lostSeeds("6.4.3", {}, ["dup_mmap:vma_start_write"]).length).toBeGreaterThan(0);
  });
});

const mini: MmWorkload[] = [{ type: "fork-race-mini" }];

function exploreLost(variant: string, seeds: number): number[] {
  const out: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runMmScenario({ variant, cpus: 3, seed, mode: "explore", workloads: mini });
    expect(r.completed).toBe(true);
    if ((r.findingCounts.lost_update ?? 0) > 0) out.push(seed);
  }
  return out;
}

describe("fork race, explore driver", () => {
  it("random schedules find the lost write on 6.4.0", () => {
    expect(exploreLost("6.4.0", 120).length).toBeGreaterThan(0);
  });

  for (const variant of ["6.3", "6.4.3", "6.15"])
    it(`random schedules never find it on ${variant}`, () => {
      expect(exploreLost(variant, 120)).toEqual([]);
    });

  it("the race checker (src/check) finds and shrinks a 6.4.0 counterexample; none on 6.4.3", () => {
    const t = (variant: string) =>
      mmCheckTarget(
        { variant, cpus: 3, seed: 1, workloads: mini },
        { maxSteps: 5000, kinds: ["lost_update"] },
      );
    const bad = check(t("6.4.0"), { strategy: "random", budget: 400, timeS: 1e9, seed: 1 });
    expect(bad.verdict).toBe("violation");
    expect(bad.counterexample).not.toBeNull();
    const good = check(t("6.4.3"), { strategy: "random", budget: 150, timeS: 1e9, seed: 1, shrink: false });
    expect(good.verdict).toBe("no violation found");
  });

  it("bounded exhaustive search (sleep sets, 4 preemptions) finds it on 6.4.0", () => {
    const t = mmCheckTarget(
      {
        variant: "6.4.0",
        cpus: 3,
        seed: 1,
        workloads: [{ type: "fork-race-mini", rounds: 3, extraVmas: 1 }],
      },
      { maxSteps: 3000, kinds: ["lost_update"] },
    );
    const r = check(t, {
      strategy: "exhaustive",
      preemptionBound: 4,
      budget: 20_000,
      timeS: 1e9,
      seed: 1,
      shrink: false,
    });
    expect(r.verdict).toBe("violation");
  });

  it("PCT (depth 5) finds it too", () => {
    const t = mmCheckTarget(
      { variant: "6.4.0", cpus: 3, seed: 1, workloads: mini },
      { maxSteps: 5000, kinds: ["lost_update"] },
    );
    const r = check(t, { strategy: "pct", pctDepth: 5, budget: 1500, timeS: 1e9, seed: 1, shrink: false });
    expect(r.verdict).toBe("violation");
  });
});

describe("fork race with TLB shootdowns by IPI (tlbShootdown: ipi)", () => {
  const run = (variant: string, seed: number) =>
    runMmScenario({ variant, cpus: 4, seed, tlb: TLB, tlbShootdown: "ipi", workloads: timedRace });
  it("6.4.0 still loses writes; remote CPUs flush in their TLB interrupt handlers", () => {
    let lost = 0;
    for (const seed of [1, 3, 4]) {
      const r = run("6.4.0", seed);
      lost += r.findingCounts.lost_update ?? 0;
      expect(r.machine.cpus.reduce((a, c) => a + c.hardirqCount, 0)).toBeGreaterThan(0);
    }
    expect(lost).toBeGreaterThan(0);
  });
  for (const variant of ["6.3", "6.4.3", "6.15"])
    it(`${variant} never does`, () => {
      for (const seed of [1, 3, 4]) expect(run(variant, seed).findings).toEqual([]);
    });
});
