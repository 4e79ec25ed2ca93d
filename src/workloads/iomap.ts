// User programs that drive the writeback model: sequential writers (fio-like, 1 MiB writes) with
// periodic fsync/COMMIT and end_fsync, sync(2), and a latency probe; plus the file layouts
// (allocation plans, fallocated or written files, pre-dirtied ranges) a scenario starts from.

import { iomap_file_buffered_write } from "../fs/buffered-io.js";
import { type FsCostProfileName, type FsCosts, fsCosts } from "../fs/costs.js";
import { DEVICE_PROFILES, type DeviceProfile } from "../fs/device.js";
import { vfs_fsync_range } from "../fs/filemap.js";
import { FS_CONFIG_DEFAULTS, type FsConfig, FsModel } from "../fs/fs.js";
import { sys_sync } from "../fs/fs-writeback.js";
import { EXT_UNWRITTEN, EXT_WRITTEN, type Extent, type XfsInode } from "../fs/inode.js";
import { balance_dirty_pages } from "../fs/page-writeback.js";
import type { IomapVariant } from "../fs/variant.js";
import { type Ctx, ENTER_KERNEL, type KGen, type Machine, RET_TO_USER, type Task } from "../sim/index.js";

const GIB = 2 ** 30;

/** How a file's blocks are placed on disk (the fragmentation generator). */
export interface FileLayout {
  /** Bytes per physical extent (min; max = extentBytesMax or the same). */
  extentBytes: number;
  extentBytesMax?: number;
  /** Gap between consecutive extents on disk (0 = physically adjacent). */
  gapBytes: number;
  /** First physical block. */
  startBlock?: number;
}

export interface FileSpec {
  name: string;
  /** Capacity of the page-cache arrays (the largest the file gets). */
  bytes: number;
  layout: FileLayout;
  /** empty: a new file (delalloc on write); unwritten: fallocated; written: existing data. */
  initial: "empty" | "unwritten" | "written";
  /** Pre-dirty [0, predirtyBytes) at start without simulating the writes (S2). */
  predirtyBytes?: number;
}

export interface WriterJob {
  file: string;
  /** Bytes to write sequentially from `offsetBytes`. */
  bytes: number;
  offsetBytes?: number;
  /** fsync when the job ends (fio end_fsync). */
  fsync?: boolean;
}

export type TaskSpec =
  | {
      kind: "writer";
      cpu: number;
      jobs: WriterJob[];
      /** Bytes per write(2) call. */
      writeBytes?: number;
      /** fsync (NFS COMMIT) every this many ns of virtual time while writing. */
      fsyncEveryNs?: number;
      startNs?: number;
      comm?: string;
    }
  | { kind: "fsync"; cpu: number; file: string; atNs: number; comm?: string }
  /** NFS COMMIT stream: fsync `file` every `everyNs` while any writer is still writing (nfsd). */
  | { kind: "committer"; cpu: number; file: string; everyNs: number }
  /** nfsd threads serving one client stream of WRITE RPCs and COMMITs (see nfsdThread). */
  | {
      kind: "nfsd";
      cpus: number[];
      file: string;
      bytes: number;
      wsizeBytes: number;
      commitEveryBytes: number;
    }
  | { kind: "sync"; cpu: number; atNs: number }
  /** Latency probe: a fair task that sleeps `periodNs` and records how late it runs. */
  | { kind: "probe"; cpu: number; periodNs: number };

/** A fully resolved fs run (variant and costs as objects). */
export interface FsRunConfig {
  variant: IomapVariant;
  costs: FsCosts;
  device: DeviceProfile;
  fs: Partial<Omit<FsConfig, "variant" | "costs" | "device">>;
  files: FileSpec[];
  tasks: TaskSpec[];
}

export function resolveCosts(profile: FsCostProfileName, over: Partial<FsCosts> = {}): FsCosts {
  return fsCosts(profile, over);
}

export function deviceProfile(name: string, over: Partial<DeviceProfile> = {}): DeviceProfile {
  const p = DEVICE_PROFILES[name];
  if (p === undefined)
    throw new RangeError(
      `device: unknown ${JSON.stringify(name)}; known: ${Object.keys(DEVICE_PROFILES).join(", ")}`,
    );
  return { ...p, ...over };
}

/** Physical extents covering `blocks` file blocks, laid out by `layout` (deterministic from the rng). */
export function planExtents(
  m: Machine,
  name: string,
  blocks: number,
  layout: FileLayout,
  folioPages: number,
): Extent[] {
  const rng = m.rng(`fs.layout.${name}`);
  const out: Extent[] = [];
  const align = (x: number) => Math.max(folioPages, Math.floor(x / folioPages) * folioPages);
  const minB = align(layout.extentBytes / 4096);
  const maxB = align((layout.extentBytesMax ?? layout.extentBytes) / 4096);
  const gap = Math.ceil(layout.gapBytes / 4096);
  let off = 0;
  let pblk = layout.startBlock ?? 1 << 20;
  for (let guard = 0; off < blocks && guard < 10_000_000; guard++) {
    const len = Math.min(blocks - off, maxB > minB ? align(minB + rng.int(maxB - minB + 1)) : minB);
    out.push({ off, len, pblk, state: EXT_WRITTEN });
    off += len;
    pblk += len + gap;
  }
  return out;
}

