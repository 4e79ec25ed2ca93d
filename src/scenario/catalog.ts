// What the kernel models offer a scenario: variants with their switches and lock sites, and cost
// profiles. The loader checks names against it; src/scenario/models.ts builds it from src/kernels.

export interface SwitchInfo {
  name: string;
  /** Type of the value: boolean switches, numeric constants, or one of `values`. */
  type: "boolean" | "number" | "string";
  values?: readonly string[];
  /** Numeric switches: the smallest integer allowed (1 when every variant's value is at least 1). */
  min?: number;
  default: boolean | number | string;
  summary: string;
}

export interface VariantInfo {
  /** Name used on the command line and in scenarios (e.g. "6.4.0", "upstream-5.17"). */
  name: string;
  /** Other accepted spellings (e.g. "5.17" for "upstream-5.17"). */
  aliases: readonly string[];
  /** Which model the variant configures: "mm" (per-VMA locks), "fs" (writeback) or "sim" (engine only). */
  model: "mm" | "fs" | "sim";
  summary: string;
  switches: readonly SwitchInfo[];
  /** Named lock acquisition sites a scenario may disable. */
  lockSites: readonly string[];
  /** Named places where the modelled code may reschedule (cond_resched, might_sleep). */
  yields: readonly string[];
}

export interface CostProfileInfo {
  name: string;
  summary: string;
  /** Cost-table entries by name, unit last (anonFaultAllocZeroNs). */
  costs: Readonly<Record<string, number>>;
}

export interface Catalog {
  variants: readonly VariantInfo[];
  costProfiles: readonly CostProfileInfo[];
  /** Block device profiles of the writeback model (fs.device). */
  devices?: readonly string[];
  /** Each device profile's interrupt CPU (-1: the submitter), used when fs.irqCpu is not given. */
  deviceIrqCpus?: Readonly<Record<string, number>>;
}

/** Which model runs each workload type. */
export const WORKLOAD_MODEL: Readonly<Record<string, VariantInfo["model"]>> = {
  "kthread-spin": "sim",
  "fault-loop": "mm",
  "mmap-writer": "mm",
  "fork-race": "mm",
  "fork-race-mini": "mm",
  "stack-race": "mm",
  "vma-merge-race": "mm",
  fork: "mm",
  writer: "fs",
  committer: "fs",
  nfsd: "fs",
  fsync: "fs",
  sync: "fs",
  probe: "fs",
};

export const MODEL_NAMES: Readonly<Record<VariantInfo["model"], string>> = {
  sim: "the engine-only variant (generic)",
  mm: "a per-VMA-lock variant (6.3, 6.4.0, 6.4.3, 6.5, 6.15)",
  fs: "a writeback variant (5.16, 5.17, ...)",
};

export function findVariant(catalog: Catalog, name: string): VariantInfo | undefined {
  return (
    catalog.variants.find((v) => v.name === name) ?? catalog.variants.find((v) => v.aliases.includes(name))
  );
}

export function variantNames(catalog: Catalog): string[] {
  return catalog.variants.map((v) => v.name);
}
