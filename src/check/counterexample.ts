// Counterexample files: a small JSON document with the target's description, the violated invariant
// and the exact schedule; replay re-runs it and prints a step table with one column per CPU.
import type { Finding, Machine } from "../sim/machine.js";
import { TeeTrace, TRACE_ALL, type TraceEvent, type TraceSink } from "../sim/trace.js";
import { type CheckTarget, runOnce } from "./run.js";
import { contextSwitches, ReplayStrategy } from "./strategy.js";

export const COUNTEREXAMPLE_VERSION = 1;

export interface Counterexample {
  faultline: "counterexample";
  version: number;
  target: string;
  describe: Record<string, unknown>;
  finding: { kind: string; message: string; cpus: number[] };
  choices: number[];
  steps: number;
  cpus: number;
  switches: number;
  labels: string[];
}

export function makeCounterexample(
  target: CheckTarget,
  choices: number[],
  labels: string[],
  finding: Finding,
): Counterexample {
  return {
    faultline: "counterexample",
    version: COUNTEREXAMPLE_VERSION,
    target: target.name,
    describe: target.describe ?? {},
    finding: { kind: finding.kind, message: finding.message, cpus: finding.cpus },
    choices,
    steps: choices.length,
    cpus: new Set(choices).size,
    switches: contextSwitches(choices),
    labels,
  };
}

export interface StepRow {
  step: number;
  cpu: number;
  /** What the CPU did in this step: yield sites passed and model events. */
  what: string[];
}

export interface ReplayResult {
  reproduced: boolean;
  finding: Finding | null;
  rows: StepRow[];
  machine: Machine;
  mismatches: number;
}

/** Collects the model events and yield sites of each step, for the step table. */
class StepRecorder implements TraceSink {
  /** Every user load and store, with address, value and frame (src/mm/trace.ts). */
  readonly level = TRACE_ALL;
  readonly perStep = new Map<number, string[]>();
  constructor(private readonly m: { steps: number }) {}
  event(e: TraceEvent): void {
    if (
      e.kind !== "model" &&
      e.kind !== "lock_acquired" &&
      e.kind !== "contention_begin" &&
      e.kind !== "dmesg"
    )
      return;
    if (e.kind === "model" && e.name.startsWith("step ")) return; // the step markers are the rows themselves
    const s = this.m.steps;
    let l = this.perStep.get(s);
    if (l === undefined) this.perStep.set(s, (l = []));
    if (e.kind === "model") l.push(e.detail ? `${e.name}: ${e.detail}` : e.name);
    else if (e.kind === "lock_acquired") l.push(`lock ${e.name}${e.a ? " (read)" : ""}`);
    else if (e.kind === "contention_begin") l.push(`waits for ${e.name}`);
  }
}

/** Re-run a counterexample exactly; `extraSink` receives the full trace (for Perfetto output). */
export function replay(target: CheckTarget, cx: Counterexample, extraSink?: TraceSink): ReplayResult {
  const strat = new ReplayStrategy(cx.choices);
  const build = target.build.bind(target);
  let rec: StepRecorder | null = null;
  const wrapped: CheckTarget = {
    ...target,
    name: target.name,
    maxSteps: Math.max(target.maxSteps, cx.choices.length + 1),
    cpus: target.cpus,
    build: () => {
      const m = build();
      rec = new StepRecorder(m);
      const r = rec;
      m.trace = extraSink ? new TeeTrace([r, extraSink]) : r;
      return m;
    },
  };
  const o = runOnce(wrapped, strat, cx.choices.length);
  const rows: StepRow[] = o.choices.map((cpu, i) => {
    const what = [o.labels[i] ? o.labels[i]!.slice(o.labels[i]!.indexOf(":") + 1) : ""];
    const extra = rec!.perStep.get(i + 1) ?? [];
    return { step: i + 1, cpu, what: [...what.filter((w) => w !== ""), ...extra] };
  });
  const reproduced = o.finding !== null && o.finding.kind === cx.finding.kind && strat.mismatches === 0;
  return { reproduced, finding: o.finding, rows, machine: o.machine, mismatches: strat.mismatches };
}

/** The step table: one column per CPU, one row per step, as in section 4.2 of the per-VMA reference. */
export function formatStepTable(rows: StepRow[], nCpus: number, colWidth = 38): string[] {
  const cpus = [...new Set(rows.map((r) => r.cpu))].sort((a, b) => a - b);
  const used = cpus.length > 0 ? cpus : Array.from({ length: nCpus }, (_, i) => i);
  const pad = (s: string) => (s.length > colWidth ? `${s.slice(0, colWidth - 1)}…` : s.padEnd(colWidth));
  // the time step (Machine.timeChoice) is the column after the last CPU
  const head = (c: number) => (c === nCpus ? "timer" : `CPU ${c}`);
  const out = [`${"step".padStart(5)}  ${used.map((c) => pad(head(c))).join(" | ")}`];
  out.push(`${"-".repeat(5)}  ${used.map(() => "-".repeat(colWidth)).join("-+-")}`);
  for (const r of rows) {
    const lines = r.what.length > 0 ? r.what : ["(runs)"];
    lines.forEach((w, j) => {
      const cells = used.map((c) => (c === r.cpu ? pad(w) : pad("")));
      out.push(`${j === 0 ? String(r.step).padStart(5) : "     "}  ${cells.join(" | ")}`);
    });
  }
  return out;
}
