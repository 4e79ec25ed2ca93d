// Steps passed in place (Machine.passSteps): kernel code does a step itself when the CPU loop would
// do exactly that and resume it at once. Where the loop would do something else first (take an
// interrupt, preempt, start a burst through the queue), the step must still go through the loop.
// The random-program property (test/sim/property.test.ts) compares whole runs with it on and off.
import { describe, expect, it } from "vitest";
import { PREEMPT_ENABLE } from "../../src/sim/effects.js";
import type { Ctx } from "../../src/sim/task.js";
import { bootKernel, SpinLock, spin_lock, spin_unlock } from "../../src/sync/index.js";

describe("steps passed in place", () => {
  it.each([true, false])(
    "an interrupt raised by the running code is taken at the next step (passSteps %s)",
    (pass) => {
      const m = bootKernel({ cpus: 1, preempt: "none", seed: 1, jitter: 0 });
      m.passSteps = pass;
      const lock = new SpinLock("pass_lock");
      const log: string[] = [];
      m.createTask("t", 0, function* (k: Ctx) {
        yield 1000;
        // an hrtimer already expired: the CPU's hrtimer interrupt is pending at once (irqs are on)
        m.hrtimer(0, m.now, "expired", function* () {
          log.push(`irq at ${m.now} lock held ${lock.locked}`);
          yield 10;
        });
        yield* spin_lock(k, lock, "pass:lock");
        log.push(`locked at ${m.now}`);
        yield 500;
        yield* spin_unlock(k, lock);
      });
      m.run(1e6);
      // the loop takes the interrupt at spin_lock()'s yield point, before the lock word is touched
      expect(log[0]).toMatch(/^irq at \d+ lock held false$/);
      expect(log).toHaveLength(2);
    },
  );

  it.each(["full", "lazy", "none"] as const)(
    "preempt_enable() with a reschedule pending under %s",
    (preempt) => {
      const run = (pass: boolean) => {
        const m = bootKernel({ cpus: 1, preempt, seed: 1, jitter: 0 });
        m.passSteps = pass;
        const order: string[] = [];
        m.createTask("a", 0, function* (k: Ctx) {
          k.preemptDisable();
          yield 2000;
          // wake a task that preempts (FIFO over normal): need_resched is set now
          m.wakeUpProcess(b);
          yield PREEMPT_ENABLE;
          order.push(`a after preempt_enable at ${m.now}`);
        });
        const b = m.createTask(
          "b",
          0,
          function* () {
            order.push(`b runs at ${m.now}`);
            yield 100;
          },
          { policy: "fifo", rtPrio: 1, start: false },
        );
        m.run(1e6);
        return { order, resumptions: m.resumptions };
      };
      const on = run(true);
      const off = run(false);
      expect(on.order).toEqual(off.order);
      // a preemptible kernel switches to b at the preempt_enable(); PREEMPT_NONE runs a on first
      expect(on.order[0]!.startsWith(preempt === "none" ? "a after" : "b runs")).toBe(true);
    },
  );

  it("uncontended lock sections take fewer resumptions, with the same times", () => {
    const run = (pass: boolean) => {
      const m = bootKernel({ cpus: 1, preempt: "none", seed: 1, jitter: 0 });
      m.passSteps = pass;
      const lock = new SpinLock("pass_lock");
      const times: number[] = [];
      m.createTask("t", 0, function* (k: Ctx) {
        for (let i = 0; i < 100; i++) {
          yield* spin_lock(k, lock, "pass:lock");
          yield 200;
          yield* spin_unlock(k, lock);
          times.push(m.now);
        }
      });
      m.run(1e6);
      return { times, resumptions: m.resumptions, events: m.queue.popped };
    };
    const on = run(true);
    const off = run(false);
    expect(on.times).toEqual(off.times);
    expect(on.events).toBe(off.events);
    expect(on.resumptions).toBeLessThan(off.resumptions / 2);
  });
});
