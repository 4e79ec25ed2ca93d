// The engine's TraceEvent stream kept compactly (columns in typed arrays, strings interned) and turned
// into per-CPU interval arrays for the timeline: tasks, hardirqs, softirqs, workqueue items and lock
// waits, each lane sorted by start time so the canvas view can binary-search the visible window.
// No DOM and no Node APIs: runs in the worker and in the tests.
import type { TraceEvent, TraceKind, TraceSink } from "../../src/sim/trace.js";

export const KINDS: readonly TraceKind[] = [
  "sched_switch",
  "sched_wakeup",
  "irq_handler_entry",
  "irq_handler_exit",
  "softirq_entry",
  "softirq_exit",
  "workqueue_execute_start",
  "workqueue_execute_end",
  "contention_begin",
  "contention_end",
  "lock_acquired",
  "lock_released",
  "dmesg",
  "model",
  "slice",
  "flow_start",
  "flow_end",
  "counter",
];
const KIND_INDEX = new Map(KINDS.map((k, i) => [k, i]));
const K = Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<TraceKind, number>;

/** Lock acquire/release events are the most frequent and not drawn; they are counted, not stored. */
const SKIPPED = new Set<TraceKind>(["lock_acquired", "lock_released"]);

class Interner {
  readonly strings: string[] = [""];
  private readonly index = new Map<string, number>([["", 0]]);
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/** Grows a typed array to at least `n` elements (doubling). */
function grow<T extends Float64Array | Int32Array | Int16Array | Uint8Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  let cap = a.length;
  while (cap < n) cap *= 2;
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** A TraceSink that stores events as columns: about 40 bytes an event instead of an object. */
export class EventStore implements TraceSink {
  n = 0;
  skipped = 0;
  t = new Float64Array(1024);
  cpu = new Int16Array(1024);
  kind = new Uint8Array(1024);
  pid = new Int32Array(1024);
  name = new Int32Array(1024);
  detail = new Int32Array(1024);
  a = new Float64Array(1024);
  b = new Float64Array(1024);
  private readonly interner = new Interner();
  /** Called every `every` stored events (progress reports). */
  onEvery: ((t: number, n: number) => void) | null = null;
  every = 65536;

  get strings(): string[] {
    return this.interner.strings;
  }

  /** Events stored at most (about 40 bytes each); later ones are counted in `dropped`, not kept. */
  maxEvents = 8_000_000;
  dropped = 0;

  event(e: TraceEvent): void {
    if (SKIPPED.has(e.kind)) {
      this.skipped++;
      return;
    }
    const i = this.n;
    if (i >= this.maxEvents) {
      this.dropped++;
      if (this.onEvery !== null && this.dropped % this.every === 0) this.onEvery(e.t, this.n + this.dropped);
      return;
    }
    if (i === this.t.length) {
      const n = i + 1;
      this.t = grow(this.t, n);
      this.cpu = grow(this.cpu, n);
      this.kind = grow(this.kind, n);
      this.pid = grow(this.pid, n);
      this.name = grow(this.name, n);
      this.detail = grow(this.detail, n);
      this.a = grow(this.a, n);
      this.b = grow(this.b, n);
    }
    this.t[i] = e.t;
    this.cpu[i] = e.cpu;
    this.kind[i] = KIND_INDEX.get(e.kind) ?? K.model;
    this.pid[i] = e.pid;
    this.name[i] = this.interner.id(e.name);
    this.detail[i] = this.interner.id(e.detail);
    this.a[i] = e.a;
    this.b[i] = e.b;
    this.n = i + 1;
    if (this.onEvery !== null && this.n % this.every === 0) this.onEvery(e.t, this.n);
  }

  /** Event `i` as the engine emitted it (for exporters). */
  get(i: number): TraceEvent {
    const s = this.interner.strings;
    return {
      t: this.t[i]!,
      cpu: this.cpu[i]!,
      kind: KINDS[this.kind[i]!]!,
      pid: this.pid[i]!,
      name: s[this.name[i]!]!,
      detail: s[this.detail[i]!]!,
      a: this.a[i]!,
      b: this.b[i]!,
    };
  }

