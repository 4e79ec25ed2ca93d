// Reports from plain result objects: dmesg stamps, the text summary, /proc/lock_stat layout, the compare
// table, canonical JSON, the streamed Chrome trace, and SVG plots.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareReport, compareRows } from "../../src/report/compare.js";
import { dmesgStamp, fmtNs, fmtTime } from "../../src/report/format.js";
import { htmlReport } from "../../src/report/html.js";
import { renderSvg, scalingSpec, standardPlots, variantsSpec } from "../../src/report/plots.js";
import { RESULT_FORMAT, RESULT_VERSION, RunResult, resultJson } from "../../src/report/result.js";
import { StringSink } from "../../src/report/sink.js";
import { lockStatLines, textReport } from "../../src/report/text.js";
import { ChromeTraceWriter, usText } from "../../src/report/trace.js";
import type { TraceEvent } from "../../src/sim/trace.js";

function sampleResult(variant = "5.16", findings = true): RunResult {
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    scenario: { name: "iomap-s1", title: "Trond's server", seed: 1, sets: [] },
    machine: { cpus: 2, preemption: "none", hz: 250, costProfile: "default", costOverrides: {} },
    kernel: {
      variant,
      model: "fs",
      summary: "before the fix",
      switches: { chainBios: true },
      disabledLockSites: [],
    },
    run: { stopReason: "done", simTimeNs: 30e9, events: 12345 },
    throughput: [{ name: "writeback", value: 354.5, unit: "MiB/s" }],
    latency: [
      {
        name: "fsync",
        count: 3,
        minNs: 1000,
        meanNs: 2000,
        maxNs: 4000,
        percentiles: [
          { p: 50, valueNs: 2000 },
          { p: 99, valueNs: 4000 },
          { p: 100, valueNs: 4000 },
        ],
        cdf: [
          [1000, 0],
          [2000, 0.5],
          [4000, 1],
        ],
      },
    ],
    holdoff: {
      perCpu: [
        {
          cpu: 1,
          context: "task",
          count: 2,
          maxNs: 22e9,
          maxAtNs: 24e9,
          p50Ns: 1,
          p99Ns: 22e9,
          over: [{ thresholdNs: 20e9, count: 1 }],
        },
      ],
      timeline: {
        bucketNs: 1e9,
        maxNs: [
          [0, 0],
          [0, 22e9],
        ],
      },
    },
    vmstat: { nr_writeback: 0 },
    lockStat: [
      {
        name: "&mm->mmap_lock-R",
        conBounces: 1,
        contentions: 12,
        waitTimeMinNs: 100,
        waitTimeMaxNs: 12_340,
        waitTimeTotalNs: 123_456,
        acqBounces: 2,
        acquisitions: 1000,
        holdTimeMinNs: 50,
        holdTimeMaxNs: 10_000,
        holdTimeTotalNs: 2_000_000,
        sites: [{ site: "do_user_addr_fault:mmap_read_lock", contentions: 12 }],
      },
    ],
    dmesg: findings
      ? [
          {
            tNs: 24_123_456_789,
            cpu: 1,
            line: "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:1:83]",
          },
        ]
      : [],
    findings: findings
      ? [
          {
            kind: "soft_lockup",
            message: "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:1:83]",
            tNs: 24e9,
            cpus: [1],
            details: {},
          },
        ]
      : [],
    counters: { ioendsBuilt: 7 },
  };
}

describe("format", () => {
  it("stamps dmesg lines as printk does", () => {
    expect(dmesgStamp(24_123_456_789)).toBe("[   24.123456] ");
    expect(dmesgStamp(0)).toBe("[    0.000000] ");
    expect(dmesgStamp(123_456e9)).toBe("[123456.000000] ");
  });
  it("prints durations in readable units", () => {
    expect(fmtNs(830)).toBe("830ns");
    expect(fmtNs(12_300)).toBe("12.3us");
    expect(fmtNs(10e6)).toBe("10ms");
    expect(fmtNs(22e9)).toBe("22s");
  });
});

