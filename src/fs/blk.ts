// The block layer under iomap writeback: submit_bio and the task's plug (block/blk-core.c), dispatch
// to the device with tag waits and splitting (block/blk-mq.c, block/blk-merge.c), completion in
// hardirq/IPI/BLOCK_SOFTIRQ/task context, and bio_endio with bio_chain_endio (block/bio.c).
import { BLOCK_SOFTIRQ, type Ctx, type KGen, SCHEDULE, TASK_UNINTERRUPTIBLE } from "../sim/index.js";
import { iomap_writepage_end_bio } from "./buffered-io.js";
import type { FsModel } from "./fs.js";
import { type Bio, IOEND_DEVICE_DONE } from "./ioend.js";
import { wb_update_bandwidth } from "./page-writeback.js";
import { xfs_end_bio } from "./xfs_aops.js";

/** A task's block plug (blk_start_plug). */
export interface Plug {
  bios: Bio[];
}

const BLK_STS_IOERR = 10;

/** submit_bio (block/blk-core.c, all versions in scope): into the task's plug (blk-mq); dispatched at the plug limit. */
export function* submit_bio(fs: FsModel, k: Ctx, bio: Bio, plug: Plug): KGen<void> {
  if (fs.m.trace !== null) bio.flow = fs.m.flowStart(k.cpu.id, "bio");
  // bio-based drivers (pmem) do not use the plug: pmem_submit_bio copies at once
  if (fs.dev.p.completion === "task") {
    yield* dispatch(fs, k, bio);
    return;
  }
  plug.bios.push(bio);
  if (plug.bios.length >= fs.v.plugLimit) yield* flushPlug(fs, k, plug);
}

/** blk_flush_plug (block/blk-core.c): dispatch every plugged bio to the device (waiting for tags when full). */
export function* flushPlug(fs: FsModel, k: Ctx, plug: Plug): KGen<void> {
  while (plug.bios.length > 0) {
    const bio = plug.bios.shift()!;
    yield* dispatch(fs, k, bio);
  }
}

/** blk_mq_submit_bio (block/blk-mq.c) -> driver: split into requests, wait for tags, start service. */
function* dispatch(fs: FsModel, k: Ctx, bio: Bio): KGen<void> {
  const dev = fs.dev;
  const bytes = bio.bytes;
  const req = dev.requestsFor(bytes);
  bio.nrRequests = req;
  bio.sectorNow = bio.sector0 + dev.splitAdvanceSectors(bytes);
  while (dev.full(req)) {
    // blk_mq_get_tag -> io_schedule
    fs.tagWaiters.push(k.task);
    k.task.state = TASK_UNINTERRUPTIBLE;
    k.enter("io_schedule");
    yield SCHEDULE;
    k.leave();
  }
  fs.biosDispatched++;
  if (fs.cfg.failEveryNthBio > 0 && fs.biosDispatched % fs.cfg.failEveryNthBio === 0)
    bio.status = BLK_STS_IOERR;
  const s = fs.stats;
  s.bios++;
  s.bvecs += bio.bvecs;
  s.requests += req;
  s.bytesSubmitted += bytes;
  const p = dev.p;
  if (p.completion === "task") {
    // pmem: the copy happens in the submitter, then bio_endio runs synchronously (task context)
    dev.dispatch(fs.m.now, bytes, req);
    yield fs.m.jit(Math.round(bytes / dev.bytesPerNs));
    dev.complete(bytes, req);
    wb_update_bandwidth(fs, bytes);
    yield* bio_endio(fs, k, bio);
    return;
  }
  const doneAt = dev.dispatch(fs.m.now, bytes, req);
  const cpu = p.irqCpu >= 0 ? p.irqCpu : k.cpu.id;
  if (p.completion === "ipi") {
    const submitCpu = k.cpu.id;
    fs.m.raiseIrq(
      cpu === submitCpu ? (cpu + 1) % fs.m.cpus.length : cpu,
      p.irqName,
      (ik) => ipiForward(fs, ik, bio, submitCpu),
      doneAt,
    );
    return;
  }
  fs.m.raiseIrq(cpu, p.irqName, (ik) => blk_mq_complete_request(fs, ik, bio), doneAt);
}

/** blk_mq_complete_request_remote (block/blk-mq.c): complete on the submitting CPU through an IPI. */
function* ipiForward(fs: FsModel, _k: Ctx, bio: Bio, target: number): KGen<void> {
  yield fs.m.jit(fs.c.blkMqCompleteRequestNs);
  fs.m.sendIpi(target, "CAL", (ik) => blk_mq_complete_request(fs, ik, bio));
}

/** nvme_irq/... -> blk_mq_complete_request (block/blk-mq.c): hardirq, or hand off to BLOCK_SOFTIRQ. */
export function* blk_mq_complete_request(fs: FsModel, k: Ctx, bio: Bio): KGen<void> {
  k.enter("blk_mq_complete_request");
  const dev = fs.dev;
  dev.complete(bio.bytes, bio.nrRequests);
  wb_update_bandwidth(fs, bio.bytes);
  for (const t of fs.tagWaiters.splice(0)) fs.m.wakeUpProcess(t);
  if (dev.p.completion === "softirq") {
    yield fs.m.jit(fs.c.blkMqCompleteRequestNs);
    fs.softirqDone[k.cpu.id]!.push(bio);
    fs.m.raiseSoftirq(k.cpu.id, BLOCK_SOFTIRQ);
    k.leave();
    return;
  }
  yield fs.m.jit(fs.c.blkMqCompleteRequestNs * bio.nrRequests);
  yield* bio_endio(fs, k, bio);
  k.leave();
}

/** blk_done_softirq (block/blk-mq.c 5.x..newest): drain this CPU's completion list. */
export function* blk_done_softirq(fs: FsModel, k: Ctx): KGen<void> {
  const list = fs.softirqDone[k.cpu.id]!;
  for (let guard = 0; list.length > 0 && guard < 1_000_000; guard++) {
    const bio = list.shift()!;
    k.enter("blk_done_softirq");
    yield fs.m.jit(fs.c.blkMqCompleteRequestNs * Math.max(0, bio.nrRequests - 1));
    yield* bio_endio(fs, k, bio);
    k.leave();
  }
}

/** bio_endio / bio_chain_endio (block/bio.c, all versions in scope): chained bios drop the ioend's remaining count; the last one runs end_io. */
export function* bio_endio(fs: FsModel, k: Ctx, bio: Bio): KGen<void> {
  if (bio.flow !== 0) fs.m.flowEnd(k.cpu.id, "bio", bio.flow);
  const io = bio.ioend;
  bio.done = true;
  // the bio's bi_sector as its end_io sees it: split, remapped (md raid0), advanced
  bio.sectorNow = fs.dev.completionSector(bio.sector0, bio.pages * 8);
  if (bio.status !== 0) io.status = bio.status;
  io.biosPending--;
  if (io.biosPending > 0) return; // bio_chain_endio
  io.phase = IOEND_DEVICE_DONE;
  io.tDeviceDone = fs.m.now;
  io.doneCpu = k.cpu.id;
  if (io.toWq || (fs.v.errorsToWq && io.status !== 0)) {
    yield* k.call("xfs_end_bio", xfs_end_bio(fs, k, io));
  } else {
    yield* k.call("iomap_writepage_end_bio", iomap_writepage_end_bio(fs, k, io));
  }
}
