// The race checker in the page: a CheckTarget (src/check) built from a scenario or from a
// counterexample file, through the mm model's public entry point mmCheckTarget (src/check/mm.ts).

import type { Counterexample } from "../../src/check/counterexample.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import type { CheckTarget } from "../../src/check/run.js";
import { toMmWorkload } from "../../src/scenario/adapters/mm.js";
import { ModelUnavailableError } from "../../src/scenario/adapters/types.js";
import { findVariant } from "../../src/scenario/catalog.js";
import { catalog } from "../../src/scenario/models.js";
import type { Scenario } from "../../src/scenario/schema.js";
import type { MmWorkload } from "../../src/workloads/mm.js";

/** Explore-mode step budget of one schedule. */
const MAX_STEPS = 20_000;
/** The smallest fork race (one writer, one faulter, one forker): short schedules, fast shrinking. */
export const MINI_WORKLOADS: MmWorkload[] = [{ type: "fork-race-mini" }];

export function scenarioTarget(
  s: Scenario,
  seed: number,
  workloads: "scenario" | "mini",
  kinds: readonly string[] = [],
): CheckTarget {
  const v = findVariant(catalog(), s.kernel.variant);
  if (v?.model !== "mm")
    throw new ModelUnavailableError(
      `the checker in the page explores the per-VMA-lock model (mm variants); ${s.kernel.variant} is ${v ? `a ${v.model} variant` : "unknown"}`,
    );
  const ws = workloads === "mini" ? MINI_WORKLOADS : s.workloads.filter((w) => w.enabled).map(toMmWorkload);
  const t = mmCheckTarget(
    {
      variant: v.name,
      switches: { ...s.kernel.switches },
      disableLockSites: s.kernel.disableLockSites,
      cpus: s.machine.cpus,
      seed,
      preempt: s.machine.preemption,
      workloads: ws,
    },
    { name: `${s.name}:${v.name}`, maxSteps: MAX_STEPS, ...(kinds.length > 0 ? { kinds } : {}) },
  );
  return {
    ...t,
    describe: { ...t.describe, scenario: s.name, cpus: s.machine.cpus, preempt: s.machine.preemption },
  };
}

/** Rebuilds the target a counterexample was found on, from what its file describes. */
export function counterexampleTarget(cx: Counterexample): CheckTarget {
  const d = cx.describe as {
    model?: string;
    kernel?: string;
    seed?: number;
    cpus?: number;
    preempt?: "none" | "voluntary" | "full" | "lazy";
    disabledSites?: string[];
    switches?: Record<string, unknown>;
    workloads?: MmWorkload[];
  };
  if (d.model !== undefined && d.model !== "mm")
    throw new ModelUnavailableError(
      `counterexamples of the ${d.model} model cannot be replayed in the page yet`,
    );
  if (!d.kernel || !Array.isArray(d.workloads))
    throw new ModelUnavailableError(
      "this counterexample file does not describe its kernel and workloads (describe.kernel, describe.workloads)",
    );
  const cpus = d.cpus ?? Math.max(1, ...cx.choices.map((c) => c + 1));
  return mmCheckTarget(
    {
      variant: d.kernel,
      switches: d.switches ?? {},
      disableLockSites: d.disabledSites ?? [],
      cpus,
      seed: d.seed ?? 1,
      ...(d.preempt ? { preempt: d.preempt } : {}),
      workloads: d.workloads,
    },
    // The file records the violation it shows; other findings on the way (e.g. cow_premise before a
    // lost_update) must not stop the replay early.
    { name: cx.target, maxSteps: Math.max(MAX_STEPS, cx.choices.length + 1), kinds: [cx.finding.kind] },
  );
}
