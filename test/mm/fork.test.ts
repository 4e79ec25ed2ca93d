// fork at kernel cost: dup_mmap charges vm_area_dup + the tree store per VMA and anon_vma_fork +
// copy_page_range's setup per VMA with an anon_vma (calib/fork_vmas.c), so a fork's simulated time
// grows linearly with the VMA count, and 6.4.3's vma_start_write per VMA adds its atomics on top.
import { describe, expect, it } from "vitest";
import { runMmScenario } from "../../src/mm/scenario.js";

/** Simulated ns of one fork + child exit of a process with `vmas` written one-page VMAs. */
function perFork(variant: string, vmas: number, switches: Record<string, unknown> = {}): number {
  const sim = (count: number) => {
    const r = runMmScenario({
      variant,
      switches,
      cpus: 2,
      seed: 1,
      workloads: [{ type: "fork", count, vmas }],
    });
    expect(r.completed).toBe(true);
    expect(r.vmstat.model_fork).toBe(count);
    return r.simNs;
  };
  return (sim(3) - sim(1)) / 2;
}

describe("fork time against the VMA count", () => {
  it("is linear in the VMAs on 6.4.0 and 6.4.3, and 6.4.3's VMA write locks cost a little more", () => {
    const a0 = perFork("6.4.0", 1000);
    const b0 = perFork("6.4.0", 4000);
    const a3 = perFork("6.4.3", 1000);
    const b3 = perFork("6.4.3", 4000);
    expect(b0 / a0).toBeGreaterThan(3.6);
    expect(b0 / a0).toBeLessThan(4.4);
    expect(b3 / a3).toBeGreaterThan(3.6);
    expect(b3 / a3).toBeLessThan(4.4);
    // at least the measured per-VMA work (1.1 + 0.59 us + one PTE)
    expect(b0 / 4000).toBeGreaterThan(1690);
    expect(b3).toBeGreaterThan(b0);
  });

  it("both 6.4.3 fix shapes (2b4f3b4987b5 lock all first, fb49c455323f in the loop) cost the same locks", () => {
    const loop = perFork("6.4.3", 2000);
    const first = perFork("6.4.3", 2000, { forkLockVmas: "all-first" });
    expect(Math.abs(first - loop) / loop).toBeLessThan(0.05);
  });
});
