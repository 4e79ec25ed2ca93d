// The timeline's data path without a browser: trace events -> columns -> per-CPU interval lanes, and the
// level-of-detail walk that keeps drawing cost bounded by pixels, not events.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../../src/sim/trace.js";
import { buildTimeline, EventStore, type Lane, visibleRects } from "../../web/src/timeline-data.js";

function ev(
  t: number,
  cpu: number,
  kind: TraceEvent["kind"],
  name = "",
  detail = "",
  a = 0,
  b = 0,
  pid = 0,
): TraceEvent {
  return { t, cpu, kind, pid, name, detail, a, b };
}

function laneOf(intervals: [number, number][]): Lane {
  const n = intervals.length;
  const cum = new Float64Array(n + 1);
  intervals.forEach(([s, e], i) => {
    cum[i + 1] = cum[i]! + e - s;
  });
  return {
    cpu: 0,
    kind: "task",
    sub: 0,
    n,
    start: Float64Array.from(intervals.map((x) => x[0])),
    end: Float64Array.from(intervals.map((x) => x[1])),
    label: new Int32Array(n),
    info: new Int32Array(n),
    cum,
  };
}

/** Disjoint sorted intervals from gaps and lengths. */
const intervalsArb = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 300 })
  .map((xs) => {
    let t = 0;
    return xs.map(([gap, len]) => {
      const s = t + gap;
      t = s + len;
      return [s, t] as [number, number];
    });
  });

