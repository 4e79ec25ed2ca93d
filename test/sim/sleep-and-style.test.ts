// schedule_timeout() sleeps (m.sleepNs) and the soft-lockup report style switch.
import { describe, expect, it } from "vitest";
import { Machine, TASK_RUNNING } from "../../src/sim/index.js";

const US = 1_000;
const S = 1_000_000_000;

describe("sleepNs (schedule_timeout)", () => {
  it("sleeps the requested time in the timed driver", () => {
    const m = new Machine({ cpus: 1, jitter: 0, hungTaskTimeoutS: 0, watchdogThreshS: 0 });
    const woke: number[] = [];
    m.createTask("sleeper", 0, function* (k) {
      for (const ns of [100 * US, 5 * US, 3_000 * US]) {
        const t0 = m.now;
        yield* m.sleepNs(k, ns);
        woke.push(m.now - t0);
      }
    });
    m.run(1 * S);
    expect(woke).toHaveLength(3);
    expect(woke[0]).toBeGreaterThanOrEqual(100 * US);
    expect(woke[0]).toBeLessThan(110 * US);
    expect(woke[1]).toBeGreaterThanOrEqual(5 * US);
    expect(woke[2]).toBeGreaterThanOrEqual(3_000 * US);
    expect(woke[2]).toBeLessThan(3_020 * US);
  });

  it("a task woken early cancels its timer: the stale timer does not end a later sleep", () => {
    const m = new Machine({ cpus: 2, jitter: 0, hungTaskTimeoutS: 0, watchdogThreshS: 0 });
    const spans: number[] = [];
    const sleeper = m.createTask("sleeper", 0, function* (k) {
      let t0 = m.now;
      yield* m.sleepNs(k, 1_000 * US); // woken early at ~10 µs by the waker
      spans.push(m.now - t0);
      t0 = m.now;
      yield* m.sleepNs(k, 2_000 * US); // the first timer (at ~1 ms) must not end this one
      spans.push(m.now - t0);
    });
    m.createTask("waker", 1, function* () {
      yield 10 * US;
      m.wakeUpProcess(sleeper);
    });
    m.run(1 * S);
    expect(spans[0]).toBeLessThan(100 * US);
    expect(spans[1]).toBeGreaterThanOrEqual(2_000 * US);
    expect(sleeper.state === TASK_RUNNING || sleeper.exited).toBe(true);
  });
});

describe("soft-lockup report style", () => {
  function spin(style: "repeat" | "once"): string[] {
    const m = new Machine({ cpus: 2, preempt: "none", watchdogStyle: style, jitter: 0 });
    m.createTask("spinner", 1, function* (k) {
      k.enter("spin_loop");
      while (m.now < 100 * S) yield 1_000_000;
    });
    m.run(105 * S);
    return m.findings.filter((f) => f.kind === "soft_lockup").map((f) => f.message);
  }

  it("repeat (v5.13+): a report every threshold while the CPU stays stuck, with growing durations", () => {
    const msgs = spin("repeat");
    expect(msgs.length).toBeGreaterThanOrEqual(3);
    const secs = msgs.map((x) => Number(/stuck for (\d+)s/.exec(x)![1]));
    for (let i = 1; i < secs.length; i++) expect(secs[i]).toBeGreaterThan(secs[i - 1]!);
  });

  it("once (4.x, RHEL 8): one report per episode", () => {
    const msgs = spin("once");
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(/^watchdog: BUG: soft lockup - CPU#1 stuck for 2[0-4]s! \[spinner:\d+\]$/);
  });
});
