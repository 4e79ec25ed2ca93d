// The VMA lookup of a fault costs its own path's time: lock_vma_under_rcu's walk (lvurNs) on the
// per-VMA path, mmap_read_lock + find_vma (mmapFindVmaNs) on the mmap_lock path; every cost names
// its source.
import { describe, expect, it } from "vitest";
import { MM_COST_SOURCES, MM_COSTS_CALIBRATION, type MmCosts } from "../../src/mm/costs.js";
import { runMmScenario } from "../../src/mm/scenario.js";

function simNs(variant: string, costs: Partial<MmCosts>): { ns: number; faults: number; fallbacks: number } {
  const per = 512;
  const r = runMmScenario({
    variant,
    cpus: 1,
    seed: 3,
    jitter: 0,
    costs,
    workloads: [{ type: "fault-loop", threads: 1, regionSize: 4096 * per, faultsPerThread: per }],
  });
  expect(r.completed).toBe(true);
  // faults that went on to the mmap_lock path after lock_vma_under_rcu (6.4's first fault of a VMA
  // without an anon_vma)
  return { ns: r.simNs, faults: r.faults, fallbacks: r.vmstat.vma_lock_abort + r.vmstat.vma_lock_retry };
}

describe("fault path costs", () => {
  it("the per-VMA path pays lvurNs per fault, the mmap_lock path mmapFindVmaNs", () => {
    const extra = 1000;
    for (const [variant, own, other] of [
      ["6.4.3", "lvurNs", "mmapFindVmaNs"],
      ["6.15", "lvurNs", "mmapFindVmaNs"],
      ["6.3", "mmapFindVmaNs", "lvurNs"],
    ] as const) {
      const base = simNs(variant, {});
      const more = simNs(variant, { [own]: MM_COSTS_CALIBRATION[own] + extra });
      const unrelated = simNs(variant, { [other]: MM_COSTS_CALIBRATION[other] + extra });
      expect(more.faults).toBe(base.faults);
      // one lookup per fault, single thread, no jitter: exactly `extra` more per fault
      expect(more.ns - base.ns).toBe(base.faults * extra);
      const perVma = own === "lvurNs";
      expect(unrelated.ns - base.ns).toBe((perVma ? base.fallbacks : 0) * extra);
      if (perVma) expect(base.fallbacks).toBeLessThan(base.faults / 100);
    }
  });

  it("every cost has a source", () => {
    for (const k of Object.keys(MM_COSTS_CALIBRATION))
      expect(MM_COST_SOURCES[k as keyof MmCosts]).toBeTruthy();
    expect(MM_COST_SOURCES.lvurNs).toMatch(/calib\/fault_paths\.c/);
    expect(MM_COST_SOURCES.mmapFindVmaNs).toMatch(/calib\/fault_paths\.c/);
  });
});
