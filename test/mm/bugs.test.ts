// The bug catalog (src/kernels/mm-bugs.ts): every entry's built-in scenario gives one of its findings
// with the fix off and none with it on, in the timed driver and under the race checker.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { findMmBug, MM_BUGS } from "../../src/kernels/mm-bugs.js";
import { LOCK_SITES } from "../../src/mm/switches.js";
import { verifyCheck, verifyTimed, withFix } from "../../src/scenario/bugs.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";
import type { Scenario } from "../../src/scenario/schema.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

function builtin(name: string): Scenario {
  const file = path.join(ROOT, "scenarios", `${name}.yaml`);
  return loadScenario(fs.readFileSync(file, "utf8"), { file, catalog: catalog() });
}

describe("the bug catalog", () => {
  it("every entry names a real fix, a built-in pervma-bug-<short> scenario on a variant with the fix", () => {
    const ids = new Set<string>();
    for (const b of MM_BUGS) {
      expect(ids.has(b.id)).toBe(false);
      ids.add(b.id);
      expect(b.scenario).toBe(`pervma-bug-${b.short}`);
      const s = builtin(b.scenario);
      builtin(b.checkScenario);
      if (b.fix.kind === "site") {
        expect(LOCK_SITES).toContain(b.fix.site);
        expect(s.kernel.disableLockSites).not.toContain(b.fix.site);
      } else expect(s.kernel.switches[b.fix.name] ?? b.fix.fixed).toBe(b.fix.fixed);
      expect(b.kinds.length).toBeGreaterThan(0);
      expect(findMmBug(b.id)).toBe(b);
      expect(findMmBug(b.short)).toBe(b);
      expect(findMmBug(b.id.slice(0, 8))).toBe(b);
    }
  });

  it("withFix switches a site off and on without touching the rest of the scenario", () => {
    const s = builtin("pervma-bug-fork");
    const off = withFix(s, { kind: "site", site: "dup_mmap:vma_start_write" }, false);
    expect(off.kernel.disableLockSites).toEqual(["dup_mmap:vma_start_write"]);
    expect(
      withFix(off, { kind: "site", site: "dup_mmap:vma_start_write" }, true).kernel.disableLockSites,
    ).toEqual([]);
    const sw = withFix(
      s,
      { kind: "switch", name: "anonVmaCheck", fixed: "after-lock", buggy: "before-lock" },
      false,
    );
    expect(sw.kernel.switches.anonVmaCheck).toBe("before-lock");
    expect(s.kernel.switches.anonVmaCheck).toBeUndefined();
    expect(sw.workloads).toBe(s.workloads);
  });

  it("fault injection names only points that take a delay, and failslab only modelled sites", () => {
    const text = (inj: string) =>
      `name: x\nkernel:\n  variant: "6.5"\n  faultInjection:\n${inj}\nworkloads:\n  - type: fault-loop\n`;
    expect(() =>
      loadScenario(text('    delay:\n      "nope:site": 1us'), { file: "f.yaml", catalog: catalog() }),
    ).toThrow(
      /f\.yaml:6:7: kernel\.faultInjection\.delay\.nope:site: found unknown field "nope:site"; allowed: the fields lock_vma_under_rcu:vma_start_read/,
    );
    expect(() =>
      loadScenario(text("    failslab: [kmalloc]"), { file: "f.yaml", catalog: catalog() }),
    ).toThrow(
      /kernel\.faultInjection\.failslab\[0\]: found "kmalloc"; allowed: one of "anon_vma_clone", "vma_iter_clear_gfp"/,
    );
    const ok = loadScenario(
      text('    failslab: [anon_vma_clone]\n    delay:\n      "get_vma_policy:mpol_get": 2us'),
      {
        file: "f.yaml",
        catalog: catalog(),
      },
    );
    expect(ok.kernel.faultInjection?.delay?.["get_vma_policy:mpol_get"]).toBe(2000);
  });

  for (const b of MM_BUGS) {
    describe(`${b.id} (${b.subject})`, () => {
      it("timed driver: fix off gives its finding, fix on gives none (seeds 1..4)", () => {
        const v = verifyTimed(b, builtin(b.scenario), [1, 2, 3, 4]);
        expect(v.offFirst?.kind).toBeDefined();
        expect(b.kinds).toContain(v.offFirst!.kind);
        expect(v.onFindings).toBe(0);
        expect(v.ok).toBe(true);
      }, 120_000);

      it("race checker: fix off violates, fix on holds over the budget", () => {
        const s = builtin(b.scenario);
        const c = verifyCheck(
          b,
          { ...builtin(b.checkScenario), kernel: s.kernel },
          {
            checkBudgetOff: 3000,
            checkBudgetOn: 150,
            // the budgets bound the search here, not the wall clock (a loaded machine must not
            // change how many schedules the test sees)
            checkTimeS: 1e6,
          },
        );
        expect(c.offFinding).not.toBeNull();
        expect(b.kinds).toContain(c.offFinding!.kind);
        expect(c.offSteps).toBeGreaterThan(0);
        expect(c.onFinding).toBeNull();
        expect(c.onSchedules).toBe(150);
      }, 180_000);
    });
  }
});

