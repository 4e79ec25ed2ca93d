// Runs one scenario on one variant and seed and returns the result record. Runs in Node and in the
// browser alike (no Node APIs); traces go to the TraceSink the caller passes.

import { holdoffFromHistogram, latencyFromHistogram } from "../report/metrics.js";
import {
  type HoldoffCpu,
  type LockStat,
  RESULT_FORMAT,
  RESULT_VERSION,
  type RunResult,
} from "../report/result.js";
import type { Machine } from "../sim/machine.js";
import { CTX_NAMES } from "../sim/task.js";
import type { TraceSink } from "../sim/trace.js";
import type { LockStats } from "../sync/lockstat.js";
import { fsAdapter } from "./adapters/fs.js";
import { mmAdapter } from "./adapters/mm.js";
import { simAdapter } from "./adapters/sim.js";
import { type Adapter, ModelUnavailableError, type SwitchValue } from "./adapters/types.js";
import { type Catalog, findVariant, type VariantInfo } from "./catalog.js";
import { catalog as defaultCatalog } from "./models.js";
import type { Scenario } from "./schema.js";

export interface RunOptions {
  seed: number;
  /** The overrides that produced this scenario, recorded in the result ("PATH=VALUE"). */
  sets?: readonly string[];
  trace?: TraceSink | null;
  catalog?: Catalog;
  /** Called once per slice of virtual time (engine-only and writeback runs). */
  onProgress?: (simNs: number, events: number) => void;
  /** mm model: the generator-free forms of uncontended steps (default on; same results either way). */
  fastPaths?: boolean;
}

const MAX_TIMELINE_BUCKETS = 2000;
const MIN_TIMELINE_BUCKETS = 50;

const ADAPTERS: Readonly<Record<string, Adapter>> = { sim: simAdapter, mm: mmAdapter, fs: fsAdapter };

/** The variant's switches with the scenario's overrides, and the cost profile with its overrides. */
export function effectiveKnobs(
  s: Scenario,
  variant: VariantInfo,
  cat: Catalog,
): { switches: Record<string, SwitchValue>; costs: Record<string, number> } {
  const profile = cat.costProfiles.find((p) => p.name === s.machine.costProfile);
  const costs = { ...(profile?.costs ?? {}), ...s.machine.costs };
  const switches: Record<string, SwitchValue> = {};
  for (const sw of variant.switches) switches[sw.name] = sw.default;
  Object.assign(switches, s.kernel.switches);
  return { switches, costs };
}

export function runScenario(s: Scenario, opts: RunOptions): RunResult {
  const cat = opts.catalog ?? defaultCatalog();
  const variant = findVariant(cat, s.kernel.variant);
  if (!variant) throw new ModelUnavailableError(`unknown kernel variant ${s.kernel.variant}`);
  const adapter = ADAPTERS[variant.model]!;
  const { switches, costs } = effectiveKnobs(s, variant, cat);

  const {
    m,
    stopReason,
    output: out,
  } = adapter({
    scenario: s,
    variant,
    seed: opts.seed,
    switches,
    costs,
    trace: opts.trace ?? null,
    ...(opts.fastPaths !== undefined ? { fastPaths: opts.fastPaths } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    machine: {
      cpus: s.machine.cpus,
      hz: s.machine.hz,
      preempt: s.machine.preemption,
      seed: opts.seed,
      mode: "timed",
      // the engine's steps passed in place go with the model's fast paths (same results either way)
      passSteps: opts.fastPaths ?? true,
      watchdogThreshS: s.machine.watchdogThresh,
      watchdogStyle: s.machine.watchdogStyle,
      rcuStallTimeoutS: s.machine.rcuStallTimeout,
      hungTaskTimeoutS: s.machine.hungTaskTimeout,
      nmiWatchdog: s.machine.nmiWatchdog,
      jitter: s.machine.jitter,
      steal: s.machine.steal,
      debugAtomicSleep: s.machine.debugAtomicSleep,
      kernelRelease: variant.model === "sim" ? "faultline" : `${variant.name}-faultline`,
      costs: engineCosts(costs),
    },
  });

  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    scenario: { name: s.name, title: s.title ?? "", seed: opts.seed, sets: [...(opts.sets ?? [])] },
    machine: {
      cpus: s.machine.cpus,
      preemption: s.machine.preemption,
      hz: s.machine.hz,
      costProfile: s.machine.costProfile,
      costOverrides: s.machine.costs,
    },
    kernel: {
      variant: variant.name,
      model: variant.model,
      summary: variant.summary,
      switches,
      disabledLockSites: [...s.kernel.disableLockSites],
    },
    run: { stopReason, simTimeNs: Math.round(m.now), events: m.queue.popped },
    throughput: out.throughput,
    latency: out.latency.map((l) => latencyFromHistogram(l.name, l.hist, s.report.percentiles)),
    holdoff: holdoffOf(m, s),
    vmstat: out.vmstat,
    lockStat: lockStatOf(m),
    dmesg: m.dmesg.map((d) => ({ tNs: Math.round(d.t), cpu: d.cpu, line: d.text })),
    findings: m.findings.map((f) => ({
      kind: f.kind,
      message: f.message,
      tNs: Math.round(f.t),
      cpus: f.cpus,
      details: f.details,
    })),
    counters: out.counters,
  };
}

