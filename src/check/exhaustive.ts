// Bounded exhaustive search: stateless depth-first enumeration of schedules by re-execution, with
// dynamic partial-order reduction (Flanagan & Godefroid, POPL 2005: backtrack points only where two
// steps race) and sleep sets (Godefroid 1996), or an optional preemption bound (CHESS) without
// reduction (sleep sets and DPOR lose completeness under a preemption bound). Two steps are
// independent when their footprints (the shared objects each step touched, recorded through
// Machine.touch) have no conflicting access; steps of the same CPU are always dependent.
import type { ExploreStrategy, FootprintSink, Machine } from "../sim/machine.js";
import { type CheckTarget, isViolation, type RunOutcome } from "./run.js";

/**
 * The footprint of one step: its shared-object accesses, each key once, encoded as
 * (key id << 1) | write. Key ids are interned per process and only ever compared.
 */
export type Footprint = Int32Array;

const keyIds = new Map<string, number>();
const keyNames: string[] = [];

/** The interned id of a footprint key. */
export function footprintKeyId(key: string): number {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = keyNames.length;
    keyIds.set(key, id);
    keyNames.push(key);
  }
  return id;
}

/** A footprint as readable "key" / "key!" (write) strings, in the order of first access. */
export function footprintKeys(fp: Footprint): string[] {
  return Array.from(fp, (e) => keyNames[e >>> 1]! + (e & 1 ? "!" : ""));
}

/** Build a footprint from "key" / "key!" strings (the inverse of footprintKeys). */
export function footprintOf(keys: readonly string[]): Footprint {
  const r = new FootprintRecorder();
  for (const k of keys) r.touch(k.endsWith("!") ? k.slice(0, -1) : k, k.endsWith("!"));
  return r.take();
}

/** Collects one step's accesses (Machine.footprint) into a reusable buffer. */
class FootprintRecorder implements FootprintSink {
  private buf = new Int32Array(32);
  private n = 0;
  touch(key: string, write: boolean): void {
    const e = footprintKeyId(key) << 1;
    const buf = this.buf;
    for (let i = 0; i < this.n; i++) {
      if ((buf[i]! | 1) === (e | 1)) {
        if (write) buf[i] = e | 1;
        return;
      }
    }
    if (this.n === buf.length) {
      this.buf = new Int32Array(buf.length * 2);
      this.buf.set(buf);
    }
    this.buf[this.n++] = write ? e | 1 : e;
  }
  /** The footprint so far; the recorder starts empty again. */
  take(): Footprint {
    const f = this.buf.slice(0, this.n);
    this.n = 0;
    return f;
  }
}

interface Node {
  enabled: number[];
  /** DPOR: CPUs that must be tried from this node (the first choice, plus races found later). */
  backtrack: Set<number>;
  /** Transitions that need not be explored from here, with their footprints. */
  sleep: Map<number, Footprint>;
  /** Transitions already explored from here, with their footprints. */
  done: Map<number, Footprint>;
  chosen: number;
  preemptions: number;
  /** DPOR: cached dependency of this node's step with each earlier step (0 unknown, 1 independent, 2 dependent). */
  deps: Uint8Array | null;
  /** DPOR: vector clock of this node's step (valid while `chosen` is unchanged). */
  clock: Int32Array | null;
}

export interface ExhaustiveOptions {
  /** Maximum preemptions per schedule (switching away from a CPU that could go on); Infinity: none. */
  preemptionBound: number;
  /** Stop after this many schedules. */
  maxSchedules: number;
  /** Stop after this much wall time (ms). */
  maxMs: number;
  /** Use sleep sets (partial-order reduction). */
  sleepSets: boolean;
  /** Use dynamic partial-order reduction (backtrack only at races). */
  dpor: boolean;
}

export interface ExhaustiveResult {
  schedules: number;
  /** Every schedule within the bounds was explored (no budget ran out). */
  complete: boolean;
  /** Transitions pruned by sleep sets. */
  pruned: number;
  maxDepth: number;
  counterexample: RunOutcome | null;
  elapsedMs: number;
  /** Steps executed in all runs (re-execution included). */
  stepsExecuted: number;
}

/** No key of one footprint is written by one step and accessed by the other. */
export function independent(a: Footprint, b: Footprint): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    for (let j = 0; j < b.length; j++) {
      const y = b[j]!;
      if ((x | 1) === (y | 1) && ((x | y) & 1) !== 0) return false;
    }
  }
  return true;
}