describe("text report", () => {
  const text = textReport(sampleResult());
  it("prints every dmesg line exactly as dmesg does", () => {
    expect(text).toContain(
      "[   24.123456] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:1:83]\n",
    );
  });
  it("has the variant, machine, throughput, latency, holdoff, vmstat and findings", () => {
    expect(text).toContain("5.16 (fs): before the fix");
    expect(text).toContain("2 CPUs, PREEMPT_NONE, HZ=250");
    expect(text).toMatch(/writeback\s+35[45]\s+MiB\/s/);
    expect(text).toMatch(/fsync\s+3\s+1us\s+2us\s+2us\s+4us\s+4us/);
    expect(text).toMatch(/CPU1\s+task\s+2\s+1ns\s+22s\s+22s\s+24s\s+1/);
    expect(text).toContain("nr_writeback 0");
    expect(text).toContain("Findings: 1");
  });
  it("lays out /proc/lock_stat like the kernel (times in us)", () => {
    const lines = lockStatLines(sampleResult().lockStat);
    expect(lines[0]).toBe("lock_stat version 0.4");
    expect(lines[2]).toMatch(/^\s+class name\s+con-bounces\s+contentions\s+waittime-min/);
    expect(lines[4]).toMatch(
      /^\s+&mm->mmap_lock-R:\s+1\s+12\s+0\.10\s+12\.34\s+123\.46\s+10\.29\s+2\s+1000\s+0\.05\s+10\.00\s+2000\.00\s+2\.00$/,
    );
    expect(lines[6]).toMatch(/&mm->mmap_lock-R\s+12\s+do_user_addr_fault:mmap_read_lock/);
  });
});

describe("compare", () => {
  it("puts variants side by side", () => {
    const rows = compareRows([sampleResult("5.16"), sampleResult("5.17", false)]);
    expect(rows[0]).toEqual(["", "5.16", "5.17"]);
    expect(rows.find((r) => r[0] === "findings")).toEqual(["findings", "1", "0"]);
    const text = compareReport([sampleResult("5.16"), sampleResult("5.17", false)]);
    expect(text).toContain("5.16: 1 x soft_lockup");
    expect(text).toContain("5.17: no findings");
  });
});

