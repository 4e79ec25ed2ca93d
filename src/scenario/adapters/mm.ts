// The per-VMA-lock model (src/mm) driven from a scenario, through its entry point runMmScenario
// (src/check/mm.ts). Workload fields map one to one onto src/workloads/mm.ts.
import { buildMmScenario } from "../../check/mm.js";
import { bootKernel } from "../../sync/index.js";
import type { MmWorkload } from "../../workloads/mm.js";
import { WORKLOAD_MODEL } from "../catalog.js";
import type { Workload } from "../schema.js";
import { drive } from "./drive.js";
import { type Adapter, ModelUnavailableError } from "./types.js";

/** Scenario workload -> src/workloads/mm.ts workload: same fields; durations renamed with their unit. */
export function toMmWorkload(w: Workload): MmWorkload {
  if (WORKLOAD_MODEL[w.type] !== "mm")
    throw new ModelUnavailableError(
      `workload type ${w.type} does not run on the mm model (a per-VMA-lock variant)`,
    );
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(w)) {
    if (v === undefined) continue;
    out[RENAMED[k] ?? k] = v;
  }
  return out as unknown as MmWorkload;
}

const RENAMED: Record<string, string> = { think: "thinkNs", childLife: "childLifeNs" };

export const mmAdapter: Adapter = ({
  scenario: s,
  variant,
  seed,
  switches,
  costs,
  trace,
  machine,
  onProgress,
  fastPaths,
}) => {
  const workloads = s.workloads.filter((w) => w.enabled).map(toMmWorkload);
  const b = buildMmScenario(
    {
      variant: variant.name,
      switches: { ...switches },
      disableLockSites: s.kernel.disableLockSites,
      ...(s.kernel.faultInjection !== undefined ? { inject: s.kernel.faultInjection } : {}),
      cpus: s.machine.cpus,
      seed,
      mode: "timed",
      preempt: s.machine.preemption,
      jitter: s.machine.jitter,
      costs: { ...costs },
      workloads,
      stop: { onFinding: s.stop.onFinding },
      ...(trace ? { trace } : {}),
      ...(fastPaths !== undefined ? { fastPaths } : {}),
    },
    bootKernel(machine),
  );
  const stopReason = drive(b.m, s, b.done, onProgress);
  b.m.finish();
  const r = b.result();
  const vmstat: Record<string, number> = {};
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.vmstat)) {
    if (k.startsWith("model_")) counters[k.slice(6)] = v;
    else vmstat[k] = v;
  }
  counters.frames_in_use = r.framesInUse;
  for (const [k, v] of Object.entries(r.findingCounts)) counters[`findings_${k}`] = v;
  return {
    m: r.machine,
    stopReason,
    output: {
      throughput: [{ name: "faults", value: Math.round(r.faultsPerSimS), unit: "faults/s" }],
      latency: r.faults > 0 ? [{ name: "fault", hist: r.faultLatencyHistogram }] : [],
      vmstat,
      counters,
    },
  };
};
