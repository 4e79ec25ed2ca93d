// The text summary a kernel developer reads at a glance: variant and machine, throughput, latency
// percentiles, per-CPU holdoff, /proc/vmstat counters, a /proc/lock_stat-style table, and every
// dmesg line exactly as dmesg prints it.

import { formatLockStat } from "../sync/lockstat.js";
import { dmesgStamp, fmtInt, fmtNs, fmtNum, PREEMPT_NAMES, pctLabel, table } from "./format.js";
import type { LockStat, RunResult } from "./result.js";

export function textReport(r: RunResult): string {
  const out: string[] = [];
  out.push(`faultline: ${r.scenario.name} on ${r.kernel.variant}, seed ${r.scenario.seed}`);
  if (r.scenario.title) out.push(`  ${r.scenario.title}`);
  out.push("");
  out.push(...headerLines(r));
  section(out, "Throughput", throughputLines(r));
  section(out, "Latency", latencyLines(r));
  section(out, "Scheduler holdoff (per CPU)", holdoffLines(r));
  section(out, "/proc/vmstat", counterLines(r.vmstat));
  section(out, "/proc/lock_stat", lockStatLines(r.lockStat));
  section(out, "Model counters", counterLines(r.counters));
  section(out, "dmesg", dmesgLines(r));
  out.push("");
  out.push(...findingLines(r));
  return `${out.join("\n")}\n`;
}

function section(out: string[], title: string, lines: string[]): void {
  if (lines.length === 0) return;
  out.push("", title, ...lines.map((l) => (l === "" ? l : `  ${l}`)));
}

export function headerLines(r: RunResult): string[] {
  const sw = Object.entries(r.kernel.switches).map(([k, v]) => `${k}=${v}`);
  const costs = Object.entries(r.machine.costOverrides).map(([k, v]) => `${k}=${v}`);
  return table(
    [
      ["kernel", `${r.kernel.variant} (${r.kernel.model}): ${r.kernel.summary}`],
      ...(sw.length > 0 ? [["switches", sw.join(" ")]] : []),
      ...(r.kernel.disabledLockSites.length > 0
        ? [["lock sites off", r.kernel.disabledLockSites.join(", ")]]
        : []),
      [
        "machine",
        `${r.machine.cpus} CPUs, ${PREEMPT_NAMES[r.machine.preemption]}, HZ=${r.machine.hz}, cost profile ${r.machine.costProfile}${costs.length > 0 ? ` (${costs.join(" ")})` : ""}`,
      ],
      [
        "run",
        `stopped (${r.run.stopReason}) at ${fmtNs(r.run.simTimeNs)} virtual, ${fmtInt(r.run.events)} events`,
      ],
    ],
    ["l", "l"],
  );
}

function throughputLines(r: RunResult): string[] {
  return table(
    r.throughput.map((t) => [t.name, fmtNum(t.value), t.unit]),
    ["l", "r", "l"],
  );
}

function latencyLines(r: RunResult): string[] {
  if (r.latency.length === 0) return [];
  const ps = r.latency[0]!.percentiles.map((p) => p.p);
  const head = ["", "count", "min", "mean", ...ps.map(pctLabel)];
  const rows = r.latency.map((l) => [
    l.name,
    fmtInt(l.count),
    fmtNs(l.minNs),
    fmtNs(l.meanNs),
    ...ps.map((p) => {
      const v = l.percentiles.find((x) => x.p === p);
      return v ? fmtNs(v.valueNs) : "-";
    }),
  ]);
  return table([head, ...rows]);
}

function holdoffLines(r: RunResult): string[] {
  if (r.holdoff.perCpu.length === 0) return [];
  const th = r.holdoff.perCpu[0]!.over.map((o) => `>${fmtNs(o.thresholdNs)}`);
  const head = ["cpu", "context", "count", "p50", "p99", "max", "max at", ...th];
  const held = r.holdoff.perCpu.filter((h) => h.maxNs > 0);
  if (held.length === 0) return ["no CPU was held off (need_resched always honoured at once)"];
  const rows = held.map((h) => [
    `CPU${h.cpu}`,
    h.context,
    fmtInt(h.count),
    fmtNs(h.p50Ns),
    fmtNs(h.p99Ns),
    fmtNs(h.maxNs),
    fmtNs(h.maxAtNs),
    ...h.over.map((o) => fmtInt(o.count)),
  ]);
  return table([head, ...rows], ["l", "l"]);
}

/** /proc/vmstat style: "name value", one per line. */
export function counterLines(c: Record<string, number>): string[] {
  return Object.entries(c).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : fmtNum(v)}`);
}

/** /proc/lock_stat (version 0.4) as the kernel lays it out, with each class's contention points. */
export function lockStatLines(rows: readonly LockStat[]): string[] {
  if (rows.length === 0) return [];
  const avg = (total: number, n: number) => (n > 0 ? total / n : 0);
  const table = formatLockStat(
    rows.map((l) => ({
      class: l.name,
      "con-bounces": l.conBounces,
      contentions: l.contentions,
      "waittime-min": l.waitTimeMinNs,
      "waittime-max": l.waitTimeMaxNs,
      "waittime-total": l.waitTimeTotalNs,
      "waittime-avg": avg(l.waitTimeTotalNs, l.contentions),
      "acq-bounces": l.acqBounces,
      acquisitions: l.acquisitions,
      "holdtime-min": l.holdTimeMinNs,
      "holdtime-max": l.holdTimeMaxNs,
      "holdtime-total": l.holdTimeTotalNs,
      "holdtime-avg": avg(l.holdTimeTotalNs, l.acquisitions),
    })),
  );
  const header = table.length - rows.length;
  const out = table.slice(0, header);
  rows.forEach((l, i) => {
    out.push(table[header + i]!);
    if (l.sites.length > 0) {
      out.push(`${" ".repeat(Math.max(0, NAME_WIDTH - l.name.length))}${"-".repeat(l.name.length)}`);
      for (const s of l.sites.slice(0, 4))
        out.push(`${l.name.padStart(NAME_WIDTH)} ${String(s.contentions).padStart(14)}  ${s.site}`);
    }
    out.push("");
  });
  while (out[out.length - 1] === "") out.pop();
  return out;
}

const NAME_WIDTH = 40;

/** Every dmesg line with its timestamp, exactly as `dmesg` prints it. */
export function dmesgLines(r: RunResult): string[] {
  return r.dmesg.map((d) => `${dmesgStamp(d.tNs)}${d.line}`);
}

function findingLines(r: RunResult): string[] {
  if (r.findings.length === 0) return ["No findings."];
  const out = [`Findings: ${r.findings.length}`];
  for (const f of r.findings.slice(0, 50))
    out.push(
      `  ${f.kind} at ${fmtNs(f.tNs)}${f.cpus.length > 0 ? ` on CPU${f.cpus.join(",")}` : ""}: ${f.message}`,
    );
  if (r.findings.length > 50) out.push(`  ... and ${r.findings.length - 50} more (see the JSON result)`);
  return out;
}
