// Kernel primitives on the engine: spinlocks, rw-semaphores, seqcounts, RCU, wait queues and
// completions, atomics on cache lines, lock-order checking and lock statistics.
export * from "./atomic.js";
export * from "./cacheline.js";
export * from "./lockdep.js";
export * from "./lockstat.js";
export * from "./looplock.js";
export * from "./rcu.js";
export * from "./rwsem.js";
export * from "./semaphore.js";
export * from "./seqcount.js";
export * from "./spinlock.js";
export * from "./waitqueue.js";

import type { MachineConfig } from "../sim/config.js";
import { Machine } from "../sim/machine.js";
import { rcu } from "./rcu.js";

/**
 * Boot a machine with the kernel-wide primitives attached: RCU (with background call_rcu traffic
 * in the timed driver, so that grace periods run and stalls can be detected).
 */
export function bootKernel(
  cfg: Partial<MachineConfig> = {},
  opts: { rcuBackgroundNs?: number } = {},
): Machine {
  const m = new Machine(cfg);
  const r = rcu(m);
  if (m.mode === "timed" && (opts.rcuBackgroundNs ?? 100_000_000) > 0)
    r.startBackground(opts.rcuBackgroundNs ?? 100_000_000);
  return m;
}