/** Drives one run along a prefix, then extends it, recording nodes and footprints. */
class DfsStrategy implements ExploreStrategy {
  depth = 0;
  private recording = false;
  private readonly recorder = new FootprintRecorder();
  constructor(
    private readonly stack: Node[],
    private readonly prefixLen: number,
    private readonly opts: ExhaustiveOptions,
    private readonly onPrune: () => void,
  ) {}

  choose(enabled: readonly number[], m: Machine): number {
    // the footprint of the previous step is complete now
    this.closeStep(m);
    const d = this.depth;
    let node = this.stack[d];
    if (d >= this.prefixLen || node === undefined) {
      const parent = d > 0 ? this.stack[d - 1]! : null;
      const sleep = new Map<number, Footprint>();
      if (parent !== null && this.opts.sleepSets) {
        const fpChosen = parent.done.get(parent.chosen)!;
        for (const [u, fu] of parent.sleep)
          if (u !== parent.chosen && independent(fu, fpChosen)) sleep.set(u, fu);
        for (const [u, fu] of parent.done)
          if (u !== parent.chosen && independent(fu, fpChosen)) sleep.set(u, fu);
      }
      const prevCpu = parent?.chosen ?? -1;
      const prevPre = parent?.preemptions ?? 0;
      let chosen = -1;
      for (const c of enabled) {
        if (sleep.has(c)) continue;
        const pre = prevPre + (prevCpu >= 0 && c !== prevCpu && enabled.includes(prevCpu) ? 1 : 0);
        if (pre > this.opts.preemptionBound) continue;
        chosen = c;
        break;
      }
      if (chosen < 0) {
        // everything asleep or over the bound: this branch adds no new behaviour
        this.onPrune();
        m.stop("pruned");
        return enabled[0]!;
      }
      const pre = prevPre + (prevCpu >= 0 && chosen !== prevCpu && enabled.includes(prevCpu) ? 1 : 0);
      node = {
        enabled: enabled.slice(),
        backtrack: new Set([chosen]),
        sleep,
        done: new Map(),
        chosen,
        preemptions: pre,
        deps: null,
        clock: null,
      };
      this.stack[d] = node;
    }
    this.depth++;
    // a replayed prefix step's footprint is known from the run that chose it (determinism)
    this.recording = !(d < this.prefixLen - 1 && node.done.has(node.chosen));
    m.footprint = this.recording ? this.recorder : null;
    return node.chosen;
  }

  closeStep(m: Machine): void {
    m.footprint = null;
    if (!this.recording) return;
    this.recording = false;
    const node = this.stack[this.depth - 1]!;
    node.done.set(node.chosen, this.recorder.take());
  }
}