  /** Replays the stored events into another sink (e.g. the Perfetto trace writer). */
  replay(sink: TraceSink): void {
    for (let i = 0; i < this.n; i++) sink.event(this.get(i));
  }
}

export const LANE_KINDS = ["step", "task", "fn", "holdoff", "hardirq", "softirq", "work", "lock"] as const;
export type LaneKind = (typeof LANE_KINDS)[number];

/** One row of the timeline: non-overlapping intervals sorted by start. */
export interface Lane {
  cpu: number;
  kind: LaneKind;
  /** Sub-row for kinds whose intervals may overlap on one CPU (work items, lock waits). */
  sub: number;
  n: number;
  start: Float64Array;
  end: Float64Array;
  /** Index into TimelineData.strings: what the interval is (comm:pid, irq name, work function, lock). */
  label: Int32Array;
  /** Second label: pid for tasks, site for locks, workqueue for work items. */
  info: Int32Array;
  /** cum[i] = total duration of intervals 0..i-1 (n + 1 entries): busy time of any run in O(1). */
  cum: Float64Array;
}

export const MARK_DMESG = 0;
export const MARK_FINDING = 1;
export const MARK_MODEL = 2;
export const MARK_WAKEUP = 3;

/** Point events: dmesg lines, findings, model events. */
export interface Marks {
  n: number;
  t: Float64Array;
  cpu: Int16Array;
  kind: Uint8Array;
  label: Int32Array;
  /** Index of the event in the stored stream (for the step view). */
  event: Int32Array;
}

/** Flows (cause -> effect: wake-ups, IPIs, queue_work, lock hand-overs, bio completions), sorted by start. */
export interface Flows {
  n: number;
  t0: Float64Array;
  cpu0: Int16Array;
  t1: Float64Array;
  cpu1: Int16Array;
  label: Int32Array;
}

/** What a finding points at: its cause, as moments on CPUs (drawn as leader lines from the finding). */
export interface Note {
  t: number;
  cpu: number;
  text: string;
  targets: { t: number; cpu: number; what: string }[];
}

export interface TimelineData {
  /** What the time axis counts: ns (timed runs) or explore-driver steps (counterexamples). */
  unit: "ns" | "step";
  cpus: number;
  startNs: number;
  endNs: number;
  strings: string[];
  lanes: Lane[];
  marks: Marks;
  events: number;
  flows: Flows;
  notes: Note[];
  /** The soft-lockup threshold (2 x watchdog_thresh) in ns: holdoff bands are measured against it; 0 none. */
  thresholdNs: number;
}

class LaneBuilder {
  n = 0;
  start = new Float64Array(64);
  end = new Float64Array(64);
  label = new Int32Array(64);
  info = new Int32Array(64);
  constructor(
    readonly cpu: number,
    readonly kind: LaneKind,
    readonly sub: number,
  ) {}
  push(s: number, e: number, label: number, info: number): void {
    const i = this.n;
    if (i === this.start.length) {
      this.start = grow(this.start, i + 1);
      this.end = grow(this.end, i + 1);
      this.label = grow(this.label, i + 1);
      this.info = grow(this.info, i + 1);
    }
    this.start[i] = s;
    this.end[i] = e;
    this.label[i] = label;
    this.info[i] = info;
    this.n = i + 1;
  }
  lane(): Lane {
    const cum = new Float64Array(this.n + 1);
    for (let i = 0; i < this.n; i++) cum[i + 1] = cum[i]! + (this.end[i]! - this.start[i]!);
    return {
      cum,
      cpu: this.cpu,
      kind: this.kind,
      sub: this.sub,
      n: this.n,
      start: this.start.slice(0, this.n),
      end: this.end.slice(0, this.n),
      label: this.label.slice(0, this.n),
      info: this.info.slice(0, this.n),
    };
  }
}

interface Open {
  start: number;
  label: number;
  info: number;
}

/**
 * Overlapping intervals of one kind on one CPU (work items of different kworkers, lock waits of
 * different tasks): each open interval takes the lowest free sub-row, so a sub-row never overlaps.
 */
class SubLanes {
  readonly rows: LaneBuilder[] = [];
  readonly open: (Open | null)[] = [];
  /** key (pid) -> sub-row it occupies. */
  private readonly byKey = new Map<number, number>();
  constructor(
    readonly cpu: number,
    readonly kind: LaneKind,
    private readonly maxRows: number,
  ) {}
  begin(key: number, t: number, label: number, info: number): void {
    if (this.byKey.has(key)) this.end(key, t);
    let r = this.open.indexOf(null);
    if (r < 0) {
      if (this.rows.length < this.maxRows) {
        r = this.rows.length;
        this.rows.push(new LaneBuilder(this.cpu, this.kind, r));
        this.open.push(null);
      } else {
        // Too many at once: close the oldest one in the last row early (drawn, not lost).
        r = this.maxRows - 1;
        const o = this.open[r]!;
        this.rows[r]!.push(o.start, t, o.label, o.info);
        for (const [k, v] of this.byKey) if (v === r) this.byKey.delete(k);
      }
    }
    this.open[r] = { start: t, label, info };
    this.byKey.set(key, r);
  }
  end(key: number, t: number): void {
    const r = this.byKey.get(key);
    if (r === undefined) return;
    const o = this.open[r]!;
    this.rows[r]!.push(o.start, t, o.label, o.info);
    this.open[r] = null;
    this.byKey.delete(key);
  }
  finish(t: number): void {
    for (const key of [...this.byKey.keys()]) this.end(key, t);
  }
}

class CpuBuilder {
  readonly task: LaneBuilder;
  readonly hardirq: LaneBuilder;
  readonly softirq: LaneBuilder;
  readonly work: SubLanes;
  readonly lock: SubLanes;
  cur: Open | null = null;
  irqStack: { start: number; label: number; kind: "hardirq" | "softirq" }[] = [];
  constructor(readonly cpu: number) {
    this.task = new LaneBuilder(cpu, "task", 0);
    this.hardirq = new LaneBuilder(cpu, "hardirq", 0);
    this.softirq = new LaneBuilder(cpu, "softirq", 0);
    this.work = new SubLanes(cpu, "work", 3);
    this.lock = new SubLanes(cpu, "lock", 4);
  }
}

/**
 * Kernel-function slices of one CPU in rows: sorted by start (outer first), each goes to the lowest
 * row below the slice that encloses it whose last slice has ended, so no row overlaps itself.
 */
function fnLanes(
  cpu: number,
  sl: { s: number; e: number; label: number; info: number; order: number }[],
  maxRows: number,
): Lane[] {
  // equal spans: the later emitted is the caller (a slice is emitted when its function returns)
  sl.sort((a, b) => a.s - b.s || b.e - a.e || b.order - a.order);
  const rows: LaneBuilder[] = [];
  const rowEnd: number[] = [];
  const stack: { e: number; row: number }[] = [];
  for (const x of sl) {
    while (stack.length > 0 && stack[stack.length - 1]!.e <= x.s) stack.pop();
    let r = stack.length > 0 ? stack[stack.length - 1]!.row + 1 : 0;
    while (r < rowEnd.length && rowEnd[r]! > x.s) r++;
    if (r >= maxRows) continue;
    if (r === rows.length) {
      rows.push(new LaneBuilder(cpu, "fn", r));
      rowEnd.push(0);
    }
    rows[r]!.push(x.s, x.e, x.label, x.info);
    rowEnd[r] = x.e;
    stack.push({ e: x.e, row: r });
  }
  return rows.map((r) => r.lane());
}

/** Interval arrays per CPU from the stored events. `cpus` is the machine's CPU count. */
export function buildTimeline(store: EventStore, cpus: number, endNs: number, thresholdNs = 0): TimelineData {
  const strings = store.strings.slice();
  const intern = new Map<string, number>(strings.map((s, i) => [s, i]));
  const id = (s: string) => {
    let i = intern.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      intern.set(s, i);
    }
    return i;
  };
  const taskLabel = new Map<number, number>();
  const taskId = (pid: number, comm: number) => {
    const key = pid * 65536 + comm;
    let i = taskLabel.get(key);
    if (i === undefined) taskLabel.set(key, (i = id(`${strings[comm]}:${pid}`)));
    return i;
  };
  const cs: CpuBuilder[] = [];
  for (let c = 0; c < cpus; c++) cs.push(new CpuBuilder(c));
  const marks: Marks = {
    n: 0,
    t: new Float64Array(256),
    cpu: new Int16Array(256),
    kind: new Uint8Array(256),
    label: new Int32Array(256),
    event: new Int32Array(256),
  };
  const mark = (t: number, cpu: number, kind: number, label: number, ev: number) => {
    const i = marks.n;
    if (i === marks.t.length) {
      marks.t = grow(marks.t, i + 1);
      marks.cpu = grow(marks.cpu, i + 1);
      marks.kind = grow(marks.kind, i + 1);
      marks.label = grow(marks.label, i + 1);
      marks.event = grow(marks.event, i + 1);
    }
    marks.t[i] = t;
    marks.cpu[i] = cpu;
    marks.kind[i] = kind;
    marks.label[i] = label;
    marks.event[i] = ev;
    marks.n = i + 1;
  };
  let startNs = Number.POSITIVE_INFINITY;
  let lastNs = 0;
  const slices: { s: number; e: number; label: number; info: number; order: number }[][] = Array.from(
    { length: cpus },
    () => [],
  );
  const holdoff = Array.from({ length: cpus }, (_, c) => new LaneBuilder(c, "holdoff", 0));
  const reschedSince: number[] = new Array(cpus).fill(-1);
  const flowStart = new Map<number, { t: number; cpu: number }>();
  const fl: { t0: number; cpu0: number; t1: number; cpu1: number; label: number }[] = [];
  const counterNeedResched = intern.get("need_resched") ?? -1;
  const { t: T, cpu: C, kind: KD, pid: P, name: N, detail: D, a: A, b: B } = store;
  for (let i = 0; i < store.n; i++) {
    const t = T[i]!;
    if (t < startNs) startNs = t;
    if (t > lastNs) lastNs = t;
    const cpu = C[i]!;
    const c = cpu >= 0 && cpu < cpus ? cs[cpu]! : undefined;
    switch (KD[i]) {
      case K.sched_switch: {
        if (!c) break;
        if (c.cur) c.task.push(c.cur.start, t, c.cur.label, c.cur.info);
        const next = B[i]!;
        c.cur = next === 0 ? null : { start: t, label: taskId(next, N[i]!), info: next };
        break;
      }
      case K.irq_handler_entry:
      case K.softirq_entry: {
        if (!c) break;
        const kind = KD[i] === K.irq_handler_entry ? "hardirq" : "softirq";
        // A nested frame of the same kind (an irq taken while the softirq ran inside an irq exit)
        // suspends the outer one, so that a lane never holds overlapping intervals.
        const outer = c.irqStack.findLast((f) => f.kind === kind);
        if (outer && outer.start < t) c[kind].push(outer.start, t, outer.label, 0);
        if (outer) outer.start = Number.NaN;
        c.irqStack.push({ start: t, label: N[i]!, kind });
        break;
      }
      case K.irq_handler_exit:
      case K.softirq_exit: {
        const want = KD[i] === K.irq_handler_exit ? "hardirq" : "softirq";
        if (!c) break;
        // Pop to the matching frame (tolerates a missing exit); the outer frame of its kind resumes.
        for (let j = c.irqStack.length - 1; j >= 0; j--) {
          if (c.irqStack[j]!.kind !== want) continue;
          const f = c.irqStack[j]!;
          c.irqStack.length = j;
          if (!Number.isNaN(f.start) && f.start < t) c[want].push(f.start, t, f.label, 0);
          const outer = c.irqStack.findLast((x) => x.kind === want);
          if (outer) outer.start = t;
          break;
        }
        break;
      }
      case K.workqueue_execute_start:
        c?.work.begin(P[i]!, t, N[i]!, D[i]!);
        break;
      case K.workqueue_execute_end:
        c?.work.end(P[i]!, t);
        break;
      case K.contention_begin:
        c?.lock.begin(P[i]!, t, N[i]!, D[i]!);
        break;
      case K.contention_end:
        c?.lock.end(P[i]!, t);
        break;
      case K.dmesg:
        mark(t, cpu, MARK_DMESG, D[i]!, i);
        break;
      case K.slice:
        if (c && B[i]! > A[i]!)
          slices[cpu]!.push({ s: A[i]!, e: B[i]!, label: N[i]!, info: P[i]!, order: i });
        break;
      case K.flow_start:
        flowStart.set(A[i]!, { t, cpu });
        break;
      case K.flow_end: {
        const s = flowStart.get(A[i]!);
        if (s === undefined) break;
        flowStart.delete(A[i]!);
        fl.push({ t0: s.t, cpu0: s.cpu, t1: t, cpu1: cpu, label: N[i]! });
        break;
      }
      case K.counter:
        if (c && N[i] === counterNeedResched) {
          if (A[i]! > 0) reschedSince[cpu] = t;
          else if (reschedSince[cpu]! >= 0) {
            holdoff[cpu]!.push(reschedSince[cpu]!, t, N[i]!, 0);
            reschedSince[cpu] = -1;
          }
        }
        break;
      case K.model: {
        const name = strings[N[i]!]!;
        if (name.startsWith("finding:"))
          mark(t, cpu, MARK_FINDING, id(`${name.slice(8)}: ${strings[D[i]!]}`), i);
        else mark(t, cpu, MARK_MODEL, D[i]! === 0 ? N[i]! : id(`${name}: ${strings[D[i]!]}`), i);
        break;
      }
      default:
        break;
    }
  }
  const end = Math.max(endNs, lastNs);
  const lanes: Lane[] = [];
  for (const c of cs) {
    if (c.cur) c.task.push(c.cur.start, end, c.cur.label, c.cur.info);
    for (const kind of ["hardirq", "softirq"] as const) {
      const f = c.irqStack.findLast((x) => x.kind === kind);
      if (f && !Number.isNaN(f.start) && f.start < end) c[kind].push(f.start, end, f.label, 0);
    }
    c.work.finish(end);
    c.lock.finish(end);
    lanes.push(c.task.lane());
    if (reschedSince[c.cpu]! >= 0) holdoff[c.cpu]!.push(reschedSince[c.cpu]!, end, counterNeedResched, 0);
    if (holdoff[c.cpu]!.n > 0) lanes.push(holdoff[c.cpu]!.lane());
    for (const l of fnLanes(c.cpu, slices[c.cpu]!, 6)) lanes.push(l);
    if (c.hardirq.n > 0) lanes.push(c.hardirq.lane());
    if (c.softirq.n > 0) lanes.push(c.softirq.lane());
    for (const r of c.work.rows) lanes.push(r.lane());
    for (const r of c.lock.rows) lanes.push(r.lane());
  }
  const trimmed: Marks = {
    n: marks.n,
    t: marks.t.slice(0, marks.n),
    cpu: marks.cpu.slice(0, marks.n),
    kind: marks.kind.slice(0, marks.n),
    label: marks.label.slice(0, marks.n),
    event: marks.event.slice(0, marks.n),
  };
  fl.sort((a, b) => a.t0 - b.t0);
  const flows: Flows = {
    n: fl.length,
    t0: Float64Array.from(fl, (f) => f.t0),
    cpu0: Int16Array.from(fl, (f) => f.cpu0),
    t1: Float64Array.from(fl, (f) => f.t1),
    cpu1: Int16Array.from(fl, (f) => f.cpu1),
    label: Int32Array.from(fl, (f) => f.label),
  };
  const d: TimelineData = {
    unit: "ns",
    cpus,
    startNs: Number.isFinite(startNs) ? Math.min(startNs, 0) : 0,
    endNs: end,
    strings,
    lanes,
    marks: trimmed,
    events: store.n,
    flows,
    notes: [],
    thresholdNs,
  };
  d.notes = findingNotes(d);
  return d;
}

