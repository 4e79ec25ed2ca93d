// The shared resources of a fault: pages come from per-CPU lists refilled 63 at a time under
// zone->lock, new folios reach the LRU 15 at a time under lru_lock, and the PTE is set under the
// page table's ptlock; all three are src/sync spinlocks with lock_stat rows of their own.
import { describe, expect, it } from "vitest";
import { PAGEVEC_SIZE, PAGEVEC_SIZE_6_9, PCP_BATCH } from "../../src/mm/page_alloc.js";
import { runMmScenario } from "../../src/mm/scenario.js";

describe("page allocation and LRU batches", () => {
  it("lock_stat shows ptlock, &zone->lock and &lruvec->lru_lock, taken once per batch", () => {
    const threads = 4;
    const per = 2048;
    const r = runMmScenario({
      variant: "6.4.3",
      cpus: threads,
      seed: 2,
      workloads: [{ type: "fault-loop", threads, regionSize: 4096 * per, faultsPerThread: per }],
    });
    expect(r.completed).toBe(true);
    const row = (cls: string) => r.lockStat.find((x) => x.class === cls);
    const faults = threads * per;
    expect(row("ptlock")!.acquisitions).toBeGreaterThanOrEqual(faults);
    // each CPU starts with one batch on its pcp list, then refills every 63 pages
    expect(row("&zone->lock")!.acquisitions).toBe(threads * Math.ceil((per - PCP_BATCH) / PCP_BATCH));
    expect(row("&lruvec->lru_lock")!.acquisitions).toBe(threads * Math.floor(per / PAGEVEC_SIZE));
    // hold times are recorded for every class
    for (const cls of ["ptlock", "&zone->lock", "&lruvec->lru_lock"])
      expect(row(cls)!["holdtime-total"]).toBeGreaterThan(0);
  });

  it("the lru_add batch holds 15 folios up to 6.8 and 31 from 6.9 (6.15), as the switch says", () => {
    const lruAcquisitions = (variant: string, switches: Record<string, unknown> = {}) => {
      const r = runMmScenario({
        variant,
        switches,
        cpus: 2,
        seed: 3,
        workloads: [{ type: "fault-loop", threads: 2, regionSize: 4096 * 1000, faultsPerThread: 1000 }],
      });
      expect(r.completed).toBe(true);
      return r.lockStat.find((x) => x.class === "&lruvec->lru_lock")!.acquisitions;
    };
    expect(lruAcquisitions("6.4.3")).toBe(2 * Math.floor(1000 / PAGEVEC_SIZE));
    expect(lruAcquisitions("6.15")).toBe(2 * Math.floor(1000 / PAGEVEC_SIZE_6_9));
    expect(lruAcquisitions("6.15", { folioBatch31: false })).toBe(2 * Math.floor(1000 / PAGEVEC_SIZE));
    expect(lruAcquisitions("6.4.3", { folioBatch31: true })).toBe(2 * Math.floor(1000 / PAGEVEC_SIZE_6_9));
  });

  it("64 threads on private VMAs meet on the zone and LRU locks, 1 thread never waits", () => {
    const contended = (threads: number) => {
      const r = runMmScenario({
        variant: "6.4.3",
        cpus: threads,
        seed: 1,
        workloads: [{ type: "fault-loop", threads, regionSize: 4096 * 1024, faultsPerThread: 1024 }],
      });
      const c = (cls: string) => r.lockStat.find((x) => x.class === cls)?.contentions ?? 0;
      return c("&zone->lock") + c("&lruvec->lru_lock");
    };
    expect(contended(1)).toBe(0);
    expect(contended(64)).toBeGreaterThan(0);
  });
});
