// Invariants of spec §6.5 and the rules they rest on, plus determinism and scale.
import { describe, expect, it } from "vitest";
import { builtinFsScenario as iomapScenario } from "../../src/cli/scenarios.js";
import { BlockDevice, DEVICE_PROFILES } from "../../src/fs/device.js";
import { EXT_UNWRITTEN, EXT_WRITTEN, IOMAP_MAPPED, XfsInode } from "../../src/fs/inode.js";
import { Bio, Ioend, ioendCanMerge } from "../../src/fs/ioend.js";
import { PageCache, PG_DIRTY, PG_WRITEBACK } from "../../src/fs/pagecache.js";
import { iomapVariant } from "../../src/kernels/iomap.js";
import { runFsScenario, setupFsScenario } from "../../src/scenario/iomap.js";
import { Rng } from "../../src/sim/prng.js";
import { smallS2 } from "./helpers.js";

function ioend(id: number, offset: number, pages: number, sector: number, sectorNow = sector): Ioend {
  const ino = new XfsInode(1, "f", new PageCache(1024, 1, 1, new Rng(1)), [], false);
  const io = new Ioend(id, ino, offset, sector, IOMAP_MAPPED, false);
  const b = new Bio(io, sector, offset, false);
  b.sectorNow = sectorNow;
  io.bios.push(b);
  io.pages = pages;
  return io;
}

describe("merge rule (invariant 4)", () => {
  it("5.16 merges logically contiguous ioends whatever their sectors", () => {
    expect(ioendCanMerge(iomapVariant("5.16"), ioend(1, 0, 8, 0), 8, ioend(2, 8, 8, 4096))).toBe(true);
  });
  it("5.17 requires physical contiguity by io_sector", () => {
    const v = iomapVariant("5.17");
    expect(ioendCanMerge(v, ioend(1, 0, 8, 0), 8, ioend(2, 8, 8, 64))).toBe(true);
    expect(ioendCanMerge(v, ioend(1, 0, 8, 0), 8, ioend(2, 8, 8, 96))).toBe(false);
    expect(ioendCanMerge(v, ioend(1, 0, 8, 0), 8, ioend(2, 9, 8, 72))).toBe(false);
  });
  it("dave-v1 reads the split-advanced bio sector: it can merge discontiguous ioends", () => {
    const v = iomapVariant("dave-v1");
    // a's inline bio was split: bi_sector advanced by 32; b sits 32 sectors after a's end
    const a = ioend(1, 0, 8, 0, 32);
    const b = ioend(2, 8, 8, 96, 96);
    expect(ioendCanMerge(v, a, 8, b)).toBe(true);
    expect(ioendCanMerge(iomapVariant("5.17"), a, 8, b)).toBe(false);
  });
});

describe("page cache and bios", () => {
  it("physical runs decide bvecs; fully fragmented memory gives one run per folio", () => {
    const frag = new PageCache(1000, 1, 1, new Rng(1));
    expect(frag.nrRuns).toBe(1000);
    expect(frag.runOf(517)).toBe(517);
    const contig = new PageCache(100_000, 1, 256, new Rng(2));
    expect(contig.nrRuns).toBeGreaterThan(100);
    expect(contig.nrRuns).toBeLessThan(1000);
    for (let f = 0; f < 100_000; f += 997) {
      const r = contig.runOf(f);
      expect(contig.runFirst(r)).toBeLessThanOrEqual(f);
      expect(contig.runFirst(r + 1)).toBeGreaterThan(f);
    }
  });

  it("start/end writeback count ownership violations (invariant 1)", () => {
    const pc = new PageCache(64, 1, 1, new Rng(3));
    pc.dirtyRange(0, 32);
    expect(pc.nrDirty).toBe(32);
    expect(pc.startWriteback(0, 16)).toBe(0);
    expect(pc.startWriteback(8, 16)).toBe(8); // already under writeback
    expect(pc.flags[0]! & PG_DIRTY).toBe(0);
    expect(pc.flags[0]! & PG_WRITEBACK).toBe(PG_WRITEBACK);
    expect(pc.endWriteback(0, 20, false)).toBe(4); // 16..19 were not under writeback
  });

  it("a split bio's bi_sector advances by all but the last piece", () => {
    const d = new BlockDevice(DEVICE_PROFILES["nvme-pcie3"]!);
    expect(d.requestsFor(2 * 2 ** 20)).toBe(4);
    expect(d.splitAdvanceSectors(2 * 2 ** 20)).toBe((3 * 512 * 1024) / 512);
    expect(d.splitAdvanceSectors(4096)).toBe(0);
  });
});

describe("extents", () => {
  it("unwritten conversion: one transaction per unwritten record, records merge after", () => {
    const ino = new XfsInode(1, "f", new PageCache(100, 1, 1, new Rng(1)), [], false);
    XfsInode.insert(ino.dataFork, { off: 0, len: 10, pblk: 100, state: EXT_UNWRITTEN });
    XfsInode.insert(ino.dataFork, { off: 10, len: 10, pblk: 500, state: EXT_UNWRITTEN });
    expect(ino.convertUnwritten(0, 20)).toBe(2);
    expect(ino.dataFork.every((e) => e.state === EXT_WRITTEN)).toBe(true);
    expect(ino.dataFork.length).toBe(2); // not physically adjacent
  });
});

