// The built-in scenarios: each loads against the catalog, and the YAML of iomap-s1..s8 says exactly what
// the fs model's presets (src/scenario/iomap.ts) say.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FS_CONFIG_DEFAULTS } from "../../src/fs/fs.js";
import { toFileSpec, toTaskSpec } from "../../src/scenario/adapters/fs.js";
import { IOMAP_SCENARIOS } from "../../src/scenario/iomap.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import type { TaskSpec } from "../../src/workloads/iomap.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");
const load = (name: string) =>
  loadScenario(readFileSync(path.join(DIR, `${name}.yaml`), "utf8"), {
    file: `${name}.yaml`,
    catalog: catalog(),
  });

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

function normTask(t: TaskSpec): Record<string, unknown> {
  if (t.kind !== "writer") return { ...t };
  return {
    ...t,
    comm: t.comm ?? "fio",
    writeBytes: t.writeBytes ?? 2 ** 20,
    startNs: t.startNs ?? 0,
    jobs: t.jobs.map((j) => ({
      file: j.file,
      bytes: j.bytes,
      offsetBytes: j.offsetBytes ?? 0,
      fsync: j.fsync ?? false,
    })),
  };
}

describe("iomap-s1..s8 YAML agree with the fs presets", () => {
  for (const [name, p] of Object.entries(IOMAP_SCENARIOS)) {
    it(name, () => {
      const s = load(name);
      expect(s.kernel.variant).toBe(p.variant);
      expect(s.machine).toMatchObject({
        cpus: p.machine.cpus,
        preemption: p.machine.preempt,
        hz: p.machine.hz,
        costProfile: p.costProfile,
        watchdogThresh: p.machine.watchdogThreshS,
        watchdogStyle: p.machine.watchdogStyle,
        rcuStallTimeout: p.machine.rcuStallTimeoutS,
        debugAtomicSleep: p.machine.debugAtomicSleep,
        jitter: p.machine.jitter,
      });
      expect(s.stop.time).toBe(p.limitNs);
      expect(s.seed).toBe(p.seed);
      expect(s.fs?.device).toBe(p.device);
      expect(s.fs?.files.map(toFileSpec)).toEqual(p.files);
      expect(s.workloads.map(toTaskSpec).map(normTask)).toEqual(p.tasks.map(normTask));
      const fs = { ...FS_CONFIG_DEFAULTS, ...p.fs };
      expect(s.fs).toMatchObject({
        kind: fs.fsKind,
        endIoDelay: fs.endIoDelayNs,
        folioSize: 4096 * 2 ** fs.folioOrder,
        physRun: fs.physRunBytes,
        memory: fs.memBytes,
        dirtyRatio: fs.dirtyRatio,
        dirtyBackgroundRatio: fs.dirtyBackgroundRatio,
        flusherCpu: fs.flusherCpu,
      });
    });
  }
});
