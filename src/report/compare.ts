// One scenario on several kernel variants, side by side in one table.
import { fmtInt, fmtNs, fmtNum, PREEMPT_NAMES, pctLabel, table } from "./format.js";
import type { RunResult } from "./result.js";

const LATENCY_PS = [50, 99, 100];

export function compareReport(results: readonly RunResult[]): string {
  if (results.length === 0) return "nothing to compare\n";
  const first = results[0]!;
  const out: string[] = [];
  out.push(`faultline compare: ${first.scenario.name}, seed ${first.scenario.seed}`);
  if (first.scenario.title) out.push(`  ${first.scenario.title}`);
  out.push(
    `  machine: ${first.machine.cpus} CPUs, ${PREEMPT_NAMES[first.machine.preemption]}, HZ=${first.machine.hz}, cost profile ${first.machine.costProfile}`,
  );
  out.push("");
  out.push(...table(compareRows(results)).map((l) => `  ${l}`));
  out.push("");
  for (const r of results) {
    const byKind = findingSummary(r);
    out.push(`  ${r.kernel.variant}: ${byKind === "" ? "no findings" : byKind}`);
    const seen = new Set<string>();
    for (const f of r.findings) {
      if (seen.has(f.kind) || seen.size >= 4) continue;
      seen.add(f.kind);
      out.push(`    ${f.message.split("\n")[0]!.slice(0, 160)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** The rows of the side-by-side table: a header row, then one row per metric. */
export function compareRows(results: readonly RunResult[]): string[][] {
  const rows: string[][] = [["", ...results.map((r) => r.kernel.variant)]];
  const add = (label: string, f: (r: RunResult) => string) => rows.push([label, ...results.map(f)]);
  add("stopped", (r) => `${r.run.stopReason} @ ${fmtNs(r.run.simTimeNs)}`);
  for (const name of unionBy(results, (r) => r.throughput.map((t) => t.name))) {
    const unit = results.flatMap((r) => r.throughput).find((t) => t.name === name)!.unit;
    add(`${name} (${unit})`, (r) => {
      const t = r.throughput.find((x) => x.name === name);
      return t ? fmtNum(t.value) : "-";
    });
  }
  for (const name of unionBy(results, (r) => r.latency.map((l) => l.name))) {
    for (const p of LATENCY_PS) {
      add(`${name} latency ${pctLabel(p)}`, (r) => {
        const l = r.latency.find((x) => x.name === name);
        const v = l?.percentiles.find((x) => x.p === p)?.valueNs ?? (p === 100 ? l?.maxNs : undefined);
        return v === undefined ? "-" : fmtNs(v);
      });
    }
  }
  add("holdoff max (any CPU)", (r) => {
    const h = maxHoldoff(r);
    return h && h.maxNs > 0 ? `${fmtNs(h.maxNs)} CPU${h.cpu} ${h.context}` : "none";
  });
  const thresholds = results[0]!.holdoff.perCpu[0]?.over.map((o) => o.thresholdNs) ?? [];
  for (const th of thresholds) {
    add(`holdoffs > ${fmtNs(th)}`, (r) =>
      fmtInt(
        r.holdoff.perCpu.reduce((s, h) => s + (h.over.find((o) => o.thresholdNs === th)?.count ?? 0), 0),
      ),
    );
  }
  for (const k of unionBy(results, (r) => Object.keys(r.vmstat))) {
    if (results.every((r) => !r.vmstat[k])) continue;
    add(k, (r) => (r.vmstat[k] === undefined ? "-" : fmtNum(r.vmstat[k]!)));
  }
  for (const name of unionBy(results, (r) => r.lockStat.map((l) => l.name))) {
    add(`${name} contentions`, (r) => {
      const l = r.lockStat.find((x) => x.name === name);
      return l ? fmtInt(l.contentions) : "-";
    });
  }
  add("dmesg lines", (r) => fmtInt(r.dmesg.length));
  add("findings", (r) => fmtInt(r.findings.length));
  return rows;
}

function maxHoldoff(r: RunResult) {
  let best: RunResult["holdoff"]["perCpu"][number] | undefined;
  for (const h of r.holdoff.perCpu) if (!best || h.maxNs > best.maxNs) best = h;
  return best;
}

export function findingSummary(r: RunResult): string {
  const counts = new Map<string, number>();
  for (const f of r.findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} x ${k}`).join(", ");
}

function unionBy(results: readonly RunResult[], f: (r: RunResult) => string[]): string[] {
  const seen: string[] = [];
  for (const r of results) for (const k of f(r)) if (!seen.includes(k)) seen.push(k);
  return seen;
}
