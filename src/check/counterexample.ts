// Counterexample files: a small JSON document with the target's description, the violated invariant
// and the exact schedule; replay re-runs it and prints a step table with one column per CPU.
import type { MmSim } from "../mm/index.js";
import { PTE_PRESENT, PTE_SHIFT, PTE_SWAP, PTE_WRITE } from "../mm/types.js";
import type { ExploreStrategy, Finding, Machine } from "../sim/machine.js";
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

/** The state that matters at the finding's page after a step (CheckTarget.inspect). */
export interface StepState {
  /** Each address space's PTE for the page, one a line: "mm0: frame 569 RW", "mm1: frame 569 RO", "mm1: none". */
  pte: string;
  /** Per CPU, its TLB entry for the page in each address space ("-" when it has none). */
  tlb: string[];
  /** The VMA holding the page and its per-VMA lock: "vma#3[0x10000-0x20000) write-locked (seq 2)". */
  vma: string;
}

export interface StepRow {
  step: number;
  cpu: number;
  /** What the CPU did in this step: yield sites passed and model events. */
  what: string[];
  /** The state at the finding's page after this step (targets with inspect(), when the page is known). */
  state?: StepState;
}

/** The page a finding names (its message's first address), or -1. */
export function findingVpn(message: string): number {
  const m = /0x([0-9a-f]+)/.exec(message);
  return m ? Math.floor(Number.parseInt(m[1]!, 16) / 4096) : -1;
}

function pteText(pte: number): string {
  if (pte & PTE_PRESENT) return `frame ${pte >>> PTE_SHIFT} ${pte & PTE_WRITE ? "RW" : "RO"}`;
  if (pte & PTE_SWAP) return `swap ${pte >>> PTE_SHIFT}`;
  return "none";
}

/** The mm model's state at page `vpn`: every mm's PTE and VMA (with its per-VMA lock), every CPU's TLB entry. */
export function mmStepState(sim: MmSim, vpn: number): StepState {
  const ptes: string[] = [];
  const vmas: string[] = [];
  const tlb: string[] = Array.from({ length: sim.tlbs.ncpu }, () => "");
  const multi = sim.mms.length > 1;
  for (const mm of sim.mms) {
    const tag = multi ? `mm${mm.id}: ` : "";
    ptes.push(`${tag}${vpn < mm.pte.length ? pteText(mm.pte[vpn]!) : "none"}`);
    for (let c = 0; c < sim.tlbs.ncpu; c++) {
      const e = sim.tlbs.peek(c, mm.id, vpn);
      if (e !== 0) tlb[c] = `${tlb[c] ? `${tlb[c]}\n` : ""}${tag}${pteText(e)}`;
    }
    const v = mm.vmas.find((x) => x.start <= vpn && vpn < x.end);
    if (!v) {
      vmas.push(`${tag}no VMA`);
      continue;
    }
    let lock: string;
    if (!sim.sw.perVmaLock) lock = "no per-VMA lock (mmap_lock only)";
    else if (sim.sw.vmaLockImpl === "refcnt") lock = `vm_refcnt ${v.vm_refcnt}`;
    else {
      const parts: string[] = [];
      if (v.vm_lock_seq === mm.mm_lock_seq) parts.push(`write-locked (vm_lock_seq ${v.vm_lock_seq})`);
      const l = v.vm_lock;
      if (l.writer !== null) parts.push(`vma_lock held for write by pid ${l.writer.pid}`);
      if (l.readers > 0) parts.push(`read-locked x${l.readers}`);
      const writers = l.waitList.filter((w) => w.write && !w.granted).length;
      if (writers > 0) parts.push(`${writers === 1 ? "a writer waits" : `${writers} writers wait`}`);
      if (v.detached) parts.push("detached");
      lock = parts.length > 0 ? parts.join(", ") : "unlocked";
    }
    vmas.push(`${tag}${v.describe()} ${lock}`);
  }
  return { pte: ptes.join("\n"), tlb: tlb.map((t) => t || "-"), vma: vmas.join("\n") };
}

/** Replays the recorded choices and snapshots the target's state before each choice (= after the previous step). */
class InspectingStrategy implements ExploreStrategy {
  readonly states: StepState[] = [];
  constructor(
    private readonly inner: ReplayStrategy,
    private readonly inspect: (m: Machine) => StepState,
  ) {}
  choose(enabled: readonly number[], m: Machine): number {
    if (m.steps > 0) this.states[m.steps] = this.inspect(m);
    return this.inner.choose(enabled);
  }
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
  const vpn = findingVpn(cx.finding.message);
  const inspect = target.inspect?.bind(target);
  const insp =
    inspect !== undefined && vpn >= 0 ? new InspectingStrategy(strat, (m) => inspect(m, vpn)) : null;
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
  const o = runOnce(wrapped, insp ?? strat, cx.choices.length);
  if (insp !== null) insp.states[o.machine.steps] = inspect!(o.machine, vpn);
  const rows: StepRow[] = o.choices.map((cpu, i) => {
    const what = [o.labels[i] ? o.labels[i]!.slice(o.labels[i]!.indexOf(":") + 1) : ""];
    const extra = rec!.perStep.get(i + 1) ?? [];
    const row: StepRow = { step: i + 1, cpu, what: [...what.filter((w) => w !== ""), ...extra] };
    const st = insp?.states[i + 1];
    if (st !== undefined) row.state = st;
    return row;
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
