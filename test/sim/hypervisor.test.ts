// Steal time: a stolen vCPU runs nothing while the guest clock runs on. Bursts stretch, the task's
// runtime counts only what it executed, and the soft-lockup detector sees the wall-clock span.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hypervisor, STEAL_PROFILES } from "../../src/sim/hypervisor.js";
import { Rng } from "../../src/sim/prng.js";
import { bootKernel } from "../../src/sync/index.js";

describe("Hypervisor schedule", () => {
  it("finishAt and workBetween agree, and the long-run steal fraction is the profile's", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 200_000_000 }),
        (seed, work) => {
          const hv = new Hypervisor(STEAL_PROFILES["kvm-cfs-2to1"]!, () => new Rng(seed), 1);
          const t0 = hv.runnableAt(0, 5_000_000);
          const end = hv.finishAt(0, t0, work);
          expect(end).toBeGreaterThanOrEqual(t0 + work);
          expect(hv.workBetween(0, t0, end)).toBe(work);
        },
      ),
      { numRuns: 200 },
    );
    const hv = new Hypervisor(STEAL_PROFILES["xen-credit-2to1"]!, () => new Rng(7), 1);
    const end = hv.finishAt(0, 0, 200e9);
    expect((end - 200e9) / end).toBeGreaterThan(0.45);
    expect((end - 200e9) / end).toBeLessThan(0.55);
  });
});

describe("steal time and the soft-lockup detector", () => {
  function loop16s(steal: string) {
    const m = bootKernel({ cpus: 2, hz: 1000, steal, seed: 3 });
    const t = m.createTask("spin", 1, function* () {
      yield 16e9; // 16 s of CPU work without a resched point
    });
    m.run(60e9);
    m.finish();
    return { m, t };
  }

  it("without steal 16 s of work stays under the 20 s threshold", () => {
    const { m, t } = loop16s("none");
    expect(Math.abs(t.sumExecNs - 16e9)).toBeLessThan(1e6);
    expect(m.watchdogs.softLockups).toBe(0);
  });

  it("with 50 % steal the same 16 s of work spans ~32 s of guest time: a soft lockup", () => {
    const { m, t } = loop16s("xen-credit-2to1");
    expect(Math.abs(t.sumExecNs - 16e9)).toBeLessThan(1e6);
    expect(m.watchdogs.softLockups).toBeGreaterThanOrEqual(1);
    expect(m.hv!.stolenNs(1, m.now)).toBeGreaterThan(5e9);
  });
});