/** The last interval of lane kind `kind` on `cpu` labelled `label` that starts at or before t. */
function lastInterval(d: TimelineData, cpu: number, kind: LaneKind, label: string, t: number): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const l of d.lanes) {
    if (l.cpu !== cpu || l.kind !== kind) continue;
    for (let i = lowerBound(l.start, t + 1, 0, l.n) - 1; i >= 0; i--)
      if (d.strings[l.label[i]!] === label) {
        best = Math.max(best, l.start[i]!);
        break;
      }
  }
  return best;
}

/** The last mark on `cpu` whose label starts with `prefix`, at or before t (NaN if none). */
function lastMark(d: TimelineData, cpu: number, prefix: string, t: number): number {
  const m = d.marks;
  for (let i = lowerBound(m.t, t + 1, 0, m.n) - 1; i >= 0; i--)
    if (m.cpu[i] === cpu && m.kind[i] === MARK_MODEL && d.strings[m.label[i]!]!.startsWith(prefix))
      return m.t[i]!;
  return Number.NaN;
}

/**
 * Annotations that point from a finding to its cause: for a lost update, the store through the stale
 * TLB entry and the wp_page_copy that replaced the page under it; for a soft lockup, where the CPU's
 * need_resched went unanswered (the holdoff band) while the watchdog's stopper waited.
 */
