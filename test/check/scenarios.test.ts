// Every built-in scenario of the per-VMA-lock model: whatever the timed driver finds on some seed,
// the race checker finds too, with the random and the PCT strategy (issue 13). The timed runs decide
// what is expected, so the test follows the model: a variant whose timed runs find nothing asks
// nothing of the checker.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/checker.js";
import { replay } from "../../src/check/counterexample.js";
import { checkTargetFor, findingKindsOf } from "../../src/scenario/checktarget.js";
import { loadScenario, type SetOption } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";
import type { Scenario } from "../../src/scenario/schema.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");
const SEEDS = [1, 2];

function load(name: string, sets: SetOption[]): Scenario {
  const file = path.join(DIR, `${name}.yaml`);
  return loadScenario(fs.readFileSync(file, "utf8"), { file, sets, catalog: catalog() });
}

/** The built-in scenarios whose kernel is a per-VMA-lock (mm) variant. */
const MM_SCENARIOS = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.slice(0, -5))
  .filter((n) => {
    const s = load(n, []);
    return catalog().variants.find((v) => v.name === s.kernel.variant)?.model === "mm";
  })
  .sort();

/** The variants a scenario compares (or its own), and the fork race with its fix's lock site off. */
function cases(name: string): { label: string; sets: SetOption[] }[] {
  const s = load(name, []);
  const variants = s.compare ?? [s.kernel.variant];
  const out = variants.map((v) => ({
    label: v,
    sets: [{ path: "kernel.variant", value: v, label: `--kernel ${v}` }],
  }));
  if (name === "pervma-fork-race")
    out.push({
      label: "6.4.3 without dup_mmap:vma_start_write",
      sets: [
        { path: "kernel.variant", value: "6.4.3", label: "--kernel 6.4.3" },
        {
          path: "kernel.disableLockSites",
          value: "[dup_mmap:vma_start_write]",
          label: "--set kernel.disableLockSites",
        },
      ],
    });
  return out;
}

/**
 * The checker's first seed (schedule i uses seed + i): 1, except where the strategy hits the finding
 * rarely. PCT (depth 3) hits the fork race's lost_update about once in 2,000 schedules: among the
 * schedules seeded 1..4376, only 3593 and 4376 lose a write (6.4.0, and 6.4.3 without the lock site;
 * with the measured page-allocator costs, calib/page_batches.sh). Starting at seed 1 the search spent
 * 3,592 schedules (100 s of CPU, a quarter of the whole suite's) on misses before the first hit;
 * the window of 4,000 schedules starting at 3501 holds both hits, so the search still has to find
 * one among misses and the budget still bounds it.
 */
function firstSeed(name: string, kind: string, strategy: "random" | "pct"): number {
  return name === "pervma-fork-race" && kind === "lost_update" && strategy === "pct" ? 3501 : 1;
}

describe("the race checker finds what the timed driver finds, on every built-in mm scenario", () => {
  it("covers the built-in mm scenarios", () => {
    expect(MM_SCENARIOS).toEqual(expect.arrayContaining(["pervma-check-small", "pervma-fork-race"]));
  });
  for (const name of MM_SCENARIOS)
    for (const c of cases(name))
      it(`${name} on ${c.label}`, () => {
        const s = load(name, c.sets);
        const timed = new Set<string>();
        for (const seed of SEEDS) for (const f of runScenario(s, { seed }).findings) timed.add(f.kind);
        // `check --kind` accepts every kind a run reports
        expect(findingKindsOf("mm")).toEqual(expect.arrayContaining([...timed]));
        for (const kind of [...timed].sort())
          for (const strategy of ["random", "pct"] as const) {
            const t = checkTargetFor(s, { seed: SEEDS[0]!, kinds: [kind] });
            // a schedule budget, not a wall-time one: the verdict is the same on any machine
            const r = check(t, {
              strategy,
              budget: 4000,
              timeS: 1e9,
              seed: firstSeed(name, kind, strategy),
              shrink: false,
            });
            expect(r.counterexample?.finding.kind, `${strategy} finds ${kind}`).toBe(kind);
            // the counterexample (warm start included) replays to the same finding
            expect(replay(t, r.counterexample!).reproduced).toBe(true);
          }
      }, 900_000);
});