/** Enumerate schedules depth-first until the space within the bounds is covered or a violation is found. */
export function exhaustive(target: CheckTarget, opts: Partial<ExhaustiveOptions> = {}): ExhaustiveResult {
  const o: ExhaustiveOptions = {
    preemptionBound: opts.preemptionBound ?? Number.POSITIVE_INFINITY,
    maxSchedules: opts.maxSchedules ?? 1_000_000,
    maxMs: opts.maxMs ?? 60_000,
    sleepSets: opts.sleepSets ?? true,
    dpor: opts.dpor ?? true,
  };
  if (Number.isFinite(o.preemptionBound)) {
    // neither reduction is sound together with a preemption bound (Coons et al., OOPSLA 2013)
    o.sleepSets = false;
    o.dpor = false;
  }
  const t0 = performance.now();
  const stack: Node[] = [];
  let schedules = 0;
  let pruned = 0;
  let maxDepth = 0;
  let stepsExecuted = 0;
  let prefixLen = 0;
  for (;;) {
    const strat = new DfsStrategy(stack, prefixLen, o, () => pruned++);
    const m = target.build();
    m.stopOnFinding = true;
    m.stopFilter = (f) => isViolation(target, f);
    m.explore(strat, target.maxSteps);
    strat.closeStep(m);
    if (!m.stopped || m.stopReason !== "pruned") {
      if (!m.stopped) m.finish();
    }
    schedules++;
    stepsExecuted += m.steps;
    maxDepth = Math.max(maxDepth, strat.depth);
    const finding = m.findings.find((f) => isViolation(target, f)) ?? null;
    if (finding !== null) {
      return {
        schedules,
        complete: false,
        pruned,
        maxDepth,
        counterexample: {
          finding,
          choices: m.choices.slice(),
          labels: m.stepLabels.slice(),
          steps: m.steps,
          machine: m,
        },
        elapsedMs: performance.now() - t0,
        stepsExecuted,
      };
    }
    target.recycle?.(m);
    stack.length = strat.depth;
    if (o.dpor) addBacktrackPoints(stack, target.cpus, Math.max(0, prefixLen - 1));
    // backtrack: deepest node with an unexplored, awake, in-bound alternative
    let found = false;
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      const parent = stack.length >= 2 ? stack[stack.length - 2]! : null;
      const prevCpu = parent?.chosen ?? -1;
      const prevPre = parent?.preemptions ?? 0;
      let next = -1;
      let nextPre = 0;
      for (const c of node.enabled) {
        if (node.done.has(c) || node.sleep.has(c)) continue;
        if (o.dpor && !node.backtrack.has(c)) continue;
        const pre = prevPre + (prevCpu >= 0 && c !== prevCpu && node.enabled.includes(prevCpu) ? 1 : 0);
        if (pre > o.preemptionBound) continue;
        next = c;
        nextPre = pre;
        break;
      }
      if (next >= 0) {
        node.chosen = next;
        node.deps = null;
        node.clock = null;
        node.preemptions = nextPre;
        prefixLen = stack.length;
        found = true;
        break;
      }
      stack.pop();
    }
    const elapsed = performance.now() - t0;
    if (!found) {
      return {
        schedules,
        complete: true,
        pruned,
        maxDepth,
        counterexample: null,
        elapsedMs: elapsed,
        stepsExecuted,
      };
    }
    if (schedules >= o.maxSchedules || elapsed >= o.maxMs) {
      return {
        schedules,
        complete: false,
        pruned,
        maxDepth,
        counterexample: null,
        elapsedMs: elapsed,
        stepsExecuted,
      };
    }
  }
}

/**
 * DPOR race analysis of the run on the stack: for every step i, find the last earlier step j of
 * another CPU that conflicts with it and does not happen before CPU(i)'s previous point (vector
 * clocks over program order and conflicts); then CPU(i) must also be tried at j (or, if it was not
 * enabled there, every CPU enabled there). Steps before `from` are the previous run's (same
 * choices, same footprints): their races were added then and their clocks are kept on the nodes.
 */
function addBacktrackPoints(stack: Node[], nCpus: number, from: number): void {
  const len = stack.length;
  const cpuOf: number[] = new Array(len);
  const fp: (Footprint | undefined)[] = new Array(len);
  for (let i = 0; i < len; i++) {
    cpuOf[i] = stack[i]!.chosen;
    fp[i] = stack[i]!.done.get(stack[i]!.chosen);
  }
  // prefix nodes keep their steps from run to run, so their dependencies are computed once
  const dependent = (i: number, j: number): boolean => {
    const node = stack[i]!;
    let d = node.deps;
    if (d === null || d.length < i) d = node.deps = new Uint8Array(i);
    let v = d[j]!;
    if (v === 0) d[j] = v = independent(fp[j]!, fp[i]!) ? 1 : 2;
    return v === 2;
  };
  const none = new Int32Array(nCpus).fill(-1);
  const cpuClock: Int32Array[] = new Array(nCpus).fill(none);
  let start = 0;
  for (; start < from && stack[start]!.clock !== null; start++)
    cpuClock[cpuOf[start]!] = stack[start]!.clock!;
  for (let i = start; i < len; i++) {
    const p = cpuOf[i]!;
    const fi = fp[i];
    const pre = cpuClock[p]!;
    if (fi !== undefined) {
      for (let j = i - 1; j >= 0; j--) {
        const q = cpuOf[j]!;
        if (q === p) continue;
        if (fp[j] === undefined || pre[q]! >= j) continue; // j happens before p's current point: ordered
        if (!dependent(i, j)) continue;
        const node = stack[j]!;
        if (node.enabled.includes(p)) node.backtrack.add(p);
        else for (const c of node.enabled) node.backtrack.add(c);
        break;
      }
    }
    const c = pre.slice();
    if (fi !== undefined) {
      for (let k = 0; k < i; k++) {
        if (fp[k] === undefined || cpuOf[k] === p || !dependent(i, k)) continue;
        const ck = stack[k]!.clock!;
        for (let x = 0; x < nCpus; x++) if (ck[x]! > c[x]!) c[x] = ck[x]!;
      }
    }
    c[p] = i;
    stack[i]!.clock = c;
    cpuClock[p] = c;
  }
}
