// The scenario loader: the bad-input corpus (exact messages), --set overrides, and a property test that
// no document, however random, makes the loader throw anything but a ScenarioError.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ScenarioError } from "../../src/scenario/errors.js";
import { loadScenario, parseSetPath } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { scenarioSeeds } from "../../src/scenario/schema.js";

const BAD = path.join(import.meta.dirname, "../fixtures/bad");
const SCENARIOS = path.join(import.meta.dirname, "../../scenarios");

const VALID = `name: ok
machine:
  cpus: 2
  preemption: none
kernel:
  variant: generic
workloads:
  - type: kthread-spin
    cpu: 1
    duration: 25s
stop:
  time: 30s
`;

function errorOf(text: string, file = "t.yaml", sets: { path: string; value: string }[] = []): string {
  try {
    loadScenario(text, { file, catalog: catalog(), sets });
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error("expected a ScenarioError");
}

describe("bad-input corpus (test/fixtures/bad)", () => {
  const files = readdirSync(BAD).filter((f) => /\.(ya?ml|json)$/.test(f));
  it("has a case for each kind of bad input", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });
  for (const f of files) {
    it(f, () => {
      const expected = readFileSync(
        path.join(BAD, f.replace(/\.(ya?ml|json)$/, ".expected")),
        "utf8",
      ).trimEnd();
      expect(errorOf(readFileSync(path.join(BAD, f), "utf8"), f)).toBe(expected);
    });
  }
});

describe("messages", () => {
  it("name file, line, column, field, what was found and what is allowed", () => {
    const msg = errorOf(VALID.replace("cpus: 2", "cpus: 0"), "x.yaml");
    expect(msg).toBe("x.yaml:3:9: machine.cpus: found 0; allowed: an integer from 1 to 256");
  });
  it("attribute --set overrides to the option, not to the file", () => {
    expect(errorOf(VALID, "x.yaml", [{ path: "machine.preemption", value: "fully" }])).toBe(
      '--set machine.preemption=fully: machine.preemption: found "fully"; allowed: one of "none", "voluntary", "full", "lazy"',
    );
  });
  it("report every problem, in file order", () => {
    const msg = errorOf(VALID.replace("cpus: 2", "cpus: x").replace("duration: 25s", "duration: 25q"));
    expect(msg.split("\n")).toHaveLength(2);
    expect(msg.split("\n")[0]).toMatch(/^t\.yaml:3:9: machine\.cpus/);
    expect(msg.split("\n")[1]).toMatch(/^t\.yaml:10:15: workloads\[0\]\.duration/);
  });
});

describe("--set", () => {
  it("parses dotted and indexed paths", () => {
    expect(parseSetPath("workloads[1].threads")).toEqual(["workloads", 1, "threads"]);
    expect(parseSetPath("workloads.1.threads")).toEqual(["workloads", 1, "threads"]);
    expect(parseSetPath("kernel.switches.forkLockVmas")).toEqual(["kernel", "switches", "forkLockVmas"]);
    expect(parseSetPath("a..b")).toBeUndefined();
    expect(parseSetPath("")).toBeUndefined();
  });
  it("parses values as YAML, except where the schema wants a string", () => {
    const s = loadScenario(VALID, {
      file: "t",
      catalog: catalog(),
      sets: [
        { path: "machine.cpus", value: "4" },
        { path: "workloads[0].condReschedEvery", value: "1ms" },
        { path: "title", value: "5.10" },
      ],
    });
    expect(s.machine.cpus).toBe(4);
    expect(s.workloads[0]).toMatchObject({ condReschedEvery: 1_000_000, duration: 25e9 });
    expect(s.title).toBe("5.10");
  });
  it("keeps variant names such as 5.16 as strings", () => {
    const text = readFileSync(path.join(SCENARIOS, "iomap-s2.yaml"), "utf8");
    const s = loadScenario(text, {
      file: "s2",
      catalog: catalog(),
      sets: [{ path: "kernel.variant", value: "5.17" }],
    });
    expect(s.kernel.variant).toBe("5.17");
  });
});

describe("seeds", () => {
  it("a range A..B, a list, or one seed", () => {
    expect(scenarioSeeds(loadScenario(`${VALID}seeds: 3..5\n`, { file: "t" }))).toEqual([3, 4, 5]);
    expect(scenarioSeeds(loadScenario(`${VALID}seeds: [7, 9]\n`, { file: "t" }))).toEqual([7, 9]);
    expect(scenarioSeeds(loadScenario(`${VALID}seed: 42\n`, { file: "t" }))).toEqual([42]);
    expect(scenarioSeeds(loadScenario(VALID, { file: "t" }))).toEqual([1]);
  });
});

describe("property: the loader never crashes", () => {
  const outcome = (text: string, sets: { path: string; value: string }[] = []) => {
    try {
      loadScenario(text, { file: "p.yaml", catalog: catalog(), sets });
      return "ok";
    } catch (e) {
      if (e instanceof ScenarioError) return "error";
      throw e;
    }
  };

  it("on random text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (t) => ["ok", "error"].includes(outcome(t))),
      { numRuns: 300 },
    );
  });

  it("on random YAML documents", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => ["ok", "error"].includes(outcome(stringify(v)))),
      { numRuns: 300 },
    );
  });

  it("on valid scenarios with one field replaced by a random value", () => {
    const base = VALID;
    const paths = [
      "name",
      "machine",
      "machine.cpus",
      "machine.hz",
      "kernel",
      "kernel.variant",
      "kernel.switches",
      "workloads",
      "workloads[0]",
      "workloads[0].type",
      "workloads[0].cpu",
      "workloads[0].duration",
      "stop",
      "stop.time",
      "seed",
      "seeds",
      "report",
      "report.percentiles",
    ];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (p, v) =>
        ["ok", "error"].includes(outcome(base, [{ path: p, value: JSON.stringify(v) ?? "null" }])),
      ),
      { numRuns: 400 },
    );
  });

  it("on mutated built-in scenarios", () => {
    const texts = readdirSync(SCENARIOS).map((f) => readFileSync(path.join(SCENARIOS, f), "utf8"));
    fc.assert(
      fc.property(fc.constantFrom(...texts), fc.nat(), fc.string({ maxLength: 8 }), (t, at, ins) => {
        const i = at % (t.length + 1);
        return ["ok", "error"].includes(outcome(t.slice(0, i) + ins + t.slice(i)));
      }),
      { numRuns: 300 },
    );
  });

  it("on alias bombs", () => {
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
    expect(outcome(bomb)).toBe("error");
  });
});
