// The model's state belongs to a model instance: ioend ids start at 1 in every FsModel, whatever ran
// before in the same process (compare, sweeps and the web worker run many models in one process).
import { describe, expect, it } from "vitest";
import { builtinFsScenario as iomapScenario } from "../../src/cli/scenarios.js";
import { setupFsScenario } from "../../src/scenario/iomap.js";

function runToEnd(variant: string) {
  const cfg = iomapScenario("iomap-s7", { variant });
  const { m, run } = setupFsScenario(cfg);
  for (let g = 0; g < 10_000 && !run.done() && m.now < cfg.limitNs; g++) m.run(m.now + 50e6);
  m.finish();
  return run.fs;
}

describe("per-model ids", () => {
  it("every model numbers its ioends from 1", () => {
    const a = runToEnd("5.16");
    const b = runToEnd("5.16");
    expect(a.stats.ioendsBuilt).toBeGreaterThan(0);
    expect(a.nextIoendId).toBe(a.stats.ioendsBuilt + 1);
    expect(b.nextIoendId).toBe(b.stats.ioendsBuilt + 1);
    expect(b.nextIoendId).toBe(a.nextIoendId);
  });
});
