// Race-checker targets from scenarios: the scenario's per-VMA-lock model and workloads, built in the
// explore driver for src/check; and the same target rebuilt from a counterexample file. Browser-safe.

import type { Counterexample } from "../check/counterexample.js";
import { fsCheckTarget } from "../check/iomap.js";
import { mmCheckTarget } from "../check/mm.js";
import type { CheckTarget } from "../check/run.js";
import { contextSwitches } from "../check/strategy.js";
import { parseWarmStart, type WarmStart } from "../check/warm.js";
import { FS_INVARIANTS } from "../fs/oracle.js";
import { iomapVariant } from "../kernels/iomap.js";
import { MM_FINDING_KINDS } from "../mm/oracle.js";
import type { MmScenarioConfig } from "../mm/scenario.js";
import { ENGINE_FINDING_KINDS } from "../sim/machine.js";
import { deviceProfile } from "../workloads/iomap.js";
import type { MmWorkload } from "../workloads/mm.js";
import { deviceOverridesOf, fsConfigOf, fsCostsOf, toFileSpec, toTaskSpec } from "./adapters/fs.js";
import { toMmWorkload } from "./adapters/mm.js";
import { ModelUnavailableError } from "./adapters/types.js";
import { type Catalog, findVariant, type VariantInfo } from "./catalog.js";
import { ScenarioError } from "./errors.js";
import { loadScenario } from "./load.js";
import { applySwitches, catalog as defaultCatalog } from "./models.js";
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
  /**
   * mm model: the generator-free forms of uncontended fault steps in a warm start's timed prefix
   * (MmScenarioConfig.fastPaths; default on). The explore driver never uses them.
   */
  fastPaths?: boolean;
}

/** The warm start a scenario asks for (check.warmStart), if any. */
export function scenarioWarmStart(s: Scenario): WarmStart | undefined {
  const w = s.check?.warmStart;
  if (w === undefined) return undefined;
  if (typeof w === "string") return parseWarmStart(w, () => undefined);
  return { timeNs: w.time };
}

const DEFAULT_MAX_STEPS = 20_000;

/**
 * The finding kinds a check of a `model` scenario can report, the model's then the engine's (each
 * once): what `faultline check --kind` accepts.
 */
export function findingKindsOf(model: "mm" | "fs"): readonly string[] {
  const own: readonly string[] = model === "mm" ? MM_FINDING_KINDS : FS_INVARIANTS.map((k) => `fs:${k}`);
  return [...new Set([...own, ...ENGINE_FINDING_KINDS])];
}

/** The check target of a scenario: its mm variant, switches, disabled sites and workloads. */
export function checkTargetFor(s: Scenario, o: CheckTargetOptions): CheckTarget {
  const cat = o.catalog ?? defaultCatalog();
  const variant = findVariant(cat, s.kernel.variant);
  if (!variant) throw new ModelUnavailableError(`unknown kernel variant ${s.kernel.variant}`);
  if (variant.model === "fs") return fsTargetFor(s, variant, cat, o);
  if (variant.model !== "mm")
    throw new ModelUnavailableError(
      `the race checker explores the per-VMA-lock and the writeback models; ${variant.name} is a ${variant.model} variant (try 6.4.0, 6.4.3, 5.16 or 5.17)`,
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
    ...(o.fastPaths !== undefined ? { fastPaths: o.fastPaths } : {}),
  };
  const warm = o.warmStart === undefined ? scenarioWarmStart(s) : (o.warmStart ?? undefined);
  return fromConfig(cfg, s.name, o.maxSteps ?? DEFAULT_MAX_STEPS, o.kinds, warm);
}

/**
 * The check target of a writeback scenario: its fs section, files and workloads on the iomap
 * variant with the scenario's switches, costs and disabled lock sites. The counterexample keeps the
 * whole scenario (describe.scenarioDoc) so that replay rebuilds exactly this target.
 */
