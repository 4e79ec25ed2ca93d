// Bounded exhaustive search: stateless depth-first enumeration of schedules by re-execution, with
// dynamic partial-order reduction (Flanagan & Godefroid, POPL 2005: backtrack points only where two
// steps race) and sleep sets (Godefroid 1996), or an optional preemption bound (CHESS) without
// reduction (sleep sets and DPOR lose completeness under a preemption bound). Two steps are
// independent when their footprints (the shared objects each step touched, recorded through
// Machine.touch) have no conflicting access; steps of the same CPU are always dependent.
import type { ExploreStrategy, FootprintSink, Machine } from "../sim/machine.js";
import type { RaceCensus } from "./census.js";
import { CpuHistories } from "./history.js";
import { type CheckTarget, endRun, isViolation, type RunOutcome, runOnce } from "./run.js";
import { historyKey, stateKey } from "./state.js";

/**
 * The footprint of one step: its shared-object accesses, each key once, encoded as
 * (key id << 2) | kind (READ, WRITE or UPDATE). Key ids are interned by one unit of work's
 * FootprintKeys and only ever compared; footprints leave a unit as key strings (FootprintEntries).
 */
export type Footprint = Int32Array;

/** Access kinds of a footprint entry: two accesses of a key conflict unless both are reads or both updates. */
const READ = 0;
const WRITE = 1;
/** A commutative update (Machine.touchUpdate): independent of other updates of the key. */
const UPDATE = 2;
const SUFFIX = ["", "!", "+"];

/** Two accesses of one step to a key: what the step did to it in all. */
function mergeKinds(a: number, b: number): number {
  return a === b ? a : WRITE;
}

/** The footprint keys of one unit of work, interned as small integers (one table per unit: no shared state). */
export class FootprintKeys {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  /** The interned id of a footprint key. */
  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(key, id);
      this.names.push(key);
    }
    return id;
  }

  /** A footprint as readable "key" / "key!" (write) / "key+" (update) strings, in the order of first access. */
  keysOf(fp: Footprint): string[] {
    return Array.from(fp, (e) => this.names[e >>> 2]! + SUFFIX[e & 3]);
  }

  /** The key of a footprint entry. */
  keyOf(e: number): string {
    return this.names[e >>> 2]!;
  }

  /** Build a footprint from "key" / "key!" / "key+" strings (the inverse of keysOf). */
  footprintOf(keys: readonly string[]): Footprint {
    const r = new FootprintRecorder(this);
    for (const k of keys) {
      if (k.endsWith("+")) r.update(k.slice(0, -1));
      else r.touch(k.endsWith("!") ? k.slice(0, -1) : k, k.endsWith("!"));
    }
    return r.take();
  }
}

/** Collects one step's accesses (Machine.footprint) into a reusable buffer. */
class FootprintRecorder implements FootprintSink {
  private buf = new Int32Array(32);
  private n = 0;
  constructor(
    private readonly keys: FootprintKeys,
    /** Record updates and locks taken free as writes (ExhaustiveOptions.commute off). */
    private readonly updatesAsWrites = false,
  ) {}
  touch(key: string, write: boolean): void {
    this.add(this.keys.id(key), write ? WRITE : READ);
  }
  update(key: string): void {
    this.add(this.keys.id(key), this.updatesAsWrites ? WRITE : UPDATE);
  }
  heldRead(key: string): void {
    this.add(this.keys.id(key), this.updatesAsWrites ? WRITE : READ);
  }
  private add(id: number, kind: number): void {
    const buf = this.buf;
    for (let i = 0; i < this.n; i++) {
      const x = buf[i]!;
      if (x >>> 2 === id) {
        buf[i] = (id << 2) | mergeKinds(x & 3, kind);
        return;
      }
    }
    if (this.n === buf.length) {
      this.buf = new Int32Array(buf.length * 2);
      this.buf.set(buf);
    }
    this.buf[this.n++] = (id << 2) | kind;
  }
  /** The footprint so far; the recorder starts empty again. */
  take(): Footprint {
    const f = this.buf.slice(0, this.n);
    this.n = 0;
    return f;
  }
}

/** Two accesses of the same key conflict: one writes, or one reads and the other updates. */
export function conflicting(x: number, y: number): boolean {
  return x >>> 2 === y >>> 2 && (((x | y) & WRITE) !== 0 || (x & 3) !== (y & 3));
}

/** No key of one footprint is accessed by the two steps in conflicting ways (a write, or a read and an update). */
export function independent(a: Footprint, b: Footprint): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    for (let j = 0; j < b.length; j++) if (conflicting(x, b[j]!)) return false;
  }
  return true;
}

interface Node {
  enabled: number[];
  /** DPOR: CPUs that must be tried from this node (the first choice, plus races found later). */
  backtrack: Set<number>;
  /** Transitions that need not be explored from here, with their footprints. */
  sleep: ReadonlyMap<number, Footprint>;
  /** Transitions already explored from here, with their footprints. */
  done: Map<number, Footprint>;
  chosen: number;
  /** Preemptions of the schedule up to and including this node's step. */
  preemptions: number;
  /** DPOR: vector clock of this node's step (valid while `chosen` is unchanged). */
  clock: Int32Array | null;
  /** Stateful search: the visited state this node registered (its subtree's summary grows here). */
  entry: StateEntry | null;
}

/**
 * A state the stateful search has visited (src/check/state.ts gives its key): the sleep set it was
 * explored with, whether its subtree is still being explored, and the summary of that subtree: every
 * transition (CPU and footprint) taken below it, so that a later visit pruned here can still add the
 * backtrack points those transitions would have added (Yang, Chen, Gopalakrishnan and Kirby,
 * "Efficient Stateful Dynamic Partial Order Reduction", SPIN 2008).
 */
interface StateEntry {
  sleep: Set<number>;
  open: boolean;
  summary: Set<number>;
}