describe("errors (invariant 7)", () => {
  it("a failed ioend sets the mapping error, fsync returns it once, no conversion for failed ranges", () => {
    const cfg = iomapScenario("iomap-s2", {
      variant: "5.17",
      fs: { failEveryNthBio: 5 },
      files: [
        {
          name: "frag",
          bytes: 8 * 8192 * 4096,
          layout: { extentBytes: 8192 * 4096, gapBytes: 2 ** 20 },
          initial: "unwritten",
          predirtyBytes: 8 * 8192 * 4096,
        },
      ],
    });
    const { m, run } = setupFsScenario(cfg);
    for (let i = 0; i < 2000 && !run.done(); i++) m.run(m.now + 50e6);
    m.finish();
    expect(run.done()).toBe(true);
    expect(run.fs.stats.fsyncErrors).toBe(1);
    const ino = run.file("frag");
    expect(ino.dataFork.some((e) => e.state === EXT_UNWRITTEN)).toBe(true);
    expect(ino.dataFork.some((e) => e.state === EXT_WRITTEN)).toBe(true);
    expect(ino.pc.nrWriteback).toBe(0);
    expect(run.fs.stats.invariantCounts.size).toBe(0);
  });
});

describe("i_disk_size (invariant 2) and work items (invariant 8)", () => {
  it("after an appending write + fsync, i_disk_size == i_size and every ioend went through the wq", () => {
    const cfg = iomapScenario("iomap-s3", {
      fs: { endIoDelayNs: 0 },
      files: [{ name: "a", bytes: 1e9, layout: { extentBytes: 2 ** 30, gapBytes: 0 }, initial: "empty" }],
      tasks: [{ kind: "writer", cpu: 0, jobs: [{ file: "a", bytes: 1e9, fsync: true }] }],
    });
    const { m, run } = setupFsScenario(cfg);
    for (let i = 0; i < 2000 && !run.done(); i++) m.run(m.now + 50e6);
    const ino = run.file("a");
    expect(ino.diskSize).toBe(ino.size);
    expect(ino.size).toBe(1e9);
    expect(run.fs.stats.ioendsQueued).toBe(run.fs.stats.ioendsBuilt);
    expect(ino.ioendList.length).toBe(0);
    expect(ino.work!.pending).toBe(false);
  });
});

describe("determinism and scale", () => {
  it("the same scenario and seed give the same JSON", () => {
    const a = JSON.stringify(smallS2("5.17", 4, 8192));
    const b = JSON.stringify(smallS2("5.17", 4, 8192));
    expect(a).toBe(b);
  });

  it("S2 (5.2 M pages) costs well under one event per 20 pages", () => {
    const r = runFsScenario(iomapScenario("iomap-s2", { variant: "5.17", costProfile: "default" }));
    expect(r.events).toBeLessThan(5_242_800 / 20);
  });
});

describe("the model finds dave-v1's merge bug (fast-check counterexample)", () => {
  it("merging by the split-advanced bi_sector glues physically discontiguous ioends", () => {
    const MIB = 2 ** 20;
    const bytes = 68 * MIB + 1234;
    const r = runFsScenario(
      iomapScenario("iomap-s3", {
        variant: "dave-v1",
        machine: { cpus: 4, preempt: "none" },
        fs: {
          physRunBytes: 64 * 1024,
          endIoDelayNs: 50e6,
          memBytes: 512 * MIB,
          dirtyBackgroundRatio: 10,
          dirtyRatio: 20,
        },
        files: [
          {
            name: "f0",
            bytes,
            layout: { extentBytes: 3 * MIB, gapBytes: MIB, startBlock: 1 << 22 },
            initial: "empty",
          },
        ],
        tasks: [
          { kind: "writer", cpu: 0, jobs: [{ file: "f0", bytes, fsync: true }], writeBytes: 256 * 1024 },
        ],
      }),
    );
    expect(r.fs.invariantCounts.merge_physical).toBeGreaterThanOrEqual(1);
    expect(r.findings.some((f) => f.kind === "fs:merge_physical")).toBe(true);
  });
});

describe("what breaks if the folio lock goes (write_cache_pages:folio_lock)", () => {
  it("the flusher and an NFS COMMIT submit the same folios twice: writeback-ownership findings", () => {
    const GB = 1e9;
    const cfg = (disable: string[]) =>
      iomapScenario("iomap-s1", {
        variant: "5.17",
        costProfile: "default",
        disableLockSites: disable,
        files: [
          {
            name: "data",
            bytes: 8 * GB,
            layout: { extentBytes: 2 ** 30, gapBytes: 2 ** 26 },
            initial: "empty",
          },
        ],
        tasks: [
          { kind: "writer", cpu: 3, comm: "fio", jobs: [{ file: "data", bytes: 8 * GB, fsync: true }] },
          { kind: "committer", cpu: 4, file: "data", everyNs: 1e9 },
        ],
        fs: { memBytes: 8 * 2 ** 30 },
      });
    const ok = runFsScenario(cfg([]));
    expect(ok.fs.invariantCounts).toEqual({});
    const broken = runFsScenario(cfg(["write_cache_pages:folio_lock"]));
    expect(broken.fs.invariantCounts.writeback_ownership).toBeGreaterThan(0);
    expect(broken.findings.some((f) => f.kind === "fs:writeback_ownership")).toBe(true);
  });
});
