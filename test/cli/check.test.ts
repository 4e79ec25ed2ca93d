// End-to-end: `faultline check` and `faultline replay` on the per-VMA-lock model (issue 6).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce, faultline, noStackTrace, ROOT, removeScratch, scratch } from "./helpers.js";

beforeAll(() => buildOnce(), 600_000);
afterAll(removeScratch);

/** iomap-s2 scaled down for the checker: a 256 KiB file, the flusher writing back at once beside the fsync. */
const WB_SMALL = [
  "--set",
  "fs.files[0].size=256KiB",
  "--set",
  "fs.files[0].predirty=256KiB",
  "--set",
  "fs.files[0].extentSize=64KiB",
  "--set",
  "fs.endIoDelay=0",
  "--set",
  "fs.dirtyExpire=0",
  "--set",
  "workloads[1].enabled=false",
];

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
    // a random search that finds nothing is incomplete: its own exit status, not 0
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("no violation found within the budget");
    expect(r.stdout).toMatch(/schedules\s+150 in/);
  });

  it("the scenario's own fork race: found from its warm start, shrunk, replayed; 6.4.3 incomplete", () => {
    const dir = scratch("check-warm");
    const cx = path.join(dir, "race.json");
    const r = faultline(["check", "pervma-fork-race", "--kernel", "6.4.0", "--seed", "3", "--out", cx]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/VIOLATION: (cow_premise|lost_update)/);
    const doc = JSON.parse(fs.readFileSync(cx, "utf8"));
    expect(doc.describe.warmStart).toEqual({ event: "dup_mmap", count: 1 });
    expect(doc.steps).toBeLessThanOrEqual(200);
    const rep = faultline(["replay", cx]);
    expect(rep.stdout).toContain("reproduced yes");
    // -q: the exit status only
    const q = faultline(["check", "pervma-fork-race", "--kernel", "6.4.3", "--time", "2", "-q"]);
    expect(q.code).toBe(3);
    expect(q.stdout).toBe("");
    expect(q.stderr).toBe("");
  });

  it("--budget holds exactly on worker processes; a search cut by it is incomplete", () => {
    const r = faultline([
      "check",
      "pervma-check-small",
      "--strategy",
      "exhaustive",
      "--budget",
      "300",
      "--grain",
      "100",
      "--jobs",
      "2",
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/schedules\s+300 in/);
    expect(r.stdout).toContain("incomplete (budget ran out)");
  });

  it("the writeback model's lock site is usable from run and explain", () => {
    expect(faultline(["explain", "5.17"]).stdout).toMatch(
      /lock sites[^\n]*\n\s+write_cache_pages:folio_lock/,
    );
    const r = faultline([
      "run",
      "iomap-s2",
      "--kernel",
      "5.17",
      "--set",
      "kernel.disableLockSites=[write_cache_pages:folio_lock]",
      "--set",
      "stop.time=50ms",
    ]);
    expect(r.code).toBe(0);
    noStackTrace(r);
  });

  it("writeback: without write_cache_pages:folio_lock check finds the double submission, replay reproduces it", () => {
    const dir = scratch("check-wb");
    const cx = path.join(dir, "wb.json");
    const r = faultline([
      "check",
      "iomap-s2",
      "--kernel",
      "5.17",
      ...WB_SMALL,
      "--set",
      "kernel.disableLockSites=[write_cache_pages:folio_lock]",
      "--out",
      cx,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("VIOLATION: fs:writeback_ownership");
    // named as the kernel reports it: iomap_writepage_map's WARN_ON_ONCE before folio_start_writeback
    expect(r.stdout).toContain(
      "WARNING at fs/iomap/buffered-io.c iomap_writepage_map: WARN_ON_ONCE(folio_test_writeback(folio))",
    );
    expect(r.stdout).toContain("sites off: write_cache_pages:folio_lock");
    expect(r.stdout).toContain("write_cache_pages:folio_lock");
    const doc = JSON.parse(fs.readFileSync(cx, "utf8"));
    expect(doc.describe.model).toBe("fs");
    expect(doc.describe.scenarioDoc.kernel.disableLockSites).toEqual(["write_cache_pages:folio_lock"]);
    const rep = faultline(["replay", cx]);
    expect(rep.code).toBe(1);
    expect(rep.stdout).toContain("reproduced yes");
    expect(rep.stdout).toContain("replayed   fs:writeback_ownership");
    expect(faultline(["replay", cx]).stdout).toBe(rep.stdout);
    // a counterexample whose scenario was tampered with is bad input, named by field
    doc.describe.scenarioDoc.machine.cpus = 0;
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify(doc));
    const rb = faultline(["replay", bad]);
    expect(rb.code).toBe(2);
    expect(rb.stderr).toContain('field "describe.scenarioDoc.machine.cpus"');
    noStackTrace(rb);
  });

  it("writeback: with the folio lock neither random, PCT nor --disable-site of another site finds anything", () => {
    for (const strategy of ["random", "pct"]) {
      const r = faultline([
        "check",
        "iomap-s2",
        "--kernel",
        "5.17",
        ...WB_SMALL,
        "--strategy",
        strategy,
        "--budget",
        "300",
      ]);
      expect(r.code).toBe(3);
      expect(r.stdout).toContain("no violation found within the budget");
      expect(r.stdout).toMatch(/schedules\s+300 in/);
    }
    const site = faultline([
      "check",
      "iomap-s2",
      "--kernel",
      "5.17",
      ...WB_SMALL,
      "--disable-site",
      "no_such_site",
    ]);
    expect(site.code).toBe(2);
    expect(site.stderr).toContain("allowed: write_cache_pages:folio_lock");
  });

  it("writeback: a run cut by --max-steps inside write_cache_pages is not a writeback leak", () => {
    // 100 steps end inside the flusher's write_cache_pages: folios are under writeback in an ioend
    // not yet submitted, which the end-of-run leak check used to report as fs:writeback_leak
    const r = faultline(["check", "iomap-s2", "--max-steps", "100", "--budget", "3"]);
    noStackTrace(r);
    expect(r.stdout).not.toContain("VIOLATION");
    expect(r.stdout).toContain("no violation found within the budget");
    expect(r.code).toBe(3);
  });

  it("writeback: every other lock site, switched off, gives its finding from the CLI (and replays)", () => {
    const small = WB_SMALL.map((a) =>
      a === "fs.files[0].extentSize=64KiB" ? "fs.files[0].extentSize=8KiB" : a,
    );
    const dir = scratch("check-wb-sites");
    const cases: [string, string[], RegExp][] = [
      [
        "folio_wait_bit_common:spin_lock_irq",
        WB_SMALL,
        /VIOLATION: lost_wakeup\n.*sleeps in folio_wait_writeback on folio \d+ of inode 128 although PG_writeback is clear/,
      ],
      [
        "folio_start_writeback:xa_lock_irqsave",
        small,
        /VIOLATION: fs:fsync_integrity\n.*fsync returned with folio \d+ of inode 128 still under writeback/,
      ],
      [
        "xfs_end_io:spin_lock_irqsave",
        [...small, "--set", "fs.irqCpu=-1", "--set", "fs.flusherCpu=1"],
        // in neither list (added between list_replace_init and INIT_LIST_HEAD), or added after a splice
        /VIOLATION: fs:ioend_work\n.*(never reached xfs_end_io: their list_add_tail came between its list_replace_init and INIT_LIST_HEAD|i_ioend_work is neither queued nor running: xfs_end_io spliced the list between)/,
      ],
    ];
    for (const [site, sets, finding] of cases) {
      const cx = path.join(dir, `${site.replace(/[:_]/g, "-")}.json`);
      const r = faultline([
        "check",
        "iomap-s2",
        "--kernel",
        "5.17",
        ...sets,
        "--disable-site",
        site,
        "--out",
        cx,
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(finding);
      expect(r.stdout).toContain(`sites off: ${site}`);
      const rep = faultline(["replay", cx]);
      expect(rep.code).toBe(1);
      expect(rep.stdout).toContain("reproduced yes");
    }
    // the same search with every lock finds nothing
    const clean = faultline(["check", "iomap-s2", "--kernel", "5.17", ...small, "--budget", "100"]);
    expect(clean.code).toBe(3);
    expect(clean.stdout).toContain("no violation found within the budget");
  });

  it("an unreachable warm start is bad input", () => {
    const r = faultline(["check", "pervma-fork-race", "--warm-start", "no_such_event", "--time", "2"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/warm start at no_such_event: the timed run .* 0 of 1 "no_such_event" events/);
    noStackTrace(r);
    const bad = faultline(["check", "pervma-fork-race", "--warm-start", "#3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--warm-start");
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
    expect(r.code).toBe(3);
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

  it("the exit statuses of a complete search: the search that ran decides, as --help and docs/cli.md say", () => {
    // one faulter and a fork on 3 CPUs: 10 schedules
    const small = [
      "check",
      "pervma-check-small",
      "--strategy",
      "exhaustive",
      "--set",
      "workloads[0].threads=1",
      "--set",
      "workloads[0].faultsPerThread=1",
      "--set",
      "workloads[1].enabled=false",
      "--set",
      "machine.cpus=3",
    ];
    expect(faultline(small).code).toBe(0);
    // a complete stateful search: no violation found, nothing verified
    const st = faultline([...small, "--stateful"]);
    expect(st.stdout).toMatch(/coverage\s+complete/);
    expect(st.stdout).toContain("the stateful search finished");
    expect(st.code).toBe(3);
    // a preemption bound turns state matching off: the bounded stateless search verifies
    const bounded = faultline([...small, "--stateful", "--preemption-bound", "1"]);
    expect(bounded.stdout).toContain("covered completely");
    expect(bounded.stdout).not.toContain("states ");
    expect(bounded.code).toBe(0);
    // runs cut by --max-steps with CPUs still able to move
    const cut = faultline([...small, "--max-steps", "5"]);
    expect(cut.stdout).toMatch(/cut by the step budget/);
    expect(cut.code).toBe(3);
    // --help names each case, and docs/cli.md shows what --help prints
    const help = faultline(["check", "--help"]).stdout;
    const status3 = help.slice(help.indexOf("\n  3  "));
    expect(status3).toContain("--max-steps");
    expect(status3).toContain("--stateful search, even a complete one");
    const exit = help.slice(help.indexOf("Exit status:"));
    expect(fs.readFileSync(path.join(ROOT, "docs/cli.md"), "utf8")).toContain(exit);
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
      // one fault on the shared VMA: 253 schedules in 48 units of work over 7 rounds (with two, the
      // 1,502 schedules of the check-exhaustive benchmark: the same test at six times the cost)
      "--set",
      "workloads[1].faultsPerThread=1",
      "--set",
      "machine.cpus=3",
      "--grain",
      "10",
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

  // a terminal from util-linux's script(1): the progress bar is drawn only when stderr is one
  it.skipIf(!fs.existsSync("/usr/bin/script"))(
    "on a terminal, the exhaustive search's progress moves while its one unit of work runs",
    () => {
      // runs of 20,000 steps (tens of ms each): a 3 s budget ends the first unit of 1,000 schedules
      const args = ["check", "pervma-fork-race", "--kernel", "6.4.0", "--strategy", "exhaustive"];
      const cmd = [process.execPath, path.join(ROOT, "bin/faultline.js"), ...args, "-j", "1", "--time", "3"]
        .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
        .join(" ");
      const r = spawnSync("/usr/bin/script", ["-q", "-e", "-c", cmd, "/dev/null"], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(r.status).toBe(3);
      expect(r.stdout).toContain("1 unit of work in 1 round in this process");
      const total = Number(/schedules\s+([\d,]+) in/.exec(r.stdout)![1]!.replace(/,/g, ""));
      const shown = [...r.stdout.matchAll(/(\d+)\/10000 schedules/g)].map((m) => Number(m[1]));
      // before, the bar showed 0 until the unit ended; now it moves while the unit runs
      const during = new Set(shown.filter((n) => n > 0 && n < total));
      expect(during.size).toBeGreaterThanOrEqual(2);
      expect(Math.max(...shown)).toBeLessThanOrEqual(total);
    },
  );

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
    const engineOnly = faultline(["check", "softlockup-demo"]);
    expect(engineOnly.code).toBe(2);
    expect(engineOnly.stderr).toContain("race checker explores the per-VMA-lock and the writeback models");
    noStackTrace(engineOnly);
    expect(faultline(["check", "pervma-fork-race-mini", "--strategy", "dfs"]).code).toBe(2);
  });
});
