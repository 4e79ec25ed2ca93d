// The races of steps that never ran (addPendingBacktrackPoints in src/check/exhaustive.ts): a run that
// ends while a CPU still wants to run (here a munmap writer that loops until the faulter is done) must
// not let the exhaustive search call the space covered without trying that CPU's steps earlier.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { exhaustive } from "../../src/check/exhaustive.js";
import { checkTargetFor } from "../../src/scenario/checktarget.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";

function munmapDetachMini(reattach: boolean) {
  const name = "pervma-bug-munmap-detach-mini";
  const file = path.join(import.meta.dirname, "../../scenarios", `${name}.yaml`);
  const field = "kernel.switches.munmapReattachOnError";
  const s = loadScenario(fs.readFileSync(file, "utf8"), {
    file,
    sets: [{ path: field, value: String(reattach), label: `--set ${field}` }],
    catalog: catalog(),
  });
  return checkTargetFor(s, { seed: 1 });
}

describe("exhaustive search: steps still pending when a run ends", () => {
  it("finds bug 606c812eb1d5's livelock, which the writer's pending steps hide from the first run", () => {
    const r = exhaustive(munmapDetachMini(false), { grain: 1e9, maxSchedules: 200, maxMs: 1e12 });
    expect(r.counterexample?.finding?.kind).toBe("fault_livelock");
    expect(r.schedules).toBeGreaterThan(1);
  });

  it("does not call the fixed variant covered after one run: its writer loops for ever", () => {
    const r = exhaustive(munmapDetachMini(true), { grain: 1e9, maxSchedules: 50, maxMs: 1e12 });
    expect(r.counterexample).toBeNull();
    expect(r.schedules).toBe(50);
    expect(r.complete).toBe(false);
  });
});
