// The engine's structured event stream: what reports, traces and the web timeline consume.
// Event names follow the kernel tracepoints they stand for (sched_switch, irq_handler_entry, ...).

/** Kinds of trace event. Values are stable: they appear in JSON results and traces. */
export type TraceKind =
  | "sched_switch" // a: prev pid, b: next pid, name: next comm, detail: prev_state (R, D, S, X)
  | "sched_wakeup" // a: pid woken, b: target cpu, name: comm
  | "irq_handler_entry" // name: irq name (e.g. "timer", "nvme0q1", "CAL")
  | "irq_handler_exit" // name: irq name
  | "softirq_entry" // name: softirq vector name (e.g. "BLOCK", "RCU")
  | "softirq_exit"
  | "workqueue_execute_start" // name: work function, detail: workqueue name
  | "workqueue_execute_end"
  | "contention_begin" // name: lock name (class), detail: acquisition site
  | "contention_end"
  | "lock_acquired" // name: lock name, detail: site, a: 1 if read/shared
  | "lock_released"
  | "dmesg" // detail: one full dmesg line (without the timestamp)
  | "model" // an instant: name: model event name (e.g. "fault", "ioend_complete"), detail: free text, a/b: numbers
  | "slice" // a kernel function that ran from a to b (ns), emitted at its return: name: function, detail: args text
  | "flow_start" // the cause of a flow (lock release, IPI send, queue_work): name: flow name, a: flow id, b: context
  | "flow_end" // its effect (waiter wake-up, IPI handler, work execution): name, a: flow id, b: context
  | "counter"; // a counter track's new value: name: track name (per-CPU tracks end in "CPU n"), a: value

/**
 * How much a sink wants: SCHED the tracepoints (scheduler, irqs, workqueues, lock contention, dmesg)
 * with thread states and the engine's counters; MODEL also the model's kernel-function slices,
 * instants and flows; ALL also every user load and store. A sink without a level gets MODEL.
 */
export const TRACE_SCHED = 1;
export const TRACE_MODEL = 2;
export const TRACE_ALL = 3;
export type TraceLevel = typeof TRACE_SCHED | typeof TRACE_MODEL | typeof TRACE_ALL;
export const TRACE_LEVELS: Readonly<Record<string, TraceLevel>> = {
  sched: TRACE_SCHED,
  model: TRACE_MODEL,
  all: TRACE_ALL,
};

export interface TraceEvent {
  /** Virtual time in ns. */
  t: number;
  /** CPU the event happened on, -1 when not tied to one CPU. */
  cpu: number;
  kind: TraceKind;
  /** Task pid that was current on the CPU (0 = idle / swapper). */
  pid: number;
  name: string;
  detail: string;
  a: number;
  b: number;
}

/** A consumer of trace events. Kept synchronous and allocation-light: the engine calls it inline. */
export interface TraceSink {
  event(e: TraceEvent): void;
  /** What the sink records (TRACE_MODEL when absent). */
  readonly level?: TraceLevel;
}

/** Records all events in memory (tests, the web page, replay). */
export class MemoryTrace implements TraceSink {
  readonly events: TraceEvent[] = [];
  event(e: TraceEvent): void {
    this.events.push(e);
  }
}

/** Fans one event stream out to several sinks. */
export class TeeTrace implements TraceSink {
  readonly level: TraceLevel;
  constructor(private readonly sinks: TraceSink[]) {
    this.level = Math.max(TRACE_SCHED, ...sinks.map((k) => k.level ?? TRACE_MODEL)) as TraceLevel;
  }
  event(e: TraceEvent): void {
    for (const s of this.sinks) s.event(e);
  }
}
