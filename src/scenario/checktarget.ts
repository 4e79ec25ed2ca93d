// Race-checker targets from scenarios: the scenario's per-VMA-lock model and workloads, built in the
// explore driver for src/check; and the same target rebuilt from a counterexample file. Browser-safe.

import type { Counterexample } from "../check/counterexample.js";
import { type MmScenarioConfig, mmCheckTarget } from "../check/mm.js";
import type { CheckTarget } from "../check/run.js";
import { parseWarmStart, type WarmStart } from "../check/warm.js";
import type { MmWorkload } from "../workloads/mm.js";
import { toMmWorkload } from "./adapters/mm.js";
import { ModelUnavailableError } from "./adapters/types.js";
import { type Catalog, findVariant } from "./catalog.js";
import { catalog as defaultCatalog } from "./models.js";
import { effectiveKnobs } from "./run.js";
import type { Scenario } from "./schema.js";

export interface CheckTargetOptions {
  seed: number;
  /** Step budget of one explored run. */
  maxSteps?: number;
  /** Finding kinds that count as violations (default: every finding). */
  kinds?: readonly string[];
  catalog?: Catalog;
  /** Warm start (overrides the scenario's check.warmStart; null: none). */
  warmStart?: WarmStart | null;
}

/** The warm start a scenario asks for (check.warmStart), if any. */
export function scenarioWarmStart(s: Scenario): WarmStart | undefined {
  const w = s.check?.warmStart;
  if (w === undefined) return undefined;
  if (typeof w === "string") return parseWarmStart(w, () => undefined);
  return { timeNs: w.time };
}

const DEFAULT_MAX_STEPS = 20_000;

/** The check target of a scenario: its mm variant, switches, disabled sites and workloads. */
export function checkTargetFor(s: Scenario, o: CheckTargetOptions): CheckTarget {
  const cat = o.catalog ?? defaultCatalog();
  const variant = findVariant(cat, s.kernel.variant);
  if (!variant) throw new ModelUnavailableError(`unknown kernel variant ${s.kernel.variant}`);
  if (variant.model !== "mm")
    throw new ModelUnavailableError(
      `the race checker explores the per-VMA-lock model; ${variant.name} is a ${variant.model} variant (try 6.3, 6.4.0, 6.4.3 or 6.15)`,
    );
  const { switches, costs } = effectiveKnobs(s, variant, cat);
  const cfg: MmScenarioConfig = {
    variant: variant.name,
    switches,
    disableLockSites: [...s.kernel.disableLockSites],
    ...(s.kernel.faultInjection !== undefined ? { inject: s.kernel.faultInjection } : {}),
    cpus: s.machine.cpus,
    seed: o.seed,
    preempt: s.machine.preemption,
    costs,
    workloads: s.workloads.filter((w) => w.enabled).map(toMmWorkload),
  };
  const warm = o.warmStart === undefined ? scenarioWarmStart(s) : (o.warmStart ?? undefined);
  return fromConfig(cfg, s.name, o.maxSteps ?? DEFAULT_MAX_STEPS, o.kinds, warm);
}

function fromConfig(
  cfg: MmScenarioConfig,
  scenario: string,
  maxSteps: number,
  kinds?: readonly string[],
  warmStart?: WarmStart,
): CheckTarget {
  const t = mmCheckTarget(cfg, {
    name: `${scenario}@${cfg.variant}`,
    maxSteps,
    ...(kinds ? { kinds } : {}),
    ...(warmStart ? { warmStart } : {}),
  });
  return {
    ...t,
    describe: {
      scenario,
      model: "mm",
      kernel: cfg.variant,
      seed: cfg.seed ?? 1,
      cpus: cfg.cpus,
      preempt: cfg.preempt ?? "none",
      switches: cfg.switches ?? {},
      disabledSites: [...(cfg.disableLockSites ?? [])],
      ...(cfg.inject !== undefined ? { inject: cfg.inject } : {}),
      costs: cfg.costs ?? {},
      workloads: cfg.workloads,
      maxSteps,
      kinds: kinds ? [...kinds] : null,
      // the timed prefix the schedule starts after (replay runs it again: it is deterministic)
      ...(warmStart ? { warmStart } : {}),
    },
  };
}

/** Rebuild the target a counterexample was found on (its file holds everything needed). */
export function targetFromCounterexample(cx: Counterexample): CheckTarget {
  const d = cx.describe as Record<string, unknown>;
  if (d.model !== "mm")
    throw new ModelUnavailableError(`counterexample of an unknown model: ${String(d.model)}`);
  const cfg: MmScenarioConfig = {
    variant: String(d.kernel),
    switches: (d.switches ?? {}) as Record<string, unknown>,
    disableLockSites: (d.disabledSites ?? []) as string[],
    ...(d.inject !== undefined ? { inject: d.inject as MmScenarioConfig["inject"] } : {}),
    cpus: Number(d.cpus),
    seed: Number(d.seed),
    preempt: (d.preempt ?? "none") as MmScenarioConfig["preempt"],
    costs: (d.costs ?? {}) as MmScenarioConfig["costs"],
    workloads: (d.workloads ?? []) as MmWorkload[],
  };
  const kinds = Array.isArray(d.kinds) ? (d.kinds as string[]) : undefined;
  const warm = (d.warmStart ?? undefined) as WarmStart | undefined;
  return fromConfig(
    cfg,
    String(d.scenario ?? cx.target),
    Number(d.maxSteps ?? DEFAULT_MAX_STEPS),
    kinds,
    warm,
  );
}

/** Validate the shape of a parsed counterexample file; returns a problem description or null. */
export function counterexampleProblem(doc: unknown): string | null {
  if (typeof doc !== "object" || doc === null) return "not a JSON object";
  const o = doc as Record<string, unknown>;
  if (o.faultline !== "counterexample") return 'field "faultline": expected "counterexample"';
  if (o.version !== 1) return `field "version": found ${JSON.stringify(o.version)}, allowed 1`;
  if (!Array.isArray(o.choices) || !o.choices.every((c) => Number.isInteger(c) && c >= 0))
    return 'field "choices": expected an array of CPU numbers';
  if (typeof o.describe !== "object" || o.describe === null) return 'field "describe": expected an object';
  const d = o.describe as Record<string, unknown>;
  if (d.model !== "mm") return 'field "describe.model": expected "mm"';
  if (!Number.isInteger(d.cpus) || (d.cpus as number) < 1)
    return 'field "describe.cpus": expected a CPU count';
  if (!Array.isArray(d.workloads)) return 'field "describe.workloads": expected an array';
  if (d.warmStart !== undefined) {
    const w = d.warmStart as Record<string, unknown> | null;
    const ok =
      typeof w === "object" &&
      w !== null &&
      (typeof w.event === "string" ? Number.isInteger(w.count ?? 1) : Number.isSafeInteger(w.timeNs));
    if (!ok) return 'field "describe.warmStart": expected {event, count} or {timeNs}';
  }
  if (typeof o.finding !== "object" || o.finding === null) return 'field "finding": expected an object';
  return null;
}