function fsTargetFor(s: Scenario, variant: VariantInfo, cat: Catalog, o: CheckTargetOptions): CheckTarget {
  const fs = s.fs;
  if (fs === undefined)
    throw new ModelUnavailableError(
      `variant ${variant.name} is a writeback variant: the scenario needs an fs section`,
    );
  if (o.warmStart !== undefined && o.warmStart !== null)
    throw new ModelUnavailableError(
      "--warm-start: the writeback model has no warm start (it starts at its first write)",
    );
  const { costs } = effectiveKnobs(s, variant, cat);
  const maxSteps = o.maxSteps ?? DEFAULT_MAX_STEPS;
  const t = fsCheckTarget(
    {
      scenario: s.name,
      variant: applySwitches(iomapVariant(variant.name), s.kernel.switches),
      disableLockSites: [...s.kernel.disableLockSites],
      costs: fsCostsOf(s, costs),
      device: deviceProfile(fs.device, deviceOverridesOf(fs)),
      fs: fsConfigOf(fs),
      files: fs.files.map(toFileSpec),
      tasks: s.workloads.filter((w) => w.enabled).map(toTaskSpec),
      cpus: s.machine.cpus,
      hz: s.machine.hz,
      preempt: s.machine.preemption,
      seed: o.seed,
    },
    { maxSteps, ...(o.kinds ? { kinds: o.kinds } : {}) },
  );
  return {
    ...t,
    describe: {
      scenario: s.name,
      model: "fs",
      kernel: variant.name,
      seed: o.seed,
      cpus: s.machine.cpus,
      disabledSites: [...s.kernel.disableLockSites],
      maxSteps,
      kinds: o.kinds ? [...o.kinds] : null,
      scenarioDoc: s,
    },
  };
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
  if (d.model === "fs") {
    const s = loadScenario(JSON.stringify(d.scenarioDoc), { file: "describe.scenarioDoc" });
    const kinds = Array.isArray(d.kinds) ? (d.kinds as string[]) : undefined;
    return checkTargetFor(s, {
      seed: Number(d.seed),
      maxSteps: Number(d.maxSteps ?? DEFAULT_MAX_STEPS),
      ...(kinds ? { kinds } : {}),
    });
  }
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

const MAX_CX_STEPS = 10_000_000;

/** The scenario fields a counterexample's `describe` holds, and back (for error messages). */
const DESCRIBE_FIELDS: [RegExp, string][] = [
  [/^machine\.cpus/, "describe.cpus"],
  [/^machine\.preemption/, "describe.preempt"],
  [/^machine\.costs/, "describe.costs"],
  [/^kernel\.variant/, "describe.kernel"],
  [/^kernel\.switches/, "describe.switches"],
  [/^kernel\.disableLockSites/, "describe.disabledSites"],
  [/^kernel\.faultInjection/, "describe.inject"],
  [/^workloads/, "describe.workloads"],
];

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const show = (v: unknown) => {
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
};

/** The fields `faultline check` derives from the choices (makeCounterexample): the replay prints them, so
 * a file whose counts disagree with its own schedule is refused rather than believed. */
function derivedFieldsProblem(o: Record<string, unknown>, choices: readonly number[]): string | null {
  const expect: [string, number, string][] = [
    ["steps", choices.length, "the number of choices"],
    ["cpus", new Set(choices).size, "the number of distinct choices"],
    ["switches", contextSwitches(choices), "the context switches in the choices"],
  ];
  for (const [field, n, what] of expect)
    if (o[field] !== n) return `field "${field}": found ${show(o[field])}; allowed: ${n} (${what})`;
  const labels = o.labels;
  if (
    !Array.isArray(labels) ||
    labels.length !== choices.length ||
    !labels.every((l) => typeof l === "string" && l.length <= 1000)
  )
    return `field "labels": found ${show(labels)}; allowed: a list of ${choices.length} step names (one per choice)`;
  return null;
}

/** Checks a parsed counterexample file as untrusted input: every field the replay uses, the machine,
 * kernel and workloads through the scenario schema and the catalog (so an unknown kernel, preemption
 * model or CPU count is named as such). Returns the first problem ("field X: found Y; allowed: Z") or null. */
export function counterexampleProblem(doc: unknown, cat: Catalog = defaultCatalog()): string | null {
  if (!isObj(doc)) return `found ${Array.isArray(doc) ? "a list" : show(doc)}; allowed: a JSON object`;
  const o = doc;
  if (o.faultline !== "counterexample")
    return `field "faultline": found ${show(o.faultline)}; allowed: "counterexample"`;
  if (o.version !== 1) return `field "version": found ${show(o.version)}; allowed: 1`;
  if (typeof o.target !== "string" || o.target.length > 1000)
    return `field "target": found ${show(o.target)}; allowed: a string`;
  if (!isObj(o.describe)) return `field "describe": found ${show(o.describe)}; allowed: an object`;
  const d = o.describe;
  if (d.model === "fs") return fsCounterexampleProblem(o, d, cat);
  if (d.model !== "mm") return `field "describe.model": found ${show(d.model)}; allowed: "mm" or "fs"`;
  if (!isInt(d.cpus, 1, 256))
    return `field "describe.cpus": found ${show(d.cpus)}; allowed: an integer from 1 to 256`;
  if (!isInt(d.seed, 0, Number.MAX_SAFE_INTEGER))
    return `field "describe.seed": found ${show(d.seed)}; allowed: an integer from 0 to ${Number.MAX_SAFE_INTEGER}`;
  if (d.maxSteps !== undefined && !isInt(d.maxSteps, 1, MAX_CX_STEPS))
    return `field "describe.maxSteps": found ${show(d.maxSteps)}; allowed: an integer from 1 to ${MAX_CX_STEPS}`;
  if (typeof d.scenario !== "string" || d.scenario.length > 200)
    return `field "describe.scenario": found ${show(d.scenario)}; allowed: a scenario name`;
  if (
    d.kinds !== undefined &&
    d.kinds !== null &&
    !(Array.isArray(d.kinds) && d.kinds.length <= 100 && d.kinds.every((k) => typeof k === "string"))
  )
    return `field "describe.kinds": found ${show(d.kinds)}; allowed: null or a list of finding kinds`;
  if (!Array.isArray(d.workloads) || d.workloads.length > 64)
    return `field "describe.workloads": found ${show(d.workloads)}; allowed: a list of at most 64 workloads`;
  const variant = typeof d.kernel === "string" ? findVariant(cat, d.kernel) : undefined;
  if (variant?.model !== "mm")
    return `field "describe.kernel": found ${show(d.kernel)}; allowed: a per-VMA-lock variant: ${cat.variants
      .filter((v) => v.model === "mm")
      .map((v) => v.name)
      .join(", ")}`;
  // The machine, kernel and workloads as a scenario: the loader checks every value and name.
  const workloads = d.workloads.map((w) => {
    if (!isObj(w)) return w;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(w))
      out[k === "thinkNs" ? "think" : k === "childLifeNs" ? "childLife" : k] = v;
    return out;
  });
  const scenario = {
    name: "counterexample",
    machine: { cpus: d.cpus, preemption: d.preempt ?? "none", costs: d.costs ?? {} },
    kernel: {
      variant: d.kernel,
      switches: d.switches ?? {},
      disableLockSites: d.disabledSites ?? [],
      ...(d.inject !== undefined ? { faultInjection: d.inject } : {}),
    },
    workloads,
  };
  try {
    loadScenario(JSON.stringify(scenario), { file: "describe", catalog: cat });
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const p = e.problems[0]!;
    let field = p.field;
    for (const [re, name] of DESCRIBE_FIELDS) if (re.test(field)) field = field.replace(re, name);
    return `field "${field}": found ${p.found}; allowed: ${p.allowed}`;
  }
  if (!isObj(o.finding) || typeof o.finding.kind !== "string" || typeof o.finding.message !== "string")
    return `field "finding": found ${show(o.finding)}; allowed: an object with kind and message`;
  if (!Array.isArray(o.choices) || o.choices.length > ((d.maxSteps as number | undefined) ?? MAX_CX_STEPS))
    return `field "choices": found ${show(o.choices)}; allowed: a list of at most ${(d.maxSteps as number | undefined) ?? MAX_CX_STEPS} CPU numbers`;
  const cpus = d.cpus;
  // a choice is a CPU's next step, or the time step (numbered cpus: the earliest timer fires)
  const bad = o.choices.findIndex((c) => !isInt(c, 0, cpus));
  if (bad >= 0)
    return `field "choices[${bad}]": found ${show(o.choices[bad])}; allowed: a CPU number from 0 to ${cpus - 1}, or ${cpus} (the time step)`;
  if (d.warmStart !== undefined) {
    const w = d.warmStart;
    const ok =
      isObj(w) &&
      (typeof w.event === "string"
        ? isInt(w.count ?? 1, 1, 1_000_000)
        : isInt(w.timeNs, 0, Number.MAX_SAFE_INTEGER));
    if (!ok)
      return `field "describe.warmStart": found ${show(w)}; allowed: {"event": NAME, "count": N} or {"timeNs": N}`;
  }
  return derivedFieldsProblem(o, o.choices as number[]);
}

