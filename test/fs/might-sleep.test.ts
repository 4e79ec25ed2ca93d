// Any variant that reaches a sleep/resched check from interrupt context reports "BUG: sleeping
// function called from invalid context"; upstream 5.17 never does.
import { describe, expect, it } from "vitest";
import { IOMAP_VARIANT_NAMES } from "../../src/kernels/iomap.js";
import { GIB, run, smallS2 } from "./helpers.js";

const SPLAT = /^BUG: sleeping function called from invalid context at fs\/iomap\/buffered-io\.c:\d+$/;

describe("iomap-s7: generic (gfs2/zonefs) inline completion in BLOCK_SOFTIRQ", () => {
  it("trond's per-page cond_resched splats from softirq", () => {
    const r = run("iomap-s7", { variant: "trond" });
    expect(r.mightSleepViolations).toBeGreaterThanOrEqual(1);
    expect(r.firstMightSleep).toMatch(SPLAT);
    const text = r.dmesg.join("\n");
    expect(text).toContain("preempt_count: 100, expected: 0");
    expect(text).toMatch(/iomap_finish_ioend\n.*iomap_writepage_end_bio\n.*blk_done_softirq/);
  });

  it("5.17 does not", () => {
    const r = run("iomap-s7", { variant: "5.17" });
    expect(r.mightSleepViolations).toBe(0);
    expect(r.done).toBe(true);
  });

  it("only trond reaches a sleep check from irq context on this path", () => {
    for (const v of IOMAP_VARIANT_NAMES) {
      const r = run("iomap-s7", {
        variant: v,
        files: [
          {
            name: "gfs2file",
            bytes: GIB / 4,
            layout: { extentBytes: GIB, gapBytes: 0 },
            initial: "written",
            predirtyBytes: GIB / 4,
          },
        ],
      });
      expect(r.mightSleepViolations > 0, v).toBe(v === "trond");
    }
  });
});

describe("5.17 never splats", () => {
  it("on XFS overwrites completed in hardirq (S4, small)", () => {
    const r = run("iomap-s4", {
      variant: "5.17",
      files: [
        {
          name: "old",
          bytes: 2 * GIB,
          layout: { extentBytes: GIB, gapBytes: 0 },
          initial: "written",
          predirtyBytes: 2 * GIB,
        },
      ],
    });
    expect(r.fs.ioendsInline).toBeGreaterThan(0);
    expect(r.mightSleepViolations).toBe(0);
  });

  it("on unwritten conversion through the workqueue (S2 shape, small)", () => {
    const r = smallS2("5.17", 8, 8192);
    expect(r.fs.ioendsQueued).toBeGreaterThan(0);
    expect(r.mightSleepViolations).toBe(0);
  });
});