describe("JSON result", () => {
  it("validates against the schema and has a stable key order", () => {
    const r = sampleResult();
    expect(RunResult.safeParse(r).success).toBe(true);
    const shuffled = JSON.parse(JSON.stringify(r), (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    );
    expect(resultJson(shuffled)).toBe(resultJson(r));
    expect(resultJson(r).startsWith('{\n  "format": "faultline-result",\n  "version": 1,')).toBe(true);
  });
  it("refuses non-finite numbers", () => {
    const r = sampleResult();
    r.throughput[0]!.value = Number.NaN;
    expect(() => resultJson(r)).toThrow(/non-finite/);
  });
});

describe("Chrome trace writer", () => {
  const ev = (
    t: number,
    cpu: number,
    kind: TraceEvent["kind"],
    name = "",
    b = 0,
    pid = 0,
    detail = "",
  ): TraceEvent => ({
    t,
    cpu,
    kind,
    pid,
    name,
    detail,
    a: 0,
    b,
  });
  it("writes valid JSON with per-CPU task slices, irq slices, contention and instants, in chunks", () => {
    const sink = new StringSink();
    const w = new ChromeTraceWriter(sink, { scenario: "x" });
    w.event(ev(0, 0, "sched_switch", "fio", 10));
    w.event(ev(1000, 0, "irq_handler_entry", "nvme0q1"));
    w.event(ev(1500, 0, "softirq_entry", "BLOCK"));
    w.event(ev(1700, 0, "softirq_exit", "BLOCK"));
    w.event(ev(2000, 0, "irq_handler_exit", "nvme0q1"));
    w.event(ev(2100, 0, "contention_begin", "&mm->mmap_lock", 0, 10, "munmap:mmap_write_lock"));
    w.event(ev(2500, 0, "contention_end", "&mm->mmap_lock", 0, 10));
    w.event(ev(2600, 1, "workqueue_execute_start", "xfs_end_io", 0, 13, "xfs-conv"));
    w.event(ev(3000, 0, "model", "fault"));
    w.event(ev(3100, 0, "dmesg", "printk", 0, 0, "watchdog: BUG: soft lockup"));
    w.event(ev(4000, 0, "sched_switch", "kworker/0:1", 13));
    w.finish();
    expect(sink.closed).toBe(true);
    const doc = JSON.parse(sink.text());
    const evs = doc.traceEvents as { ph: string; name?: string; tid: number; pid: number }[];
    const count = (ph: string) => evs.filter((e) => e.ph === ph).length;
    expect(count("B")).toBe(count("E"));
    expect(evs.some((e) => e.ph === "B" && e.name === "fio:10")).toBe(true);
    expect(evs.some((e) => e.ph === "B" && e.name === "irq:nvme0q1")).toBe(true);
    expect(evs.some((e) => e.ph === "B" && e.name === "contended &mm->mmap_lock")).toBe(true);
    expect(evs.some((e) => e.ph === "B" && e.name === "xfs_end_io")).toBe(true);
    expect(evs.some((e) => e.ph === "i" && e.name === "watchdog: BUG: soft lockup")).toBe(true);
    expect(doc.metadata.scenario).toBe("x");
  });
  it("puts kernel-function slices on tracks named by command, with thread states, flows and counters", () => {
    const sink = new StringSink();
    const w = new ChromeTraceWriter(sink);
    const e = (
      t: number,
      cpu: number,
      kind: TraceEvent["kind"],
      name: string,
      pid: number,
      a = 0,
      b = 0,
      detail = "",
    ) => w.event({ t, cpu, kind, pid, name, detail, a, b });
    e(0, 0, "sched_switch", "writer-0", 0, 0, 7, "S");
    e(100, 0, "slice", "wp_page_copy", 7, 40, 100);
    e(150, 0, "slice", "do_user_addr_fault", 7, 20, 150);
    e(200, 0, "flow_start", "TLB", 7, 1);
    e(200, 0, "counter", "need_resched", 7, 1);
    e(300, 1, "irq_handler_entry", "TLB", 0);
    e(300, 1, "flow_end", "TLB", 0, 1);
    e(350, 1, "slice", "flush_tlb_func", 0, 310, 350);
    e(360, 1, "irq_handler_exit", "TLB", 0);
    e(400, 0, "sched_switch", "migration/0", 7, 7, 9, "R");
    e(500, 0, "sched_wakeup", "writer-0", 9, 7, 0);
    w.finish();
    const evs = JSON.parse(sink.text()).traceEvents as Record<string, unknown>[];
    const meta = (pid: unknown, name: string) =>
      evs.find((x) => x.ph === "M" && x.pid === pid && x.name === name) as
        | { args: { name: string } }
        | undefined;
    const x = evs.filter((x) => x.ph === "X");
    const copy = x.find((s) => s.name === "wp_page_copy")!;
    expect(copy).toMatchObject({ ts: 0.04, dur: 0.06 });
    // the task's slices are on its own process, named by command
    expect(meta(copy.pid, "process_name")?.args.name).toBe("writer-0 7");
    expect(x.find((s) => s.name === "do_user_addr_fault")!.pid).toBe(copy.pid);
    // irq-context slices sit on the CPU's irq lane
    const flush = x.find((s) => s.name === "flush_tlb_func")!;
    expect(flush.pid).toBe(1);
    expect(evs.find((x) => x.ph === "B" && x.name === "irq:TLB")!.tid).toBe(flush.tid);
    // the flow runs from CPU 0's task lane to CPU 1's irq lane, with one id
    const s = evs.find((x) => x.ph === "s")!;
    const f = evs.find((x) => x.ph === "f")!;
    expect(s.id).toBe(f.id);
    expect([s.tid, f.tid, f.bp]).toEqual([1, 4, "e"]);
    expect(evs.find((x) => x.ph === "C")).toMatchObject({ name: "need_resched CPU 0", args: { value: 1 } });
    // thread states: Running, Runnable (preempted), then woken (Runnable)
    const states = evs
      .filter((x) => x.ph === "B" && x.cat === "state" && x.pid === copy.pid)
      .map((x) => x.name);
    expect(states).toEqual(["Running", "Runnable (preempted)", "Runnable"]);
    const count = (ph: string) => evs.filter((x) => x.ph === ph).length;
    expect(count("B")).toBe(count("E"));
  });
  it("writes µs times as JSON does (ns / 1000) for whole and fractional ns", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e15 - 1 }), (ns) => usText(ns) === String(ns / 1000)),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (ns) => usText(ns) === String(ns / 1000),
      ),
    );
    expect([usText(0), usText(1500), usText(1050), usText(1005), usText(123_456_780)]).toEqual([
      "0",
      "1.5",
      "1.05",
      "1.005",
      "123456.78",
    ]);
  });
  it("hand-built event text is JSON: any names, sites and details read back unchanged", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), fc.nat({ max: 1e12 }), (name, detail, t) => {
        const sink = new StringSink();
        const w = new ChromeTraceWriter(sink);
        const e = (kind: TraceEvent["kind"], a = 0, b = 0) =>
          w.event({ t, cpu: 0, kind, pid: 5, name, detail, a, b });
        e("sched_switch", 0, 5);
        e("contention_begin");
        e("workqueue_execute_start");
        e("model");
        e("slice", t, t + 1234);
        e("flow_start", 1);
        e("counter", 7);
        e("dmesg");
        w.finish();
        const evs = JSON.parse(sink.text()).traceEvents as Record<string, unknown>[];
        expect(evs.find((x) => x.ph === "X")).toMatchObject({
          name,
          ts: t / 1000,
          dur: 1.234,
          args: { args: detail },
        });
        expect(evs.find((x) => x.cat === "lock")).toMatchObject({
          name: `contended ${name}`,
          args: { site: detail },
        });
        expect(evs.find((x) => x.cat === "model")).toMatchObject({ name, args: { detail } });
        expect(evs.find((x) => x.cat === "dmesg")).toMatchObject({ name: detail });
        expect(evs.find((x) => x.cat === "sched")).toMatchObject({ name: `${name}:5`, ts: t / 1000 });
      }),
      { numRuns: 200 },
    );
  });
  it("aborts without leaving output", () => {
    const sink = new StringSink();
    const w = new ChromeTraceWriter(sink);
    w.event(ev(0, 0, "sched_switch", "a", 5));
    w.abort();
    expect(sink.text()).toBe("");
  });
});