describe("timeline data", () => {
  it("builds task, irq, softirq, work and lock lanes per CPU", () => {
    const st = new EventStore();
    const evs: TraceEvent[] = [
      ev(0, 0, "sched_switch", "kworker/0:1", "S", 0, 5),
      ev(10, 0, "workqueue_execute_start", "xfs_end_io", "xfs-conv", 0, 0, 5),
      ev(20, 0, "irq_handler_entry", "nvme0q1"),
      ev(25, 0, "softirq_entry", "BLOCK"),
      ev(26, 0, "irq_handler_entry", "timer"),
      ev(27, 0, "irq_handler_exit", "timer"),
      ev(30, 0, "softirq_exit", "BLOCK"),
      ev(31, 0, "irq_handler_exit", "nvme0q1"),
      ev(40, 0, "contention_begin", "&ip->i_lock", "xfs_end_ioend:spin_lock", 0, 0, 5),
      ev(45, 0, "lock_acquired", "&ip->i_lock", "x"),
      ev(50, 0, "contention_end", "&ip->i_lock", "", 0, 0, 5),
      ev(60, 0, "workqueue_execute_end", "xfs_end_io", "xfs-conv", 0, 0, 5),
      ev(70, 1, "dmesg", "printk", "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [spinner:6]"),
      ev(70, 1, "model", "finding:soft_lockup", "stuck"),
      ev(80, 0, "sched_switch", "swapper/0", "S", 5, 0),
    ];
    for (const e of evs) st.event(e);
    expect(st.n).toBe(evs.length - 1);
    expect(st.skipped).toBe(1);
    expect(st.get(1)).toEqual(evs[1]);
    const tl = buildTimeline(st, 2, 100);
    const lane = (cpu: number, kind: string) => tl.lanes.find((l) => l.cpu === cpu && l.kind === kind)!;
    const task = lane(0, "task");
    expect([...task.start]).toEqual([0]);
    expect([...task.end]).toEqual([80]);
    expect(tl.strings[task.label[0]!]).toBe("kworker/0:1:5");
    // the timer irq nested in the BLOCK softirq run at the nvme irq's exit splits the nvme interval
    expect([...lane(0, "hardirq").start]).toEqual([20, 26, 27]);
    expect([...lane(0, "hardirq").end]).toEqual([26, 27, 31]);
    expect([...lane(0, "hardirq").label].map((x) => tl.strings[x])).toEqual(["nvme0q1", "timer", "nvme0q1"]);
    expect([...lane(0, "softirq").start]).toEqual([25]);
    expect(tl.strings[lane(0, "work").label[0]!]).toBe("xfs_end_io");
    expect([...lane(0, "lock").start, ...lane(0, "lock").end]).toEqual([40, 50]);
    expect(lane(1, "task").n).toBe(0);
    expect(tl.marks.n).toBe(2);
    expect(tl.strings[tl.marks.label[1]!]).toBe("soft_lockup: stuck");
  });

  it("keeps at most maxEvents events and counts the rest", () => {
    const st = new EventStore();
    st.maxEvents = 10;
    for (let i = 0; i < 25; i++) st.event(ev(i, 0, "sched_switch", "a", "R", 0, 1 + (i % 2)));
    expect(st.n).toBe(10);
    expect(st.dropped).toBe(15);
    expect(buildTimeline(st, 1, st.t[st.n - 1]!).lanes[0]!.n).toBe(10);
  });

  it("level of detail covers exactly the pixel columns that hold an interval", () => {
    fc.assert(
      fc.property(
        intervalsArb,
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: -2000, max: 20000 }),
        (iv, npp, t0) => {
          const lane = laneOf(iv);
          const widthPx = 300;
          const t1 = t0 + widthPx * npp;
          const col = (t: number) => Math.floor(t / npp);
          const want = new Set<number>();
          for (const [s, e] of iv) {
            if (e <= t0 || s > t1) continue;
            for (let c = col(Math.max(s, t0 - npp)); c <= col(Math.min(e, t1 + npp) - 1e-9); c++) want.add(c);
          }
          const got = new Set<number>();
          visibleRects(lane, t0, t1, npp, (s, e) => {
            for (let c = col(s); c <= col(e - 1e-9); c++) got.add(c);
          });
          const lo = col(t0) + 1;
          const hi = col(t1) - 1;
          const clip = (xs: Set<number>) => [...xs].filter((c) => c >= lo && c <= hi).sort((a, b) => a - b);
          expect(clip(got)).toEqual(clip(want));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("stores a million events compactly and draws them in bounded work", () => {
    const st = new EventStore();
    const cpus = 4;
    let t = 0;
    for (let i = 0; i < 1_000_000; i++) {
      t += 1000 + (i % 7) * 100;
      const cpu = i % cpus;
      st.event(ev(t, cpu, "sched_switch", `task${i % 13}`, "R", 0, 100 + (i % 13)));
    }
    const t0 = performance.now();
    const tl = buildTimeline(st, cpus, t + 1);
    const buildMs = performance.now() - t0;
    const tasks = tl.lanes.filter((l) => l.kind === "task");
    expect(tasks.reduce((s, l) => s + l.n, 0)).toBe(1_000_000);
    const widthPx = 1300;
    const npp = tl.endNs / widthPx;
    const t1 = performance.now();
    let rects = 0;
    for (const l of tasks) rects += visibleRects(l, 0, tl.endNs, npp, () => {});
    const drawMs = performance.now() - t1;
    expect(rects).toBeLessThanOrEqual(tasks.length * widthPx * 2 + 8);
    // a loose bound: the machine may be busy; the rectangle count above is the real check
    expect(drawMs).toBeLessThan(500);
    expect(buildMs).toBeLessThan(5000);
  });
});

describe("kernel functions, holdoff bands, flows and finding notes", () => {
  it("puts nested slices of any shape in rows that never overlap, children below their parent", () => {
    const slice = fc
      .tuple(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3 }),
      )
      .map(([s, d, pid]) => ({ s, e: s + d, pid }));
    fc.assert(
      fc.property(fc.array(slice, { maxLength: 60 }), (sl) => {
        const store = new EventStore();
        sl.sort((a, b) => a.e - b.e);
        for (const x of sl) store.event(ev(x.e, 0, "slice", "f", "", x.s, x.e, x.pid));
        const d = buildTimeline(store, 1, 2000);
        const rows = d.lanes.filter((l) => l.kind === "fn");
        for (const l of rows)
          for (let i = 1; i < l.n; i++) expect(l.start[i]!).toBeGreaterThanOrEqual(l.end[i - 1]!);
        const kept = rows.reduce((n, l) => n + l.n, 0);
        expect(kept).toBeLessThanOrEqual(sl.length);
        if (sl.length <= 6) expect(kept).toBe(sl.length);
      }),
    );
  });

  it("turns need_resched counters into holdoff bands, pairs flows, and notes what a lost update came from", () => {
    const store = new EventStore();
    store.event(ev(0, 0, "sched_switch", "writer", "", 0, 10, 0));
    store.event(ev(0, 1, "sched_switch", "faulter", "", 0, 11, 0));
    store.event(ev(100, 0, "counter", "need_resched", "", 1));
    store.event(ev(150, 0, "flow_start", "TLB", "", 7, 0, 10));
    store.event(ev(160, 1, "flow_end", "TLB", "", 7, 2, 11));
    store.event(ev(400, 0, "counter", "need_resched", "", 0));
    store.event(ev(500, 1, "slice", "wp_page_copy", "", 450, 500, 11));
    store.event(ev(480, 0, "model", "store via stale TLB", "0x10000 word 0 = 5", 5, 304, 10));
    store.event(ev(600, 0, "model", "finding:lost_update", "load at 0x10000 read 4", 0, 0, 10));
    const d = buildTimeline(store, 2, 700, 200);
    const h = d.lanes.find((l) => l.kind === "holdoff")!;
    expect([h.cpu, h.start[0], h.end[0]]).toEqual([0, 100, 400]);
    expect(d.flows.n).toBe(1);
    expect([d.flows.t0[0], d.flows.cpu0[0], d.flows.t1[0], d.flows.cpu1[0]]).toEqual([150, 0, 160, 1]);
    expect(d.notes).toHaveLength(1);
    expect(d.notes[0]!.text).toBe("lost write: store via stale TLB on CPU 0 vs wp_page_copy on CPU 1");
    expect(d.notes[0]!.targets.map((x) => [x.what, x.cpu, x.t])).toEqual([
      ["store via stale TLB", 0, 480],
      ["wp_page_copy", 1, 450],
    ]);
    expect(d.thresholdNs).toBe(200);
  });
});
