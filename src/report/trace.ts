// Streams engine trace events to a Perfetto-openable Chrome JSON trace ("trace event format",
// https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU):
// - process "CPUs": per CPU a task lane (who ran, from sched_switch; ph B/E) and an irq lane
//   (hardirqs, softirqs, and the kernel functions the model ran there; ph B/E and X);
// - one process per task, named "comm pid": a "kernel" thread with the kernel functions the task ran
//   (ph X, nested) and its instants, and a "state" thread (Running, Runnable, Sleeping, ...);
// - "lock contention" and "workqueues": one thread per task, named by command;
// - "counters": need_resched and runnable per CPU and the models' counters (ph C);
// - flows (ph s/f): wake-ups, lock hand-overs, IPIs, queue_work -> execution, bound to the slices
//   running on the two CPUs at each end;
// - dmesg lines and findings as global instants.
// Output goes through a TextSink in chunks, so a long run never holds its trace in memory.
import { TRACE_MODEL, type TraceEvent, type TraceLevel, type TraceSink } from "../sim/trace.js";
import type { TextSink } from "./sink.js";

const PID_CPUS = 1;
const PID_LOCKS = 2;
const PID_WORK = 3;
const PID_COUNTERS = 4;
/** Task processes: pid TASK_PID_BASE + task pid; their threads: tids TASK_TID_BASE + 2 pid (+1). */
const TASK_PID_BASE = 1000;
const TASK_TID_BASE = 1_000_000;
const FLUSH_CHARS = 1 << 16;
/** At most this many quoted names are remembered (names are few; details are not cached). */
const MAX_QUOTED = 4096;
const STATE_NAMES: Record<string, string> = {
  R: "Runnable (preempted)",
  S: "Sleeping",
  D: "Uninterruptible sleep",
};

export interface ChromeTraceOptions {
  /** What the run records (the engine reads it from the sink). Default TRACE_MODEL. */
  level?: TraceLevel;
}

export class ChromeTraceWriter implements TraceSink {
  readonly level: TraceLevel;
  /** Trace text not yet handed to the sink. */
  private chunk = "";
  /** What goes before the next event: nothing for the first, then ",\n". */
  private sep = "";
  /** JSON string literals of names seen (see str). */
  private readonly quoted = new Map<string, string>();
  private lastNs = 0;
  /** Open slice depth per track (trackKey), to close them at the end. */
  private readonly open = new Map<number, { pid: number; tid: number; depth: number }>();
  private readonly namedCpus = new Set<number>();
  private readonly namedTasks = new Set<number>();
  /** comm of each pid seen in sched_switch / sched_wakeup. */
  private readonly comms = new Map<number, string>();
  private readonly taskProcs = new Set<number>();
  /** Hardirq/softirq nesting per CPU: where code emitting an event runs. */
  private readonly irqDepth: number[] = [];
  private finished = false;
  /** Number of trace events written (metadata included). */
  written = 0;

  constructor(
    private readonly out: TextSink,
    private readonly meta: Record<string, string> = {},
    opts: ChromeTraceOptions = {},
  ) {
    this.level = opts.level ?? TRACE_MODEL;
    this.out.write('{"displayTimeUnit":"ns","traceEvents":[\n');
    this.procMeta(PID_CPUS, "CPUs", 0);
    this.procMeta(PID_LOCKS, "lock contention", 1);
    this.procMeta(PID_WORK, "workqueues", 2);
    this.procMeta(PID_COUNTERS, "counters", 3);
  }

