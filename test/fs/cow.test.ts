// Reflinked (shared) ranges: writeback maps them through the COW fork (IOMAP_F_SHARED), the ioends
// go to the workqueue and xfs_reflink_end_cow remaps one extent per transaction (spec §1.5, §1.13).
import { describe, expect, it } from "vitest";
import { builtinFsScenario as iomapScenario } from "../../src/cli/scenarios.js";
import { EXT_WRITTEN, XfsInode } from "../../src/fs/inode.js";
import { setupFsScenario } from "../../src/scenario/iomap.js";
import { GIB } from "./helpers.js";

function cowRun(variant: string, failEveryNthBio = 0) {
  const cfg = iomapScenario("iomap-s4", {
    variant,
    fs: { failEveryNthBio },
    files: [
      {
        name: "old",
        bytes: GIB / 4,
        layout: { extentBytes: GIB, gapBytes: 0 },
        initial: "written",
        predirtyBytes: GIB / 4,
      },
    ],
  });
  const { m, run } = setupFsScenario(cfg);
  const ino = run.file("old");
  // blocks [0, 16384) are shared: COW staging extents of 4096 blocks each, elsewhere on disk
  for (let i = 0; i < 4; i++)
    XfsInode.insert(ino.cowFork, {
      off: i * 4096,
      len: 4096,
      pblk: (1 << 26) + i * 8192,
      state: EXT_WRITTEN,
    });
  ino.cowSeq++;
  for (let i = 0; i < 4000 && !run.done(); i++) m.run(m.now + 50e6);
  m.finish();
  return { run, ino };
}

describe("COW writeback", () => {
  it("shared ranges complete through xfs_reflink_end_cow, one transaction per COW extent", () => {
    const { run, ino } = cowRun("5.17");
    expect(run.done()).toBe(true);
    expect(ino.cowRemaps).toBe(4);
    expect(ino.cowFork.length).toBe(0);
    const first = ino.dataFork[XfsInode.find(ino.dataFork, 0)]!;
    expect(first.pblk).toBe(1 << 26);
    expect(run.fs.stats.ioendsQueued).toBeGreaterThanOrEqual(4);
    expect(run.fs.stats.invariantCounts.size).toBe(0);
  });

  it("a failed shared ioend cancels its COW range instead of remapping it", () => {
    const { run, ino } = cowRun("5.17", 1);
    expect(run.done()).toBe(true);
    expect(ino.cowRemaps).toBe(0);
    expect(ino.cowFork.length).toBe(0);
    expect(run.fs.stats.fsyncErrors).toBe(1);
  });
});
