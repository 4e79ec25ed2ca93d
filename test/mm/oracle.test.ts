// The mm invariants live beside the model (src/mm/oracle.ts) and run through the hooks MmSim.oracle
// holds; the model does not import the checker (src/check imports src/mm, never the reverse).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KERNEL_INVARIANTS, type MmOracle } from "../../src/mm/oracle.js";
import { buildMmScenario } from "../../src/mm/scenario.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("mm oracle", () => {
  it("every hook is called on the paths that need it, and a replaced hook sees what the kernel's would", () => {
    const calls: Record<string, number> = {};
    const spy = Object.fromEntries(
      Object.entries(KERNEL_INVARIANTS).map(([k, f]) => [
        k,
        (...a: unknown[]) => {
          calls[k] = (calls[k] ?? 0) + 1;
          return (f as (...x: unknown[]) => unknown)(...a);
        },
      ]),
    ) as unknown as MmOracle;
    const b = buildMmScenario({
      variant: "6.4.3",
      cpus: 3,
      seed: 2,
      workloads: [{ type: "fork-race", forks: 3, writers: 1, faulters: 1, pages: 64 }],
      stop: { timeNs: 2e7 },
    });
    b.s.sim.oracle = spy;
    b.m.run(2e7, 1e9);
    b.m.finish();
    const r = b.result();
    expect(r.faults).toBeGreaterThan(0);
    expect(calls.lockedVma).toBe(r.vmstat.vma_lock_success + r.vmstat.vma_lock_retry);
    // every COW copy and zero-page map installed a PTE through the hook (and the new anonymous pages)
    expect(calls.install).toBeGreaterThan(r.vmstat.model_cow_copy + r.vmstat.model_zero_page_map);
    expect(calls.faultIdentity).toBeGreaterThan(0);
    expect(r.vmstat.model_cow_copy).toBeGreaterThan(0);
    expect(calls.cowCopy).toBeGreaterThan(0);
    expect(calls.forkCopied).toBeGreaterThan(0);
    expect(calls.sweepLostUpdates).toBe(1);
    // invariants 1, 2, 4 and 7 (formerly checked in place)
    expect(calls.userStore).toBeGreaterThan(0);
    expect(calls.userLoad).toBeGreaterThan(0);
    expect(calls.vmaStartWrite).toBeGreaterThanOrEqual(3); // 6.4.3's dup_mmap locks each VMA of 3 forks
    expect(calls.vmaWriteLocked).toBeGreaterThan(0);
    expect(calls.vmaWriteLocked).toBeLessThanOrEqual(calls.vmaStartWrite!);
    expect(calls.vmaStartRead).toBeGreaterThan(0);
    expect(calls.vmaTouched).toBeGreaterThan(0);
    expect(calls.vmaFree).toBeGreaterThan(0); // the children's VMAs at exit
    expect(r.findings).toEqual([]);
  });

  it("src/mm imports nothing from src/check", () => {
    const dir = path.join(ROOT, "src/mm");
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith(".ts"))) {
      const src = fs.readFileSync(path.join(dir, f), "utf8");
      expect(src, f).not.toMatch(/from "\.\.\/check\//);
      expect(src, f).not.toMatch(/as unknown as/);
    }
  });

  it("says what it verifies and what it does not", () => {
    const head = fs.readFileSync(path.join(ROOT, "src/mm/oracle.ts"), "utf8").split("\nimport")[0]!;
    expect(head).toMatch(/Verified/);
    expect(head).toMatch(/Not verified/);
  });
});
