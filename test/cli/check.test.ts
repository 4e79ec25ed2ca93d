// End-to-end: `faultline check` and `faultline replay` on the per-VMA-lock model (issue 6).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce, faultline, noStackTrace, removeScratch, scratch } from "./helpers.js";

beforeAll(() => buildOnce(), 600_000);
afterAll(removeScratch);

describe("faultline check", () => {
  it("finds the 6.4.0 fork race, shrinks it, saves it, and replay reproduces it", () => {
    const dir = scratch("check");
    const cx = path.join(dir, "race.json");
    const r = faultline(["check", "pervma-fork-race-mini", "--kind", "lost_update", "--out", cx]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("VIOLATION: lost_update");
    expect(r.stdout).toMatch(/shrunk from \d+ to \d+ steps/);
    expect(r.stdout).toContain("CPU 0");
    const doc = JSON.parse(fs.readFileSync(cx, "utf8"));
    expect(doc.faultline).toBe("counterexample");
    expect(doc.finding.kind).toBe("lost_update");
    expect(doc.steps).toBeLessThanOrEqual(60);
    const trace = path.join(dir, "replay-trace.json");
    const rep = faultline(["replay", cx, "--trace", trace]);
    expect(rep.stdout).toContain("reproduced yes");
    expect(rep.code).toBe(1);
    expect(JSON.parse(fs.readFileSync(trace, "utf8")).traceEvents.length).toBeGreaterThan(doc.steps);
    // replaying twice prints the same bytes
    expect(faultline(["replay", cx]).stdout).toBe(faultline(["replay", cx]).stdout);
  });

  it("finds nothing on 6.4.3, and exhaustive search covers the mini configuration... or reports the budget", () => {
    const r = faultline(["check", "pervma-fork-race-mini", "--kernel", "6.4.3", "--budget", "150"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no violation found within the budget");
  });

  it("a lock site that matters, switched off, gives a finding", () => {
    const r = faultline([
      "check",
      "pervma-fork-race-mini",
      "--kernel",
      "6.4.3",
      "--disable-site",
      "dup_mmap:vma_start_write",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("sites off: dup_mmap:vma_start_write");
  });

  it("a lock site the scenario never reaches, switched off, changes nothing", () => {
    const r = faultline([
      "check",
      "pervma-fork-race-mini",
      "--kernel",
      "6.4.3",
      "--disable-site",
      "mprotect:mmap_write_lock",
      "--budget",
      "150",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no violation found within the budget");
  });

  it("exhaustive search verifies a small configuration completely", () => {
    const r = faultline([
      "check",
      "pervma-check-small",
      "--strategy",
      "exhaustive",
      "--set",
      "workloads[0].threads=1",
      "--set",
      "workloads[1].enabled=false",
      "--set",
      "machine.cpus=2",
    ]);
    expect(r.stdout).toContain("covered completely");
    expect(r.stdout).toMatch(/coverage\s+complete/);
    expect(r.code).toBe(0);
  });

  it("--jobs spreads the exhaustive search over worker processes without changing what it explores", () => {
    const args = [
      "check",
      "pervma-check-small",
      "--strategy",
      "exhaustive",
      "--set",
      "workloads[0].threads=1",
      "--set",
      "workloads[1].threads=1",
      "--set",
      "machine.cpus=3",
      "--grain",
      "20",
      "--budget",
      "1000000",
    ];
    const one = faultline([...args, "--jobs", "1"]);
    const two = faultline([...args, "--jobs", "2"]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    const figures = (out: string) => ({
      schedules: /schedules\s+([\d,]+) in/.exec(out)?.[1],
      steps: /([\d,]+) steps executed/.exec(out)?.[1],
      search: /search\s+([\d,]+ units of work in [\d,]+ rounds)/.exec(out)?.[1],
    });
    expect(figures(two.stdout)).toEqual(figures(one.stdout));
    expect(figures(one.stdout).search).toMatch(/units of work in/);
    expect(one.stdout).toContain("in this process\n");
    expect(two.stdout).toContain("on 2 worker processes");
    expect(two.stdout).toMatch(/MiB in the worker processes/);
    expect(two.stdout).toMatch(/coverage\s+complete/);
    const bad = faultline([...args, "--jobs", "0"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--jobs");
  });

  it("bad input: unknown site, unreadable or malformed counterexample, writes nothing half-done", () => {
    const bad = faultline(["check", "pervma-fork-race-mini", "--disable-site", "no_such_site"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("no such lock site");
    noStackTrace(bad);
    const dir = scratch("check-bad");
    const junk = path.join(dir, "junk.json");
    fs.writeFileSync(junk, '{"faultline": "counterexample", "version": 1}');
    const r = faultline(["replay", junk]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('field "target": found undefined; allowed: a string');
    noStackTrace(r);
    expect(faultline(["replay", path.join(dir, "missing.json")]).code).toBe(2);
    const fsVariant = faultline(["check", "iomap-s2"]);
    expect(fsVariant.code).toBe(2);
    expect(fsVariant.stderr).toContain("race checker explores the per-VMA-lock model");
    expect(faultline(["check", "pervma-fork-race-mini", "--strategy", "dfs"]).code).toBe(2);
  });
});
