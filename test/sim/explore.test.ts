// The explore driver (choices recorded, exact replay, deadlock detection) and run determinism.
import { describe, expect, it } from "vitest";
import {
  condResched,
  type ExploreStrategy,
  Machine,
  type MachineConfig,
  MemoryTrace,
  Rng,
  yieldPoint,
} from "../../src/sim/index.js";
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
} from "../../src/sync/index.js";
import { MS, S } from "./helpers.js";

class RandomStrategy implements ExploreStrategy {
  readonly rng: Rng;
  calls = 0;
  constructor(seed: number) {
    this.rng = new Rng(seed, "explore");
  }
  choose(enabled: readonly number[]): number {
    this.calls++;
    return enabled[this.rng.int(enabled.length)]!;
  }
}

class ReplayStrategy implements ExploreStrategy {
  constructor(private readonly choices: readonly number[]) {}
  choose(_enabled: readonly number[], m: Machine): number {
    return this.choices[m.steps]!;
  }
}

function exploreMachine(over: Partial<MachineConfig> = {}): Machine {
  return new Machine({ cpus: 3, mode: "explore", seed: 1, ...over });
}

/** Three CPUs incrementing a shared counter with a lock-free read-modify-write (a lost-update race). */
function racyCounter(m: Machine, useLock: boolean): { value: () => number } {
  let counter = 0;
  const lock = new SpinLock("counter_lock");
  for (let cpu = 0; cpu < 3; cpu++)
    m.createTask(`inc${cpu}`, cpu, function* (k) {
      for (let i = 0; i < 3; i++) {
        if (useLock) yield* spin_lock(k, lock, "inc:lock");
        yield yieldPoint("inc:read");
        const v = counter;
        yield yieldPoint("inc:write");
        counter = v + 1;
        if (useLock) yield* spin_unlock(k, lock);
      }
    });
  return { value: () => counter };
}

describe("explore driver", () => {
  it("a strategy chooses the CPU at each yield point; every choice is recorded", () => {
    const m = exploreMachine();
    const trace = new MemoryTrace();
    m.trace = trace;
    const s = new RandomStrategy(5);
    racyCounter(m, false);
    m.explore(s, 10_000);
    expect(s.calls).toBeGreaterThan(5);
    expect(m.choices.length).toBe(m.steps);
    expect(m.stepLabels.length).toBeGreaterThan(0);
    expect(m.stepLabels.every((l) => /^\d:/.test(l))).toBe(true);
    expect(m.choices.every((c) => c >= 0 && c < 3)).toBe(true);
  });

  it("finds a lost update without the lock for some schedule, and never with it", () => {
    const values = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const m = exploreMachine();
      const c = racyCounter(m, false);
      m.explore(new RandomStrategy(seed), 10_000);
      values.add(c.value());
    }
    expect([...values].some((v) => v < 9)).toBe(true);
    for (let seed = 0; seed < 30; seed++) {
      const m = exploreMachine();
      const c = racyCounter(m, true);
      m.explore(new RandomStrategy(seed), 10_000);
      expect(c.value()).toBe(9);
      expect(m.findings).toEqual([]);
    }
  });

  it("replaying the recorded choices reproduces an identical event stream", () => {
    for (let seed = 0; seed < 10; seed++) {
      const run = (strategy: ExploreStrategy) => {
        const m = exploreMachine();
        const trace = new MemoryTrace();
        m.trace = trace;
        const c = racyCounter(m, seed % 2 === 0);
        m.explore(strategy, 10_000);
        return { m, json: JSON.stringify(trace.events), value: c.value() };
      };
      const a = run(new RandomStrategy(seed));
      const b = run(new ReplayStrategy(a.m.choices));
      expect(b.m.choices).toEqual(a.m.choices);
      expect(b.m.stepLabels).toEqual(a.m.stepLabels);
      expect(b.json).toBe(a.json);
      expect(b.value).toBe(a.value);
    }
  });

  it("rejects a strategy that picks a CPU that cannot step", () => {
    const m = exploreMachine();
    racyCounter(m, false);
    expect(() => m.explore({ choose: () => 7 }, 100)).toThrow(/not enabled/);
  });

  it("ABBA with two spinlocks: some schedule deadlocks, reported as 'deadlock'; lockdep reports the inversion", () => {
    let deadlocks = 0;
    let inversions = 0;
    for (let seed = 0; seed < 40; seed++) {
      const m = exploreMachine({ cpus: 2 });
      const a = new SpinLock("A");
      const b = new SpinLock("B");
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
      m.explore(new RandomStrategy(seed), 1000);
      const kinds = m.findings.map((f) => f.kind);
      if (kinds.includes("deadlock")) {
        deadlocks++;
        const d = m.findings.find((f) => f.kind === "deadlock")!;
        expect(d.cpus).toEqual([0, 1]);
        expect(d.message).toMatch(/2 spinning/);
        expect(d.steps.length).toBeGreaterThan(0);
      }
      if (kinds.includes("lock_order_inversion")) inversions++;
    }
    expect(deadlocks).toBeGreaterThan(0);
    expect(deadlocks).toBeLessThan(40);
    expect(inversions).toBeGreaterThan(0);
  });

  it("ABBA with two rwsems (writers): blocked tasks in D state are a deadlock", () => {
    let deadlocks = 0;
    for (let seed = 0; seed < 40; seed++) {
      const m = exploreMachine({ cpus: 2 });
      const a = new RwSemaphore("A");
      const b = new RwSemaphore("B");
      m.createTask("ab", 0, function* (k) {
        yield* down_write(k, a, "ab:A");
        yield* down_write(k, b, "ab:B");
        yield* up_write(k, b);
        yield* up_write(k, a);
      });
      m.createTask("ba", 1, function* (k) {
        yield* down_write(k, b, "ba:B");
        yield* down_read(k, a, "ba:A");
        yield* up_read(k, a);
        yield* up_write(k, b);
      });
      m.explore(new RandomStrategy(seed), 1000);
      const d = m.findings.find((f) => f.kind === "deadlock");
      if (d !== undefined) {
        deadlocks++;
        expect(d.message).toMatch(/2 tasks blocked \(ab:\d+ ba:\d+\)/);
        expect(m.findings.some((f) => f.kind === "lock_order_inversion")).toBe(true);
      }
    }
    expect(deadlocks).toBeGreaterThan(0);
  });

  it("stopOnFinding stops at the first finding", () => {
    const m = exploreMachine({ cpus: 2 });
    m.stopOnFinding = true;
    const a = new SpinLock("A");
    const b = new SpinLock("B");
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
    // run ab to completion first, then ba: no deadlock, but lockdep sees the inversion
    m.explore({ choose: (en) => (en.includes(0) ? 0 : en[0]!) }, 1000);
    expect(m.stopped).toBe(true);
    expect(m.stopReason).toBe("finding: lock_order_inversion");
    expect(m.findings.length).toBe(1);
  });
});