function findingNotes(d: TimelineData): Note[] {
  const notes: Note[] = [];
  const m = d.marks;
  for (let i = 0; i < m.n && notes.length < 16; i++) {
    if (m.kind[i] !== MARK_FINDING) continue;
    const text = d.strings[m.label[i]!]!;
    const t = m.t[i]!;
    const cpu = m.cpu[i]!;
    if (text.startsWith("lost_update")) {
      const targets: Note["targets"] = [];
      for (let c = 0; c < d.cpus; c++) {
        const store = lastMark(d, c, "store via stale TLB", t);
        if (!Number.isNaN(store)) targets.push({ t: store, cpu: c, what: "store via stale TLB" });
        const copy = lastInterval(d, c, "fn", "wp_page_copy", t);
        if (Number.isFinite(copy)) targets.push({ t: copy, cpu: c, what: "wp_page_copy" });
      }
      // the latest copy and the latest stale store before the finding are the pair that lost it
      const pick = (w: string) =>
        targets
          .filter((x) => x.what === w)
          .reduce<Note["targets"][number] | null>((a, b) => (a && a.t >= b.t ? a : b), null);
      const chosen = [pick("store via stale TLB"), pick("wp_page_copy")].filter((x) => x !== null);
      notes.push({
        t,
        cpu,
        text: `lost write: ${chosen.map((x) => `${x.what} on CPU ${x.cpu}`).join(" vs ") || "see the steps"}`,
        targets: chosen,
      });
    } else if (text.startsWith("soft_lockup")) {
      const l = d.lanes.find((x) => x.cpu === cpu && x.kind === "holdoff");
      const j = l ? lowerBound(l.start, t + 1, 0, l.n) - 1 : -1;
      const since = l && j >= 0 ? l.start[j]! : Number.NaN;
      notes.push({
        t,
        cpu,
        text: `soft lockup: CPU ${cpu} held by ${taskAt(d, cpu, t)}; need_resched pending${
          Number.isNaN(since) ? "" : ` for ${((t - since) / 1e9).toFixed(1)} s`
        } while migration/${cpu} waits`,
        targets: Number.isNaN(since) ? [] : [{ t: since, cpu, what: "need_resched set" }],
      });
    }
  }
  return notes;
}