/** The visited states of one stateful search, and the transitions of their summaries (interned). */
export class StateTable {
  readonly states = new Map<string, StateEntry>();
  private readonly ids = new Map<string, number>();
  readonly transitions: { cpu: number; fp: Footprint }[] = [];
  matched = 0;
  /** Nodes that had a key (quiescent), of all nodes created. */
  keyed = 0;
  transition(cpu: number, fp: Footprint): number {
    const k = `${cpu}:${fp.join(",")}`;
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.transitions.length;
      this.ids.set(k, id);
      this.transitions.push({ cpu, fp });
    }
    return id;
  }
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
  /**
   * Schedules one unit of work explores before it hands the rest of its subtree back (the grain
   * of the parallel search; results depend on it, never on the number of workers).
   */
  grain: number;
  /**
   * Called with the schedules explored so far and the deepest schedule: after each unit of work,
   * and about every PROGRESS_MS of the clock while one runs (from the clock reading the deadline
   * takes after each run, so a unit of long runs reports too). It decides when progress is shown,
   * never what the search explores or counts.
   */
  onProgress?: (schedules: number, maxDepth: number) => void;
  /**
   * State matching (src/check/state.ts): a node whose state was explored before with a sleep set
   * contained in its own is not explored again. One unit of work in this thread (the table of
   * visited states lives here); needs CheckTarget.stateRoots.
   */
  stateful: boolean;
  /**
   * The stateful search's key: "quiescent" (default, the CLI's `--stateful`) keys only nodes where
   * every task is between operations; "history" keys every node without a timer or interrupt
   * pending, tasks in the middle of operations named by their CPUs' read histories
   * (src/check/history.ts). On pervma-check-small the latter keys every node and matches none, at
   * a walk of the whole state per node (docs/checker-internals.md, round 9): a measurement, not a default.
   */
  stateKey: "history" | "quiescent";
  /**
   * A measurement (src/check/census.ts): which footprint keys make the races and the backtrack
   * points the search explores. In-thread searches only (a worker process has its own).
   */
  census?: RaceCensus;
  /**
   * Commutative updates (Machine.touchUpdate) are independent of each other, and a lock a step takes
   * free and releases before it ends is a read of its key (Machine.touchHeldRead), the default; off,
   * both count as writes (the search without these reductions, for comparison).
   */
  commute: boolean;
  /**
   * The clock of the wall-time budget (ms; default performance.now): it decides how long to search,
   * never what a run does. Tests inject one; the coordinator of worker processes (exhaustiveParallel)
   * reads it too, and a worker process reads its own up to the deadline it was given.
   */
  clock?: () => number;
}

/** The clock of a search's wall-time budget. */
export function clockOf(o: ExhaustiveOptions): () => number {
  return o.clock ?? (() => performance.now());
}

/** Milliseconds of a search's clock between two progress reports. */
export const PROGRESS_MS = 200;

/**
 * The progress of a running unit of work, after one of its runs: its schedules and deepest schedule
 * so far, and the clock's reading (the deadline's: the unit reads no clock for progress).
 */
export type UnitProgress = (schedules: number, maxDepth: number, nowMs: number) => void;

/** A UnitProgress that passes a report on at most once per `everyMs` of the clock (the first at once). */
export function throttled(
  report: (schedules: number, maxDepth: number) => void,
  everyMs = PROGRESS_MS,
): UnitProgress {
  let last = Number.NEGATIVE_INFINITY;
  return (schedules, maxDepth, nowMs) => {
    if (nowMs - last < everyMs) return;
    last = nowMs;
    report(schedules, maxDepth);
  };
}

export interface ExhaustiveResult {
  /**
   * The search matched states (ExhaustiveOptions.stateful as it ran: a preemption bound turns it
   * off); a complete stateful search is never reported as verified.
   */
  stateful: boolean;
  schedules: number;
  /** Every schedule within the bounds was explored (no budget ran out). */
  complete: boolean;
  /** Transitions pruned by sleep sets. */
  pruned: number;
  /**
   * States visited: the nodes of the search tree, one per step taken beyond a replayed prefix (the
   * search is stateless: a state reached along two schedules that differ before it counts twice).
   */
  states: number;
  maxDepth: number;
  /** Runs cut by the step budget with CPUs still able to move (then the search is not complete). */
  cutRuns?: number;
  counterexample: RunOutcome | null;
  elapsedMs: number;
  /** Steps executed in all runs (re-execution included). */
  stepsExecuted: number;
  /** Units of work (subtrees) explored, and rounds of them. */
  units: number;
  rounds: number;
  /** Stateful search: nodes pruned because their state was explored before, and distinct states kept. */
  matched: number;
  storedStates: number;
  /** Stateful search: nodes quiescent enough to have a state key. */
  keyedNodes: number;
}

export const DEFAULT_GRAIN = 1000;

export function exhaustiveOptions(opts: Partial<ExhaustiveOptions> = {}): ExhaustiveOptions {
  const o: ExhaustiveOptions = {
    preemptionBound: opts.preemptionBound ?? Number.POSITIVE_INFINITY,
    maxSchedules: opts.maxSchedules ?? 1_000_000,
    maxMs: opts.maxMs ?? 60_000,
    sleepSets: opts.sleepSets ?? true,
    dpor: opts.dpor ?? true,
    grain: Math.max(1, opts.grain ?? DEFAULT_GRAIN),
    stateful: opts.stateful ?? false,
    stateKey: opts.stateKey ?? "quiescent",
    commute: opts.commute ?? true,
    ...(opts.onProgress !== undefined ? { onProgress: opts.onProgress } : {}),
    ...(opts.census !== undefined ? { census: opts.census } : {}),
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
  };
  if (Number.isFinite(o.preemptionBound)) {
    // neither reduction is sound together with a preemption bound (Coons et al., OOPSLA 2013)
    o.sleepSets = false;
    o.dpor = false;
    o.stateful = false;
  }
  // the table of visited states is one unit's: the whole search is one unit of work
  if (o.stateful) o.grain = Number.MAX_SAFE_INTEGER;
  return o;
}

/** Footprints as they travel between the search's units of work: [cpu, "key" / "key!" strings]. */
export type FootprintEntries = [number, string[]][];

function entriesOf(m: ReadonlyMap<number, Footprint>, keys: FootprintKeys): FootprintEntries {
  return [...m].map(([c, f]) => [c, keys.keysOf(f)]);
}

function mapOf(e: FootprintEntries, keys: FootprintKeys): Map<number, Footprint> {
  return new Map(e.map(([c, k]) => [c, keys.footprintOf(k)]));
}