describe("606c812eb1d5's reproducer", () => {
  it("one failing munmap (count: 1) leaves a detached VMA nothing repairs: every later fault walks to the bound", () => {
    const b = findMmBug("606c812eb1d5")!;
    const s = builtin(b.scenario);
    const off = runScenario(withFix(s, b.fix, false), { seed: 1 });
    // the writer made exactly one munmap (it failed at vma_iter_clear_gfp) and exited
    expect(off.counters.munmap).toBe(1);
    // every finding is counted (the findings list keeps the first 20)
    const livelocks = off.counters.findings_fault_livelock!;
    expect(livelocks).toBeGreaterThan(100);
    // each reported fault made all of its 1,000 walks on detached VMAs (never interrupted by a
    // write-locked VMA): a larger bound would only report later, a smaller one sooner
    expect(off.vmstat.vma_lock_miss).toBeGreaterThanOrEqual(1000 * livelocks);
    expect(off.vmstat.vma_lock_miss).toBeLessThan(1000 * (livelocks + 2));
    const on = runScenario(withFix(s, b.fix, true), { seed: 1 });
    expect(on.counters.munmap).toBe(1);
    expect(on.vmstat.vma_lock_miss).toBe(0);
    expect(on.findings).toEqual([]);
    // the only other aborts are the faults that met the writer's write lock: some, and no more than
    // with the fix on (as many on seeds 2..5; on seed 1 one fault fewer meets it once the timing
    // after the failed munmap differs)
    expect(off.vmstat.vma_lock_abort - livelocks).toBeGreaterThan(0);
    expect(off.vmstat.vma_lock_abort - livelocks).toBeLessThanOrEqual(on.vmstat.vma_lock_abort);
  }, 120_000);
});

describe("9bbffee67ffd's reproducer", () => {
  const b = findMmBug("9bbffee67ffd")!;
  const s = builtin(b.scenario);

  it("fix off: the fault's vma_refcount_put wakes the writer of the child's freed mm, reported as KASAN prints it", () => {
    const off = runScenario(withFix(s, b.fix, false), { seed: 1 });
    const f = off.findings.find((x) => x.kind === "use_after_free")!;
    expect(f.message).toMatch(
      /^BUG: KASAN: slab-use-after-free in rcuwait_wake_up: mm_struct of mm \d+ \(mm_struct\)/,
    );
    const lines = off.dmesg.map((d) => d.line);
    const at = lines.indexOf("BUG: KASAN: slab-use-after-free in rcuwait_wake_up");
    expect(at).toBeGreaterThan(0);
    expect(lines[at - 1]).toBe("==================================================================");
    expect(lines[at + 1]).toMatch(/^Read of size 8 at addr \(mm_struct of mm \d+\) by task pft-0\/\d+$/);
    expect(lines.slice(at, at + 12)).toContain(" which belongs to the cache mm_struct");
    expect(lines.slice(at, at + 12).some((l) => /^Freed by task forker-child\/\d+:$/.test(l))).toBe(true);
    // every recycled VMA that reaches the race falls back to mmap_lock (vma_lock_abort), as with the fix
    expect(off.counters.fork).toBeGreaterThan(100);
  }, 120_000);

  it("fix on: mmgrab keeps the mm alive across the put: no finding over ten seeds", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const on = runScenario(withFix(s, b.fix, true), { seed });
      expect(on.findings).toEqual([]);
      expect(on.counters.fork).toBeGreaterThan(100);
    }
  }, 300_000);

  it("without the injected delays the timed driver does not hit the window (nanoseconds wide)", () => {
    const plain = { ...s, kernel: { ...s.kernel, faultInjection: undefined } } as Scenario;
    for (const seed of [1, 2])
      expect(runScenario(withFix(plain, b.fix, false), { seed }).findings).toEqual([]);
  }, 120_000);
});
