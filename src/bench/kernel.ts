// Engine benchmarks with the kernel layer: CPUs, scheduler, ticks, locks. Each returns one line.

import { condResched } from "../sim/effects.js";
import { Machine } from "../sim/machine.js";
import { mulberry32 } from "../sim/prng.js";
import {
  bootKernel,
  down_read,
  down_write,
  RwSemaphore,
  SpinLock,
  spin_lock,
  spin_unlock,
  up_read,
  up_write,
} from "../sync/index.js";
import { cpuSeconds, median } from "./stats.js";

export interface Benchmark {
  name: string;
  run(quick: boolean): string | Promise<string>;
}

const CR = condResched("bench/kernel.c", 1);

/** JIT warm-up runs of the same workload before the measured ones (see lockStorm). */
export const WARMUP_RUNS = 2;
/** Measured runs after the warm-up: the line gives their median. */
export const MEASURED_RUNS = 3;

/**
 * `cpus` CPUs hammering a spinlock and an rwsem with short bursts (one writer in 8): the engine's
 * kernel-layer event rate over 100 ms of virtual time (20 with --quick); ns_per_event (CPU time)
 * shows how the cost per event grows with the machine.
 *
 * Method (as benchmark harnesses do: warm-up iterations of the same workload, then measured ones):
 * WARMUP_RUNS runs of the same storm on fresh machines warm the JIT, then MEASURED_RUNS runs are
 * timed and the line gives their median (wall and CPU time, each run's counts are the same: the
 * run is deterministic). A process's first run is not the steady state: V8 compiles and then
 * throws away much of what it optimized during it when the next run's objects arrive with other
 * hidden classes (the same as faultstorm16, src/bench/mm.ts), and in one process the ns per event
 * of consecutive 100 ms storms went 582, 474, 388, 313, 396, 337 (16 CPUs, load about 2.5).
 * The first warm-up run's figure is printed too (first_run_ns_per_event): what a process that
 * runs one storm sees.
 */
function lockStorm(cpus: number, quick: boolean): string {
  const simNs = quick ? 20e6 : 100e6;
  let firstNs = 0;
  for (let i = 0; i < WARMUP_RUNS; i++) {
    const c0 = cpuSeconds();
    const { m } = runLockStorm(cpus, simNs);
    if (i === 0) firstNs = ((cpuSeconds() - c0) * 1e9) / m.queue.popped;
  }
  const walls: number[] = [];
  const cpuss: number[] = [];
  let last: { m: Machine; ops: number } | null = null;
  for (let i = 0; i < MEASURED_RUNS; i++) {
    const c0 = cpuSeconds();
    const t0 = performance.now();
    last = runLockStorm(cpus, simNs);
    walls.push((performance.now() - t0) / 1000);
    cpuss.push(cpuSeconds() - c0);
  }
  const { m, ops } = last!;
  const s = median(walls);
  const cpuS = median(cpuss);
  const events = m.queue.popped;
  return (
    `kernel-lockstorm${cpus} ops=${ops} events=${events} ops_per_s=${Math.round(ops / s)} events_per_s=${Math.round(events / s)}` +
    ` events_per_cpu_s=${Math.round(events / cpuS)} ns_per_event=${Math.round((cpuS * 1e9) / events)}` +
    ` resumptions=${m.resumptions} sim_ms=${simNs / 1e6}` +
    ` first_run_ns_per_event=${Math.round(firstNs)} warmup_runs=${WARMUP_RUNS} measured_runs=${MEASURED_RUNS}`
  );
}

function runLockStorm(cpus: number, simNs: number): { m: Machine; ops: number } {
  const m = bootKernel({ cpus, preempt: "none", seed: 1 });
  const ops = spawnLockStorm(m, cpus, "bench");
  m.run(simNs);
  return { m, ops: ops() };
}

/**
 * The lock storm's tasks on `m`: one per CPU, each taking a spinlock and then an rwsem (for write on
 * every 8th CPU, for read on the others) with short bursts between, forever. The objects are named
 * `${name}_lock`, `${name}_sem` and `${name}/N`, the sites `${name}:spin_lock` and so on. Returns the
 * count of completed operations so far.
 */
export function spawnLockStorm(m: Machine, cpus: number, name: string): () => number {
  const lock = new SpinLock(`${name}_lock`);
  const sem = new RwSemaphore(`${name}_sem`);
  const siteLock = `${name}:spin_lock`;
  const siteWrite = `${name}:down_write`;
  const siteRead = `${name}:down_read`;
  let ops = 0;
  for (let c = 0; c < cpus; c++) {
    m.createTask(`${name}/${c}`, c, function* (k) {
      for (;;) {
        yield* spin_lock(k, lock, siteLock);
        yield 200;
        yield* spin_unlock(k, lock);
        if (c % 8 === 0) {
          yield* down_write(k, sem, siteWrite);
          yield 500;
          yield* up_write(k, sem);
        } else {
          yield* down_read(k, sem, siteRead);
          yield 300;
          yield* up_read(k, sem);
        }
        yield 1000;
        yield CR;
        ops++;
      }
    });
  }
  return () => ops;
}

/**
 * `tasks` tasks sleeping on hrtimers (schedule_timeout) on 64 CPUs, each for 1..1000 ms at a time,
 * 200 ms of virtual time: how the cost per event grows with the number of timers and tasks
 * (timers-10k beside timers-1m; --quick runs a tenth of the tasks).
 */
function timerStorm(name: string, tasksFull: number, quick: boolean): string {
  const tasks = quick ? tasksFull / 10 : tasksFull;
  const cpus = 64;
  const m = new Machine({ cpus, preempt: "none", seed: 1, jitter: 0 });
  let wakeups = 0;
  const c0 = cpuSeconds();
  const t0 = performance.now();
  for (let i = 0; i < tasks; i++) {
    m.createTask(`sleeper/${i}`, i % cpus, function* (k) {
      const rnd = mulberry32(i + 1);
      for (;;) {
        yield* m.sleepNs(k, 1_000_000 * (1 + (rnd() % 1000)));
        wakeups++;
      }
    });
  }
  const setupS = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  const t1 = performance.now();
  m.run(200e6);
  const s = (performance.now() - t1) / 1000;
  const cpuS = cpuSeconds() - c1;
  const events = m.queue.popped;
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  return (
    `${name} tasks=${tasks} cpus=${cpus} wakeups=${wakeups} events=${events} events_per_s=${Math.round(events / s)}` +
    ` events_per_cpu_s=${Math.round(events / cpuS)} ns_per_event=${Math.round((cpuS * 1e9) / events)}` +
    ` setup_s=${setupS.toFixed(1)} setup_cpu_s=${(c1 - c0).toFixed(1)} rss_mib=${rss} sim_ms=200`
  );
}

export const kernelBenchmarks: Benchmark[] = [
  { name: "kernel-lockstorm16", run: (q) => lockStorm(16, q) },
  { name: "kernel-lockstorm64", run: (q) => lockStorm(64, q) },
  { name: "kernel-lockstorm256", run: (q) => lockStorm(256, q) },
  { name: "timers-10k", run: (q) => timerStorm("timers-10k", 10_000, q) },
  { name: "timers-1m", run: (q) => timerStorm("timers-1m", 1_000_000, q) },
];