  event(e: TraceEvent): void {
    if (this.finished) return;
    if (e.t > this.lastNs) this.lastNs = e.t;
    const ts = usText(e.t);
    switch (e.kind) {
      case "sched_switch": {
        const tid = this.cpuTrack(e.cpu, 0);
        this.end(PID_CPUS, tid, ts);
        if (e.b !== 0) {
          this.comms.set(e.b, e.name);
          this.begin(
            PID_CPUS,
            tid,
            ts,
            this.str(`${e.name}:${e.b}`),
            "sched",
            `{"pid":${e.b},"prev_pid":${e.a},"prev_state":${this.str(e.detail)}}`,
          );
        }
        if (e.a !== 0) {
          const st = this.taskProc(e.a);
          const stTid = TASK_TID_BASE + 2 * e.a + 1;
          this.end(st, stTid, ts);
          const name = STATE_NAMES[e.detail];
          if (name !== undefined) this.begin(st, stTid, ts, this.str(name), "state");
        }
        if (e.b !== 0) {
          const st = this.taskProc(e.b);
          const stTid = TASK_TID_BASE + 2 * e.b + 1;
          this.end(st, stTid, ts);
          this.begin(st, stTid, ts, '"Running"', "state", `{"cpu":${e.cpu}}`);
        }
        break;
      }
      case "sched_wakeup": {
        if (!this.comms.has(e.a)) this.comms.set(e.a, e.name);
        const st = this.taskProc(e.a);
        const stTid = TASK_TID_BASE + 2 * e.a + 1;
        this.end(st, stTid, ts);
        this.begin(st, stTid, ts, '"Runnable"', "state", `{"target_cpu":${e.b}}`);
        break;
      }
      case "irq_handler_entry":
        this.irqDepth[e.cpu] = (this.irqDepth[e.cpu] ?? 0) + 1;
        this.begin(PID_CPUS, this.cpuTrack(e.cpu, 1), ts, this.str(`irq:${e.name}`), "irq");
        break;
      case "softirq_entry":
        this.irqDepth[e.cpu] = (this.irqDepth[e.cpu] ?? 0) + 1;
        this.begin(PID_CPUS, this.cpuTrack(e.cpu, 1), ts, this.str(`softirq:${e.name}`), "softirq");
        break;
      case "irq_handler_exit":
      case "softirq_exit":
        this.irqDepth[e.cpu] = Math.max(0, (this.irqDepth[e.cpu] ?? 0) - 1);
        this.end(PID_CPUS, this.cpuTrack(e.cpu, 1), ts);
        break;
      case "contention_begin":
        this.begin(
          PID_LOCKS,
          this.taskTrack(PID_LOCKS, e.pid),
          ts,
          this.str(`contended ${e.name}`),
          "lock",
          `{"site":${this.str(e.detail)},"cpu":${e.cpu}}`,
        );
        break;
      case "contention_end":
        this.end(PID_LOCKS, this.taskTrack(PID_LOCKS, e.pid), ts);
        break;
      case "workqueue_execute_start":
        this.begin(
          PID_WORK,
          this.taskTrack(PID_WORK, e.pid),
          ts,
          this.str(e.name),
          "workqueue",
          `{"workqueue":${this.str(e.detail)},"cpu":${e.cpu}}`,
        );
        break;
      case "workqueue_execute_end":
        this.end(PID_WORK, this.taskTrack(PID_WORK, e.pid), ts);
        break;
      case "dmesg":
        this.emit(
          `{"ph":"i","s":"g","ts":${ts},"pid":${PID_CPUS},"tid":0,"name":${JSON.stringify(e.detail)},"cat":"dmesg","args":{"cpu":${e.cpu}}}`,
        );
        break;
      case "model": {
        if (e.name.startsWith("finding:")) {
          this.emit(
            `{"ph":"i","s":"g","ts":${ts},"pid":${PID_CPUS},"tid":0,"name":${JSON.stringify(e.name)},"cat":"finding","args":{"message":${JSON.stringify(e.detail)},"cpu":${e.cpu}}}`,
          );
          break;
        }
        this.emit(
          `{"ph":"i","s":"t","ts":${ts},${this.modelTrack(e)},"name":${this.str(e.name)},"cat":"model","args":{"detail":${JSON.stringify(e.detail)},"a":${e.a},"b":${e.b},"cpu":${e.cpu}}}`,
        );
        break;
      }
      case "slice": {
        const args =
          e.detail !== "" ? `{"cpu":${e.cpu},"args":${JSON.stringify(e.detail)}}` : `{"cpu":${e.cpu}}`;
        this.emit(
          `{"ph":"X","ts":${usText(e.a)},"dur":${usText(e.b - e.a)},${this.sliceTrack(e)},"name":${this.str(e.name)},"cat":"kernel","args":${args}}`,
        );
        if (e.b > this.lastNs) this.lastNs = e.b;
        break;
      }
      case "flow_start":
        this.emit(
          `{"ph":"s","id":${e.a},"ts":${ts},"pid":${PID_CPUS},"tid":${this.cpuTrack(e.cpu, this.inIrq(e.cpu))},"name":${this.str(e.name)},"cat":"flow"}`,
        );
        break;
      case "flow_end":
        this.emit(
          `{"ph":"f","bp":"e","id":${e.a},"ts":${ts},"pid":${PID_CPUS},"tid":${this.cpuTrack(e.cpu, this.inIrq(e.cpu))},"name":${this.str(e.name)},"cat":"flow"}`,
        );
        break;
      case "counter": {
        const name = e.cpu >= 0 ? `${e.name} CPU ${e.cpu}` : e.name;
        this.emit(
          `{"ph":"C","ts":${ts},"pid":${PID_COUNTERS},"tid":0,"name":${this.str(name)},"args":{"value":${e.a}}}`,
        );
        break;
      }
      default:
        // lock_acquired/lock_released are too frequent to be worth an event each.
        break;
    }
  }