describe("determinism", () => {
  const CR = condResched("test/det.c", 1);

  function workload(seed: number, jitter: number) {
    const m = bootKernel({ cpus: 4, preempt: "voluntary", seed, jitter, hungTaskTimeoutS: 120 });
    const trace = new MemoryTrace();
    m.trace = trace;
    const lock = new SpinLock("shared");
    const sem = new RwSemaphore("sem");
    for (let cpu = 0; cpu < 4; cpu++) {
      m.createTask(`w${cpu}`, cpu, function* (k) {
        const rng = k.m.rng(`w${cpu}`);
        for (let i = 0; i < 400; i++) {
          yield k.m.jit(20_000 + rng.int(50_000));
          if (i % 3 === 0) {
            yield* spin_lock(k, lock, `w:${cpu % 2}`);
            yield k.m.jit(2_000);
            yield* spin_unlock(k, lock);
          } else if (i % 3 === 1) {
            yield* down_read(k, sem, "w:read");
            yield k.m.jit(5_000);
            yield* up_read(k, sem);
          } else {
            yield* down_write(k, sem, "w:write");
            yield k.m.jit(3_000);
            yield* up_write(k, sem);
          }
          yield CR;
        }
      });
    }
    // a CPU hog that trips the soft-lockup detector, so dmesg is not empty
    m.createTask("hog", 3, function* () {
      for (let i = 0; i < 26_000; i++) yield 1 * MS;
    });
    m.run(25 * S);
    m.finish();
    return {
      events: JSON.stringify(trace.events),
      dmesg: m.formatDmesg().join("\n"),
      n: trace.events.length,
    };
  }

  it("the same seed twice gives byte-identical trace JSON and dmesg", () => {
    const a = workload(11, 0.05);
    const b = workload(11, 0.05);
    expect(a.n).toBeGreaterThan(1000);
    expect(a.dmesg).toContain("soft lockup");
    expect(b.events).toBe(a.events);
    expect(b.dmesg).toBe(a.dmesg);
  });

  it("machine PRNG streams are independent: extra draws from an unrelated stream change nothing", () => {
    const run = (extra: boolean) => {
      const m = new Machine({ cpus: 2, seed: 5, jitter: 0.1, watchdogThreshS: 0, hungTaskTimeoutS: 0 });
      const trace = new MemoryTrace();
      m.trace = trace;
      for (let cpu = 0; cpu < 2; cpu++)
        m.createTask(`t${cpu}`, cpu, function* (k) {
          for (let i = 0; i < 200; i++) {
            if (extra) k.m.rng("unrelated").u32();
            yield k.m.jit(10_000 + k.m.rng(`w${cpu}`).int(10_000));
            yield* k.m.sleepNs(k, k.m.jit(5_000));
          }
        });
      m.run(1 * S);
      return JSON.stringify(trace.events);
    };
    expect(run(true)).toBe(run(false));
  });

  it("different seeds differ when jitter > 0", () => {
    const a = workload(11, 0.05);
    const c = workload(12, 0.05);
    expect(c.events).not.toBe(a.events);
  });
});
