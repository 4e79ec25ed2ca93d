// The built-in scenarios: each loads against the catalog, and the YAML of iomap-s1..s8 says exactly what
// the fs model's presets (src/scenario/iomap.ts) say.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { toFileSpec, toTaskSpec } from "../../src/scenario/adapters/fs.js";
import { fsScenarioFromYaml } from "../../src/scenario/iomap.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");
const load = (name: string) =>
  loadScenario(readFileSync(path.join(DIR, `${name}.yaml`), "utf8"), {
    file: `${name}.yaml`,
    catalog: catalog(),
  });

const names = () =>
  readdirSync(DIR)
    .map((f) => f.replace(/\.yaml$/, ""))
    .filter((n) => n.startsWith("iomap-"));

const REQUIRED = ["pervma-fork-race", "pervma-fault-storm", "pervma-zero-page", "softlockup-demo"];
for (let i = 1; i <= 8; i++) REQUIRED.push(`iomap-s${i}`);

describe("built-in scenarios", () => {
  const names = readdirSync(DIR).map((f) => f.replace(/\.yaml$/, ""));
  it("include the required names", () => {
    for (const n of REQUIRED) expect(names).toContain(n);
  });
  for (const n of names) {
    it(`${n} loads, has a title, and its name matches the file`, () => {
      const s = load(n);
      expect(s.name).toBe(n);
      expect(s.title?.length ?? 0).toBeGreaterThan(10);
      for (const v of s.compare ?? []) expect(catalog().variants.some((x) => x.name === v)).toBe(true);
    });
  }
  it("pervma-fault-storm has a switch for the mmap writer", () => {
    const s = load("pervma-fault-storm");
    expect(s.workloads[1]).toMatchObject({ type: "mmap-writer", enabled: true });
  });
});

describe("iomap-s1..s8: the YAML is the scenario (the fs runner reads it)", () => {
  for (const name of names()) {
    it(name, () => {
      const s = load(name);
      const text = readFileSync(path.join(DIR, `${name}.yaml`), "utf8");
      const c = fsScenarioFromYaml(text, `${name}.yaml`);
      expect(c.variant).toBe(s.kernel.variant);
      expect(c.machine).toMatchObject({
        cpus: s.machine.cpus,
        preempt: s.machine.preemption,
        hz: s.machine.hz,
        watchdogStyle: s.machine.watchdogStyle,
        steal: s.machine.steal,
      });
      expect(c.costProfile).toBe(s.machine.costProfile);
      expect(c.limitNs).toBe(s.stop.time);
      expect(c.device).toBe(s.fs?.device);
      expect(c.files).toEqual(s.fs?.files.map(toFileSpec));
      expect(c.tasks).toEqual(s.workloads.map(toTaskSpec));
      expect(c.fs.memBytes).toBe(s.fs?.memory);
    });
  }
});
