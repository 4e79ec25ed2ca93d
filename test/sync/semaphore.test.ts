// Counting semaphores (src/sync/semaphore.ts, kernel/locking/semaphore.c): FIFO hand-off, count,
// down_trylock's inverted result, and sleeping waiters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Machine, TASK_UNINTERRUPTIBLE } from "../../src/sim/index.js";
import { down, down_trylock, Semaphore, up } from "../../src/sync/index.js";

const US = 1_000;

function machine(cpus = 4): Machine {
  return new Machine({ cpus, jitter: 0, watchdogThreshS: 0, hungTaskTimeoutS: 0, wqWatchdogThreshS: 0 });
}

describe("semaphore", () => {
  it("count 1 is mutual exclusion; waiters sleep and are served in the order they queued", () => {
    const m = machine(4);
    const sem = new Semaphore("sem", 1);
    const order: number[] = [];
    let inside = 0;
    let maxInside = 0;
    for (let c = 0; c < 4; c++) {
      m.createTask(`t${c}`, c, function* (k) {
        yield (c + 1) * 10 * US; // queue in CPU order
        yield* down(k, sem, "test:down");
        inside++;
        maxInside = Math.max(maxInside, inside);
        order.push(c);
        yield 100 * US;
        inside--;
        yield* up(k, sem, "test:up");
      });
    }
    m.run(10_000_000);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(maxInside).toBe(1);
    expect(sem.count).toBe(1);
    expect(sem.waitList.length).toBe(0);
    expect(sem.contended).toBe(3);
  });

  it("a waiter sleeps in D state until up() hands it the unit (count stays 0 across the hand-off)", () => {
    const m = machine(2);
    const sem = new Semaphore("sem", 0);
    const countAtWake: number[] = [];
    const waiter = m.createTask("waiter", 0, function* (k) {
      yield* down(k, sem, "test:down");
      countAtWake.push(sem.count);
    });
    m.createTask("poster", 1, function* (k) {
      yield 50 * US;
      expect(waiter.state).toBe(TASK_UNINTERRUPTIBLE);
      yield* up(k, sem, "test:up");
    });
    m.run(1_000_000);
    expect(countAtWake).toEqual([0]);
    expect(waiter.exited).toBe(true);
  });

  it("down_trylock returns 1 (true) when it could not take a unit, as the kernel's", () => {
    const m = machine(1);
    const sem = new Semaphore("sem", 2);
    const got: boolean[] = [];
    m.createTask("t", 0, function* (k) {
      for (let i = 0; i < 3; i++) got.push(yield* down_trylock(k, sem, "test:trylock"));
      yield* up(k, sem, "test:up");
      got.push(yield* down_trylock(k, sem, "test:trylock"));
    });
    m.run(1_000_000);
    expect(got).toEqual([false, false, true, false]);
    expect(sem.count).toBe(0);
  });

  it("never more holders than the count, and every task gets through (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 8 }),
        (count, delays) => {
          const m = machine(4);
          const sem = new Semaphore("sem", count);
          let inside = 0;
          let maxInside = 0;
          let done = 0;
          delays.forEach((d, i) => {
            m.createTask(`t${i}`, i % 4, function* (k) {
              yield d * US + 1;
              yield* down(k, sem, "test:down");
              inside++;
              maxInside = Math.max(maxInside, inside);
              yield 20 * US;
              inside--;
              yield* up(k, sem, "test:up");
              done++;
            });
          });
          m.run(100_000_000);
          expect(maxInside).toBeLessThanOrEqual(count);
          expect(done).toBe(delays.length);
          expect(sem.count).toBe(count);
        },
      ),
      { numRuns: 40 },
    );
  });
});
