// Read histories of the CPUs' running code, for state matching in the middle of operations (the
// stateful exhaustive search, src/check/state.ts). A generator's locals cannot be read, but they are
// a function of where the task started (a quiescent point, or the start of its body) and of what its
// steps read: the model is deterministic, and a step's reads of shared state are in its footprint
// (Machine.footprint: tracked accessors and src/sync primitives record them). So a hash chain of the
// step footprints of a CPU, each key with a *name* of the value it had when the step began, names
// the locals of every task that ran on that CPU since the chain was last reset.
//
// Values are named by provenance, not by content: a key never written in the run has the name 0 (its
// value in the build, the same in every run); a step that writes a key gives it the name
// hash(the writing CPU's chain after the step, the key). That name determines the value: the chain
// after the step determines the locals before it and every value it read, so everything it wrote.
// Provenance names are finer than contents (two steps that write the same value give it two
// names), so equal chains imply equal locals but not conversely; the `keys` mode (key names and
// read/write only, no values) is coarser than any value-based history and bounds from above what
// such a history could merge (a measurement, not sound for pruning).
//
// A chain covers the generators a CPU resumed: a step of CPU c resumes only c's contexts (Machine.step
// drives c). A task that moved to another CPU would carry locals from its old CPU's chain, so a
// key is refused (null) once any task's CPU differs from the one it was created on. A CPU's chain is
// reset when every task on it has finished, has never run, or is quiescent (Task.quiescent declares
// its future), and no interrupt frame is live on it: no locals of that CPU's code are left.

import type { FootprintSink } from "../sim/machine.js";
import { type Machine, taskNotStarted } from "../sim/machine.js";
import { hash53 } from "./state.js";

/** A chain value: two 53-bit lanes as one string (about 106 bits). */
function chain(prev: string, text: string): string {
  const s = `${prev}|${text}`;
  return `${hash53(s, 1).toString(36)}.${hash53(s, 0x9e3779b9).toString(36)}`;
}

export type HistoryMode = "provenance" | "keys";

/** Records one step's accesses (in order of first access) and passes them on to another sink. */
class Tee implements FootprintSink {
  readonly keys = new Map<string, boolean>();
  inner: FootprintSink | null = null;
  touch(key: string, write: boolean): void {
    this.keys.set(key, (this.keys.get(key) ?? false) || write);
    this.inner?.touch(key, write);
  }
  /** A lock taken free: a read, unless the step ends with it held (the machine then records a write). */
  heldRead(key: string): void {
    if (!this.keys.has(key)) this.keys.set(key, false);
    const inner = this.inner;
    if (inner === null) return;
    if (inner.heldRead !== undefined) inner.heldRead(key);
    else inner.touch(key, true);
  }
  /** A commutative update changes the value: a write for the histories, an update for the search. */
  update(key: string): void {
    this.keys.set(key, true);
    const inner = this.inner;
    if (inner === null) return;
    if (inner.update !== undefined) inner.update(key);
    else inner.touch(key, true);
  }
}

/** The read histories of one run's CPUs (one object per build; nothing shared between runs). */
export class CpuHistories {
  /** Chain of each CPU, and of the time step (index cpus). */
  private readonly chains: string[];
  /** Provenance names of the keys written so far in this run. */
  private readonly names = new Map<string, string>();
  private readonly tee = new Tee();
  private cpu = -1;
  /** The counters when the step began. */
  private before = "";
  /** The CPU each task was created on (a task that moved makes keys unavailable). */
  private readonly homes: number[] = [];
  private moved = false;
  /** Tasks the machine had when the run began; the tasks seen so far. */
  private readonly initialTasks: number;
  private known: number;

  /** Construct right after the build, before the run's first step. */
  constructor(
    private readonly m: Machine,
    readonly mode: HistoryMode = "provenance",
    /** CheckTarget.counters: allocation counters steps read without a footprint. */
    private readonly counters: (() => string) | null = null,
  ) {
    this.chains = new Array<string>(m.cpus.length + 1).fill("0");
    this.initialTasks = m.tasks.length;
    this.known = m.tasks.length;
  }

  /**
   * The step on `cpu` begins: returns the sink to install as Machine.footprint (it records into
   * `inner` too, the search's own footprint recorder, when there is one).
   */
  begin(cpu: number, inner: FootprintSink | null): FootprintSink {
    this.cpu = cpu;
    if (this.counters !== null) this.before = this.counters();
    this.tee.keys.clear();
    this.tee.inner = inner;
    return this.tee;
  }

  /** The step that began last is over: fold its accesses into its CPU's chain. */
  end(): void {
    const c = this.cpu;
    if (c < 0) return;
    this.cpu = -1;
    const parts: string[] = [`${c}`];
    // a counter the step advanced: the step read its value (CheckTarget.counters)
    if (this.counters !== null && this.counters() !== this.before) parts.push(`#${this.before}`);
    for (const [k, w] of this.tee.keys) {
      if (this.mode === "keys") parts.push(w ? `${k}!` : k);
      else parts.push(`${k}${w ? "!" : ""}=${this.names.get(k) ?? "0"}`);
    }
    const h = chain(this.chains[c]!, parts.join(" "));
    this.chains[c] = h;
    if (this.mode === "provenance") for (const [k, w] of this.tee.keys) if (w) this.names.set(k, chain(h, k));
    this.tee.keys.clear();
    // a task created by this step starts with what its creator gave it (its body's closure): the
    // creator's chain goes into the chain of the new task's CPU
    const tasks = this.m.tasks;
    for (; this.known < tasks.length; this.known++) {
      const t = tasks[this.known]!;
      this.chains[t.cpu.id] = chain(this.chains[t.cpu.id]!, `spawn ${t.pid} ${h}`);
    }
    // the time step runs timer handlers: closures with no locals that survive the step
    if (c === this.m.cpus.length) this.chains[c] = "0";
  }

  /**
   * The chains of the CPUs whose code is in the middle of something (reset first where nothing is),
   * as one string; null once a task has moved between CPUs.
   */
  key(): string | null {
    const m = this.m;
    const tasks = m.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      const home = this.homes[i];
      if (home === undefined) this.homes[i] = t.cpu.id;
      else if (home !== t.cpu.id) this.moved = true;
    }
    if (this.moved) return null;
    const busy = new Array<boolean>(m.cpus.length).fill(false);
    for (const c of m.cpus) if (c.frames.length > 1) busy[c.id] = true;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.frame.gen === null || t.quiescent !== null) continue;
      // a task created with the machine that has not run yet: its code is where every run starts it
      if (i < this.initialTasks && taskNotStarted(t)) continue;
      busy[t.cpu.id] = true;
    }
    const out: string[] = [];
    for (let c = 0; c < m.cpus.length; c++) {
      if (!busy[c]) this.chains[c] = "0";
      out.push(this.chains[c]!);
    }
    return out.join(",");
  }
}