/**
 * A unit of work: the subtree below a fixed prefix of choices. The last prefix step is the
 * alternative this unit explores at its node; `sleep` is that node's sleep set plus the
 * transitions explored there before (the child's sleep set is the part independent of it).
 */
export interface SubtreeTask {
  prefix: number[];
  sleep: FootprintEntries;
  /**
   * Alternatives of the same node handed out before this one in the same round: the unit learns
   * their footprints itself (one short run each) so that they sleep here as they would in a
   * sequential search.
   */
  siblings: number[];
  /**
   * Schedules this unit may explore, when the search's schedule budget leaves it fewer than the
   * grain (the coordinator shares the budget out in unit order, so no round overruns it).
   */
  limit?: number;
}

/**
 * A unit's search stack handed back to the coordinator when its budget ran out, with the work left
 * below its nodes. Linear in the stack's depth: the nodes share one array of choices (a run is up
 * to --max-steps long, and a path per node would make the hand-back quadratic in it).
 */
export interface ExportedStack {
  /** The choices of the run on the stack, from the initial state: a node at depth d has the path choices[0..d). */
  choices: number[];
  /** Depth of nodes[0] (the unit's prefix length); nodes[k] is at depth from + k. */
  from: number;
  nodes: ExportedNode[];
}

/** A node of a unit's search stack handed back to the coordinator (ExportedStack). */
export interface ExportedNode {
  enabled: number[];
  backtrack: number[];
  sleep: FootprintEntries;
  done: FootprintEntries;
  /** Preemptions of the schedule before this node's step. */
  preemptions: number;
}

export interface SubtreeResult {
  schedules: number;
  pruned: number;
  /** Search-tree nodes this unit created (ExhaustiveResult.states). */
  states: number;
  steps: number;
  maxDepth: number;
  /** Footprint of the prefix's last step (the alternative explored), as keys; null for the root. */
  alternative: string[] | null;
  /** Races found against prefix steps: [depth, cpu] backtrack points for the coordinator. */
  escaped: [number, number][];
  /** The unit ran out of budget: the nodes of its stack, whose remaining work goes back (else null). */
  exported: ExportedStack | null;
  /** Choices of a schedule that broke an invariant. */
  violation: number[] | null;
  /** Set when the violation was found in this process (not a worker). */
  outcome?: RunOutcome;
  /** Stopped by the wall-time budget. */
  timedOut: boolean;
  /**
   * Runs cut by the step budget (target.maxSteps) with CPUs still able to move. DPOR and sleep sets
   * only reason about steps a run took: a CPU that never ran before the cut (a writer spinning first
   * keeps the others off the CPU) adds no backtrack point, so such a search cannot be complete.
   */
  cutRuns?: number;
  /** Not explored at all: the wall-time budget had run out before the unit started. */
  skipped?: boolean;
  /** Stateful search (one unit): nodes pruned by a state match, states stored, nodes with a key. */
  matched?: number;
  storedStates?: number;
  keyedNodes?: number;
}

/** The result of a unit that was not started because the wall-time budget had run out. */
export function skippedUnit(): SubtreeResult {
  return {
    schedules: 0,
    pruned: 0,
    states: 0,
    steps: 0,
    maxDepth: 0,
    alternative: null,
    escaped: [],
    exported: null,
    violation: null,
    timedOut: true,
    skipped: true,
  };
}

/** The sleep set of most nodes (read-only: a node that needs one gets its own). */
const NO_SLEEP: ReadonlyMap<number, Footprint> = new Map();

/** Drives one run along a prefix, then extends it, recording nodes and footprints. */
class DfsStrategy implements ExploreStrategy {
  depth = 0;
  private recording = false;
  private readonly recorder: FootprintRecorder;
  constructor(
    /** The unit's footprint keys. */
    keys: FootprintKeys,
    private readonly stack: Node[],
    private readonly prefixLen: number,
    private readonly opts: ExhaustiveOptions,
    private readonly onPrune: () => void,
    /** Called for every node of the search tree this run creates (beyond the unit's fixed prefix). */
    private readonly onNode: () => void,
    /** The unit's fixed choices, and the sleep set of its last fixed node. */
    private readonly forced: readonly number[] = [],
    private readonly forcedSleep: Map<number, Footprint> | null = null,
    /** The model records no footprints (CheckTarget.footprints "none"): every step writes "model". */
    private readonly allDependent = false,
    /** Stateful search: the visited states, the model's roots and the tasks the machine started with. */
    private readonly table: StateTable | null = null,
    private readonly roots: readonly unknown[] = [],
    private readonly initialTasks = 0,
    /** Stateful search with history keys: the read histories of this run's CPUs. */
    private readonly hist: CpuHistories | null = null,
  ) {
    this.recorder = new FootprintRecorder(keys, !opts.commute);
    if (table !== null)
      for (let i = 0; i < prefixLen && i < stack.length; i++) {
        const e = stack[i]!.entry;
        if (e !== null) this.entries.push(e);
      }
  }

  /** Stateful search: the entries of the nodes above the current step (their subtrees hold it). */
  private readonly entries: StateEntry[] = [];

  /** Stateful search: the visited state this run's last node matched (its subtree was not explored). */
  matched: StateEntry | null = null;

