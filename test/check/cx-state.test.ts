// The counterexample's per-step state at the finding's page (PTE, each CPU's TLB entry, the VMA and
// its lock), read from the mm model during the replay: on 6.4.0's fork race it shows the stale
// writable TLB entry beside the write-protected PTE, and the breaking step's new frame.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/checker.js";
import { findingVpn, formatStepTable, replay } from "../../src/check/counterexample.js";
import { runOnce } from "../../src/check/run.js";
import { RandomStrategy } from "../../src/check/strategy.js";
import { checkTargetFor } from "../../src/scenario/checktarget.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";

const file = path.join(import.meta.dirname, "../../scenarios/pervma-fork-race-mini.yaml");

function target(variant: string) {
  const s = loadScenario(readFileSync(file, "utf8"), {
    file,
    catalog: catalog(),
    sets: [{ path: "kernel.variant", value: variant }],
  });
  return checkTargetFor(s, { seed: 1, kinds: ["lost_update"] });
}

describe("counterexample step state", () => {
  it("finds the page a finding names", () => {
    expect(findingVpn("load at 0x10000 word 1 on cpu0 read 6")).toBe(16);
    expect(findingVpn("no address")).toBe(-1);
  });

  it("shows the stale TLB entry, the VMA lock and the lost write's step on 6.4.0", () => {
    const t = target("6.4.0");
    const r = check(t, { strategy: "random", budget: 2000, seed: 1 });
    expect(r.verdict).toBe("violation");
    const cx = r.counterexample!;
    const rep = replay(t, cx);
    expect(rep.reproduced).toBe(true);
    expect(rep.rows.every((row) => row.state !== undefined)).toBe(true);
    const states = rep.rows.map((row) => row.state!);
    for (const st of states) expect(st.tlb).toHaveLength(t.cpus);
    // after dup_mmap's wrprotect: the PTE is read-only in the parent while some CPU still caches it writable
    const stale = states.findIndex((st) => {
      const m = /mm0: frame (\d+) RO/.exec(st.pte);
      return m !== null && st.tlb.some((e) => e.includes(`mm0: frame ${m[1]} RW`));
    });
    expect(stale).toBeGreaterThanOrEqual(0);
    // the fault holds the parent's VMA read-locked while that entry is stale: dup_mmap never write-locked it
    expect(states.slice(stale).some((st) => /mm0: vma#\d+\S* read-locked x1/.test(st.vma))).toBe(true);
    expect(states.some((st) => /write-locked/.test(st.vma))).toBe(false);
    // at the last (breaking) step the parent maps a new frame: wp_page_copy installed the copy
    const lastPte = /mm0: frame (\d+) RW/.exec(states.at(-1)!.pte);
    const stalePte = /mm0: frame (\d+) RO/.exec(states[stale]!.pte)!;
    expect(lastPte).not.toBeNull();
    expect(lastPte![1]).not.toBe(stalePte[1]);
    // the text step table is unchanged by the state (it stays CPU columns only)
    expect(formatStepTable(rep.rows, t.cpus)[0]).toMatch(/^ step {2}CPU/);
  });

  it("shows the VMA write-locked by dup_mmap on 6.4.3", () => {
    const t = target("6.4.3");
    const r = check(t, { strategy: "random", budget: 50, seed: 1 });
    expect(r.verdict).not.toBe("violation");
    // replay one random schedule to look at the states of a whole run
    const o = runOnce(t, new RandomStrategy(1));
    const rep = replay(t, {
      faultline: "counterexample",
      version: 1,
      target: t.name,
      describe: t.describe ?? {},
      finding: { kind: "lost_update", message: "at 0x10000", cpus: [] },
      choices: o.choices,
      steps: o.choices.length,
      cpus: 0,
      switches: 0,
      labels: [],
    });
    expect(
      rep.rows.some((row) => /mm0: vma#\d+\S* write-locked \(vm_lock_seq \d+\)/.test(row.state!.vma)),
    ).toBe(true);
  });
});