/** The client's request stream shared by the nfsd threads of one nfsd workload. */
interface NfsStream {
  nextPage: number;
  unstablePages: number;
  commitsPending: number;
  writesDone: boolean;
}

/** The live run: the model, its files and tasks, and whether the workload has finished. */
export class FsRun {
  readonly fs: FsModel;
  readonly files = new Map<string, XfsInode>();
  readonly userTasks: Task[] = [];
  private finishedTasks = 0;
  startNs = 0;
  endNs = -1;

  constructor(
    readonly m: Machine,
    readonly cfg: FsRunConfig,
  ) {
    const fsCfg: FsConfig = {
      ...FS_CONFIG_DEFAULTS,
      ...cfg.fs,
      variant: cfg.variant,
      costs: cfg.costs,
      device: cfg.device,
    };
    this.fs = new FsModel(m, fsCfg);
    const fp = this.fs.folioPages;
    for (const spec of cfg.files) {
      const blocks = Math.ceil(spec.bytes / 4096);
      const plan = planExtents(m, spec.name, blocks, spec.layout, fp);
      const ino = this.fs.createInode(spec.name, spec.bytes, plan);
      if (spec.initial !== "empty") {
        const st = spec.initial === "unwritten" ? EXT_UNWRITTEN : EXT_WRITTEN;
        this.fs.setExtents(
          ino,
          plan.map((e) => ({ ...e, state: st })),
          blocks * 4096,
        );
      }
      if (spec.predirtyBytes !== undefined && spec.predirtyBytes > 0)
        this.fs.predirty(ino, 0, Math.ceil(spec.predirtyBytes / 4096));
      this.files.set(spec.name, ino);
    }
    for (const t of cfg.tasks) this.spawn(t);
    this.startNs = m.now;
  }

  file(name: string): XfsInode {
    const ino = this.files.get(name);
    if (ino === undefined) throw new RangeError(`fs workload: unknown file ${JSON.stringify(name)}`);
    return ino;
  }

  private spawn(t: TaskSpec): void {
    const m = this.m;
    switch (t.kind) {
      case "writer":
        this.user(t.comm ?? "fio", t.cpu, (k) => this.writer(k, t));
        return;
      case "fsync":
        this.user(t.comm ?? "fsync", t.cpu, (k) => this.fsyncAt(k, t.file, t.atNs));
        return;
      case "sync":
        this.user("sync", t.cpu, (k) => this.syncAt(k, t.atNs));
        return;
      case "committer":
        this.user("nfsd", t.cpu, (k) => this.committer(k, t.file, t.everyNs));
        return;
      case "nfsd": {
        const stream: NfsStream = { nextPage: 0, unstablePages: 0, commitsPending: 0, writesDone: false };
        for (const cpu of t.cpus) this.user("nfsd", cpu, (k) => this.nfsdThread(k, t, stream));
        return;
      }
      case "probe":
        m.createTask(`probe/${t.cpu}`, t.cpu, (k) => this.probe(k, t.periodNs), { kthread: false });
        return;
    }
  }

  private user(comm: string, cpu: number, fn: (k: Ctx) => KGen<unknown>): void {
    const self = this;
    const task = this.m.createTask(
      comm,
      cpu,
      function* (k) {
        yield* fn(k);
        self.finishedTasks++;
        if (self.finishedTasks === self.userTasks.length) self.endNs = self.m.now;
        self.fs.onProgress?.();
      },
      { kthread: false },
    );
    this.userTasks.push(task);
  }

  /** Every user task finished and no writeback is left in flight. */
  done(): boolean {
    return this.finishedTasks === this.userTasks.length && this.fs.nrWriteback() === 0 && this.fs.allIdle();
  }