  choose(enabled: readonly number[], m: Machine): number {
    // the footprint of the previous step is complete now
    this.closeStep(m);
    this.hist?.end();
    const d = this.depth;
    let node = this.stack[d];
    if (d >= this.prefixLen || node === undefined) {
      const parent = d > 0 ? this.stack[d - 1]! : null;
      const prevCpu = parent?.chosen ?? -1;
      const prevPre = parent?.preemptions ?? 0;
      const preOf = (c: number) =>
        prevPre + (prevCpu >= 0 && c !== prevCpu && enabled.includes(prevCpu) ? 1 : 0);
      let sleep: ReadonlyMap<number, Footprint> = NO_SLEEP;
      let chosen = -1;
      if (d < this.forced.length) {
        // a fixed step of this unit of work
        chosen = this.forced[d]!;
        if (!enabled.includes(chosen))
          throw new Error(
            `exhaustive: prefix step ${d} chose CPU ${chosen}, not enabled (${enabled.join(",")})`,
          );
        if (d === this.forced.length - 1 && this.forcedSleep !== null) sleep = this.forcedSleep;
      } else {
        if (parent !== null && this.opts.sleepSets) {
          let own: Map<number, Footprint> | undefined;
          const fpChosen = parent.done.get(parent.chosen)!;
          for (const [u, fu] of parent.sleep)
            if (u !== parent.chosen && independent(fu, fpChosen)) (own ??= new Map()).set(u, fu);
          for (const [u, fu] of parent.done)
            if (u !== parent.chosen && independent(fu, fpChosen)) (own ??= new Map()).set(u, fu);
          if (own !== undefined) sleep = own;
        }
        for (const c of enabled) {
          if (sleep.has(c) || preOf(c) > this.opts.preemptionBound) continue;
          chosen = c;
          break;
        }
        if (chosen < 0) {
          // everything asleep or over the bound: this branch adds no new behaviour
          this.onPrune();
          m.stop("pruned");
          return enabled[0]!;
        }
        if (this.table !== null) {
          const entry = this.visit(m, sleep);
          if (entry === "matched") return enabled[0]!;
          this.entry = entry;
        }
      }
      // the unit's own alternative (its last fixed step) is a new node too; earlier fixed steps are replays
      if (d >= this.forced.length - 1) this.onNode();
      node = {
        // Machine.explore hands every step a fresh array of enabled CPUs: kept as it is
        enabled: enabled as number[],
        backtrack: new Set([chosen]),
        sleep,
        done: new Map(),
        chosen,
        preemptions: preOf(chosen),
        clock: null,
        entry: this.entry,
      };
      if (this.entry !== null) this.entries.push(this.entry);
      this.entry = null;
      this.stack[d] = node;
    }
    this.depth++;
    // a replayed prefix step's footprint is known from the run that chose it (determinism)
    this.recording = !(d < this.prefixLen - 1 && node.done.has(node.chosen));
    m.footprint = this.recording ? this.recorder : null;
    // the read histories need every step's accesses, replayed ones too
    if (this.hist !== null) m.footprint = this.hist.begin(node.chosen, m.footprint);
    if (this.allDependent && (this.recording || this.hist !== null)) m.footprint!.touch("model", true);
    return node.chosen;
  }

  private entry: StateEntry | null = null;

  /**
   * Stateful search, at a new node: its state's key; "matched" (the run stops here) when the state
   * was explored before, its subtree finished, with a sleep set contained in this node's; otherwise
   * the entry this node registers (null: no key, or a visit that cannot be pruned nor registered).
   */
  private visit(m: Machine, sleep: ReadonlyMap<number, Footprint>): StateEntry | null | "matched" {
    const table = this.table!;
    const key =
      this.hist !== null ? historyKey(m, this.roots, this.hist) : stateKey(m, this.roots, this.initialTasks);
    if (key === null) return null;
    table.keyed++;
    const old = table.states.get(key);
    if (old !== undefined) {
      if (old.open) return null; // on the current path (a cycle) or not finished: no summary yet
      let covered = true;
      for (const c of old.sleep)
        if (!sleep.has(c)) {
          covered = false;
          break;
        }
      if (covered) {
        table.matched++;
        this.matched = old;
        m.stop("pruned");
        return "matched";
      }
    }
    // first visit, or explored before with transitions asleep that are awake now: explore it (again)
    const e: StateEntry = { sleep: new Set(sleep.keys()), open: true, summary: new Set() };
    table.states.set(key, e);
    return e;
  }

  closeStep(m: Machine): void {
    m.footprint = null;
    if (!this.recording) return;
    this.recording = false;
    const node = this.stack[this.depth - 1]!;
    const fp = this.recorder.take();
    node.done.set(node.chosen, fp);
    if (this.table !== null && this.entries.length > 0) {
      // the transition is in the subtree of every node up to its own
      const id = this.table.transition(node.chosen, fp);
      for (const e of this.entries) e.summary.add(id);
    }
  }
}

/**
 * Explore the subtree below a unit's prefix depth-first, re-executing the target from its initial
 * state for every schedule, until the subtree is covered, a violation is found, or the unit's
 * budget (`opts.grain` schedules, the deadline) runs out; then its stack goes back to the
 * coordinator (`exported`). Deterministic: the same task and options give the same result.
 */
