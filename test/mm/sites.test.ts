// Removing lock sites never crashes the model: invariants report what breaks (property tests over
// random variants, site subsets, workloads and seeds, under both drivers), and the known removals
// produce the expected findings.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runMmScenario } from "../../src/mm/scenario.js";
import { INVARIANTS } from "../../src/mm/sim.js";
import { LOCK_SITES } from "../../src/mm/switches.js";
import type { MmWorkload } from "../../src/workloads/mm.js";

const KINDS = new Set<string>([
  ...Object.values(INVARIANTS),
  "model_bookkeeping",
  "fault_livelock",
  "deadlock",
]);

const workloadMix: MmWorkload[] = [
  { type: "fault-loop", threads: 2, regionSize: 4096 * 64, faultsPerThread: 150, access: "read-then-write" },
  { type: "fault-loop", threads: 1, regionSize: 4096 * 32, faultsPerThread: 60, freshVmaPerPass: true },
  { type: "mmap-writer", op: "mmap-munmap", size: 16384, touch: true },
  { type: "mmap-writer", op: "mprotect", size: 16384 },
  { type: "fork-race", forks: 2, writers: 1, faulters: 1, pages: 64 },
];

const arbRun = fc.record({
  variant: fc.constantFrom("6.3", "6.4.0", "6.4.3", "6.15"),
  sites: fc.subarray([...LOCK_SITES], { maxLength: 8 }),
  workloads: fc.subarray(workloadMix, { minLength: 1 }),
  seed: fc.integer({ min: 1, max: 10_000 }),
});

function wellFormed(r: ReturnType<typeof runMmScenario>): void {
  for (const f of r.findings) {
    expect(KINDS.has(f.kind)).toBe(true);
    expect(Array.isArray(f.cpus)).toBe(true);
    expect(f.message.length).toBeGreaterThan(0);
    expect(Array.isArray(f.steps)).toBe(true);
  }
}

describe("disabled lock sites", () => {
  it("timed driver: any subset of removed sites runs to its end and reports findings, never throws (property)", () => {
    fc.assert(
      fc.property(arbRun, ({ variant, sites, workloads, seed }) => {
        const r = runMmScenario({
          variant,
          cpus: 4,
          seed,
          disableLockSites: sites,
          workloads,
          latency: false,
          stop: { timeNs: 5e6 },
        });
        wellFormed(r);
      }),
      { numRuns: 30, seed: 42 },
    );
  });

  it("every single site removed (on a rotating variant), with every workload: runs on and reports", () => {
    const variants = ["6.3", "6.4.0", "6.4.3", "6.15"];
    LOCK_SITES.forEach((site, i) => {
      const variant = variants[i % variants.length]!;
      {
        const r = runMmScenario({
          variant,
          cpus: 4,
          seed: 1,
          disableLockSites: [site],
          workloads: [
            ...workloadMix,
            { type: "mmap-writer", op: "mmap-munmap", target: "faulters", interval: 2000 },
            { type: "stack-race", grows: 16 },
          ],
          latency: false,
          stop: { timeNs: 1e6 },
        });
        wellFormed(r);
      }
    });
  });

  it("explore driver: the same holds with random schedules (property)", () => {
    fc.assert(
      fc.property(arbRun, ({ variant, sites, seed }) => {
        const r = runMmScenario({
          variant,
          cpus: 3,
          seed,
          mode: "explore",
          disableLockSites: sites,
          workloads: [{ type: "fork-race-mini" }],
          stop: { maxSteps: 20_000 },
        });
        wellFormed(r);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it("without munmap's vma_start_write a fault runs in a VMA being unmapped (invariants 1/3/8)", () => {
    let found = 0;
    let clean = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const cfg = {
        variant: "6.4.3",
        cpus: 4,
        seed,
        workloads: [
          {
            type: "fault-loop",
            threads: 3,
            regionSize: 4096 * 64,
            sharedVma: true,
            faultsPerThread: 1500,
            prefault: true,
          },
          { type: "mmap-writer", op: "mmap-munmap", target: "faulters", interval: 2000 },
        ] as MmWorkload[],
      };
      const r = runMmScenario({ ...cfg, disableLockSites: ["munmap_sidetree:vma_start_write"] });
      wellFormed(r);
      found +=
        (r.findingCounts.vma_mutual_exclusion ?? 0) +
        (r.findingCounts.reader_on_stale_vma ?? 0) +
        (r.findingCounts.pte_installed_during_teardown ?? 0);
      clean += runMmScenario(cfg).findings.length;
    }
    expect(found).toBeGreaterThan(0);
    expect(clean).toBe(0);
  });

  it("without mprotect's vma_start_write, faults modify a VMA under a writer (invariant 1)", () => {
    let found = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const r = runMmScenario({
        variant: "6.4.3",
        cpus: 4,
        seed,
        disableLockSites: ["mprotect_fixup:vma_start_write"],
        workloads: [
          {
            type: "fault-loop",
            threads: 3,
            regionSize: 4096 * 64,
            sharedVma: true,
            faultsPerThread: 2000,
            prefault: true,
          },
          { type: "mmap-writer", op: "mprotect", target: "faulters", interval: 1000 },
        ],
      });
      wellFormed(r);
      found += r.findingCounts.vma_mutual_exclusion ?? 0;
    }
    expect(found).toBeGreaterThan(0);
  });

  it("without the fault path's mmap_read_lock on 6.3, faults install PTEs in unmapped VMAs (invariant 3)", () => {
    const r = runMmScenario({
      variant: "6.3",
      cpus: 4,
      seed: 1,
      disableLockSites: ["do_user_addr_fault:mmap_read_lock", "lock_mm_and_find_vma:mmap_read_lock"],
      workloads: [
        {
          type: "fault-loop",
          threads: 3,
          regionSize: 4096 * 64,
          sharedVma: true,
          faultsPerThread: 1500,
          prefault: true,
        },
        { type: "mmap-writer", op: "mmap-munmap", target: "faulters", interval: 1000 },
      ],
    });
    wellFormed(r);
    expect(r.findingCounts.reader_on_stale_vma ?? 0).toBeGreaterThan(0);
  });
});

describe("anon_vma stability during fork (invariant 6, per-vma-locks.md §4.2 second hazard)", () => {
  const run = (sites: string[], seed: number) =>
    runMmScenario({
      variant: "6.15",
      cpus: 4,
      seed,
      disableLockSites: sites,
      workloads: [
        {
          type: "fault-loop",
          threads: 3,
          regionSize: 4096 * 16,
          faultsPerThread: 4000,
          freshVmaPerPass: true,
          access: "read-then-write",
        },
        { type: "fork", count: 200 },
      ],
    });
  it("6.15 without fork's VMA locks is still safe: vmf_anon_prepare's mmap_read_trylock fails during fork", () => {
    for (const seed of [1, 6])
      expect(run(["dup_mmap:vma_start_write"], seed).findingCounts.anon_vma_changed_during_fork ?? 0).toBe(0);
  });
  it("without that trylock too, a COW fault sets anon_vma while dup_mmap copies the VMA", () => {
    // a narrow window (one copy_pte_range chunk): the first seeds that hit it, searched in order
    let n = 0;
    for (let seed = 1; seed <= 12 && n === 0; seed++)
      n +=
        run(["dup_mmap:vma_start_write", "vmf_anon_prepare:mmap_read_trylock"], seed).findingCounts
          .anon_vma_changed_during_fork ?? 0;
    expect(n).toBeGreaterThan(0);
  });
});