describe("plots and HTML", () => {
  it("sweep plots: integer ticks for an integer parameter, the spread over seeds, no empty variant panel", async () => {
    const pts = [1, 2, 4].flatMap((x) => [
      { series: "6.4.0", x, y: x * 10 },
      { series: "6.4.0", x, y: x * 12 },
    ]);
    const svg = await renderSvg(scalingSpec(pts, "machine.cpus", "faults/s")!);
    expect(svg).toContain("mean over seeds; band: min-max");
    expect(svg).not.toMatch(/>1\.5</);
    const r = sampleResult("5.17", false);
    const v = variantsSpec([r, { ...r, kernel: { ...r.kernel, variant: "5.18" } }])!;
    expect(JSON.stringify(v)).not.toContain('"metric":"findings"');
  });
  it("renders SVG plots and one self-contained HTML page", async () => {
    const results = [sampleResult("5.16"), sampleResult("5.17", false)];
    const plots = await standardPlots(results);
    expect(plots.map((p) => p.name)).toEqual(["variants", "latency-fsync", "holdoff"]);
    for (const p of plots) expect(p.svg.startsWith("<svg")).toBe(true);
    // units on the axes, log scales where values span orders of magnitude
    expect(plots[1]!.svg).toContain("latency (µs, log scale)");
    expect(plots[2]!.svg).toMatch(/longest holdoff in bucket \((ms|s|µs)/);
    const html = htmlReport("t", [{ heading: "h", results, plots }]);
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain("watchdog: BUG: soft lockup - CPU#1 stuck for 22s!");
  });
});

describe("fmtTime", () => {
  it("shows as many decimals as the resolution needs", () => {
    expect(fmtTime(1_220_050, 50)).toBe("1.22005 ms");
    expect(fmtTime(1_220_100, 100)).toBe("1.2201 ms");
    expect(fmtTime(64_000_375_000, 25_000)).toBe("64.00038 s");
    expect(fmtTime(64_000_375_000, 1_000)).toBe("64.000375 s");
    expect(fmtTime(25e9, 1e9)).toBe("25 s");
    expect(fmtTime(830, 1)).toBe("830 ns");
    expect(fmtTime(0, 1000)).toBe("0 µs");
  });
});