export function exploreSubtree(
  target: CheckTarget,
  task: SubtreeTask,
  opts: ExhaustiveOptions,
  deadlineMs = Number.POSITIVE_INFINITY,
  /** Told after every run but the last (when the unit reads its clock); it only reads. */
  progress?: UnitProgress,
): SubtreeResult {
  const floor = task.prefix.length;
  const now = clockOf(opts);
  // the unit's own tables: interned footprint keys and the race analysis's access history
  const keys = new FootprintKeys();
  const accesses = new AccessTable();
  const forcedSleep = floor > 0 ? mapOf(task.sleep, keys) : null;
  let probeSteps = 0;
  if (forcedSleep !== null && opts.sleepSets)
    for (const u of task.siblings) {
      const p = probeFootprint(target, [...task.prefix.slice(0, -1), u], keys, opts.commute);
      probeSteps += p.steps;
      if (p.footprint !== null) forcedSleep.set(u, p.footprint);
    }
  const stack: Node[] = [];
  const escaped: [number, number][] = [];
  const r: SubtreeResult = {
    schedules: 0,
    pruned: 0,
    states: 0,
    steps: 0,
    maxDepth: 0,
    alternative: null,
    escaped,
    exported: null,
    violation: null,
    timedOut: false,
  };
  r.steps += probeSteps;
  let prefixLen = 0;
  if (opts.stateful && target.stateRoots === undefined)
    throw new Error(`exhaustive: target ${target.name} cannot be searched statefully (no state roots)`);
  const table = opts.stateful ? new StateTable() : null;
  for (;;) {
    const m = target.build();
    const strat = new DfsStrategy(
      keys,
      stack,
      prefixLen,
      opts,
      () => r.pruned++,
      () => r.states++,
      task.prefix,
      forcedSleep,
      target.footprints === "none",
      table,
      table !== null ? target.stateRoots!(m) : [],
      m.tasks.length,
      table !== null && opts.stateKey === "history"
        ? new CpuHistories(m, "provenance", target.counters?.(m) ?? null)
        : null,
    );
    m.stopOnFinding = true;
    m.stopFilter = (f) => isViolation(target, f);
    m.explore(strat, target.maxSteps);
    // CPUs (and the time step) still enabled when the run ended (a workload that loops while the
    // others run, a stop condition): their next steps never ran, so no race of theirs was seen
    const pending = m.enabledCpus();
    if (m.cut) r.cutRuns = (r.cutRuns ?? 0) + 1;
    strat.closeStep(m);
    endRun(target, m);
    r.schedules++;
    r.steps += m.steps;
    r.maxDepth = Math.max(r.maxDepth, strat.depth);
    if (strat.depth < floor)
      throw new Error(`exhaustive: a run ended inside the prefix of its unit (${floor} steps)`);
    if (r.alternative === null && floor > 0)
      r.alternative = keys.keysOf(stack[floor - 1]!.done.get(task.prefix[floor - 1]!)!);
    const finding = m.findings.find((f) => isViolation(target, f)) ?? null;
    if (finding !== null) {
      r.violation = m.choices.slice();
      r.outcome = {
        finding,
        choices: m.choices.slice(),
        labels: m.stepLabels.slice(),
        steps: m.steps,
        machine: m,
      };
      return r;
    }
    stack.length = strat.depth;
    const census = opts.census;
    if (census !== undefined) census.run(stack, m.stepLabels);
    target.recycle?.(m);
    // the time step (Machine.timeChoice = cpus) is one more thread of the vector clocks
    if (opts.dpor)
      addBacktrackPoints(
        accesses,
        stack,
        target.cpus + 1,
        Math.max(0, prefixLen - 1),
        floor,
        escaped,
        census,
        keys,
      );
    if (opts.dpor && pending.length > 0)
      addPendingBacktrackPoints(stack, target.cpus + 1, pending, floor, escaped, census);
    if (strat.matched !== null) {
      // the subtree below the matched state is not explored again: its transitions race with this
      // path as they did with the first one's, and they are in every open node's subtree now
      if (opts.dpor) addSummaryBacktrackPoints(stack, target.cpus + 1, table!, strat.matched, floor, escaped);
      for (const n of stack)
        if (n.entry !== null) for (const id of strat.matched.summary) n.entry.summary.add(id);
    }
    if (table !== null) {
      r.matched = table.matched;
      r.storedStates = table.states.size;
      r.keyedNodes = table.keyed;
    }
    const limit = Math.min(opts.grain, task.limit ?? opts.grain);
    // the budgets hold within one schedule: the deadline is read after every run
    let over = r.schedules >= limit;
    if (!over) {
      const t = now();
      over = t >= deadlineMs;
      if (!over) progress?.(r.schedules, r.maxDepth, t);
    }
    if (over) {
      r.timedOut = r.schedules < limit;
      const nodes: ExportedNode[] = [];
      for (let d = floor; d < stack.length; d++) {
        const n = stack[d]!;
        nodes.push({
          enabled: n.enabled,
          backtrack: [...n.backtrack],
          sleep: entriesOf(n.sleep, keys),
          done: entriesOf(n.done, keys),
          preemptions: d > 0 ? stack[d - 1]!.preemptions : 0,
        });
      }
      r.exported = { choices: stack.map((x) => x.chosen), from: floor, nodes };
      return r;
    }
    // backtrack: deepest node of the subtree with an unexplored, awake, in-bound alternative
    let found = false;
    while (stack.length > floor) {
      const node = stack[stack.length - 1]!;
      const prevPre = stack.length >= 2 ? stack[stack.length - 2]!.preemptions : 0;
      const prevCpu = stack.length >= 2 ? stack[stack.length - 2]!.chosen : -1;
      const next = nextAlternative(node, prevCpu, prevPre, opts, null);
      if (census !== undefined) census.leave(node, node.chosen);
      if (next >= 0) {
        if (census !== undefined) census.explore(node, next);
        // the alternative is a new node of the search tree, its step taken by the next run
        r.states++;
        node.chosen = next;
        node.preemptions = prevPre + preemption(node.enabled, prevCpu, next);
        node.clock = null;
        prefixLen = stack.length;
        found = true;
        break;
      }
      const done = stack.pop()!;
      if (done.entry !== null) done.entry.open = false;
    }
    if (!found) return r;
  }
}

/** Run `choices` and record the footprint of the last one (null if the run ended before it). */
function probeFootprint(
  target: CheckTarget,
  choices: readonly number[],
  keys: FootprintKeys,
  commute: boolean,
): { footprint: Footprint | null; steps: number } {
  const rec = new FootprintRecorder(keys, !commute);
  let i = 0;
  const m = target.build();
  m.explore(
    {
      choose: (en, mm) => {
        if (i === choices.length) {
          mm.footprint = null;
          mm.stop("probed");
          return en[0]!;
        }
        const c = choices[i++]!;
        if (!en.includes(c)) throw new Error(`exhaustive: probe step ${i - 1} chose CPU ${c}, not enabled`);
        mm.footprint = i === choices.length ? rec : null;
        if (i === choices.length && target.footprints === "none") rec.touch("model", true);
        return c;
      },
    },
    target.maxSteps,
  );
  m.footprint = null;
  const steps = m.steps;
  const done = i === choices.length;
  target.recycle?.(m);
  return { footprint: done ? rec.take() : null, steps };
}

function preemption(enabled: readonly number[], prevCpu: number, c: number): number {
  return prevCpu >= 0 && c !== prevCpu && enabled.includes(prevCpu) ? 1 : 0;
}

/** The first CPU (in enabled order) still to explore at a node, or -1. */
function nextAlternative(
  node: {
    enabled: readonly number[];
    backtrack: Set<number>;
    sleep: ReadonlyMap<number, unknown>;
    done: ReadonlyMap<number, unknown>;
  },
  prevCpu: number,
  prevPre: number,
  o: ExhaustiveOptions,
  dispatched: Set<number> | null,
): number {
  for (const c of node.enabled) {
    if (node.done.has(c) || node.sleep.has(c) || dispatched?.has(c)) continue;
    if (o.dpor && !node.backtrack.has(c)) continue;
    if (prevPre + preemption(node.enabled, prevCpu, c) > o.preemptionBound) continue;
    return c;
  }
  return -1;
}