  /** Closes open slices at the last event time, writes the trailer, and closes the sink. */
  finish(): void {
    if (this.finished) return;
    const ts = usText(this.lastNs);
    for (const t of this.open.values()) while (t.depth > 0) this.end(t.pid, t.tid, ts);
    this.finished = true;
    this.flush();
    this.out.write(`\n],"metadata":${JSON.stringify({ "trace-source": "faultline", ...this.meta })}}\n`);
    this.out.close();
  }

  /** Drops the partial trace (the sink removes its temporary file). */
  abort(): void {
    this.finished = true;
    this.chunk = "";
    this.out.abort();
  }

  /** `s` as a JSON string literal; the (few, repeated) names are quoted once and remembered. */
  private str(s: string): string {
    let q = this.quoted.get(s);
    if (q === undefined) {
      q = JSON.stringify(s);
      if (this.quoted.size < MAX_QUOTED) this.quoted.set(s, q);
    }
    return q;
  }

  private procMeta(pid: number, name: string, sort: number): void {
    this.emitObj({ ph: "M", name: "process_name", pid, tid: 0, args: { name } });
    this.emitObj({ ph: "M", name: "process_sort_index", pid, tid: 0, args: { sort_index: sort } });
  }

  private comm(pid: number): string {
    return pid === 0 ? "swapper" : `${this.comms.get(pid) ?? "task"} ${pid}`;
  }

  private cpuTrack(cpu: number, lane: number): number {
    const tid = cpu * 2 + lane + 1;
    if (!this.namedCpus.has(tid)) {
      this.namedCpus.add(tid);
      const name = lane === 0 ? `CPU ${cpu}` : `CPU ${cpu} irq`;
      this.emitObj({ ph: "M", name: "thread_name", pid: PID_CPUS, tid, args: { name } });
      this.emitObj({ ph: "M", name: "thread_sort_index", pid: PID_CPUS, tid, args: { sort_index: tid } });
    }
    return tid;
  }

  private taskTrack(pid: number, task: number): number {
    const key = trackKey(pid, task);
    if (!this.namedTasks.has(key)) {
      this.namedTasks.add(key);
      this.emitObj({ ph: "M", name: "thread_name", pid, tid: task, args: { name: this.comm(task) } });
    }
    return task;
  }

  /** The process of task `pid` (created with its name on first use). */
  private taskProc(pid: number): number {
    const p = TASK_PID_BASE + pid;
    if (!this.taskProcs.has(pid)) {
      this.taskProcs.add(pid);
      this.procMeta(p, this.comm(pid), 10 + pid);
      const tid = TASK_TID_BASE + 2 * pid;
      this.emitObj({ ph: "M", name: "thread_name", pid: p, tid, args: { name: "kernel" } });
      this.emitObj({ ph: "M", name: "thread_sort_index", pid: p, tid, args: { sort_index: 0 } });
      this.emitObj({ ph: "M", name: "thread_name", pid: p, tid: tid + 1, args: { name: "state" } });
      this.emitObj({ ph: "M", name: "thread_sort_index", pid: p, tid: tid + 1, args: { sort_index: 1 } });
    }
    return p;
  }

