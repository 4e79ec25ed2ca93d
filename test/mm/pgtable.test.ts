// Page-table pages as a shared resource of a fault: the first fault in a 2 MiB range allocates its
// PTE table (pte_alloc_one from the pcp list) and installs it under the PMD table's split lock
// (pmd_install), the first in a 1 GiB range its PMD table under mm->page_table_lock (__pmd_alloc);
// munmap's free_pgtables frees the tables no VMA maps any more.
import { describe, expect, it } from "vitest";
import { type MmRunResult, runMmScenario } from "../../src/mm/scenario.js";

const site = (r: MmRunResult, s: string) => r.lockSites.find((x) => x.site === s);
const sum = (a: Uint8Array) => a.reduce((x, y) => x + y, 0);

describe("page-table page allocation", () => {
  it("one pmd_install per PTE table and one __pmd_alloc per PMD table, with lock_stat rows", () => {
    const r = runMmScenario({
      variant: "6.4.3",
      cpus: 2,
      seed: 5,
      workloads: [{ type: "fault-loop", threads: 2, regionSize: 4096 * 2048 }],
    });
    expect(r.completed).toBe(true);
    const pt = r.sim.mms[0]!.pgtables;
    const ptes = sum(pt.pte);
    // 2 threads x 2048 pages = at least 8 PTE tables of 512 pages
    expect(ptes).toBeGreaterThanOrEqual(8);
    expect(site(r, "pmd_install:pmd_lock")!.acquired).toBe(ptes);
    expect(site(r, "__pmd_alloc:page_table_lock")!.acquired).toBe(sum(pt.pmd));
    expect(r.lockStat.find((x) => x.class === "&mm->page_table_lock")!.acquisitions).toBe(sum(pt.pmd));
    // the PMD split locks are of the PTE locks' class, as ptlock_init makes both
    const ptlock = r.lockStat.find((x) => x.class === "ptlock")!;
    expect(ptlock.acquisitions).toBeGreaterThanOrEqual(r.faults + ptes);
  });

  it("munmap frees the tables, so the next pass allocates them again; MADV_DONTNEED keeps them", () => {
    const run = (unmapEvery?: number) =>
      runMmScenario({
        variant: "6.4.3",
        cpus: 1,
        seed: 5,
        workloads: [
          {
            type: "fault-loop",
            threads: 1,
            regionSize: 4096 * 1024,
            faultsPerThread: 4096,
            ...(unmapEvery !== undefined ? { unmapEvery } : {}),
          },
        ],
      });
    const dontneed = run();
    const unmap = run(1024);
    const tables = sum(dontneed.sim.mms[0]!.pgtables.pte);
    expect(site(dontneed, "pmd_install:pmd_lock")!.acquired).toBe(tables);
    // four passes over a fresh mapping each: four times the tables (the last pass's stay)
    expect(site(unmap, "pmd_install:pmd_lock")!.acquired).toBeGreaterThanOrEqual(4 * 2);
    expect(site(unmap, "pmd_install:pmd_lock")!.acquired).toBeGreaterThan(tables);
  });

  it("threads faulting at once in one 2 MiB range race to install its table; the losers free theirs", () => {
    const run = (threads: number) =>
      runMmScenario({
        variant: "6.4.3",
        cpus: threads,
        seed: 1,
        // 16 pages each, one shared VMA: all in one PTE table
        workloads: [{ type: "fault-loop", threads, regionSize: 4096 * 16, sharedVma: true }],
      });
    const one = run(1);
    expect(site(one, "pmd_install:pmd_lock")!.acquired).toBe(sum(one.sim.mms[0]!.pgtables.pte));
    const many = run(16);
    const tables = sum(many.sim.mms[0]!.pgtables.pte);
    expect(tables).toBe(1);
    // every thread that saw pmd_none allocated a page and took the lock; one installed it
    expect(site(many, "pmd_install:pmd_lock")!.acquired).toBeGreaterThan(1);
    expect(site(many, "__pmd_alloc:page_table_lock")!.acquired).toBeGreaterThan(1);
  });
});
