// SimPy's reference workloads on Machine (src/bench/simpy.ts): the same checksums as SimPy. The
// reduced sizes were run with SimPy 3.0.11 through ../shared/bench/simpy_bench.py's functions
// (wl_timeouts(simpy, 1000, 2000), wl_resource(simpy, 64, 40000), wl_pingpong(simpy, 20000)); the
// full sizes are compared side by side with SimPy by `npm run bench -- timeouts resource pingpong`.
import { describe, expect, it } from "vitest";
import { UNIT_NS, wlPingpong, wlResource, wlTimeouts } from "../../src/bench/simpy.js";

describe("SimPy's workloads on Machine", () => {
  it("timeouts: 1000 tasks sleeping on hrtimers give SimPy's checksum and timeout count", () => {
    const r = wlTimeouts(1000, 2000);
    // SimPy: 364272 events = 1000 process inits + 363271 timeouts + the stop event at T
    expect([r.checksum, r.extra.timeouts]).toEqual([2757738408, 363271]);
    expect(r.now).toBe(1999);
    // the timers due at one instant expire in one hrtimer interrupt (__hrtimer_run_queues() runs every
    // expired timer): one interrupt per instant, not per timeout, and a task's wake-up a context switch
    expect(r.events).toBeGreaterThanOrEqual(1999);
    expect(r.events).toBeLessThan(4 * 2000);
    expect(r.switches).toBeGreaterThanOrEqual(363271);
  });

  it("resource: 64 tasks on a semaphore give SimPy's checksum, acquisitions and summed waits", () => {
    const r = wlResource(64, 40000);
    expect([r.checksum, r.extra.acquired, r.extra.wait_sum]).toEqual([1619556518, 19990, 2306543]);
    expect(r.extra.contended).toBeGreaterThan(0);
  });

  it("pingpong: two tasks on two CPUs complete every round trip, one unit each", () => {
    const r = wlPingpong(20000);
    expect(r.checksum).toBe(20000);
    expect(r.now).toBe(20000);
    expect(UNIT_NS).toBeGreaterThan(1_000_000);
  });

  it("is deterministic: the same run twice gives the same counts", () => {
    const a = wlResource(64, 4000);
    const b = wlResource(64, 4000);
    expect(b).toEqual(a);
  });
});
