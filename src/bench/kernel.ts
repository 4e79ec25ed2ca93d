// Engine benchmarks with the kernel layer: CPUs, scheduler, ticks, locks. Each returns one line.

import { condResched } from "../sim/effects.js";
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

export interface Benchmark {
  name: string;
  run(quick: boolean): string | Promise<string>;
}

const CR = condResched("bench/kernel.c", 1);

/** 16 CPUs hammering a spinlock and an rwsem with short bursts: the engine's kernel-layer event rate. */
function lockStorm(quick: boolean): string {
  const m = bootKernel({ cpus: 16, preempt: "none", seed: 1 });
  const lock = new SpinLock("bench_lock");
  const sem = new RwSemaphore("bench_sem");
  let ops = 0;
  for (let c = 0; c < 16; c++) {
    m.createTask(`bench/${c}`, c, function* (k) {
      for (;;) {
        yield* spin_lock(k, lock, "bench:spin_lock");
        yield 200;
        yield* spin_unlock(k, lock);
        if (c % 8 === 0) {
          yield* down_write(k, sem, "bench:down_write");
          yield 500;
          yield* up_write(k, sem);
        } else {
          yield* down_read(k, sem, "bench:down_read");
          yield 300;
          yield* up_read(k, sem);
        }
        yield 1000;
        yield CR;
        ops++;
      }
    });
  }
  const simNs = quick ? 20e6 : 100e6;
  const t0 = performance.now();
  m.run(simNs);
  const s = (performance.now() - t0) / 1000;
  const events = m.queue.popped;
  return `kernel-lockstorm16 ops=${ops} events=${events} ops_per_s=${Math.round(ops / s)} events_per_s=${Math.round(events / s)} sim_ms=${simNs / 1e6}`;
}

export const kernelBenchmarks: Benchmark[] = [{ name: "kernel-lockstorm16", run: lockStorm }];
