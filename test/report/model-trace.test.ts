// Model events in traces: the writeback completion path of the 5.16 lockup (xfs_end_io ->
// xfs_end_ioend -> iomap_finish_ioends -> iomap_finish_ioend, nested on the kworker's track), bio
// and queue_work flows, and the page-cache counters; tracing changes no result byte.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resultJson } from "../../src/report/result.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";
import { MemoryTrace, type TraceEvent } from "../../src/sim/trace.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");
function load(name: string, sets: { path: string; value: string }[]) {
  return loadScenario(readFileSync(path.join(DIR, `${name}.yaml`), "utf8"), {
    file: name,
    catalog: catalog(),
    sets,
  });
}

describe("writeback model events", () => {
  const s = load("iomap-s1", [
    { path: "kernel.variant", value: "5.16" },
    { path: "stop.time", value: "4s" },
  ]);
  const tr = new MemoryTrace();
  const traced = runScenario(s, { seed: 1, trace: tr });
  const evs = tr.events;

  it("has the flusher's wb_writeback on a scenario written back by the flusher (S1's nfsd COMMITs write back themselves)", () => {
    const s2 = load("iomap-s3", [{ path: "kernel.variant", value: "5.16" }]);
    const t2 = new MemoryTrace();
    runScenario(s2, { seed: 1, trace: t2 });
    expect(t2.events.some((e) => e.kind === "slice" && e.name === "wb_writeback")).toBe(true);
    expect(evs.some((e) => e.kind === "slice" && e.name === "wb_writeback")).toBe(false);
  });

  it("nests the completion path on the kworker that runs xfs_end_io", () => {
    const slices = evs.filter((e) => e.kind === "slice");
    const endIo = slices.find((e) => e.name === "xfs_end_io")!;
    expect(endIo).toBeDefined();
    const inside = (name: string, outer: TraceEvent) =>
      slices.find((e) => e.name === name && e.pid === outer.pid && e.a >= outer.a && e.b <= outer.b);
    const endIoend = inside("xfs_end_ioend", endIo)!;
    expect(endIoend).toBeDefined();
    const finish = inside("iomap_finish_ioends", endIoend)!;
    expect(finish).toBeDefined();
    expect(inside("iomap_finish_ioend", finish)).toBeDefined();
    for (const n of ["iomap_submit_ioend", "submit_bio", "blk_mq_complete_request", "xfs_end_bio"])
      expect(
        slices.some((e) => e.name === n),
        n,
      ).toBe(true);
  });

  it("has bio and queue_work flows and the page-cache and ioend counters", () => {
    const starts = new Set(evs.filter((e) => e.kind === "flow_start").map((e) => `${e.name}:${e.a}`));
    const ends = evs.filter((e) => e.kind === "flow_end");
    for (const n of ["bio", "queue_work"]) expect(ends.some((e) => e.name === n)).toBe(true);
    for (const e of ends) expect(starts.has(`${e.name}:${e.a}`)).toBe(true);
    const counters = new Set(evs.filter((e) => e.kind === "counter").map((e) => e.name));
    for (const n of ["nr_dirty", "nr_writeback", "ioend chain", "need_resched", "runnable"])
      expect(counters).toContain(n);
    expect([...counters].some((n) => n.startsWith("i_ioend_list ino "))).toBe(true);
  });

  it("gives the same result bytes as an untraced run", () => {
    expect(resultJson(traced)).toBe(resultJson(runScenario(s, { seed: 1 })));
  });
});
