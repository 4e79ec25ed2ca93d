// Small check targets built directly on the engine, with known answers.
import type { CheckTarget } from "../../src/check/run.js";
import { yieldPoint } from "../../src/sim/effects.js";
import { Machine } from "../../src/sim/machine.js";
import { SpinLock, spin_lock, spin_unlock } from "../../src/sync/spinlock.js";

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
