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
  private buf: string[] = [];
  private bufChars = 0;
  private first = true;
  private lastNs = 0;
  /** Open slice depth per track key ("pid:tid"), to close them at the end. */
  private readonly open = new Map<string, { pid: number; tid: number; depth: number }>();
  private readonly namedCpus = new Set<number>();
  private readonly namedTasks = new Set<string>();
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
    const ts = e.t / 1000;
    switch (e.kind) {
      case "sched_switch": {
        const tid = this.cpuTrack(e.cpu, 0);
        this.end(PID_CPUS, tid, ts);
        if (e.b !== 0) {
          this.comms.set(e.b, e.name);
          this.begin(PID_CPUS, tid, ts, `${e.name}:${e.b}`, "sched", {
            pid: e.b,
            prev_pid: e.a,
            prev_state: e.detail,
          });
        }
        if (e.a !== 0) {
          const st = this.stateTrack(e.a);
          this.end(st.pid, st.tid, ts);
          const name = STATE_NAMES[e.detail];
          if (name !== undefined) this.begin(st.pid, st.tid, ts, name, "state");
        }
        if (e.b !== 0) {
          const st = this.stateTrack(e.b);
          this.end(st.pid, st.tid, ts);
          this.begin(st.pid, st.tid, ts, "Running", "state", { cpu: e.cpu });
        }
        break;
      }
      case "sched_wakeup": {
        if (!this.comms.has(e.a)) this.comms.set(e.a, e.name);
        const st = this.stateTrack(e.a);
        this.end(st.pid, st.tid, ts);
        this.begin(st.pid, st.tid, ts, "Runnable", "state", { target_cpu: e.b });
        break;
      }
      case "irq_handler_entry":
        this.irqDepth[e.cpu] = (this.irqDepth[e.cpu] ?? 0) + 1;
        this.begin(PID_CPUS, this.cpuTrack(e.cpu, 1), ts, `irq:${e.name}`, "irq");
        break;
      case "softirq_entry":
        this.irqDepth[e.cpu] = (this.irqDepth[e.cpu] ?? 0) + 1;
        this.begin(PID_CPUS, this.cpuTrack(e.cpu, 1), ts, `softirq:${e.name}`, "softirq");
        break;
      case "irq_handler_exit":
      case "softirq_exit":
        this.irqDepth[e.cpu] = Math.max(0, (this.irqDepth[e.cpu] ?? 0) - 1);
        this.end(PID_CPUS, this.cpuTrack(e.cpu, 1), ts);
        break;
      case "contention_begin":
        this.begin(PID_LOCKS, this.taskTrack(PID_LOCKS, e.pid), ts, `contended ${e.name}`, "lock", {
          site: e.detail,
          cpu: e.cpu,
        });
        break;
      case "contention_end":
        this.end(PID_LOCKS, this.taskTrack(PID_LOCKS, e.pid), ts);
        break;
      case "workqueue_execute_start":
        this.begin(PID_WORK, this.taskTrack(PID_WORK, e.pid), ts, e.name, "workqueue", {
          workqueue: e.detail,
          cpu: e.cpu,
        });
        break;
      case "workqueue_execute_end":
        this.end(PID_WORK, this.taskTrack(PID_WORK, e.pid), ts);
        break;
      case "dmesg":
        this.emit({
          ph: "i",
          s: "g",
          ts,
          pid: PID_CPUS,
          tid: 0,
          name: e.detail,
          cat: "dmesg",
          args: { cpu: e.cpu },
        });
        break;
      case "model":
        if (e.name.startsWith("finding:")) {
          this.emit({
            ph: "i",
            s: "g",
            ts,
            pid: PID_CPUS,
            tid: 0,
            name: e.name,
            cat: "finding",
            args: { message: e.detail, cpu: e.cpu },
          });
          break;
        }
        this.emit({
          ph: "i",
          s: "t",
          ts,
          ...this.modelTrack(e),
          name: e.name,
          cat: "model",
          args: { detail: e.detail, a: e.a, b: e.b, cpu: e.cpu },
        });
        break;
      case "slice": {
        const o: Record<string, unknown> = {
          ph: "X",
          ts: e.a / 1000,
          dur: (e.b - e.a) / 1000,
          ...this.sliceTrack(e),
          name: e.name,
          cat: "kernel",
        };
        o.args = e.detail !== "" ? { cpu: e.cpu, args: e.detail } : { cpu: e.cpu };
        this.emit(o);
        if (e.b > this.lastNs) this.lastNs = e.b;
        break;
      }
      case "flow_start":
        this.emit({
          ph: "s",
          id: e.a,
          ts,
          pid: PID_CPUS,
          tid: this.cpuTrack(e.cpu, this.inIrq(e.cpu)),
          name: e.name,
          cat: "flow",
        });
        break;
      case "flow_end":
        this.emit({
          ph: "f",
          bp: "e",
          id: e.a,
          ts,
          pid: PID_CPUS,
          tid: this.cpuTrack(e.cpu, this.inIrq(e.cpu)),
          name: e.name,
          cat: "flow",
        });
        break;
      case "counter": {
        const name = e.cpu >= 0 ? `${e.name} CPU ${e.cpu}` : e.name;
        this.emit({ ph: "C", ts, pid: PID_COUNTERS, tid: 0, name, args: { value: e.a } });
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
    const ts = this.lastNs / 1000;
    for (const t of this.open.values()) while (t.depth > 0) this.end(t.pid, t.tid, ts);
    this.finished = true;
    this.flush();
    this.out.write(`\n],"metadata":${JSON.stringify({ "trace-source": "faultline", ...this.meta })}}\n`);
    this.out.close();
  }

  /** Drops the partial trace (the sink removes its temporary file). */
  abort(): void {
    this.finished = true;
    this.buf = [];
    this.out.abort();
  }

  private procMeta(pid: number, name: string, sort: number): void {
    this.emit({ ph: "M", name: "process_name", pid, tid: 0, args: { name } });
    this.emit({ ph: "M", name: "process_sort_index", pid, tid: 0, args: { sort_index: sort } });
  }

  private comm(pid: number): string {
    return pid === 0 ? "swapper" : `${this.comms.get(pid) ?? "task"} ${pid}`;
  }

  private cpuTrack(cpu: number, lane: number): number {
    const tid = cpu * 2 + lane + 1;
    if (!this.namedCpus.has(tid)) {
      this.namedCpus.add(tid);
      const name = lane === 0 ? `CPU ${cpu}` : `CPU ${cpu} irq`;
      this.emit({ ph: "M", name: "thread_name", pid: PID_CPUS, tid, args: { name } });
      this.emit({ ph: "M", name: "thread_sort_index", pid: PID_CPUS, tid, args: { sort_index: tid } });
    }
    return tid;
  }

  private taskTrack(pid: number, task: number): number {
    const key = `${pid}:${task}`;
    if (!this.namedTasks.has(key)) {
      this.namedTasks.add(key);
      this.emit({ ph: "M", name: "thread_name", pid, tid: task, args: { name: this.comm(task) } });
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
      this.emit({ ph: "M", name: "thread_name", pid: p, tid, args: { name: "kernel" } });
      this.emit({ ph: "M", name: "thread_sort_index", pid: p, tid, args: { sort_index: 0 } });
      this.emit({ ph: "M", name: "thread_name", pid: p, tid: tid + 1, args: { name: "state" } });
      this.emit({ ph: "M", name: "thread_sort_index", pid: p, tid: tid + 1, args: { sort_index: 1 } });
    }
    return p;
  }

  private stateTrack(pid: number): { pid: number; tid: number } {
    return { pid: this.taskProc(pid), tid: TASK_TID_BASE + 2 * pid + 1 };
  }

  /** 1 when `cpu` runs a hardirq or softirq now (its events go to the CPU's irq lane), else 0. */
  private inIrq(cpu: number): number {
    return (this.irqDepth[cpu] ?? 0) > 0 ? 1 : 0;
  }

  /** Kernel-function slices: the task's "kernel" thread, or the CPU's irq lane for irq context. */
  private sliceTrack(e: TraceEvent): { pid: number; tid: number } {
    if (this.inIrq(e.cpu) === 1 || e.pid === 0) return { pid: PID_CPUS, tid: this.cpuTrack(e.cpu, 1) };
    return { pid: this.taskProc(e.pid), tid: TASK_TID_BASE + 2 * e.pid };
  }

  private modelTrack(e: TraceEvent): { pid: number; tid: number } {
    if (e.cpu < 0) return { pid: PID_CPUS, tid: 0 };
    if (e.pid === 0) return { pid: PID_CPUS, tid: this.cpuTrack(e.cpu, 0) };
    return { pid: this.taskProc(e.pid), tid: TASK_TID_BASE + 2 * e.pid };
  }

  private begin(
    pid: number,
    tid: number,
    ts: number,
    name: string,
    cat: string,
    args?: Record<string, unknown>,
  ): void {
    const key = `${pid}:${tid}`;
    let t = this.open.get(key);
    if (!t) this.open.set(key, (t = { pid, tid, depth: 0 }));
    t.depth++;
    this.emit(args ? { ph: "B", ts, pid, tid, name, cat, args } : { ph: "B", ts, pid, tid, name, cat });
  }

  private end(pid: number, tid: number, ts: number): void {
    const t = this.open.get(`${pid}:${tid}`);
    if (!t || t.depth === 0) return;
    t.depth--;
    this.emit({ ph: "E", ts, pid, tid });
  }

  private emit(o: Record<string, unknown>): void {
    const s = (this.first ? "" : ",\n") + JSON.stringify(o);
    this.first = false;
    this.written++;
    this.buf.push(s);
    this.bufChars += s.length;
    if (this.bufChars >= FLUSH_CHARS) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    this.out.write(this.buf.join(""));
    this.buf = [];
    this.bufChars = 0;
  }
}
