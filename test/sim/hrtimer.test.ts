// The per-CPU hrtimer base (src/sim/hrtimer.ts): one hrtimer interrupt runs every timer due on its
// CPU, in expiry then arm order (hrtimer_interrupt() -> __hrtimer_run_queues(), kernel/time/hrtimer.c),
// re-reads the clock and retries for timers that expired while it ran, gives up after three attempts
// (hang), and a sleep that ends early takes its timer out (hrtimer_cancel()).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KGen } from "../../src/sim/effects.js";
import { Hrtimer } from "../../src/sim/hrtimer.js";
import { Machine } from "../../src/sim/machine.js";
import type { Ctx } from "../../src/sim/task.js";

const FIFO = { policy: "fifo", rtPrio: 1 } as const;

function machine(cpus = 1): Machine {
  return new Machine({ cpus, preempt: "none", seed: 1, jitter: 0, watchdogThreshS: 0, hungTaskTimeoutS: 0 });
}

describe("the hrtimer base", () => {
  it("runs every timer due at one instant in one hardirq, in arm order", () => {
    const m = machine();
    const order: number[] = [];
    for (let i = 0; i < 20; i++) {
      // armed in pid order, all for 5 ms: one interrupt wakes all of them in that order
      m.createTask(
        `s/${i}`,
        0,
        function* (k) {
          yield* m.sleepUntil(k, 5_000_000);
          order.push(i);
        },
        FIFO,
      );
    }
    m.run(4_000_000);
    const before = m.cpus[0]!.hardirqCount;
    m.run(20_000_000);
    expect(order).toEqual([...Array(20).keys()]);
    // one hrtimer interrupt (and ticks, counted apart): the base's counter says one event
    expect(m.cpus[0]!.hrtimerBase.nrEvents).toBe(1);
    expect(m.cpus[0]!.hardirqCount - before).toBeLessThan(20);
    expect(m.cpus[0]!.hrtimerBase.size).toBe(0);
  });

  it("orders timers by expiry first, then by arm order", () => {
    const m = machine();
    const woke: string[] = [];
    const expiries = [3, 1, 2, 1, 3, 2];
    for (const [i, e] of expiries.entries())
      m.createTask(
        `t${i}`,
        0,
        function* (k) {
          yield* m.sleepUntil(k, e * 1_000_000);
          woke.push(`t${i}@${e}`);
        },
        FIFO,
      );
    m.run(10_000_000);
    expect(woke).toEqual(["t1@1", "t3@1", "t2@2", "t5@2", "t0@3", "t4@3"]);
    // three expiries, three interrupts
    expect(m.cpus[0]!.hrtimerBase.nrEvents).toBe(3);
  });

  it("a timer that expires while the interrupt runs is run by its retry, not a new interrupt", () => {
    const m = machine();
    const ran: [string, number][] = [];
    function* slow(k: Ctx): KGen<void> {
      yield 5_000; // a long timer function
      ran.push(["a", k.m.now]);
    }
    function* quick(k: Ctx): KGen<void> {
      yield 100;
      ran.push(["b", k.m.now]);
    }
    m.hrtimer(0, 1_000, "a", slow);
    m.hrtimer(0, 3_000, "b", quick); // due while `a` runs (1250 .. 6250)
    m.run(1_000_000);
    expect(ran.map((r) => r[0])).toEqual(["a", "b"]);
    expect(ran[1]![1]).toBeGreaterThan(6_000);
    const b = m.cpus[0]!.hrtimerBase;
    expect([b.nrEvents, b.nrRetries, b.nrHangs]).toEqual([1, 1, 0]);
  });

  it("gives up after three attempts and delays the next event by the time it took (hang)", () => {
    const m = machine();
    let runs = 0;
    // a timer function that re-arms itself to expire before it returns: every pass finds it expired
    const self = function* (k: Ctx): KGen<void> {
      runs++;
      k.m.hrtimer(0, k.m.now + 10, "self", self);
      yield 1_000;
    };
    m.hrtimer(0, 1_000, "self", self);
    m.run(20_000);
    const b = m.cpus[0]!.hrtimerBase;
    expect(b.nrHangs).toBeGreaterThanOrEqual(1);
    expect(b.maxHangTime).toBeGreaterThan(0);
    expect(m.formatDmesg().filter((l) => l.includes("hrtimer: interrupt took")).length).toBe(1);
    // four passes (the first and three retries) per interrupt, then a gap as long as the interrupt
    expect(runs).toBeLessThan(20);
  });

  it("a sleep woken early takes its timer out of the base (hrtimer_cancel)", () => {
    const m = machine();
    let t0 = -1;
    const sleeper = m.createTask(
      "sleeper",
      0,
      function* (k) {
        yield* m.sleepNs(k, 50_000_000);
        t0 = k.m.now;
        yield* m.sleepNs(k, 80_000_000); // its second sleep: the first timer is gone
      },
      FIFO,
    );
    m.at(1_000_000, () => m.wakeUpProcess(sleeper));
    m.run(20_000_000);
    expect(t0).toBeGreaterThan(1_000_000);
    expect(t0).toBeLessThan(2_000_000);
    const b = m.cpus[0]!.hrtimerBase;
    expect(b.size).toBe(1);
    m.run(60_000_000);
    // 50 ms passed: the cancelled timer did not fire (no interrupt at all so far)
    expect(b.nrEvents).toBe(0);
    expect(b.expiresNext).toBeGreaterThan(80_000_000);
    m.run(200_000_000);
    expect(b.nrEvents).toBe(1);
    expect(b.size).toBe(0);
  });

  it("is deterministic under random arm and cancel sequences", () => {
    const run = () => {
      const m = machine(2);
      const log: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = m.rng(`t${i}`);
        m.createTask(`t${i}`, i % 2, function* (k) {
          for (let j = 0; j < 30; j++) {
            yield r.int(5_000);
            yield* m.sleepNs(k, 1_000 * (1 + r.int(50)));
            log.push(`${i}:${k.m.now}`);
          }
        });
      }
      m.run(1e9);
      return log.join(",");
    };
    expect(run()).toBe(run());
  });
});

