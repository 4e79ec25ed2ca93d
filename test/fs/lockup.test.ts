// S2 (Darrick's fragmented 20 GB, 5.2 M pages): 5.16 on the slow-VM profile ends in a soft lockup in
// the kernel's format; upstream 5.17 has none and its longest holdoff is reported.
import { describe, expect, it } from "vitest";
import { run } from "./helpers.js";

const SOFT_LOCKUP = /^watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s! \[kworker\/\d+:\d+:\d+\]$/;

describe("iomap-s2 on 5.16, slow VM", () => {
  const r = run("iomap-s2", { variant: "5.16", costProfile: "what-if-slow-vm" });

  it("merges all 200 extents' ioends into one 5.2 M-page completion", () => {
    expect(r.fs.bytesSubmitted / 4096).toBe(5_242_800);
    expect(r.fs.mergedRunPagesMax).toBe(5_242_800);
    expect(r.fs.mergedRunIoendsMax).toBe(200);
    expect(r.fs.txnsPerEndIoMax).toBe(200);
  });

  it("reports a soft lockup in the kernel's format", () => {
    expect(r.softLockups).toBeGreaterThanOrEqual(1);
    expect(r.firstSoftLockup).toMatch(SOFT_LOCKUP);
    const stuck = Number(/stuck for (\d+)s/.exec(r.firstSoftLockup)![1]);
    expect(stuck).toBeGreaterThanOrEqual(20);
    expect(stuck).toBeLessThanOrEqual(26);
    const text = r.dmesg.join("\n");
    expect(text).toContain("Workqueue: xfs-conv/md127 xfs_end_io");
    expect(text).toMatch(/iomap_finish_ioend\n.*iomap_finish_ioends\n.*xfs_end_ioend\n.*xfs_end_io/);
  });

  it("holds the CPU off for longer than the watchdog threshold, and stalls RCU", () => {
    expect(r.holdoffMaxNs.task).toBeGreaterThan(20e9);
    expect(r.rcuStalls).toBeGreaterThanOrEqual(1);
    expect(r.fs.invariantCounts).toEqual({});
  });
});

describe("iomap-s2 on 5.17 (ebb7fb1557b1), slow VM", () => {
  const r = run("iomap-s2", { variant: "5.17", costProfile: "what-if-slow-vm" });

  it("has no soft lockup, no RCU stall and no might_sleep splat", () => {
    expect(r.done).toBe(true);
    expect(r.softLockups).toBe(0);
    expect(r.rcuStalls).toBe(0);
    expect(r.mightSleepViolations).toBe(0);
  });

  it("caps ioends at 4096 folios and merges only physically contiguous ones (one run per extent)", () => {
    expect(r.fs.ioendFoliosMax).toBeLessThanOrEqual(4096);
    expect(r.fs.mergedRuns).toBe(200);
    expect(r.fs.mergedRunPagesMax).toBe(26214);
  });

  it("reports its longest holdoff: one extent's run, far below 20 s", () => {
    // 26214 folios x 5 µs between the cond_resched() calls of xfs_end_io
    expect(r.holdoffMaxNs.task).toBeGreaterThan(100e6);
    expect(r.holdoffMaxNs.task).toBeLessThan(200e6);
  });
});

describe("iomap-s2 on 5.17, default costs", () => {
  it("longest holdoff is a few milliseconds (one idle extent run)", () => {
    const r = run("iomap-s2", { variant: "5.17", costProfile: "default" });
    expect(r.softLockups).toBe(0);
    expect(r.holdoffMaxNs.task).toBeGreaterThan(3e6);
    expect(r.holdoffMaxNs.task).toBeLessThan(100e6);
  });
});