/** counterexampleProblem for a writeback counterexample: the scenario it holds, seed, steps, choices. */
function fsCounterexampleProblem(
  o: Record<string, unknown>,
  d: Record<string, unknown>,
  cat: Catalog,
): string | null {
  if (!isInt(d.seed, 0, Number.MAX_SAFE_INTEGER))
    return `field "describe.seed": found ${show(d.seed)}; allowed: an integer from 0 to ${Number.MAX_SAFE_INTEGER}`;
  if (d.maxSteps !== undefined && !isInt(d.maxSteps, 1, MAX_CX_STEPS))
    return `field "describe.maxSteps": found ${show(d.maxSteps)}; allowed: an integer from 1 to ${MAX_CX_STEPS}`;
  if (
    d.kinds !== undefined &&
    d.kinds !== null &&
    !(Array.isArray(d.kinds) && d.kinds.length <= 100 && d.kinds.every((k) => typeof k === "string"))
  )
    return `field "describe.kinds": found ${show(d.kinds)}; allowed: null or a list of finding kinds`;
  if (!isObj(d.scenarioDoc))
    return `field "describe.scenarioDoc": found ${show(d.scenarioDoc)}; allowed: the scenario as an object`;
  let s: Scenario;
  try {
    s = loadScenario(JSON.stringify(d.scenarioDoc), { file: "describe.scenarioDoc", catalog: cat });
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    const p = e.problems[0]!;
    return `field "describe.scenarioDoc.${p.field}": found ${p.found}; allowed: ${p.allowed}`;
  }
  if (findVariant(cat, s.kernel.variant)?.model !== "fs")
    return `field "describe.scenarioDoc.kernel.variant": found ${show(s.kernel.variant)}; allowed: a writeback variant`;
  if (!isObj(o.finding) || typeof o.finding.kind !== "string" || typeof o.finding.message !== "string")
    return `field "finding": found ${show(o.finding)}; allowed: an object with kind and message`;
  const max = (d.maxSteps as number | undefined) ?? MAX_CX_STEPS;
  if (!Array.isArray(o.choices) || o.choices.length > max)
    return `field "choices": found ${show(o.choices)}; allowed: a list of at most ${max} CPU numbers`;
  const cpus = s.machine.cpus;
  const bad = o.choices.findIndex((c) => !isInt(c, 0, cpus));
  if (bad >= 0)
    return `field "choices[${bad}]": found ${show(o.choices[bad])}; allowed: a CPU number from 0 to ${cpus - 1}, or ${cpus} (the time step)`;
  return derivedFieldsProblem(o, o.choices as number[]);
}