function taskAt(d: TimelineData, cpu: number, t: number): string {
  const l = d.lanes.find((x) => x.cpu === cpu && x.kind === "task");
  if (!l) return "a task";
  const i = intervalAt(l, t, 0);
  return i >= 0 ? (d.strings[l.label[i]!] ?? "a task") : "the idle task";
}

/**
 * The timeline of an explore-driver run (a counterexample): the time axis counts steps. Each CPU gets a
 * "step" row with one interval [s-1, s] per step it took, labelled with what it did; the other rows
 * come from the trace, whose events the caller stored with t = step - 0.5.
 */
export function buildStepTimeline(
  store: EventStore,
  cpus: number,
  rows: readonly { step: number; cpu: number; what: readonly string[] }[],
): TimelineData {
  const steps = rows.length;
  const d = buildTimeline(store, cpus, steps);
  const intern = new Map<string, number>(d.strings.map((s, i) => [s, i]));
  const id = (s: string) => {
    let i = intern.get(s);
    if (i === undefined) {
      i = d.strings.length;
      d.strings.push(s);
      intern.set(s, i);
    }
    return i;
  };
  const stepLanes = Array.from({ length: cpus }, (_, c) => new LaneBuilder(c, "step", 0));
  for (const r of rows) {
    const b = stepLanes[r.cpu];
    if (!b) continue;
    b.push(r.step - 1, r.step, id(r.what.length > 0 ? r.what.join("; ") : "(runs)"), r.step);
  }
  const lanes: Lane[] = [];
  for (let c = 0; c < cpus; c++) {
    lanes.push(stepLanes[c]!.lane());
    // Keep the trace's rows that hold something; in explore mode the task row is mostly noise, and
    // kernel-function slices are in engine time, not steps.
    for (const l of d.lanes)
      if (l.cpu === c && l.kind !== "task" && l.kind !== "fn" && l.kind !== "holdoff" && l.n > 0)
        lanes.push(l);
  }
  return { ...d, unit: "step", startNs: 0, endNs: Math.max(1, steps), lanes };
}