  /** fio-like sequential writer: write(2) calls with dirty throttling; periodic COMMIT; end_fsync. */
  private *writer(k: Ctx, t: Extract<TaskSpec, { kind: "writer" }>): KGen<void> {
    const m = this.m;
    const fs = this.fs;
    this.writersRunning++;
    if ((t.startNs ?? 0) > m.now) yield* m.sleepNs(k, (t.startNs ?? 0) - m.now);
    const perCall = Math.max(1, Math.round((t.writeBytes ?? 2 ** 20) / 4096));
    let nextFsync = t.fsyncEveryNs !== undefined ? m.now + t.fsyncEveryNs : Number.POSITIVE_INFINITY;
    for (const job of t.jobs) {
      const ino = this.file(job.file);
      let page = Math.floor((job.offsetBytes ?? 0) / 4096);
      const endBytes = (job.offsetBytes ?? 0) + job.bytes;
      const end = Math.ceil(endBytes / 4096);
      for (let guard = 0; page < end && guard < 100_000_000; guard++) {
        const n = Math.min(perCall, end - page);
        yield ENTER_KERNEL;
        yield* k.call("xfs_file_buffered_write", iomap_file_buffered_write(fs, k, ino, page, n, endBytes));
        yield* k.call("balance_dirty_pages", balance_dirty_pages(fs, k, n));
        page += n;
        if (m.now >= nextFsync) {
          yield* k.call("vfs_fsync_range", vfs_fsync_range(fs, k, ino));
          nextFsync = m.now + t.fsyncEveryNs!;
        }
        yield RET_TO_USER;
      }
      if (job.fsync) {
        yield ENTER_KERNEL;
        yield* k.call("vfs_fsync_range", vfs_fsync_range(fs, k, ino));
        yield RET_TO_USER;
      }
    }
    this.writersRunning--;
  }

  private writersRunning = 0;

  private *committer(k: Ctx, file: string, everyNs: number): KGen<void> {
    const ino = this.file(file);
    for (let guard = 0; guard < 1_000_000; guard++) {
      yield* this.m.sleepNs(k, everyNs);
      if (this.writersRunning === 0) return;
      yield ENTER_KERNEL;
      yield* k.call("nfsd_commit", vfs_fsync_range(this.fs, k, ino));
      yield RET_TO_USER;
    }
  }

  /**
   * One nfsd thread (fs/nfsd/nfssvc.c nfsd -> svc_process): takes the next RPC of the client's
   * stream. WRITE (nfsd_write -> vfs_iter_write, unstable): a buffered write of wsize bytes at the
   * next offset, with dirty throttling. After every commitEvery unstable bytes the client sends a
   * COMMIT (nfsd_commit -> vfs_fsync_range), which a thread serves while the others keep taking
   * WRITEs; COMMITs overlap one another when one outlasts the next commitEvery bytes, so several
   * threads wait on PG_writeback at once. The last WRITE is followed by a final COMMIT.
   */
  private *nfsdThread(k: Ctx, t: Extract<TaskSpec, { kind: "nfsd" }>, s: NfsStream): KGen<void> {
    const fs = this.fs;
    const ino = this.file(t.file);
    const endBytes = t.bytes;
    const end = Math.ceil(endBytes / 4096);
    const perRpc = Math.max(1, Math.round(t.wsizeBytes / 4096));
    const commitPages = Math.max(1, Math.round(t.commitEveryBytes / 4096));
    this.writersRunning++;
    for (let guard = 0; guard < 100_000_000; guard++) {
      if (s.commitsPending > 0) {
        s.commitsPending--;
        yield ENTER_KERNEL;
        yield* k.call("nfsd_commit", vfs_fsync_range(fs, k, ino));
        yield RET_TO_USER;
        continue;
      }
      if (s.nextPage >= end) break;
      const page = s.nextPage;
      const n = Math.min(perRpc, end - page);
      s.nextPage += n;
      s.unstablePages += n;
      if (s.unstablePages >= commitPages || s.nextPage >= end) {
        s.unstablePages = 0;
        s.commitsPending++;
      }
      yield ENTER_KERNEL;
      yield* k.call("nfsd_write", iomap_file_buffered_write(fs, k, ino, page, n, endBytes));
      yield* k.call("balance_dirty_pages", balance_dirty_pages(fs, k, n));
      yield RET_TO_USER;
    }
    this.writersRunning--;
  }

  private *fsyncAt(k: Ctx, file: string, atNs: number): KGen<void> {
    if (atNs > this.m.now) yield* this.m.sleepNs(k, atNs - this.m.now);
    yield ENTER_KERNEL;
    yield* k.call("vfs_fsync_range", vfs_fsync_range(this.fs, k, this.file(file)));
    yield RET_TO_USER;
  }

  private *syncAt(k: Ctx, atNs: number): KGen<void> {
    if (atNs > this.m.now) yield* this.m.sleepNs(k, atNs - this.m.now);
    yield ENTER_KERNEL;
    yield* k.call("ksys_sync", sys_sync(this.fs, k));
    yield RET_TO_USER;
  }

  /** Latency probe: how late a periodic fair-class task gets to run on this CPU. */
  private *probe(k: Ctx, periodNs: number): KGen<void> {
    const m = this.m;
    for (;;) {
      const due = m.now + periodNs;
      yield* m.sleepNs(k, periodNs);
      this.fs.stats.probeWaitNs.recordValue(Math.max(1, m.now - due));
      yield 2000;
    }
  }
}

export const FS_GIB = GIB;
