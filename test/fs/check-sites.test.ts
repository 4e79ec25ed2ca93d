// Every writeback lock site, switched off, gives its finding in the explore driver; with the lock
// the same search finds nothing. The searches are bounded by schedules (budget), not by time.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/checker.js";
import { type IomapCheckConfig, iomapCheckTarget } from "../../src/check/iomap.js";
import { checkTargetFor } from "../../src/scenario/checktarget.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");

/** A built-in scenario with --set style overrides. */
function load(name: string, sets: [string, string][]) {
  const file = path.join(DIR, `${name}.yaml`);
  return loadScenario(fs.readFileSync(file, "utf8"), {
    file,
    sets: sets.map(([p, value]) => ({ path: p, value, label: `--set ${p}` })),
    catalog: catalog(),
  });
}

/** iomap-s2 on 5.17 scaled down to 256 KiB in `extentSize` extents, completions at once, no probe. */
function smallS2(extentSize: string): [string, string][] {
  return [
    ["kernel.variant", "5.17"],
    ["fs.files[0].size", "256KiB"],
    ["fs.files[0].predirty", "256KiB"],
    ["fs.files[0].extentSize", extentSize],
    ["fs.endIoDelay", "0"],
    ["fs.dirtyExpire", "0"],
    ["workloads[1].enabled", "false"],
  ];
}

function search(c: IomapCheckConfig, strategy: "random" | "pct", budget: number) {
  return check(iomapCheckTarget(c), { strategy, budget, timeS: 1e12 });
}

describe("page_wait_table: folio_wait_bit_common and folio_wake_bit", () => {
  const base = { variant: "5.17", pages: 16, fsyncers: 1 };
  it("with both locks, 300 random and 300 PCT schedules find nothing", () => {
    for (const strategy of ["random", "pct"] as const) {
      const r = search(base, strategy, 300);
      expect(r.verdict).toBe("no violation found");
      expect(r.schedules).toBe(300);
    }
  });
  for (const site of ["folio_wait_bit_common:spin_lock_irq", "folio_wake_bit:spin_lock_irqsave"]) {
    it(`without ${site}: the waiter queues itself after the waker walked the queue (lost wake-up)`, () => {
      const r = search({ ...base, disableLockSites: [site] }, "random", 300);
      expect(r.verdict).toBe("violation");
      const f = r.counterexample!.finding;
      expect(f.kind).toBe("lost_wakeup");
      expect(f.message).toMatch(
        /sleeps in folio_wait_writeback on folio \d+ of inode \d+ although PG_writeback is clear/,
      );
      // the shrunk schedule has the waiter's two steps with the completion's walk between them
      expect(r.counterexample!.labels.join(" ")).toContain(
        "folio_wait_bit_common:__add_wait_queue_entry_tail",
      );
    });
  }
});

describe("ip->i_ioend_lock: xfs_end_bio and xfs_end_io (two fsync callers, completions on their own CPUs)", () => {
  const base = { variant: "5.17", pages: 32, fsyncers: 2, irqCpu: -1 };
  it("with the lock, 300 random and 300 PCT schedules find nothing", () => {
    for (const strategy of ["random", "pct"] as const) {
      const r = search(base, strategy, 300);
      expect(r.verdict).toBe("no violation found");
      expect(r.schedules).toBe(300);
    }
  });
  it("without xfs_end_bio's lock two completions both find the list empty: WARN_ON_ONCE(!queue_work)", () => {
    const r = search({ ...base, disableLockSites: ["xfs_end_bio:spin_lock_irqsave"] }, "random", 300);
    expect(r.verdict).toBe("violation");
    expect(r.counterexample!.finding.kind).toBe("fs:ioend_work");
    expect(r.counterexample!.finding.message).toContain(
      "WARNING at fs/xfs/xfs_aops.c xfs_end_bio: WARN_ON_ONCE(!queue_work(...))",
    );
  });
  it("without xfs_end_io's lock an ioend added while it splices the list is never completed", () => {
    const r = search({ ...base, disableLockSites: ["xfs_end_io:spin_lock_irqsave"] }, "random", 300);
    expect(r.verdict).toBe("violation");
    expect(r.counterexample!.finding.kind).toBe("fs:ioend_work");
    // added between list_replace_init and INIT_LIST_HEAD (in neither list), or after the splice
    // when xfs_end_bio's list_empty test had seen the list full (no work queued)
    expect(r.counterexample!.finding.message).toMatch(
      /(never reached xfs_end_io: their list_add_tail came between its list_replace_init and INIT_LIST_HEAD|i_ioend_work is neither queued nor running: xfs_end_io spliced the list between)/,
    );
    expect(r.counterexample!.labels.join(" ")).toContain("xfs_end_io:INIT_LIST_HEAD");
  });
});

describe("mapping->i_pages marks: folio_start_writeback and __folio_end_writeback (iomap-s2 scaled down)", () => {
  // 256 KiB in 8 KiB extents: 32 ioends in one xa_node, more bios than the plug holds (16), so the
  // fsync's first ioends complete on CPU 2 while it still starts writeback on later folios
  const SMALL = smallS2("8KiB");
  const target = (sites: string) =>
    checkTargetFor(load("iomap-s2", [...SMALL, ["kernel.disableLockSites", `[${sites}]`]]), { seed: 1 });
  it("with the lock, 300 random and 300 PCT schedules find nothing", () => {
    for (const strategy of ["random", "pct"] as const) {
      const r = check(target(""), { strategy, budget: 300, timeS: 1e12 });
      expect(r.verdict).toBe("no violation found");
      expect(r.schedules).toBe(300);
    }
  });
  for (const site of ["folio_start_writeback:xa_lock_irqsave", "__folio_end_writeback:xa_lock_irqsave"])
    it(`without ${site} a PAGECACHE_TAG_WRITEBACK mark is lost and fsync returns before the folio's I/O`, () => {
      const r = check(target(site), { strategy: "random", budget: 100, timeS: 1e12 });
      expect(r.verdict).toBe("violation");
      const f = r.counterexample!.finding;
      expect(f.kind).toBe("fs:fsync_integrity");
      expect(f.message).toMatch(/fsync returned with folio \d+ of inode 128 still under writeback/);
      expect(r.counterexample!.labels.join(" ")).toContain("xa_mark:node_marks_store");
    });
});

describe("the fsync task's name (workloads[].comm) in the lost wake-up's hung-task line", () => {
  const SMALL: [string, string][] = [
    ...smallS2("64KiB"),
    ["kernel.disableLockSites", "[folio_wait_bit_common:spin_lock_irq]"],
  ];
  for (const [sets, comm] of [
    [[], "fsync"],
    [[["workloads[0].comm", "xfs_io"]], "xfs_io"],
  ] as [[string, string][], string][])
    it(`${comm}: the finding names the task as dmesg would`, () => {
      const r = check(checkTargetFor(load("iomap-s2", [...SMALL, ...sets]), { seed: 1 }), {
        strategy: "random",
        budget: 300,
        timeS: 1e12,
      });
      expect(r.verdict).toBe("violation");
      expect(r.counterexample!.finding.message).toMatch(
        new RegExp(`INFO: task ${comm}:\\d+ blocked for more than`),
      );
    });
});
