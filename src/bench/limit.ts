// The limit: what one event costs at the bottom, on this machine, without any model. A bare push and
// pop of the engine's event queue (EventQueue, both tiers: the timing wheel for near integer times,
// the heap behind it), a generator resume (next() on a generator yielding numbers), and the same
// resume through three levels of yield* (how kernel code nests: task body, function, primitive).
// `limit queue_wheel_ns=Q queue_heap_ns=H gen_resume_ns=G gen_resume_depth3_ns=D`: CPU ns per operation
// (process CPU time, median of 5), comparable with the ns_per_event (CPU) of the engine benchmarks.
import { EventQueue, type Handler } from "../sim/queue.js";
import type { Benchmark } from "./kernel.js";
import { median } from "./stats.js";

const NOP: Handler = { fire() {} };

/** Process CPU time in ms (user + system): less disturbed than wall time by other load. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Push and pop with `live` events always queued, times `ahead` units ahead: ns per push+pop. */
function queueNs(n: number, live: number, ahead: number): number {
  const q = new EventQueue(1024);
  let t = 0;
  for (let i = 0; i < live; i++) q.push(t + 1 + ((i * 7919) % ahead), i & 15, NOP, 0);
  let sink = 0;
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) {
    q.pop();
    t = q.outTime;
    sink += q.outArg;
    q.push(t + 1 + ((i * 7919) % ahead), i & 15, NOP, i);
  }
  const ns = ((cpuMs() - t0) * 1e6) / n;
  if (sink < 0) throw new Error("unreachable");
  return ns;
}

function* leaf(): Generator<number, void, unknown> {
  for (;;) yield 1;
}
function* mid(): Generator<number, void, unknown> {
  yield* leaf();
}
function* outer(): Generator<number, void, unknown> {
  yield* mid();
}

function genNs(n: number, g: Generator<number, void, unknown>): number {
  let sink = 0;
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) sink += g.next(i).value as number;
  const ns = ((cpuMs() - t0) * 1e6) / n;
  if (sink < 0) throw new Error("unreachable");
  return ns;
}

function limit(quick: boolean): string {
  const n = quick ? 2_000_000 : 10_000_000;
  const runs = 5;
  const wheel: number[] = [];
  const heap: number[] = [];
  const gen: number[] = [];
  const gen3: number[] = [];
  for (let r = 0; r < runs; r++) {
    wheel.push(queueNs(n, 1000, 1000)); // 1000 live events within the wheel's window
    heap.push(queueNs(n, 1000, 1e7)); // 1000 live events far ahead: the heap
    gen.push(genNs(n, leaf()));
    gen3.push(genNs(n, outer()));
  }
  const f = (xs: number[]) => median(xs).toFixed(1);
  return `limit queue_wheel_ns=${f(wheel)} queue_heap_ns=${f(heap)} gen_resume_ns=${f(gen)} gen_resume_depth3_ns=${f(gen3)} ops=${n}`;
}

export const limitBenchmarks: Benchmark[] = [{ name: "limit", run: limit }];
