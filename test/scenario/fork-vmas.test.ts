// The fork workload's `vmas` field (a process with many one-page VMAs before it forks) is part of
// the scenario schema: validated, in the JSON Schema, and reaching the model.
import { describe, expect, it } from "vitest";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";
import { scenarioJsonSchema } from "../../src/scenario/schema.js";

const yaml = (vmas: string) => `name: fork-vmas
machine:
  cpus: 2
kernel:
  variant: "6.4.3"
workloads:
  - type: fork
    count: 2
${vmas}
stop:
  time: 1s
`;

const load = (text: string) => loadScenario(text, { file: "f.yaml", catalog: catalog() });

describe("fork workload vmas", () => {
  it("reaches the model: more VMAs, longer simulated forks", () => {
    const simNs = (v: string) => runScenario(load(yaml(v)), { seed: 1 }).run.simTimeNs;
    const none = simNs("");
    const some = simNs("    vmas: 1000");
    const more = simNs("    vmas: 2000");
    expect(some).toBeGreaterThan(none);
    // fork is linear in the VMAs: the second thousand costs about what the first did (besides the faults)
    expect(more - some).toBeGreaterThan(0.5 * (some - none));
    expect(more - some).toBeLessThan(1.5 * (some - none));
  });

  it("rejects what is not a VMA count, naming file, line and field", () => {
    expect(() => load(yaml("    vmas: -5"))).toThrow(
      /f\.yaml:9:11: workloads\[0\]\.vmas: found -5; allowed: an integer from 0 to 100000/,
    );
    expect(() => load(yaml("    vmas: 2.5"))).toThrow(
      /workloads\[0\]\.vmas: found 2\.5; allowed: an integer/,
    );
    expect(() => load(yaml("    vmas: lots"))).toThrow(/workloads\[0\]\.vmas: found "lots"/);
  });

  it("is in the JSON Schema", () => {
    const js = JSON.stringify(scenarioJsonSchema());
    expect(js).toMatch(/"vmas":\{[^}]*"maximum":100000/);
  });
});
