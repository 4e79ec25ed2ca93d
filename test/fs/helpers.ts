// Small helpers for the fs tests: presets with overrides, scaled-down files.

import { builtinFsScenario as iomapScenario } from "../../src/cli/scenarios.js";
import { type FsResult, type FsScenarioOverrides, runFsScenario } from "../../src/scenario/iomap.js";

export function run(name: string, over: FsScenarioOverrides = {}): FsResult {
  return runFsScenario(iomapScenario(name, over));
}

export const GIB = 2 ** 30;
export const MIB = 2 ** 20;

/** S2's shape (non-adjacent unwritten extents, pre-dirtied, fsync, 5 s batching) at a smaller size. */
export function smallS2(
  variant: string,
  extents: number,
  extentPages: number,
  over: FsScenarioOverrides = {},
): FsResult {
  const bytes = extents * extentPages * 4096;
  return run("iomap-s2", {
    variant,
    files: [
      {
        name: "frag",
        bytes,
        layout: { extentBytes: extentPages * 4096, gapBytes: MIB },
        initial: "unwritten",
        predirtyBytes: bytes,
      },
    ],
    ...over,
  });
}
