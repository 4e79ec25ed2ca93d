// What the parameter form shows for a scenario: its machine and kernel fields, its seed, and the
// scalar fields of its workloads, fs/storage and stop sections (sizes, durations, counts), each with its
// dotted path.
import { parse } from "yaml";
import type { Catalog } from "../../src/scenario/catalog.js";
import { findVariant } from "../../src/scenario/catalog.js";
import { ScenarioError } from "../../src/scenario/errors.js";
import { loadScenario } from "../../src/scenario/load.js";
import { type Scenario, scenarioSeeds } from "../../src/scenario/schema.js";
import type { SetPair } from "./protocol.js";

export interface Field {
  path: string;
  label: string;
  /** As written in the file ("20GiB", "25s", 4, true). */
  value: string;
  kind: "text" | "boolean";
}

export interface ScenarioInfo {
  ok: boolean;
  scenario?: Scenario;
  problems: string[];
  title: string;
  description: string;
  variant: string;
  model: string;
  cpus: number;
  preemption: string;
  seed: number;
  compare: string[];
  fields: Field[];
}

const MAX_DEPTH = 4;
/** Items of a list shown (e.g. the first files of an fs section). */
const MAX_ITEMS = 4;
/** Fields shown at most (the scenario file can be edited for the rest). */
const MAX_FIELDS = 48;

function scalars(v: unknown, path: string, label: string, out: Field[], depth: number): void {
  if (typeof v === "string" || typeof v === "number")
    out.push({ path, label, value: String(v), kind: "text" });
  else if (typeof v === "boolean") out.push({ path, label, value: String(v), kind: "boolean" });
  else if (Array.isArray(v) && depth < MAX_DEPTH) {
    v.slice(0, MAX_ITEMS).forEach((x, i) => {
      scalars(x, `${path}[${i}]`, `${label}[${i}]`, out, depth + 1);
    });
  } else if (v !== null && typeof v === "object" && depth < MAX_DEPTH) {
    for (const [k, x] of Object.entries(v)) {
      if (k === "type") continue;
      scalars(x, `${path}.${k}`, `${label}.${k}`, out, depth + 1);
    }
  }
}

/** Reads a scenario text for the form; validation problems (file:line:col) come from the real loader. */
export function describeScenario(text: string, file: string, cat: Catalog): ScenarioInfo {
  const info: ScenarioInfo = {
    ok: false,
    problems: [],
    title: "",
    description: "",
    variant: "",
    model: "",
    cpus: 2,
    preemption: "voluntary",
    seed: 1,
    compare: [],
    fields: [],
  };
  try {
    const s = loadScenario(text, { file, catalog: cat });
    info.ok = true;
    info.scenario = s;
    info.title = s.title ?? "";
    info.description = s.description ?? "";
    info.variant = s.kernel.variant;
    info.model = findVariant(cat, s.kernel.variant)?.model ?? "";
    info.cpus = s.machine.cpus;
    info.preemption = s.machine.preemption;
    info.seed = scenarioSeeds(s)[0] ?? 1;
    info.compare = s.compare ?? [];
  } catch (e) {
    info.problems = e instanceof ScenarioError ? e.message.split("\n") : [String(e)];
  }
  let doc: Record<string, unknown> = {};
  try {
    const d = parse(text);
    if (d && typeof d === "object" && !Array.isArray(d)) doc = d as Record<string, unknown>;
  } catch {
    // the loader's problems say what is wrong
  }
  const workloads = Array.isArray(doc.workloads) ? doc.workloads : [];
  workloads.forEach((w, i) => {
    const type = w && typeof w === "object" ? String((w as { type?: unknown }).type ?? "") : "";
    scalars(w, `workloads[${i}]`, `${i}: ${type}`, info.fields, 0);
  });
  for (const section of ["fs", "storage", "stop"])
    if (doc[section] && typeof doc[section] === "object")
      scalars(doc[section], section, section, info.fields, 0);
  info.fields.length = Math.min(info.fields.length, MAX_FIELDS);
  return info;
}

export interface FormState {
  variant: string;
  cpus: string;
  preemption: string;
  seed: string;
  /** Edited workload/storage fields, by path. */
  fields: Record<string, string>;
  compare: boolean;
  variantB: string;
  preemptionB: string;
}

export function defaultForm(info: ScenarioInfo): FormState {
  const other = info.compare.find((v) => v !== info.variant);
  return {
    variant: info.variant,
    cpus: String(info.cpus),
    preemption: info.preemption,
    seed: String(info.seed),
    fields: {},
    compare: other !== undefined,
    variantB: other ?? info.variant,
    preemptionB: info.preemption,
  };
}

/** The overrides for one side of a run: only what differs from the file. */
export function setsFor(info: ScenarioInfo, f: FormState, side: "a" | "b"): SetPair[] {
  const sets: SetPair[] = [];
  const variant = side === "a" ? f.variant : f.variantB;
  const preemption = side === "a" ? f.preemption : f.preemptionB;
  if (variant !== "" && variant !== info.variant) sets.push({ path: "kernel.variant", value: variant });
  if (f.cpus.trim() !== "" && f.cpus.trim() !== String(info.cpus))
    sets.push({ path: "machine.cpus", value: f.cpus.trim() });
  if (preemption !== info.preemption) sets.push({ path: "machine.preemption", value: preemption });
  for (const fld of info.fields) {
    const v = f.fields[fld.path];
    if (v !== undefined && v !== fld.value) sets.push({ path: fld.path, value: v });
  }
  // Overrides of fields the form does not show (from a shared URL's set=PATH=VALUE) apply as given.
  for (const [path, value] of Object.entries(f.fields))
    if (!info.fields.some((fld) => fld.path === path)) sets.push({ path, value });
  return sets;
}
