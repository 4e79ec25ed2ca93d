// SimPy's three reference workloads (the anchor script simpy_bench.py, see anchor.ts) run on the engine the
// models run on, `Machine`, with the kernel layer: tasks, hrtimers, the scheduler, src/sync primitives.
// They must print the checksums the Python script prints with SimPy.
//
// - timeouts: 1000 tasks sleeping on hrtimers (schedule_hrtimeout, absolute expiry) for 1..10 units;
// - resource: 64 tasks contending for a kernel semaphore of count 1 (kernel/locking/semaphore.c:
//   FIFO hand-off), think 1..20 units, hold 1..3 units;
// - pingpong: two tasks on two CPUs handing over through two completions, one unit of sleep per turn.
//
// Mapping: one SimPy time unit is UNIT_NS of virtual time, and all tasks of a workload run on one
// CPU in SCHED_FIFO at one priority (pingpong: one task per CPU). SimPy breaks ties at an instant
// by insertion order; on one CPU the engine's queue does too (time, CPU, sequence), and the FIFO
// class runs woken tasks in wake-up order, so the same order of events comes out. The kernel costs
// are the engine's defaults (irq entry, hrtimer, context switch, wake-up), far below one unit: all
// work of an instant ends within it, so the instant of a task is floor(now / UNIT_NS).
import { Machine } from "../sim/machine.js";
import { mulberry32 } from "../sim/prng.js";
import type { Ctx } from "../sim/task.js";
import { Completion, complete, down, Semaphore, up, wait_for_completion } from "../sync/index.js";

const SEED = 0x5eed;
/** One SimPy time unit in virtual ns. */
export const UNIT_NS = 10_000_000;

export interface SimpyResult {
  name: string;
  checksum: number;
  /** Events popped from the Machine's queue. */
  events: number;
  /** Generator resumptions of kernel code (tasks, hardirq frames). */
  resumptions: number;
  /** Context switches on all CPUs. */
  switches: number;
  /** Virtual time at the end, in SimPy units. */
  now: number;
  extra: Record<string, number>;
}

/** `passSteps` false: every step goes through the CPU loop (Machine.passSteps; the results are the same). */
function machine(cpus: number, passSteps: boolean): Machine {
  const m = new Machine({ cpus, preempt: "none", seed: 1, jitter: 0 });
  m.passSteps = passSteps;
  return m;
}

function result(name: string, m: Machine, checksum: number, extra: Record<string, number>): SimpyResult {
  return {
    name,
    checksum: checksum >>> 0,
    events: m.queue.popped,
    resumptions: m.resumptions,
    switches: m.cpus.reduce((a, c) => a + c.nrSwitches, 0),
    now: Math.floor(m.now / UNIT_NS),
    extra,
  };
}

/** The SimPy instant a task is in. */
function instant(k: Ctx): number {
  return Math.floor(k.m.now / UNIT_NS);
}

const FIFO = { policy: "fifo", rtPrio: 1 } as const;

export function wlTimeouts(n = 1000, T = 20000, passSteps = true): SimpyResult {
  const m = machine(1, passSteps);
  let acc = 0;
  let timeouts = 0;
  for (let i = 0; i < n; i++) {
    const pid = i;
    m.createTask(
      `timeouts/${pid}`,
      0,
      function* (k) {
        const rnd = mulberry32(SEED + pid);
        for (;;) {
          yield* m.sleepUntil(k, (instant(k) + 1 + (rnd() % 10)) * UNIT_NS);
          timeouts++;
          acc = (Math.imul(acc, 31) + pid) >>> 0;
        }
      },
      FIFO,
    );
  }
  // SimPy's run(until=T) stops before the events due at T
  m.run(T * UNIT_NS - 1);
  return result("timeouts", m, acc, { timeouts });
}

export function wlResource(cpus = 64, T = 400000, passSteps = true): SimpyResult {
  const m = machine(1, passSteps);
  const lock = new Semaphore("bench_sem", 1);
  let acquired = 0;
  let waitSum = 0;
  let checksum = 0;
  for (let c = 0; c < cpus; c++) {
    const cid = c;
    m.createTask(
      `resource/${cid}`,
      0,
      function* (k) {
        const rnd = mulberry32((SEED ^ (Number((BigInt(cid) * 2654435761n) & 0xffffffffn) >>> 0)) >>> 0);
        for (;;) {
          yield* m.sleepUntil(k, (instant(k) + 1 + (rnd() % 20)) * UNIT_NS);
          const tReq = instant(k);
          yield* down(k, lock, "bench:down");
          acquired++;
          waitSum += instant(k) - tReq;
          checksum = (Math.imul(checksum, 131) + cid) >>> 0;
          yield* m.sleepUntil(k, (instant(k) + 1 + (rnd() % 3)) * UNIT_NS);
          yield* up(k, lock, "bench:up");
        }
      },
      FIFO,
    );
  }
  m.run(T * UNIT_NS - 1);
  return result("resource", m, checksum, { acquired, wait_sum: waitSum, contended: lock.contended });
}

export function wlPingpong(M = 200000, passSteps = true): SimpyResult {
  const m = machine(2, passSteps);
  const ping = new Completion("ping");
  const pong = new Completion("pong");
  let rt = 0;
  m.createTask(
    "ping",
    0,
    function* (k) {
      for (let i = 0; i < M; i++) {
        complete(m, ping);
        yield* wait_for_completion(k, pong);
        rt++;
      }
      m.stop("pingpong: done");
    },
    FIFO,
  );
  m.createTask(
    "pong",
    1,
    function* (k) {
      for (;;) {
        yield* wait_for_completion(k, ping);
        yield* m.sleepUntil(k, (instant(k) + 1) * UNIT_NS);
        complete(m, pong);
      }
    },
    FIFO,
  );
  m.run(Number.POSITIVE_INFINITY);
  return result("pingpong", m, rt, {});
}