const ENGINE_COST_NAMES = [
  "contextSwitchNs",
  "irqEntryNs",
  "tickNs",
  "hrtimerNs",
  "ipiLatencyNs",
  "wakeupNs",
  "softlockupFnNs",
  "syscallNs",
] as const;

function engineCosts(costs: Record<string, number>) {
  const out: Partial<Record<(typeof ENGINE_COST_NAMES)[number], number>> = {};
  for (const k of ENGINE_COST_NAMES) if (costs[k] !== undefined) out[k] = costs[k];
  return out as Machine["cfg"]["costs"];
}

function holdoffOf(m: Machine, s: Scenario): RunResult["holdoff"] {
  const thresholds = s.report.holdoffThresholds;
  const perCpu: HoldoffCpu[] = [];
  const over = new Map<string, number[]>();
  for (const e of m.holdoffEvents) {
    const key = `${e.cpu}:${e.kind}`;
    let counts = over.get(key);
    if (!counts) over.set(key, (counts = thresholds.map(() => 0)));
    thresholds.forEach((t, i) => {
      if (e.ns > t) counts![i]!++;
    });
  }
  for (const c of m.cpus) {
    for (let kind = 0; kind < 3; kind++) {
      const h = c.holdoff.hist[kind];
      if (!h) continue;
      const ctx = CTX_NAMES[kind]!;
      perCpu.push(
        holdoffFromHistogram(
          c.id,
          ctx,
          h,
          c.holdoff.maxNs[kind]!,
          c.holdoff.maxAt[kind]!,
          thresholds,
          over.get(`${c.id}:${ctx}`) ?? [],
        ),
      );
    }
  }
  let bucketNs = s.report.timelineBucket;
  if (bucketNs <= 0) bucketNs = 100e6;
  while (m.now / bucketNs > MAX_TIMELINE_BUCKETS) bucketNs *= 2;
  while (bucketNs > 1000 && m.now / bucketNs < MIN_TIMELINE_BUCKETS) bucketNs = Math.round(bucketNs / 2);
  const n = Math.max(1, Math.ceil(m.now / bucketNs));
  const maxNs = m.cpus.map(() => new Array<number>(n).fill(0));
  for (const e of m.holdoffEvents) {
    const b = Math.min(n - 1, Math.floor((e.t + e.ns) / bucketNs));
    const row = maxNs[e.cpu]!;
    row[b] = Math.max(row[b]!, Math.round(e.ns));
  }
  return { perCpu, timeline: { bucketNs, maxNs } };
}

function lockStatOf(m: Machine): LockStat[] {
  const stats = m.ext.lockStats as LockStats | undefined;
  if (!stats) return [];
  return stats.rows().map((r) => {
    const cls = stats.classes.get(r.class)!;
    const sites = [...cls.contendedAt].map(([site, contentions]) => ({ site, contentions }));
    sites.sort((a, b) => b.contentions - a.contentions || (a.site < b.site ? -1 : 1));
    return {
      name: r.class,
      conBounces: r["con-bounces"],
      contentions: r.contentions,
      waitTimeMinNs: Math.round(r["waittime-min"]),
      waitTimeMaxNs: Math.round(r["waittime-max"]),
      waitTimeTotalNs: Math.round(r["waittime-total"]),
      acqBounces: r["acq-bounces"],
      acquisitions: r.acquisitions,
      holdTimeMinNs: Math.round(r["holdtime-min"]),
      holdTimeMaxNs: Math.round(r["holdtime-max"]),
      holdTimeTotalNs: Math.round(r["holdtime-total"]),
      sites,
    };
  });
}
