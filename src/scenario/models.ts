// The catalog of what scenarios can name: kernel variants of both models (from src/kernels), the
// engine-only variant, their switches and lock sites, and cost profiles.

import { FS_COST_PROFILES } from "../fs/costs.js";
import { DEVICE_PROFILES } from "../fs/device.js";
import { IOMAP_VARIANTS } from "../kernels/iomap.js";
import { mmVariantInfos } from "../kernels/mm.js";
import { MM_COSTS_CALIBRATION } from "../mm/costs.js";
import { DEFAULT_ENGINE_COSTS } from "../sim/config.js";
import type { Catalog, CostProfileInfo, SwitchInfo, VariantInfo } from "./catalog.js";

type Scalar = boolean | number | string;

/** Flattens nested switch objects into dotted names: { ioendCap: { kind, limit } } -> ioendCap.kind, ioendCap.limit. */
export function flattenSwitches(o: object, prefix = ""): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [k, v] of Object.entries(o)) {
    const name = prefix === "" ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === "object") Object.assign(out, flattenSwitches(v, name));
    else if (typeof v === "boolean" || typeof v === "number" || typeof v === "string") out[name] = v;
  }
  return out;
}

/** Applies dotted overrides to a nested switch object (a copy). */
export function applySwitches<T extends object>(base: T, over: Readonly<Record<string, Scalar>>): T {
  const out = structuredClone(base) as Record<string, unknown>;
  for (const [name, v] of Object.entries(over)) {
    const path = name.split(".");
    let o = out;
    for (const seg of path.slice(0, -1)) {
      if (o[seg] === null || typeof o[seg] !== "object") o[seg] = {};
      o = o[seg] as Record<string, unknown>;
    }
    o[path[path.length - 1]!] = v;
  }
  return out as T;
}

/** Switch descriptions for all variants of a model: union of names; values seen for string switches. */
function switchInfos(
  all: readonly Record<string, Scalar>[],
  mine: Record<string, Scalar>,
  docs: Record<string, string>,
): SwitchInfo[] {
  const names: string[] = [];
  for (const f of all) for (const k of Object.keys(f)) if (!names.includes(k)) names.push(k);
  return names.map((name) => {
    const seen = all.map((f) => f[name]).filter((v) => v !== undefined);
    const type = typeof seen[0] as SwitchInfo["type"];
    const info: SwitchInfo = {
      name,
      type,
      default: mine[name] ?? (type === "boolean" ? false : type === "number" ? 0 : ""),
      summary: docs[name] ?? "",
    };
    if (type === "string" && !name.endsWith("kind")) return info;
    if (type === "string") info.values = [...new Set(seen.map(String))].sort();
    return info;
  });
}

const SIM_VARIANT: VariantInfo = {
  name: "generic",
  aliases: ["sim", "engine"],
  model: "sim",
  summary: "the engine alone (scheduler, interrupts, watchdogs), no kernel model",
  switches: [],
  lockSites: [],
  yields: [],
};

const FS_LOCK_SITES: readonly string[] = [];
const FS_YIELDS = [
  "xfs_end_io:cond_resched",
  "iomap_finish_ioends:cond_resched",
  "iomap_finish_ioend:cond_resched",
];

function buildCatalog(): Catalog {
  const fsFlat = IOMAP_VARIANTS.map((v) => flattenSwitches(stripNames(v)));
  const variants: VariantInfo[] = [
    SIM_VARIANT,
    ...mmVariantInfos(),
    ...IOMAP_VARIANTS.map((v, i) => ({
      name: v.name,
      aliases: v.name === "5.17" ? ["upstream-5.17"] : v.name === "5.16" ? ["v5.16"] : [],
      model: "fs" as const,
      summary: v.title,
      switches: switchInfos(fsFlat, fsFlat[i]!, {}),
      lockSites: FS_LOCK_SITES,
      yields: FS_YIELDS,
    })),
  ];
  const mmCosts = MM_COSTS_CALIBRATION as unknown as Record<string, number>;
  const costProfiles: CostProfileInfo[] = Object.entries(FS_COST_PROFILES).map(([name, fs]) => ({
    name,
    summary:
      name === "default"
        ? "calibrated on this project's machine (Linux 6.18, KVM guest)"
        : `default, with ${name} per-folio completion costs`,
    costs: sortedRecord({
      ...DEFAULT_ENGINE_COSTS,
      ...mmCosts,
      ...(fs as unknown as Record<string, number>),
    }),
  }));
  return { variants, costProfiles, devices: Object.keys(DEVICE_PROFILES).sort() };
}

function stripNames(v: object): object {
  const { name: _n, title: _t, source: _s, ...rest } = v as Record<string, unknown>;
  return rest;
}

function sortedRecord(o: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(o).sort()) if (typeof o[k] === "number") out[k] = o[k]!;
  return out;
}

let cached: Catalog | undefined;

/** The catalog of this build (computed once). */
export function catalog(): Catalog {
  cached ??= buildCatalog();
  return cached;
}