/** A node the coordinator owns: work below it is handed out as units. */
interface TopNode {
  /** Choices from the initial state: this node's path is choices[0..depth) (shared by a stack's nodes). */
  choices: readonly number[];
  depth: number;
  /** The coordinator's nodes below this one, by the choice made here. */
  children: Map<number, TopNode> | null;
  enabled: number[];
  backtrack: Set<number>;
  sleep: Map<number, string[]>;
  /** Alternatives explored (footprint known). */
  done: Map<number, string[]>;
  /** Alternatives handed out in the current round (footprint not yet known). */
  dispatched: Set<number>;
  preemptions: number;
}

/**
 * The coordinator of the search: units of work are explored in rounds; each round's results are
 * merged in the order of its units (footprints of explored alternatives, races against prefix
 * steps, stacks handed back), and the next round is every alternative left. Alternatives of a
 * node handed out in the same round do not put each other to sleep. Everything depends only on
 * the target and the options: any number of workers gives the same schedules and verdict.
 */
export class ExhaustiveSearch {
  readonly o: ExhaustiveOptions;
  /** The coordinator's nodes, a tree from the initial state (the first unit's stack). */
  private root: TopNode | null = null;
  private readonly touched = new Set<TopNode>();
  private started = false;
  schedules = 0;
  pruned = 0;
  states = 0;
  steps = 0;
  maxDepth = 0;
  units = 0;
  rounds = 0;
  matched = 0;
  storedStates = 0;
  keyedNodes = 0;
  violation: SubtreeResult | null = null;
  timedOut = false;
  /** Runs cut by the step budget (SubtreeResult.cutRuns): the search is then not complete. */
  cutRuns = 0;
  /** Work was left when a budget ran out. */
  private unfinished = false;

  constructor(opts: Partial<ExhaustiveOptions> = {}) {
    this.o = exhaustiveOptions(opts);
  }

  /** The units of the next round (empty: the search is over). */
  nextRound(elapsedMs: number): SubtreeTask[] {
    if (this.violation !== null) return [];
    if (!this.started) {
      this.started = true;
      this.rounds++;
      // the first unit too may explore no more schedules than the budget
      const first: SubtreeTask = { prefix: [], sleep: [], siblings: [] };
      if (this.o.maxSchedules < this.o.grain) first.limit = this.o.maxSchedules;
      return [first];
    }
    const tasks: SubtreeTask[] = [];
    // out of budget: the search ends, unfinished if work is left (its units are not built)
    const over = this.timedOut || elapsedMs >= this.o.maxMs || this.schedules >= this.o.maxSchedules;
    let left = false;
    for (const n of this.touched) {
      n.dispatched.clear();
      const siblings: number[] = [];
      const prevCpu = n.depth > 0 ? n.choices[n.depth - 1]! : -1;
      if (over) {
        if (!left) left = nextAlternative(n, prevCpu, n.preemptions, this.o, n.dispatched) >= 0;
        continue;
      }
      for (;;) {
        const c = nextAlternative(n, prevCpu, n.preemptions, this.o, n.dispatched);
        if (c < 0) break;
        n.dispatched.add(c);
        const sleep: FootprintEntries = [];
        if (this.o.sleepSets) {
          for (const [u, k] of n.sleep) if (u !== c) sleep.push([u, k]);
          for (const [u, k] of n.done) if (u !== c) sleep.push([u, k]);
        }
        const prefix = n.choices.slice(0, n.depth);
        prefix.push(c);
        tasks.push({ prefix, sleep, siblings: this.o.sleepSets ? siblings.slice() : [] });
        siblings.push(c);
      }
    }
    this.touched.clear();
    if (over) {
      if (left) this.unfinished = true;
      return [];
    }
    if (tasks.length === 0) return tasks;
    // share the schedules left out among the units in order: the round cannot overrun the budget
    let budget = this.o.maxSchedules - this.schedules;
    let n = 0;
    for (; n < tasks.length && budget > 0; n++) {
      const t = tasks[n]!;
      if (budget < this.o.grain) t.limit = budget;
      budget -= Math.min(budget, this.o.grain);
    }
    if (n < tasks.length) {
      this.unfinished = true;
      tasks.length = n;
    }
    this.rounds++;
    return tasks;
  }

  /** Merge the results of a round, in the order of its units. */
  merge(tasks: readonly SubtreeTask[], results: readonly SubtreeResult[]): void {
    for (let i = 0; i < tasks.length && this.violation === null; i++) {
      const t = tasks[i]!;
      const r = results[i] ?? skippedUnit();
      if (r.skipped) {
        // its subtree stays unexplored: the search cannot be complete
        this.timedOut = true;
        this.unfinished = true;
        continue;
      }
      this.units++;
      this.schedules += r.schedules;
      this.pruned += r.pruned;
      this.states += r.states;
      this.steps += r.steps;
      this.matched += r.matched ?? 0;
      this.storedStates += r.storedStates ?? 0;
      this.keyedNodes += r.keyedNodes ?? 0;
      this.maxDepth = Math.max(this.maxDepth, r.maxDepth);
      if (r.timedOut) this.timedOut = true;
      if ((r.cutRuns ?? 0) > 0) {
        // what lies past the step budget, and every CPU the cut kept off, is unexplored
        this.cutRuns += r.cutRuns!;
        this.unfinished = true;
      }
      if (r.violation !== null) {
        // the first violation in unit order ends the search; later units do not count
        this.violation = r;
        return;
      }
      // the coordinator's nodes along the unit's prefix (depths 0 to prefix.length - 1)
      const along = this.along(t.prefix);
      if (t.prefix.length > 0) {
        const n = along[t.prefix.length - 1]!;
        n.done.set(t.prefix[t.prefix.length - 1]!, r.alternative!);
        this.touched.add(n);
      }
      for (const [d, c] of r.escaped) {
        const n = along[d]!;
        if (!n.backtrack.has(c)) {
          n.backtrack.add(c);
          this.touched.add(n);
        }
      }
      const e = r.exported;
      if (e !== null) {
        let parent = e.from > 0 ? along[e.from - 1]! : null;
        for (let k = 0; k < e.nodes.length; k++) {
          const x = e.nodes[k]!;
          const depth = e.from + k;
          const n: TopNode = {
            choices: e.choices,
            depth,
            children: null,
            enabled: x.enabled,
            backtrack: new Set(x.backtrack),
            sleep: new Map(x.sleep),
            done: new Map(x.done),
            dispatched: new Set(),
            preemptions: x.preemptions,
          };
          if (parent === null) this.root = n;
          else (parent.children ??= new Map()).set(e.choices[depth - 1]!, n);
          this.touched.add(n);
          parent = n;
        }
      }
    }
  }

