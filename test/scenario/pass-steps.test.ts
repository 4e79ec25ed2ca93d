// Steps passed in place (Machine.passSteps, the engine guide) change nothing: the writeback and
// engine scenarios give byte-identical results JSON with them on and off (`--no-fast-paths` turns
// them off; the mm scenarios are compared by test/mm/fastpaths.test.ts with the mm fast paths).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resultJson } from "../../src/report/result.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");

function run(
  name: string,
  sets: { path: string; value: string }[],
  seed: number,
  fastPaths: boolean,
): string {
  const text = readFileSync(path.join(DIR, `${name}.yaml`), "utf8");
  const s = loadScenario(text, { file: name, catalog: catalog(), sets });
  return resultJson(runScenario(s, { seed, fastPaths }));
}

const CASES: [string, string, { path: string; value: string }[]][] = [
  ["iomap-s2", "5.16", [{ path: "stop.time", value: "3s" }]],
  ["iomap-s2", "5.17", [{ path: "stop.time", value: "3s" }]],
  ["iomap-s7", "5.17", [{ path: "stop.time", value: "2s" }]],
  ["softlockup-demo", "generic", [{ path: "stop.time", value: "24s" }]],
];

describe("steps passed in place on and off give the same results JSON", () => {
  for (const [name, variant, sets] of CASES) {
    it(`${name} on ${variant}`, () => {
      const all = [...sets, { path: "kernel.variant", value: variant }];
      for (const seed of [1, 7]) {
        const on = run(name, all, seed, true);
        expect(run(name, all, seed, false)).toBe(on);
        expect(on.length).toBeGreaterThan(1000);
      }
    });
  }
});