  /** 1 when `cpu` runs a hardirq or softirq now (its events go to the CPU's irq lane), else 0. */
  private inIrq(cpu: number): number {
    return (this.irqDepth[cpu] ?? 0) > 0 ? 1 : 0;
  }

  /** Kernel-function slices: the task's "kernel" thread, or the CPU's irq lane for irq context (`"pid":P,"tid":T`). */
  private sliceTrack(e: TraceEvent): string {
    if (this.inIrq(e.cpu) === 1 || e.pid === 0) return `"pid":${PID_CPUS},"tid":${this.cpuTrack(e.cpu, 1)}`;
    return `"pid":${this.taskProc(e.pid)},"tid":${TASK_TID_BASE + 2 * e.pid}`;
  }

  private modelTrack(e: TraceEvent): string {
    if (e.cpu < 0) return `"pid":${PID_CPUS},"tid":0`;
    if (e.pid === 0) return `"pid":${PID_CPUS},"tid":${this.cpuTrack(e.cpu, 0)}`;
    return `"pid":${this.taskProc(e.pid)},"tid":${TASK_TID_BASE + 2 * e.pid}`;
  }

  /** A B event: `name` already quoted (str), `args` a JSON object text or absent. */
  private begin(pid: number, tid: number, ts: string, name: string, cat: string, args?: string): void {
    const key = trackKey(pid, tid);
    let t = this.open.get(key);
    if (!t) this.open.set(key, (t = { pid, tid, depth: 0 }));
    t.depth++;
    this.emit(
      args !== undefined
        ? `{"ph":"B","ts":${ts},"pid":${pid},"tid":${tid},"name":${name},"cat":"${cat}","args":${args}}`
        : `{"ph":"B","ts":${ts},"pid":${pid},"tid":${tid},"name":${name},"cat":"${cat}"}`,
    );
  }

  private end(pid: number, tid: number, ts: string): void {
    const t = this.open.get(trackKey(pid, tid));
    if (t === undefined || t.depth === 0) return;
    t.depth--;
    this.emit(`{"ph":"E","ts":${ts},"pid":${pid},"tid":${tid}}`);
  }

  private emitObj(o: Record<string, unknown>): void {
    this.emit(JSON.stringify(o));
  }

  /**
   * One trace event's JSON text (built by hand, field for field what JSON.stringify gives: the event
   * objects cost more than the file writing). Numbers are finite, so their text is JSON's.
   */
  private emit(json: string): void {
    this.chunk += this.sep + json;
    this.sep = ",\n";
    this.written++;
    if (this.chunk.length >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.chunk.length === 0) return;
    this.out.write(this.chunk);
    this.chunk = "";
  }
}

/**
 * `ns` / 1000 as JSON number text (the trace's µs): for whole ns, built from integers, which is the
 * same text as String(ns / 1000) (at most 3 decimals and 16 digits: the shortest form that reads
 * back) at a fraction of the cost of formatting a double; anything else through String.
 */
export function usText(ns: number): string {
  if (!Number.isInteger(ns) || ns < 0 || ns >= 1e15) return String(ns / 1000);
  const q = Math.floor(ns / 1000);
  const r = ns - q * 1000;
  if (r === 0) return `${q}`;
  if (r % 100 === 0) return `${q}.${r / 100}`;
  if (r % 10 === 0) return `${q}.${r < 100 ? "0" : ""}${r / 10}`;
  return `${q}.${r < 10 ? "00" : r < 100 ? "0" : ""}${r}`;
}

/** A number naming a track (pid, tid): pids stay below 2^20 + TASK_PID_BASE, tids below 2^31. */
function trackKey(pid: number, tid: number): number {
  return pid * 2 ** 32 + tid;
}
