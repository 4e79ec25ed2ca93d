// Property tests: on the correct kernels (6.3, 6.4.3, 6.15) no invariant of §7.4 ever breaks, for
// random mixes of fault storms, address-space writers (also on the faulters' own region), forks and
// seeds, under the timed driver and random explore schedules.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runMmScenario } from "../../src/mm/scenario.js";
import type { MmWorkload } from "../../src/workloads/mm.js";

const mix: MmWorkload[] = [
  {
    type: "fault-loop",
    threads: 2,
    regionSize: 4096 * 96,
    faultsPerThread: 300,
    access: "read-then-write",
    pattern: "random",
  },
  {
    type: "fault-loop",
    threads: 1,
    regionSize: 4096 * 32,
    faultsPerThread: 80,
    access: "read",
    freshVmaPerPass: true,
  },
  { type: "mmap-writer", op: "mmap-munmap", target: "faulters", interval: 3000 },
  { type: "mmap-writer", op: "mprotect", size: 32768 },
  { type: "mmap-writer", op: "brk", size: 32768 },
  { type: "fork-race", forks: 2, writers: 1, faulters: 1, pages: 128 },
  { type: "fork", count: 2 },
];

const arb = fc.record({
  variant: fc.constantFrom("6.3", "6.4.3", "6.15"),
  workloads: fc.subarray(mix, { minLength: 1, maxLength: 4 }),
  seed: fc.integer({ min: 1, max: 100_000 }),
  cpus: fc.integer({ min: 2, max: 6 }),
});

describe("invariants hold on the fixed kernels", () => {
  it("timed driver (property)", () => {
    fc.assert(
      fc.property(arb, ({ variant, workloads, seed, cpus }) => {
        const r = runMmScenario({ variant, cpus, seed, workloads, latency: false, stop: { timeNs: 20e6 } });
        expect(r.findings.map((f) => `${f.kind}: ${f.message}`)).toEqual([]);
      }),
      { numRuns: 25, seed: 3 },
    );
  });

  it("explore driver, random schedules (property)", () => {
    fc.assert(
      fc.property(arb, ({ variant, seed }) => {
        const r = runMmScenario({
          variant,
          cpus: 3,
          seed,
          mode: "explore",
          workloads: [{ type: "fork-race-mini" }],
          stop: { maxSteps: 50_000 },
        });
        expect(r.findings.map((f) => `${f.kind}: ${f.message}`)).toEqual([]);
      }),
      { numRuns: 60, seed: 5 },
    );
  });
});