  /** The coordinator's nodes on a path: the root, then the node after each choice but the last. */
  private along(path: readonly number[]): TopNode[] {
    const nodes: TopNode[] = [];
    let n = this.root;
    for (let d = 0; d < path.length; d++) {
      if (n === null)
        throw new Error(`exhaustive: no coordinator node at ${path.slice(0, d).join(",") || "the root"}`);
      nodes.push(n);
      n = d + 1 < path.length ? (n.children?.get(path[d]!) ?? null) : null;
    }
    return nodes;
  }

  /** The search covered everything within its bounds. */
  get complete(): boolean {
    return this.violation === null && !this.unfinished;
  }
}

/** Enumerate schedules until the space within the bounds is covered or a violation is found (in this thread). */
export function exhaustive(target: CheckTarget, opts: Partial<ExhaustiveOptions> = {}): ExhaustiveResult {
  const search = new ExhaustiveSearch(opts);
  const now = clockOf(search.o);
  const t0 = now();
  for (;;) {
    const tasks = search.nextRound(now() - t0);
    if (tasks.length === 0) break;
    search.merge(tasks, exploreHere(target, search, tasks, t0 + search.o.maxMs));
  }
  return searchResult(search, target, now() - t0);
}

/** A round's units explored in this thread, in order, up to the first violation (merge ignores the rest). */
export function exploreHere(
  target: CheckTarget,
  search: ExhaustiveSearch,
  tasks: readonly SubtreeTask[],
  deadlineMs: number,
): SubtreeResult[] {
  const results: SubtreeResult[] = [];
  let schedules = search.schedules;
  let depth = search.maxDepth;
  const now = clockOf(search.o);
  const report = search.o.onProgress;
  // while a unit runs: the units before it, and its own schedules so far
  const during =
    report === undefined ? undefined : throttled((s, d) => report(schedules + s, Math.max(depth, d)));
  for (const t of tasks) {
    // the wall-time budget holds within one schedule: no unit starts after it ran out
    if (results.length > 0 && now() >= deadlineMs) break;
    const r = exploreSubtree(target, t, search.o, deadlineMs, during);
    results.push(r);
    schedules += r.schedules;
    depth = Math.max(depth, r.maxDepth);
    report?.(schedules, depth);
    if (r.violation !== null) break;
  }
  return results;
}

/** The result of a finished search; a violation found in a worker is replayed here to get its run. */
export function searchResult(
  search: ExhaustiveSearch,
  target: CheckTarget,
  elapsedMs: number,
): ExhaustiveResult {
  let cx: RunOutcome | null = null;
  if (search.violation !== null)
    cx = search.violation.outcome ?? replayChoices(target, search.violation.violation!);
  return {
    stateful: search.o.stateful,
    schedules: search.schedules,
    complete: search.complete,
    pruned: search.pruned,
    states: search.states,
    maxDepth: search.maxDepth,
    counterexample: cx,
    elapsedMs,
    stepsExecuted: search.steps,
    units: search.units,
    rounds: search.rounds,
    cutRuns: search.cutRuns,
    matched: search.matched,
    storedStates: search.storedStates,
    keyedNodes: search.keyedNodes,
  };
}

function replayChoices(target: CheckTarget, choices: readonly number[]): RunOutcome {
  let i = 0;
  return runOnce(target, {
    choose: (en) => {
      const c = choices[i++];
      if (c === undefined || !en.includes(c))
        throw new Error("exhaustive: a worker's violation does not replay");
      return c;
    },
  });
}

/**
 * Per-key access history of the run being analysed: the last write to each key, and the reads and
 * the updates since (keys are interned ids; a stamp marks entries of the current analysis, so
 * nothing is cleared).
 */
class AccessTable {
  private stamp = 0;
  private at = new Int32Array(256);
  private lastWrite = new Int32Array(256);
  private reads: number[][] = [];
  private updates: number[][] = [];

  reset(): void {
    this.stamp++;
  }

  private slot(k: number): void {
    if (k >= this.at.length) {
      const n = Math.max(k + 1, this.at.length * 2);
      const at = new Int32Array(n);
      at.set(this.at);
      this.at = at;
      const lw = new Int32Array(n);
      lw.set(this.lastWrite);
      this.lastWrite = lw;
    }
    if (this.at[k] !== this.stamp) {
      this.at[k] = this.stamp;
      this.lastWrite[k] = -1;
      const r = this.reads[k];
      if (r === undefined) this.reads[k] = [];
      else r.length = 0;
      const u = this.updates[k];
      if (u === undefined) this.updates[k] = [];
      else u.length = 0;
    }
  }

  /**
   * Call `f` with every earlier step that conflicts with access `e` and is not ordered before another
   * one that does: the last write, the reads since (for a write or an update), the updates since (for
   * a write or a read). Every earlier access conflicts with the last write, so is ordered before it.
   */
  conflicts(e: number, f: (j: number) => void): void {
    const k = e >>> 2;
    this.slot(k);
    const lw = this.lastWrite[k]!;
    if (lw >= 0) f(lw);
    const kind = e & 3;
    if (kind !== READ) for (const j of this.reads[k]!) f(j);
    if (kind !== UPDATE) for (const j of this.updates[k]!) f(j);
  }

  record(e: number, i: number): void {
    const k = e >>> 2;
    this.slot(k);
    const kind = e & 3;
    if (kind === WRITE) {
      this.lastWrite[k] = i;
      this.reads[k]!.length = 0;
      this.updates[k]!.length = 0;
    } else if (kind === READ) this.reads[k]!.push(i);
    else this.updates[k]!.push(i);
  }
}

