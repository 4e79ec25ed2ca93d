// Machine.passCost: letting CPU time pass without a yield, where the yield would only have let it
// pass, must give exactly what `yield ns` gives: the same steps at the same times, the same queue
// events, context switches, CPU time per task and per CPU, lock statistics, with ticks, sleeps,
// spinlocks, interrupts raised on the CPU itself and preemption in between.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type KGen, type Machine, yieldPoint } from "../../src/sim/index.js";
import type { Ctx } from "../../src/sim/task.js";
import { bootKernel, lockStats, SpinLock, spin_lock, spin_unlock } from "../../src/sync/index.js";

/** One step of a task's program. */
interface Op {
  cost: number;
  /** After the cost: 0 nothing, 1 a yield point, 2 a sleep, 3 a locked section, 4 an irq raised on this CPU now. */
  next: number;
  arg: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  cost: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 40 })),
  next: fc.integer({ min: 0, max: 4 }),
  arg: fc.integer({ min: 1, max: 20_000 }),
});
const progsArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 5 });

/** The CPU time of `ns` passes: as a yield, or through passCost where it can. */
function* spend(k: Ctx, ns: number, pass: boolean): KGen<void> {
  if (pass && k.m.passCost(k, ns)) return;
  yield ns;
}

function run(progs: Op[][], pass: boolean, preempt: "none" | "full", seed: number): string[] {
  const m: Machine = bootKernel({ cpus: 3, seed, hz: 1000, preempt, hungTaskTimeoutS: 0 });
  const lock = new SpinLock("pass_lock");
  const log: string[] = [];
  for (const [i, prog] of progs.entries())
    m.createTask(`p${i}`, i % 3, function* (k) {
      for (let rep = 0; rep < 3; rep++)
        for (const op of prog) {
          yield* spend(k, op.cost, pass);
          log.push(`${k.task.comm}@${k.m.now}/${k.cpu.id}`);
          if (op.next === 1) yield yieldPoint("pass:point");
          else if (op.next === 2) yield* k.m.sleepNs(k, op.arg);
          else if (op.next === 3) {
            yield* spin_lock(k, lock, "pass:lock");
            yield* spend(k, op.arg % 500, pass);
            yield* spin_unlock(k, lock);
          } else if (op.next === 4)
            m.raiseIrq(k.cpu.id, "pass-irq", function* (h) {
              log.push(`irq@${h.m.now}/${h.cpu.id}`);
              yield 50;
            });
        }
    });
  m.run(10e9);
  m.finish();
  log.push(
    `end@${m.now} events=${m.queue.popped} switches=${m.cpus.map((c) => c.nrSwitches).join(",")}`,
    `busy=${m.cpus.map((c) => [...c.busyNs].join("/")).join(",")}`,
    `exec=${m.tasks.map((t) => t.sumExecNs).join(",")}`,
    JSON.stringify(lockStats(m).rows()),
  );
  return log;
}

describe("Machine.passCost", () => {
  for (const preempt of ["none", "full"] as const)
    it(`gives what the yield gives (preempt ${preempt})`, () => {
      fc.assert(
        fc.property(progsArb, fc.integer({ min: 1, max: 1000 }), (progs, seed) => {
          expect(run(progs, true, preempt, seed)).toEqual(run(progs, false, preempt, seed));
        }),
        { numRuns: 120 },
      );
    });

  it("passes time only where nothing else can happen first", () => {
    const m = bootKernel({ cpus: 2, seed: 1, hz: 1000, hungTaskTimeoutS: 0 });
    const seen: [number, boolean][] = [];
    m.createTask("a", 0, function* (k) {
      seen.push([m.now, m.passCost(k, 100)]); // nothing queued before the tick: passes
      m.raiseIrq(0, "self", function* () {
        yield 10;
      });
      seen.push([m.now, m.passCost(k, 100)]); // an irq waits to be taken: the yield must take it
      yield 100;
      seen.push([m.now, m.passCost(k, 5e6)]); // past the next tick: the tick comes first
      yield 5e6;
    });
    m.run(1e7);
    const t0 = seen[0]![0];
    expect(seen.map(([t, ok]) => [t - t0, ok])).toEqual([
      [0, true],
      [100, false],
      [seen[2]![0] - t0, false],
    ]);
    // the irq ran before the task went on (its entry, handler and exit), before the tick
    expect(seen[2]![0] - t0).toBeGreaterThan(210);
  });
});
