// Streams engine trace events to a Perfetto-openable Chrome JSON trace ("trace event format"):
// per-CPU tracks for tasks (from sched_switch) and for hardirq/softirq slices, per-task tracks for
// lock contention and workqueue items, model events as instants, dmesg lines as global instants.
// Output goes through a TextSink in chunks, so a long run never holds its trace in memory.
import type { TraceEvent, TraceSink } from "../sim/trace.js";
import type { TextSink } from "./sink.js";

const PID_CPUS = 1;
const PID_LOCKS = 2;
const PID_WORK = 3;
const FLUSH_CHARS = 1 << 16;

export class ChromeTraceWriter implements TraceSink {
  private buf: string[] = [];
  private bufChars = 0;
  private first = true;
  private lastNs = 0;
  /** Open slice depth per track key ("pid:tid"), to close them at the end. */
  private readonly open = new Map<string, { pid: number; tid: number; depth: number }>();
  private readonly namedCpus = new Set<number>();
  private readonly namedTasks = new Set<string>();
  private finished = false;
  /** Number of trace events written (metadata included). */
  written = 0;

  constructor(
    private readonly out: TextSink,
    private readonly meta: Record<string, string> = {},
  ) {
    this.out.write('{"displayTimeUnit":"ns","traceEvents":[\n');
    this.emit({ ph: "M", name: "process_name", pid: PID_CPUS, tid: 0, args: { name: "CPUs" } });
    this.emit({ ph: "M", name: "process_name", pid: PID_LOCKS, tid: 0, args: { name: "lock contention" } });
    this.emit({ ph: "M", name: "process_name", pid: PID_WORK, tid: 0, args: { name: "workqueues" } });
  }

  event(e: TraceEvent): void {
    if (this.finished) return;
    this.lastNs = Math.max(this.lastNs, e.t);
    const ts = e.t / 1000;
    switch (e.kind) {
      case "sched_switch": {
        const tid = this.cpuTrack(e.cpu, 0);
        this.end(PID_CPUS, tid, ts);
        if (e.b !== 0)
          this.begin(PID_CPUS, tid, ts, `${e.name}:${e.b}`, "sched", { prev_pid: e.a, prev_state: e.detail });
        break;
      }
      case "irq_handler_entry":
        this.begin(PID_CPUS, this.cpuTrack(e.cpu, 1), ts, `irq:${e.name}`, "irq");
        break;
      case "softirq_entry":
        this.begin(PID_CPUS, this.cpuTrack(e.cpu, 1), ts, `softirq:${e.name}`, "softirq");
        break;
      case "irq_handler_exit":
      case "softirq_exit":
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
        this.emit({
          ph: "i",
          s: "t",
          ts,
          pid: PID_CPUS,
          tid: e.cpu >= 0 ? this.cpuTrack(e.cpu, 0) : 0,
          name: e.name,
          cat: "model",
          args: { detail: e.detail, a: e.a, b: e.b, pid: e.pid },
        });
        break;
      default:
        // lock_acquired/lock_released and sched_wakeup are too frequent to be worth a slice each.
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
      this.emit({ ph: "M", name: "thread_name", pid, tid: task, args: { name: `pid ${task}` } });
    }
    return task;
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
