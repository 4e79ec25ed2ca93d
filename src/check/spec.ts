// Check targets rebuilt from plain data (CheckTarget.spec), e.g. in the worker threads of a
// parallel exhaustive search.
import { type FsCheckConfig, fsCheckTarget, type IomapCheckConfig, iomapCheckTarget } from "./iomap.js";
import { type MmScenarioConfig, mmCheckTarget } from "./mm.js";
import type { CheckTarget, CheckTargetSpec } from "./run.js";

export function targetFromSpec(spec: CheckTargetSpec): CheckTarget {
  switch (spec.model) {
    case "mm":
      return mmCheckTarget(spec.config as unknown as MmScenarioConfig, spec.options);
    case "iomap":
      return iomapCheckTarget(spec.config as unknown as IomapCheckConfig);
    case "fs":
      return fsCheckTarget(spec.config as unknown as FsCheckConfig, spec.options);
  }
}
