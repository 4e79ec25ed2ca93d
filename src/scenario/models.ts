// The catalog of what scenarios can name: kernel variants of both models (from src/kernels), the
// engine-only variant, their switches and lock sites, and cost profiles.

import { FS_COST_PROFILES } from "../fs/costs.js";
import { DEVICE_PROFILES } from "../fs/device.js";
import { FS_LOCK_SITES } from "../fs/page-writeback.js";
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
    if (type === "string") info.values = [...new Set(seen.map(String))].sort();
    // numeric switches are counts and sizes: whole numbers, and at least 1 where every variant has
    // one of at least 1 (a variant without the switch counts as 0, the default explain shows)
    if (type === "number") info.min = all.every((f) => ((f[name] as number | undefined) ?? 0) >= 1) ? 1 : 0;
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

/** One line per iomap switch (src/fs/variant.ts documents them in full). */
const FS_SWITCH_HELP: Record<string, string> = {
  "ioendCap.kind": "what bounds one ioend at submission (iomap_can_add_to_ioend)",
  "ioendCap.limit": "the bound, in the unit of ioendCap.kind",
  chainBios: "a full bio is chained to the ioend (5.16-6.8) instead of closing it",
  submitImmediately: "closed ioends are submitted at once (6.9+)",
  mergePhysical: "completion-time merge also needs physical contiguity (none, bio-sector, io-sector)",
  mergeNoMergeFlags: "NOMERGE flags must match to merge (newest)",
  xfsEndIoResched: "cond_resched() after each merged ioend in xfs_end_io",
  "finishIoendsResched.kind": "where iomap_finish_ioends yields between ioends",
  "finishIoendsResched.unit": "what the yield counter counts (segments, pages, folios)",
  "finishIoendsResched.limit": "yield once the count exceeds this",
  finishIoendsMightSleep: "might_sleep() on entry to iomap_finish_ioends",
  finishIoendPerPageResched: "Trond: cond_resched() after every page in iomap_finish_ioend",
  finishIoendNonAtomicReschedPages: "Brian: cond_resched() every N pages when not atomic (0: off)",
  largeIoendToWqBytes: "Brian: ioends of at least this many bytes complete in the workqueue (0: off)",
  completionWalk: "completion walks pages (<= 5.16) or folios (5.17+)",
  errorsToWq: "failed ioends complete from a workqueue (newest)",
  plugLimit: "BLK_MAX_REQUEST_COUNT of the block plug",
  pagevecSize: "pagevec (15) or folio_batch (31) size in write_cache_pages",
  flushPlugOnResched: "writeback_sb_inodes flushes the plug before cond_resched (2022+)",
  delallocToUnwritten: "delalloc conversion makes unwritten extents (v5.8+ a5949d3faedf)",
  wqCpuIntensiveThreshUs: "workqueue CPU-intensive auto-detection threshold in µs (6.5+: 10000; 0: none)",
};
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
      switches: switchInfos(fsFlat, fsFlat[i]!, FS_SWITCH_HELP),
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
        : name.startsWith("what-if")
          ? `what-if: default with a hand-set per-folio completion cost (${name}); no built-in scenario uses it`
          : `default, with the ${name} per-folio completion cost`,
    costs: sortedRecord({
      ...DEFAULT_ENGINE_COSTS,
      ...mmCosts,
      ...(fs as unknown as Record<string, number>),
    }),
  }));
  const devices = Object.keys(DEVICE_PROFILES).sort();
  return {
    variants,
    costProfiles,
    devices,
    deviceIrqCpus: Object.fromEntries(devices.map((d) => [d, DEVICE_PROFILES[d]!.irqCpu])),
  };
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

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** The catalog of this build: built once when the module loads (about 15 ms), immutable. */
const CATALOG: Catalog = deepFreeze(buildCatalog());

/** The catalog of this build. */
export function catalog(): Catalog {
  return CATALOG;
}