/** The buffers of a timeline, for postMessage transfer lists. */
export function timelineBuffers(d: TimelineData): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const l of d.lanes)
    out.push(
      l.start.buffer as ArrayBuffer,
      l.end.buffer as ArrayBuffer,
      l.label.buffer as ArrayBuffer,
      l.info.buffer as ArrayBuffer,
    );
  const m = d.marks;
  const f = d.flows;
  out.push(
    f.t0.buffer as ArrayBuffer,
    f.cpu0.buffer as ArrayBuffer,
    f.t1.buffer as ArrayBuffer,
    f.cpu1.buffer as ArrayBuffer,
    f.label.buffer as ArrayBuffer,
    m.t.buffer as ArrayBuffer,
    m.cpu.buffer as ArrayBuffer,
    m.kind.buffer as ArrayBuffer,
    m.label.buffer as ArrayBuffer,
    m.event.buffer as ArrayBuffer,
  );
  return out;
}

/** First index i with a[i] >= x in a sorted array a[lo..hi). */
export function lowerBound(a: Float64Array, x: number, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The rectangles of one lane in view (reused from frame to frame: no allocation per frame). */
export class RectBuffer {
  n = 0;
  s = new Float64Array(4096);
  e = new Float64Array(4096);
  /** Index of the interval that gives the rectangle its label. */
  i = new Int32Array(4096);
  /** 1 for an interval; below 1, a collapsed pixel column: the share of it that is busy. */
  busy = new Float64Array(4096);
  push(s: number, e: number, i: number, busy: number): void {
    const k = this.n;
    if (k === this.s.length) {
      this.s = grow(this.s, k + 1);
      this.e = grow(this.e, k + 1);
      this.i = grow(this.i, k + 1);
      this.busy = grow(this.busy, k + 1);
    }
    this.s[k] = s;
    this.e[k] = e;
    this.i[k] = i;
    this.busy[k] = busy;
    this.n = k + 1;
  }
}

/**
 * Level of detail: the rectangles to draw for lane `l` between t0 and t1 at `nsPerPx`, written into
 * `out` (cleared first); returns their count. Intervals at least a pixel wide are returned as they are;
 * runs of narrower ones collapse to one pixel column each, found by binary search, so the cost is
 * O(pixels * log n) however many events are in view. x in ns; `i` is the interval whose label colours
 * the rectangle, `busy` the fraction of its time covered by intervals (1 for whole ones, less for
 * collapsed columns).
 */
export function visibleRectsInto(l: Lane, t0: number, t1: number, nsPerPx: number, out: RectBuffer): number {
  const { start, end, n, cum } = l;
  out.n = 0;
  // Sub-rows never overlap, so ends are sorted too: the first interval ending after t0.
  let i = lowerBound(end, t0, 0, n);
  const limit = 1_000_000;
  while (i < n && start[i]! <= t1 && out.n < limit) {
    const s = start[i]!;
    const e = end[i]!;
    if (e - s >= nsPerPx) {
      out.push(s, e, i, 1);
      i++;
      continue;
    }
    // A sub-pixel interval: fill its pixel column and skip every interval starting in that column.
    // Columns are aligned to absolute time so that panning does not make them shimmer.
    const col = Math.floor(s / nsPerPx);
    const colEnd = (col + 1) * nsPerPx;
    const j = lowerBound(start, colEnd, i + 1, n);
    out.push(col * nsPerPx, colEnd, i, Math.min(1, (cum[j]! - cum[i]!) / nsPerPx));
    // The last interval starting in the column may reach beyond it: draw the rest of it.
    if (end[j - 1]! > colEnd) out.push(colEnd, end[j - 1]!, j - 1, 1);
    i = j;
  }
  return out.n;
}

/** visibleRectsInto with a callback per rectangle (start, end, interval index, busy share). */
export function visibleRects(
  l: Lane,
  t0: number,
  t1: number,
  nsPerPx: number,
  draw: (s: number, e: number, i: number, busy: number) => void,
): number {
  const out = new RectBuffer();
  const n = visibleRectsInto(l, t0, t1, nsPerPx, out);
  for (let k = 0; k < n; k++) draw(out.s[k]!, out.e[k]!, out.i[k]!, out.busy[k]!);
  return n;
}

/** Index of the interval of lane `l` covering time t (within `slackNs`), or -1. */
export function intervalAt(l: Lane, t: number, slackNs: number): number {
  const i = lowerBound(l.start, t + slackNs, 0, l.n) - 1;
  if (i >= 0 && l.end[i]! >= t - slackNs) return i;
  return -1;
}
