// The scheduler tick of the timed driver: armed when a CPU leaves idle, re-armed by each tick, and
// stopped when the CPU goes idle (tick_nohz_idle_stop_tick(), kernel/time/tick-sched.c): the queued
// tick event is removed then, not left in the queue to pop as a no-op.
import { describe, expect, it } from "vitest";
import { exactMachine, MS } from "./helpers.js";

describe("the scheduler tick", () => {
  it("stops when the CPU goes idle (its event leaves the queue) and starts again when it leaves idle", () => {
    const m = exactMachine({ cpus: 1, hz: 1000 });
    const ticks: number[] = [];
    m.hooks.tick.push(() => ticks.push(m.now / MS));
    m.createTask("t", 0, function* (k) {
      yield 2.5 * MS;
      yield* k.m.sleepNs(k, 10 * MS);
      yield 1.5 * MS;
    });
    m.run(2.6 * MS);
    // asleep: only the sleep's timer is queued (the tick armed for 3 ms went with the CPU's idle entry)
    expect(m.cpus[0]!.tickArmed).toBe(false);
    expect(m.queue.size).toBe(1);
    const popped = m.queue.popped;
    m.run(12.4 * MS);
    // the idle stretch up to the wake-up (12.5 ms) pops nothing (no stale tick at 3 ms)
    expect(m.queue.popped - popped).toBe(0);
    m.run(20 * MS);
    // a tick at each boundary while the task runs (1, 2 ms; then 13, 14 ms after the wake-up at 12.5)
    expect(ticks).toEqual([1, 2, 13, 14]);
    expect(m.queue.size).toBe(0);
  });

  it("keeps firing on a CPU that stays busy, each tick arming the next", () => {
    const m = exactMachine({ cpus: 2, hz: 250 });
    const ticks: [number, number][] = [];
    m.hooks.tick.push((k) => ticks.push([k.cpu.id, m.now / MS]));
    m.createTask("busy", 1, function* () {
      yield 10 * MS;
    });
    m.run(20 * MS);
    // CPU 0 never leaves idle: no tick there; CPU 1 ticks every 4 ms while its task runs
    expect(ticks).toEqual([
      [1, 4],
      [1, 8],
    ]);
    expect(m.queue.size).toBe(0);
  });
});