/**
 * DPOR race analysis of the run on the stack: for every step i, find the last earlier step j of
 * another CPU that conflicts with it and does not happen before CPU(i)'s previous point (vector
 * clocks over program order and conflicts); then CPU(i) must also be tried at j (or, if it was not
 * enabled there, every CPU enabled there). The candidates are, per key the step touches, the last
 * write and (for a write) the reads since: every other conflicting step happens before one of them.
 * Steps before `from` are the previous run's (same choices, same footprints): their races were added
 * then and their clocks are kept on the nodes. Below `floor` the unit's prefix is fixed: races of its
 * last step and later ones against prefix steps go to `escaped` for the coordinator.
 */
function addBacktrackPoints(
  accesses: AccessTable,
  stack: Node[],
  nCpus: number,
  from: number,
  floor: number,
  escaped: [number, number][],
  census?: RaceCensus,
  keys?: FootprintKeys,
): void {
  const len = stack.length;
  const none = new Int32Array(nCpus).fill(-1);
  const cpuClock: Int32Array[] = new Array(nCpus).fill(none);
  accesses.reset();
  let start = 0;
  for (; start < from && stack[start]!.clock !== null; start++) {
    const n = stack[start]!;
    cpuClock[n.chosen] = n.clock!;
    const fi = n.done.get(n.chosen);
    if (fi !== undefined) for (let x = 0; x < fi.length; x++) accesses.record(fi[x]!, start);
  }
  let race = -1;
  let p = -1;
  let pre: Int32Array = none;
  let c: Int32Array = none;
  const candidate = (j: number): void => {
    const q = stack[j]!.chosen;
    if (q === p) return;
    const cj = stack[j]!.clock!;
    for (let x = 0; x < nCpus; x++) if (cj[x]! > c[x]!) c[x] = cj[x]!;
    if (pre[q]! < j && j > race) race = j; // not ordered before p's previous point: a race
  };
  for (let i = start; i < len; i++) {
    const n = stack[i]!;
    p = n.chosen;
    pre = cpuClock[p]!;
    c = pre.slice();
    race = -1;
    const fi = n.done.get(p);
    if (fi !== undefined) for (let x = 0; x < fi.length; x++) accesses.conflicts(fi[x]!, candidate);
    // races between two fixed prefix steps were handled by the unit that explored that prefix
    if (race >= 0 && i >= floor - 1) {
      const node = stack[race]!;
      const add = alternativesAt(node, p);
      if (census !== undefined) {
        const fresh = add.map((a) => race >= floor && !node.backtrack.has(a));
        census.race(node, node.done.get(node.chosen)!, n, fi!, add, fresh, keys!);
      }
      backtrackAt(node, race, add, floor, escaped);
    }
    c[p] = i;
    n.clock = c;
    cpuClock[p] = c;
    if (fi !== undefined) for (let x = 0; x < fi.length; x++) accesses.record(fi[x]!, i);
  }
}

/**
 * The races of the steps that never ran: a CPU (or the time step) still enabled when the run ended
 * has a next step whose footprint is unknown, so it is taken to conflict with every step. Its race
 * is the last step of another CPU not ordered before its own last step (vector clocks of
 * addBacktrackPoints, which must have run on this stack); it is tried there (Flanagan and
 * Godefroid's analysis of next(s, p) for every process p, with a conservative dependence). Without
 * this, a run that ends while a CPU waits (a writer that loops until the faulters finish) hides
 * every interleaving of that CPU's steps.
 */
function addPendingBacktrackPoints(
  stack: Node[],
  nCpus: number,
  pending: readonly number[],
  floor: number,
  escaped: [number, number][],
  census?: RaceCensus,
): void {
  const last = lastClocks(stack, nCpus);
  for (const p of pending) {
    const pre = last[p]!;
    for (let j = stack.length - 1; j >= 0; j--) {
      const n = stack[j]!;
      if (n.chosen === p || pre[n.chosen]! >= j) continue;
      const add = alternativesAt(n, p);
      census?.pending(
        n,
        add,
        add.map((a) => j >= floor && !n.backtrack.has(a)),
      );
      backtrackAt(n, j, add, floor, escaped);
      break;
    }
  }
}

/**
 * Stateful search: the races the transitions of a matched state's subtree (its summary) would have
 * had with the path on the stack, had the subtree been explored below it again. Each transition of
 * CPU p is treated as if it ran right after the stack: its race is the last step of another CPU
 * that conflicts with it and is not ordered before p's last step on the stack (vector clocks of
 * addBacktrackPoints, which must have run on this stack). Steps of the subtree that would order
 * the two are ignored, so this adds at least the backtrack points an exploration would (Yang et al.,
 * SPIN 2008, with a conservative summary).
 */
function addSummaryBacktrackPoints(
  stack: Node[],
  nCpus: number,
  table: StateTable,
  entry: StateEntry,
  floor: number,
  escaped: [number, number][],
): void {
  const last = lastClocks(stack, nCpus);
  for (const id of entry.summary) {
    const { cpu: p, fp } = table.transitions[id]!;
    const pre = last[p]!;
    for (let j = stack.length - 1; j >= 0; j--) {
      const n = stack[j]!;
      const q = n.chosen;
      if (q === p || pre[q]! >= j) continue;
      const fj = n.done.get(q);
      if (fj === undefined || independent(fj, fp)) continue;
      backtrackAt(n, j, alternativesAt(n, p), floor, escaped);
      break;
    }
  }
}

/** Each CPU's vector clock at its last step on the stack (addBacktrackPoints must have run on it). */
function lastClocks(stack: Node[], nCpus: number): Int32Array[] {
  const none = new Int32Array(nCpus).fill(-1);
  const last: Int32Array[] = new Array(nCpus).fill(none);
  for (let i = 0; i < stack.length; i++) last[stack[i]!.chosen] = stack[i]!.clock ?? none;
  return last;
}

/** CPU `p` races with the step of node `n`: the CPUs to try there (p, or every CPU enabled there if p was not). */
function alternativesAt(n: Node, p: number): number[] {
  return n.enabled.includes(p) ? [p] : n.enabled;
}

/** Backtrack points `add` at node `n` (depth `j`); below the unit's `floor` they go to `escaped` for the coordinator. */
function backtrackAt(
  n: Node,
  j: number,
  add: readonly number[],
  floor: number,
  escaped: [number, number][],
): void {
  for (const a of add) {
    if (j < floor) escaped.push([j, a]);
    else n.backtrack.add(a);
  }
}
