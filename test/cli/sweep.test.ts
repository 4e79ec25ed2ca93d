// End-to-end sweeps: worker threads, CSV + JSON lines, resuming after an interruption, and shards that
// `merge` puts back together into exactly the full sweep.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildOnce, faultline, noStackTrace, scratch } from "./helpers.js";

beforeAll(() => buildOnce(), 600_000);

const SWEEP = [
  "sweep",
  "softlockup-demo",
  "--param",
  "workloads[0].condReschedEvery=1ms,100ms",
  "--param",
  "machine.preemption=none,full",
  "--seeds",
  "1..2",
  "--set",
  "stop.time=26s",
];

describe("sweep", () => {
  const dir = scratch("sweep");
  const full = path.join(dir, "full");
  const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), "utf8");

  it("runs the cross product in worker threads and writes CSV, JSON lines, a manifest and a report", () => {
    const r = faultline([...SWEEP, "--jobs", "2", "--out", full]);
    expect(r.code).toBe(0);
    noStackTrace(r);
    expect(r.stderr).toContain("sweep: 8/8 jobs done");
    const csv = read(full, "results.csv").trimEnd().split("\n");
    expect(csv).toHaveLength(9);
    expect(csv[0]).toMatch(
      /^index,workloads\[0\]\.condReschedEvery,machine\.preemption,seed,variant,stop_reason/,
    );
    expect(csv[1]).toMatch(/^0,1ms,none,1,generic,done,/);
    const rows = read(full, "results.jsonl")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows[7].params).toEqual({
      "workloads[0].condReschedEvery": "100ms",
      "machine.preemption": "full",
    });
    expect(rows[7].result.format).toBe("faultline-result");
    expect(fs.existsSync(path.join(full, "report.html"))).toBe(true);
  });

  it("resumes: a rerun skips done jobs and redoes a line cut short", () => {
    const jsonl = path.join(full, "results.jsonl");
    const before = read(full, "results.jsonl");
    const lines = before.trimEnd().split("\n");
    fs.writeFileSync(jsonl, `${lines.slice(0, 5).join("\n")}\n${lines[5]!.slice(0, 40)}`);
    const r = faultline([...SWEEP, "--jobs", "1", "--out", full]);
    expect(r.code).toBe(0);
    expect(read(full, "results.jsonl")).toBe(before);
  });

  it("refuses to mix a different sweep into the same directory", () => {
    const r = faultline(["sweep", "softlockup-demo", "--seeds", "1..3", "--out", full]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("holds a different sweep");
  });

  it("shards K/N cover the sweep and merge gives the full sweep's results", () => {
    const s1 = path.join(dir, "s1");
    const s2 = path.join(dir, "s2");
    const m = path.join(dir, "merged");
    expect(faultline([...SWEEP, "--shard", "1/2", "--jobs", "1", "--out", s1]).code).toBe(0);
    expect(faultline([...SWEEP, "--shard", "2/2", "--jobs", "1", "--out", s2]).code).toBe(0);
    expect(read(s1, "results.jsonl").trimEnd().split("\n")).toHaveLength(4);
    const partial = faultline(["merge", s1, "--out", path.join(dir, "partial")]);
    expect(partial.code).toBe(0);
    expect(partial.stderr).toContain("4 missing");
    const r = faultline(["merge", s1, s2, "--out", m]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("merge: 8/8 jobs");
    expect(read(m, "results.jsonl")).toBe(read(full, "results.jsonl"));
    expect(read(m, "results.csv")).toBe(read(full, "results.csv"));
  });

  it("merge refuses directories of different sweeps", () => {
    const other = path.join(dir, "other");
    expect(faultline(["sweep", "softlockup-demo", "--seeds", "1..1", "--out", other]).code).toBe(1);
    const r = faultline(["merge", path.join(dir, "s1"), other, "--out", path.join(dir, "m2")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot merge");
  });
});
