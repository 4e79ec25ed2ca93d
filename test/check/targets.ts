// Small check targets built directly on the engine, with known answers.
import { mmCheckTarget } from "../../src/check/mm.js";
import type { CheckTarget } from "../../src/check/run.js";
import { buildMmScenario, type MmBuild, type MmScenarioConfig } from "../../src/mm/scenario.js";
import { PTE_PRESENT, PTE_SWAP, PTE_WRITE, pteFrame } from "../../src/mm/types.js";
import { yieldPoint } from "../../src/sim/effects.js";
import { Machine } from "../../src/sim/machine.js";
import { SpinLock, spin_lock, spin_unlock } from "../../src/sync/spinlock.js";
import type { FaultLoop } from "../../src/workloads/mm.js";

const YP_LOAD = yieldPoint("counter:load");
const YP_STORE = yieldPoint("counter:store");

/** n CPUs each increment a shared counter `iters` times; with `locked`, under a spinlock. */
export function counterTarget(n: number, iters: number, locked: boolean, idle = 0): CheckTarget {
  return {
    name: `counter-${n}x${iters}${locked ? "-locked" : ""}`,
    maxSteps: 10_000,
    cpus: n + idle,
    kinds: ["lost_update", "deadlock"],
    build() {
      const m = new Machine({ cpus: n + idle, mode: "explore", seed: 1 });
      const shared = { x: 0 };
      const lock = new SpinLock("counter_lock");
      for (let c = 0; c < n; c++) {
        m.createTask(`inc/${c}`, c, function* (k) {
          for (let i = 0; i < iters; i++) {
            if (locked) yield* spin_lock(k, lock, "inc:spin_lock");
            yield YP_LOAD;
            m.touch("x", false);
            const v = shared.x;
            yield YP_STORE;
            m.touch("x");
            shared.x = v + 1;
            m.emit("model", c, "store", `x=${v + 1}`);
            if (locked) yield* spin_unlock(k, lock);
          }
        });
      }
      // idle CPUs run a task that touches nothing shared (shrinking must drop them)
      for (let c = n; c < n + idle; c++) {
        m.createTask(`noise/${c}`, c, function* () {
          for (let i = 0; i < 3; i++) yield yieldPoint("noise");
        });
      }
      m.hooks.end.push(() => {
        if (shared.x !== n * iters)
          m.report({
            kind: "lost_update",
            cpus: [],
            message: `counter is ${shared.x}, expected ${n * iters}`,
            details: { x: shared.x },
          });
      });
      return m;
    },
  };
}

/** Two CPUs take two spinlocks in opposite orders (ABBA). */
export function abbaTarget(): CheckTarget {
  return {
    name: "abba",
    maxSteps: 1000,
    cpus: 2,
    kinds: ["deadlock"],
    build() {
      const m = new Machine({ cpus: 2, mode: "explore", seed: 1 });
      const a = new SpinLock("lock_A");
      const b = new SpinLock("lock_B");
      m.createTask("ab", 0, function* (k) {
        yield* spin_lock(k, a, "ab:A");
        yield* spin_lock(k, b, "ab:B");
        yield* spin_unlock(k, b);
        yield* spin_unlock(k, a);
      });
      m.createTask("ba", 1, function* (k) {
        yield* spin_lock(k, b, "ba:B");
        yield* spin_lock(k, a, "ba:A");
        yield* spin_unlock(k, a);
        yield* spin_unlock(k, b);
      });
      return m;
    },
  };
}

/** The final state of a run, without frame numbers or store values, and the kinds of its findings. */
export function digest(b: MmBuild): string {
  const sim = b.s.sim;
  const parts: string[] = [];
  for (const mm of sim.mms) {
    const w = sim.words;
    for (let vpn = 0; vpn < mm.vaPages; vpn++) {
      const p = mm.pte[vpn]!;
      if (p === 0) continue;
      let ok = "";
      if (p & PTE_PRESENT && mm.expected !== null) {
        const f = pteFrame(p);
        for (let i = 0; i < w; i++)
          ok += sim.frames.content[f * w + i] === mm.expected[vpn * w + i] ? "=" : "x";
      }
      parts.push(`${mm.id}:${vpn}:${p & (PTE_PRESENT | PTE_WRITE | PTE_SWAP)}${ok}`);
    }
  }
  const kinds = [...new Set(b.m.findings.map((f) => f.kind))].sort();
  return `${parts.join(" ")} | ${kinds.join(",")}`;
}

/** A target whose finished runs add their final-state digest to `states` (nothing counts as a violation). */
export function digestTarget(cfg: MmScenarioConfig): { target: CheckTarget; states: Set<string> } {
  const states = new Set<string>();
  const explore: MmScenarioConfig = { ...cfg, mode: "explore", latency: false };
  const roots = new WeakMap<object, unknown>();
  const builds = new WeakMap<object, MmBuild>();
  const target: CheckTarget = {
    name: "digest",
    cpus: cfg.cpus,
    maxSteps: 20_000,
    kinds: ["none"],
    build: () => {
      const b = buildMmScenario(explore);
      b.m.hooks.end.push(() => states.add(digest(b)));
      roots.set(b.m, b.s);
      builds.set(b.m, b);
      return b.m;
    },
    stateRoots: (m) => [roots.get(m)],
    // as mmCheckTarget does: the next value a user store writes is read without a footprint
    counters: (m) => {
      const sim = builds.get(m)!.s.sim;
      return () => `${sim.nextValue}`;
    },
    // as mmCheckTarget does: a finished build lets go of its model (MmBuild.release)
    recycle: (m) => {
      builds.get(m)?.release();
      builds.delete(m);
    },
  };
  return { target, states };
}

/** One thread writing two pages while the process forks; without the fork's VMA write locks. */
export const faultsAndFork: MmScenarioConfig = {
  variant: "6.4.3",
  cpus: 2,
  seed: 1,
  disableLockSites: ["dup_mmap:vma_start_write"],
  workloads: [
    { type: "fault-loop", threads: 1, regionSize: 8192, faultsPerThread: 2, access: "write" },
    { type: "fork", count: 1 },
  ],
};

/** Fault loops of `own` threads on their own VMAs and `shared` threads on one VMA, `per` write faults each. */
export function faultLoops(own: number, shared: number, per: number): FaultLoop[] {
  const w: FaultLoop[] = [];
  if (own > 0)
    w.push({ type: "fault-loop", threads: own, regionSize: 2 << 20, faultsPerThread: per, access: "write" });
  if (shared > 0)
    w.push({
      type: "fault-loop",
      threads: shared,
      regionSize: 2 << 20,
      faultsPerThread: per,
      access: "write",
      sharedVma: true,
    });
  return w;
}

/** The fork race's mini workload on 6.4.3 without dup_mmap's vma_start_write: the write it loses (lost_update). */
export function forkRaceMiniWithoutStartWrite(): CheckTarget {
  return mmCheckTarget(
    {
      variant: "6.4.3",
      cpus: 3,
      seed: 1,
      disableLockSites: ["dup_mmap:vma_start_write"],
      workloads: [{ type: "fork-race-mini" }],
    },
    { maxSteps: 20_000, kinds: ["lost_update"] },
  );
}

/**
 * `t` with a count of the machines it builds, one per run: the clock of tests of the search's time
 * budget and progress (ExhaustiveOptions.clock), so that nothing measures wall time.
 */
export function countingRuns(t: CheckTarget): { target: CheckTarget; runs: () => number } {
  let runs = 0;
  const target: CheckTarget = {
    ...t,
    build: () => {
      runs++;
      return t.build();
    },
  };
  return { target, runs: () => runs };
}
