// The same scenario and seed give the same bytes of JSON; another seed gives other bytes where the model
// uses randomness.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { dmesgStamp } from "../../src/report/format.js";
import { RunResult, resultJson } from "../../src/report/result.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");
function run(name: string, seed: number, sets: { path: string; value: string }[] = []): string {
  const s = loadScenario(readFileSync(path.join(DIR, `${name}.yaml`), "utf8"), {
    file: name,
    catalog: catalog(),
    sets,
  });
  const r = runScenario(s, { seed });
  expect(RunResult.safeParse(r).success).toBe(true);
  return resultJson(r);
}

describe("determinism", () => {
  for (const [name, sets] of [
    ["softlockup-demo", []],
    ["pervma-fork-race", []],
    ["pervma-fault-storm", [{ path: "workloads[0].faultsPerThread", value: "2000" }]],
    ["iomap-s2", []],
  ] as const) {
    it(`${name}: same seed, same bytes`, () => {
      const a = run(name, 2, [...sets]);
      const b = run(name, 2, [...sets]);
      expect(a).toBe(b);
    });
  }
  it("the fork race differs between seeds", () => {
    expect(run("pervma-fork-race", 1)).not.toBe(run("pervma-fork-race", 2));
  });
  it("the fork race loses a write on 6.4.0 on most seeds (the scenario's among them) and never on 6.4.3", () => {
    const s = loadScenario(readFileSync(path.join(DIR, "pervma-fork-race.yaml"), "utf8"), {
      file: "f",
      catalog: catalog(),
    });
    const seeds = Array.from({ length: 16 }, (_, i) => i + 1);
    if (!seeds.includes(s.seed ?? 1)) seeds.push(s.seed ?? 1);
    let lost = 0;
    let premise = 0;
    for (const seed of seeds) {
      const bad = runScenario(s, { seed });
      // the COW premise breaks on most seeds (15 of 16 with the measured allocator costs); a lost
      // store needs it (a copy installed while another CPU could still write the old page), and
      // whether one is lost depends on the interleaving
      const cow = bad.findings.some((f) => f.kind === "cow_premise");
      if (cow) premise++;
      if (bad.findings.some((f) => f.kind === "lost_update")) {
        lost++;
        expect(cow).toBe(true);
      } else expect(seed).not.toBe(s.seed ?? 1); // the scenario's own seed shows the lost write
      const fixed = runScenario({ ...s, kernel: { ...s.kernel, variant: "6.4.3" } }, { seed });
      expect(fixed.findings).toEqual([]);
    }
    expect(lost).toBeGreaterThan(seeds.length / 2);
    expect(premise).toBeGreaterThan(seeds.length / 2);
  });
  it("the engine demo reports the soft lockup exactly as dmesg prints it", () => {
    const r = JSON.parse(run("softlockup-demo", 1)) as RunResult;
    const line = r.dmesg.find((d) => d.line.startsWith("watchdog:"));
    expect(line?.cpu).toBe(1);
    expect(dmesgStamp(line?.tNs ?? 0)).toBe("[   24.000000] ");
    expect(line?.line).toMatch(/^watchdog: BUG: soft lockup - CPU#1 stuck for 2\ds! \[spinner:\d+\]$/);
    expect(r.findings.map((f) => f.kind)).toContain("soft_lockup");
  });
});

describe("switches and lock sites reach the models", () => {
  it("6.4.3 without dup_mmap:vma_start_write loses writes like 6.4.0", () => {
    const r = JSON.parse(
      run("pervma-fork-race", 3, [
        { path: "kernel.variant", value: "6.4.3" },
        { path: "kernel.disableLockSites", value: "[dup_mmap:vma_start_write]" },
      ]),
    ) as RunResult;
    expect(r.kernel.disabledLockSites).toEqual(["dup_mmap:vma_start_write"]);
    expect(r.findings.some((f) => f.kind === "lost_update")).toBe(true);
  });
  it("an iomap switch changes the writeback run (5.16 + per-ioend resched: no soft lockup)", () => {
    // the what-if 5 µs per folio makes S2's one 5.2 M-page merged run last past the watchdog
    const whatIf = { path: "machine.costProfile", value: "what-if-slow-vm" };
    const plain = JSON.parse(run("iomap-s2", 1, [whatIf])) as RunResult;
    const jens = JSON.parse(
      run("iomap-s2", 1, [whatIf, { path: "kernel.switches.finishIoendsResched.kind", value: "per-ioend" }]),
    ) as RunResult;
    expect(plain.findings.some((f) => f.kind === "soft_lockup")).toBe(true);
    expect(jens.kernel.switches["finishIoendsResched.kind"]).toBe("per-ioend");
    expect(jens.run).not.toEqual(plain.run);
  });
});
