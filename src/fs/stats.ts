// Counters and latency histograms of the fs model (the model-provided part of a run's metrics).
import { type Histogram, newHistogram, type Percentiles, percentiles } from "../sim/stats.js";

export class FsStats {
  ioendsBuilt = 0;
  ioendPagesMax = 0;
  ioendFoliosMax = 0;
  ioendBiosMax = 0;
  ioendPagesSum = 0;
  ioendBiosSum = 0;
  bios = 0;
  bvecs = 0;
  requests = 0;
  bytesSubmitted = 0;
  bytesWrittenByUser = 0;
  /** Dirty pages cleaned without I/O (beyond EOF, or holes): should stay 0 in the scenarios. */
  pagesCleanedWithoutIo = 0;
  /** Ioends finished inline in irq/softirq context, and via the xfs-conv workqueue. */
  ioendsInline = 0;
  ioendsQueued = 0;
  /** xfs_end_io executions, merged runs, the longest run (pages), transactions. */
  endIoRuns = 0;
  mergedRuns = 0;
  mergedRunPagesMax = 0;
  mergedRunIoendsMax = 0;
  txns = 0;
  txnsPerEndIoMax = 0;
  /** cond_resched()/might_sleep() calls executed in completion code. */
  completionReschedCalls = 0;
  /** CPU time (ns) charged to completion code per inode (xfs_end_io + inline finish). */
  readonly completionCpuNsByIno = new Map<number, number>();
  /** CPU time charged to submission (writepages) and to the write path. */
  submitCpuNs = 0;
  writeCpuNs = 0;
  /** The longest single completion work item (xfs_end_io) CPU time. */
  endIoCpuNsMax = 0;
  /** xfs_end_io executions that used more than 10 ms of CPU (the 10 ms of workqueue.cpu_intensive_thresh_us, kernel/workqueue.c v6.5+). */
  endIoOver10ms = 0;
  readonly deviceToClearNs: Histogram = newHistogram();
  readonly fsyncNs: Histogram = newHistogram();
  readonly probeWaitNs: Histogram = newHistogram();
  fsyncErrors = 0;
  /** Page wait-queue entries walked by folio_wake_bit (waiters of the woken folio and of others in its head). */
  waitqueueEntriesWalked = 0;
  /** Invariant findings by kind (counted even past the report cap). */
  readonly invariantCounts = new Map<string, number>();

  /** The longest single inline completion (iomap_finish_ioend from bio end_io) per context (ns). */
  readonly inlineCompletionMaxNs: Record<string, number> = { task: 0, softirq: 0, hardirq: 0 };

  noteInline(ctx: string, ns: number): void {
    if (ns > (this.inlineCompletionMaxNs[ctx] ?? 0)) this.inlineCompletionMaxNs[ctx] = ns;
  }

  addCompletionCpu(ino: number, ns: number): void {
    this.completionCpuNsByIno.set(ino, (this.completionCpuNsByIno.get(ino) ?? 0) + ns);
  }

  summary(): FsStatsSummary {
    return {
      ioendsBuilt: this.ioendsBuilt,
      ioendPagesMax: this.ioendPagesMax,
      ioendPagesMean: this.ioendsBuilt > 0 ? Math.round(this.ioendPagesSum / this.ioendsBuilt) : 0,
      ioendFoliosMax: this.ioendFoliosMax,
      ioendBiosMax: this.ioendBiosMax,
      ioendBiosMean: this.ioendsBuilt > 0 ? +(this.ioendBiosSum / this.ioendsBuilt).toFixed(2) : 0,
      bios: this.bios,
      bvecs: this.bvecs,
      requests: this.requests,
      bytesSubmitted: this.bytesSubmitted,
      bytesWrittenByUser: this.bytesWrittenByUser,
      pagesCleanedWithoutIo: this.pagesCleanedWithoutIo,
      ioendsInline: this.ioendsInline,
      ioendsQueued: this.ioendsQueued,
      inlineCompletionMaxNs: { ...this.inlineCompletionMaxNs },
      endIoRuns: this.endIoRuns,
      mergedRuns: this.mergedRuns,
      mergedRunPagesMax: this.mergedRunPagesMax,
      mergedRunIoendsMax: this.mergedRunIoendsMax,
      txns: this.txns,
      txnsPerEndIoMax: this.txnsPerEndIoMax,
      completionReschedCalls: this.completionReschedCalls,
      completionCpuNsByIno: Object.fromEntries(
        [...this.completionCpuNsByIno.entries()].sort((a, b) => a[0] - b[0]),
      ),
      endIoCpuNsMax: this.endIoCpuNsMax,
      endIoOver10ms: this.endIoOver10ms,
      submitCpuNs: this.submitCpuNs,
      writeCpuNs: this.writeCpuNs,
      deviceToClearNs: percentiles(this.deviceToClearNs),
      fsyncNs: percentiles(this.fsyncNs),
      probeWaitNs: percentiles(this.probeWaitNs),
      fsyncErrors: this.fsyncErrors,
      waitqueueEntriesWalked: this.waitqueueEntriesWalked,
      invariantCounts: Object.fromEntries([...this.invariantCounts.entries()].sort()),
    };
  }
}

export interface FsStatsSummary {
  ioendsBuilt: number;
  ioendPagesMax: number;
  ioendPagesMean: number;
  ioendFoliosMax: number;
  ioendBiosMax: number;
  ioendBiosMean: number;
  bios: number;
  bvecs: number;
  requests: number;
  bytesSubmitted: number;
  bytesWrittenByUser: number;
  pagesCleanedWithoutIo: number;
  ioendsInline: number;
  ioendsQueued: number;
  inlineCompletionMaxNs: Record<string, number>;
  endIoRuns: number;
  mergedRuns: number;
  mergedRunPagesMax: number;
  mergedRunIoendsMax: number;
  txns: number;
  txnsPerEndIoMax: number;
  completionReschedCalls: number;
  completionCpuNsByIno: Record<string, number>;
  endIoCpuNsMax: number;
  endIoOver10ms: number;
  submitCpuNs: number;
  writeCpuNs: number;
  deviceToClearNs: Percentiles;
  fsyncNs: Percentiles;
  probeWaitNs: Percentiles;
  fsyncErrors: number;
  waitqueueEntriesWalked: number;
  invariantCounts: Record<string, number>;
}
