// The engine's event structure pinned: the queue events, generator resumptions, context switches and
// lock statistics of fixed workloads, as the engine produced them before its per-event path was sped
// up (single-generator lock primitives, one object per hrtimer sleep, irq requests as queue events).
// Any change of what happens (not only of how fast) moves one of these counts: a speed-up must
// leave them as they are, as it leaves every scenario's results JSON byte-identical.
// Session 7 changed the model (not only its speed): every CPU's hrtimers sit in one hrtimer base
// whose single interrupt runs every expired timer (hrtimer_interrupt(), kernel/time/hrtimer.c), where
// each sleep's timer was its own interrupt. The SimPy counts were re-pinned then: timeouts went from
// 730554 events / 1090830 resumptions to 6004 / 729554 (one interrupt per instant instead of one per
// timeout; the switches and the checksums are unchanged), resource from 90215 / 440719 to 56291 /
// 428615, pingpong from 200565 / 220409 to 200463 / 220359. Merging a CPU's kicks queued for one
// instant then took timeouts to 4002 events, resource to 56161 and pingpong to 120463 (resumptions,
// switches and checksums unchanged).
// Session 8: kernel code passes a step in place when the CPU loop would do it and resume the code at
// once (Machine.passSteps: yield points, costs that end before every queued event, preempt_enable
// and local_irq_enable that are no preemption point or irq window): the same events, switches,
// checksums and lock_stat rows, fewer resumptions. The counts with it off are the ones above.
// Session 11: a CPU going idle removes its queued tick event (tick_nohz_idle_stop_tick()) instead of
// leaving it to pop as a no-op: timeouts 4002 -> 2002 events, resource 56161 -> 28123, pingpong
// 120463 -> 60415, the storm 37547 -> 33819; resumptions, switches, checksums, operations and
// lock_stat rows unchanged.
import { describe, expect, it } from "vitest";
import { spawnLockStorm } from "../../src/bench/kernel.js";
import { wlPingpong, wlResource, wlTimeouts } from "../../src/bench/simpy.js";
import { bootKernel, lockStats } from "../../src/sync/index.js";

describe("the engine's event structure is unchanged by its speed-ups", () => {
  it("SimPy's workloads: the same events, resumptions and switches", () => {
    const f = (r: { events: number; resumptions: number; switches: number }) => [
      r.events,
      r.resumptions,
      r.switches,
    ];
    const off = [wlTimeouts(1000, 2000, false), wlResource(64, 40000, false), wlPingpong(20000, false)];
    expect(off.map(f)).toEqual([
      [2002, 729554, 366276],
      [28123, 428615, 88233],
      [60415, 220359, 120154],
    ]);
    // steps passed in place: the same events, switches, checksums and extras, fewer resumptions
    const on = [wlTimeouts(1000, 2000), wlResource(64, 40000), wlPingpong(20000)];
    expect(on.map(f)).toEqual([
      [2002, 366283, 366276],
      [28123, 88433, 88233],
      [60415, 80357, 120154],
    ]);
    expect(on.map((r) => [r.checksum, r.now, r.extra])).toEqual(off.map((r) => [r.checksum, r.now, r.extra]));
  });

  it.each([
    [false, 67634],
    [true, 34983],
  ])(
    "a spinlock and rwsem storm (steps passed in place: %s): the same operations, events, resumptions and lock_stat rows",
    (passSteps, resumptions) => {
      const m = bootKernel({ cpus: 4, preempt: "none", seed: 3 });
      m.passSteps = passSteps;
      // one writer (CPU 0) and three readers
      const ops = spawnLockStorm(m, 4, "pin");
      m.run(5e6);
      // pinned under src/sync DEFAULT_CACHE_COSTS (calib/cacheline.c since session 5): a change of those
      // cost inputs moves these counts; a speed-up of the engine must not
      expect({ ops: ops(), events: m.queue.popped, res: m.resumptions, stats: lockStats(m).rows() }).toEqual({
        ops: 4663,
        // 42211 before session 7 merged a CPU's kicks queued for the same instant (a second KickEvent
        // drove a CPU the first had already run): ops, resumptions and every lock_stat row unchanged
        // 37547 before session 11 removed the ticks of CPUs gone idle (stale events that popped as no-ops)
        events: 33819,
        res: resumptions,
        stats: [
          {
            class: "pin_sem-R",
            "con-bounces": 3493,
            contentions: 3493,
            "waittime-min": 1690,
            "waittime-max": 3872,
            "waittime-total": 7238070,
            "waittime-avg": 2072,
            "acq-bounces": 3497,
            acquisitions: 3498,
            "holdtime-min": 422,
            "holdtime-max": 666,
            "holdtime-total": 1902268,
            "holdtime-avg": 544,
          },
          {
            class: "pin_lock",
            "con-bounces": 2329,
            contentions: 2329,
            "waittime-min": 244,
            "waittime-max": 444,
            "waittime-total": 801076,
            "waittime-avg": 344,
            "acq-bounces": 4665,
            acquisitions: 4666,
            "holdtime-min": 200,
            "holdtime-max": 200,
            "holdtime-total": 933000,
            "holdtime-avg": 200,
          },
          {
            class: "pin_sem-W",
            "con-bounces": 1,
            contentions: 1164,
            "waittime-min": 1978,
            "waittime-max": 2341,
            "waittime-total": 2724561,
            "waittime-avg": 2341,
            "acq-bounces": 1165,
            acquisitions: 1165,
            "holdtime-min": 622,
            "holdtime-max": 2072,
            "holdtime-total": 726080,
            "holdtime-avg": 623,
          },
        ],
      });
    },
  );
});
