// The engine's trace API: kernel-function slices from named calls, flows (IPI, queue_work, wake-up,
// spinlock hand-over), counters, the trace levels, and the event stream in time order.
import { describe, expect, it } from "vitest";
import {
  type KGen,
  MemoryTrace,
  SCHEDULE,
  TASK_UNINTERRUPTIBLE,
  type WorkStruct,
} from "../../src/sim/index.js";
import { TRACE_SCHED, type TraceEvent } from "../../src/sim/trace.js";
import { SpinLock, spin_lock, spin_unlock } from "../../src/sync/spinlock.js";
import { exactMachine, US } from "./helpers.js";

function program(trace: MemoryTrace) {
  const m = exactMachine({ cpus: 2 });
  if (trace !== null) m.trace = trace;
  const lock = new SpinLock("test_lock");
  const wq = m.wq.allocWorkqueue("test-wq");
  const work: WorkStruct = {
    func: "test_work_fn",
    pending: false,
    *fn(): KGen<void> {
      yield 5 * US;
    },
  };
  const sleeper = m.createTask("sleeper", 1, function* (k) {
    k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
    yield* spin_lock(k, lock, "sleeper:spin_lock");
    yield* spin_unlock(k, lock);
  });
  m.createTask("actor", 0, function* (k) {
    yield* spin_lock(k, lock, "actor:spin_lock");
    yield* k.call(
      "outer_fn",
      (function* () {
        yield 10 * US;
        yield* k.call(
          "inner_fn",
          (function* () {
            yield 20 * US;
          })(),
        );
      })(),
    );
    m.sendIpi(1, "TEST", function* (_h) {
      yield 1 * US;
    });
    m.wq.queueWork(k, wq, work);
    m.wakeUpProcess(sleeper);
    yield 50 * US;
    yield* spin_unlock(k, lock);
  });
  m.run(10_000 * US);
  return m;
}

describe("trace API", () => {
  it("records nested slices, matched flows and counters in time order", () => {
    const tr = new MemoryTrace();
    program(tr);
    const evs = tr.events;
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.t).toBeGreaterThanOrEqual(evs[i - 1]!.t);
    const slice = (n: string) => evs.find((e) => e.kind === "slice" && e.name === n)!;
    expect(slice("inner_fn").b - slice("inner_fn").a).toBe(20 * US);
    expect(slice("outer_fn").b - slice("outer_fn").a).toBe(30 * US);
    expect(slice("outer_fn").a).toBeLessThanOrEqual(slice("inner_fn").a);
    expect(slice("test_work_fn").b - slice("test_work_fn").a).toBe(5 * US);
    const starts = new Map<number, TraceEvent>();
    for (const e of evs) if (e.kind === "flow_start") starts.set(e.a, e);
    const ends = evs.filter((e) => e.kind === "flow_end");
    const names = new Set(ends.map((e) => e.name));
    for (const n of ["TEST", "queue_work", "wakeup", "test_lock"]) expect(names).toContain(n);
    for (const e of ends) {
      const s = starts.get(e.a)!;
      expect(s.name).toBe(e.name);
      expect(s.t).toBeLessThanOrEqual(e.t);
    }
    // the IPI runs from CPU 0 to CPU 1's hardirq
    const ipi = ends.find((e) => e.name === "TEST")!;
    expect([starts.get(ipi.a)!.cpu, ipi.cpu, ipi.b]).toEqual([0, 1, 2]);
    expect(evs.some((e) => e.kind === "counter" && e.name === "runnable")).toBe(true);
  });

  it("a sched-level sink gets no slices and the same tracepoints", () => {
    const full = new MemoryTrace();
    program(full);
    const sched = Object.assign(new MemoryTrace(), { level: TRACE_SCHED });
    const m = program(sched);
    expect(m.modelTrace).toBe(false);
    expect(sched.events.some((e) => e.kind === "slice")).toBe(false);
    const tp = (l: TraceEvent[]) =>
      l.filter((e) => e.kind === "sched_switch" || e.kind === "irq_handler_entry");
    expect(tp(sched.events)).toEqual(tp(full.events));
  });

  it("a traced run takes the same steps as an untraced one", () => {
    const a = program(new MemoryTrace());
    const b = exactMachine({ cpus: 2 });
    expect(b.trace).toBe(null);
    const plain = program(null as unknown as MemoryTrace);
    expect(plain.now).toBe(a.now);
    expect(plain.cpus.map((c) => c.nrSwitches)).toEqual(a.cpus.map((c) => c.nrSwitches));
  });
});