describe("the hrtimer base's indexes", () => {
  it("finds each expiry's list and keeps expiry-then-arm order under random arms and cancels", () => {
    // thousands of distinct expiries (the expiry index grows), big and fractional times, repeats
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("start" as const), t: fc.nat(60), e: fc.nat(3000) }),
            fc.record({ op: fc.constant("cancel" as const), t: fc.nat(60) }),
            fc.record({ op: fc.constant("pop" as const) }),
          ),
          { maxLength: 600 },
        ),
        fc.constantFrom(1, 10_000_000, 0.37, 2 ** 33 + 0.5),
        (ops, scale) => {
          const m = machine();
          const base = m.cpus[0]!.hrtimerBase;
          const timers = Array.from({ length: 61 }, () => new Hrtimer(m.cpus[0]!, null));
          // the reference: enqueued timers with their expiry and arm sequence
          const ref = new Map<Hrtimer, { e: number; seq: number }>();
          let seq = 0;
          const refFirst = () => {
            let best: Hrtimer | null = null;
            for (const [t, v] of ref) {
              const b = best === null ? null : ref.get(best)!;
              if (b === null || v.e < b.e || (v.e === b.e && v.seq < b.seq)) best = t;
            }
            return best;
          };
          for (const o of ops) {
            if (o.op === "start") {
              const e = 1e12 + o.e * scale;
              base.start(timers[o.t]!, e);
              ref.set(timers[o.t]!, { e, seq: seq++ });
            } else if (o.op === "cancel") {
              base.cancel(timers[o.t]!);
              ref.delete(timers[o.t]!);
            } else {
              const f = base.first();
              if (f !== null) {
                base.removeFirst(f);
                ref.delete(f);
              }
            }
            expect(base.first()).toBe(refFirst());
            expect(base.size).toBe(ref.size);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("programs one device event per time, reusing the one still queued for a time", () => {
    const m = machine();
    const c = m.cpus[0]!;
    const base = c.hrtimerBase;
    const pushed: number[] = [];
    const push = m.queue.push.bind(m.queue);
    m.queue.push = (time, lane, h, arg) => {
      if (h === base) pushed.push(time);
      return push(time, lane, h, arg);
    };
    // earlier and earlier, then the same times again: each time pushed once while it is queued
    for (const at of [9e6, 5e6, 7e6, 3e6, 9e6, 5e6, 3e6, 1e6, 11e6]) base.program(at);
    expect(pushed).toEqual([9e6, 5e6, 7e6, 3e6, 1e6, 11e6]);
    // only the last programming (11 ms) raises the interrupt; the others pop as no-ops
    m.run(10e6);
    expect(base.nrEvents).toBe(0);
    base.program(10.5e6); // 11 ms is still queued: a new event before it
    base.program(11e6); // and 11 ms's again, not a new one
    expect(pushed).toEqual([9e6, 5e6, 7e6, 3e6, 1e6, 11e6, 10.5e6]);
    m.run(20e6);
    expect(base.nrEvents).toBe(1);
  });
});
