// Block devices as a FIFO bandwidth server with a fixed latency, a request-count queue depth and a
// completion context (block/blk-mq.c blk_mq_complete_request_remote: hardirq, BLOCK_SOFTIRQ for single-queue devices, IPI, or the submitter for pmem). Bios are split into requests of max_sectors_kb only as a
// count (blk_mq_complete_request costs, and the bi_sector advance that splitting causes).

export type CompletionContext = "hardirq" | "softirq" | "ipi" | "task";

export interface DeviceProfile {
  name: string;
  /** Sequential bandwidth, bytes per second. */
  bandwidthBps: number;
  /** Service latency per bio (ns) on top of the transfer time. */
  latencyNs: number;
  /** max_sectors_kb in bytes (request size). */
  maxSectorsBytes: number;
  /** Requests in flight before submitters wait for tags. */
  queueDepth: number;
  completion: CompletionContext;
  /** CPU taking the completion interrupt; -1 = the submitting CPU (per-CPU NVMe queues). */
  irqCpu: number;
  /** Interrupt name in traces (e.g. "nvme0q1", "virtio0-requests"). */
  irqName: string;
  /** md RAID0 over `disks` members with `chunkBytes` chunks (drivers/md/raid0.c), or absent. */
  raid0?: { disks: number; chunkBytes: number };
}

/** mdadm's default chunk size since mdadm 3.1 (2009): 512 KiB. */
export const MD_DEFAULT_CHUNK_BYTES = 512 * 1024;

const MB = 1e6;
const KIB = 1024;

/** Device profiles (vendor figures where named; latencies are estimates). */
export const DEVICE_PROFILES: Record<string, DeviceProfile> = {
  /** NVMe PCIe 3.0, ~2 GB/s sequential write; per-CPU queues (hardirq on the submitter). */
  "nvme-pcie3": {
    name: "nvme-pcie3",
    bandwidthBps: 2000 * MB,
    latencyNs: 20_000,
    maxSectorsBytes: 512 * KIB,
    queueDepth: 1024,
    completion: "hardirq",
    irqCpu: -1,
    irqName: "nvme0q1",
  },
  /** 4 x NVMe PCIe3 md RAID0, 7.5-8 GB/s buffered (Wang). */
  "nvme-raid0x4": {
    name: "nvme-raid0x4",
    bandwidthBps: 8000 * MB,
    latencyNs: 20_000,
    maxSectorsBytes: 512 * KIB,
    queueDepth: 4096,
    completion: "hardirq",
    irqCpu: -1,
    irqName: "nvme0q1",
    raid0: { disks: 4, chunkBytes: MD_DEFAULT_CHUNK_BYTES },
  },
  /** md RAID0 of 4 cloud disks at 250 MB/s, 1-2 ms (Azure P40/P50-like); one interrupt CPU. */
  "cloud-raid0x4": {
    name: "cloud-raid0x4",
    bandwidthBps: 1000 * MB,
    latencyNs: 1_500_000,
    maxSectorsBytes: 1024 * KIB,
    queueDepth: 512,
    completion: "hardirq",
    irqCpu: 2,
    irqName: "hv_storvsc",
    raid0: { disks: 4, chunkBytes: MD_DEFAULT_CHUNK_BYTES },
  },
  /** AWS EBS gp3 provisioned to 1000 MiB/s, ms-scale latency. */
  "ebs-gp3": {
    name: "ebs-gp3",
    bandwidthBps: 1000 * 1024 * 1024,
    latencyNs: 1_000_000,
    maxSectorsBytes: 512 * KIB,
    queueDepth: 256,
    completion: "hardirq",
    irqCpu: 2,
    irqName: "nvme1q2",
  },
  /** SATA SSD behind a single-queue HBA: completions through BLOCK_SOFTIRQ. */
  "sata-ssd": {
    name: "sata-ssd",
    bandwidthBps: 500 * MB,
    latencyNs: 80_000,
    maxSectorsBytes: 1024 * KIB,
    queueDepth: 32,
    completion: "softirq",
    irqCpu: 1,
    irqName: "ahci",
  },
  /** HDD: 200 MB/s sequential. */
  hdd: {
    name: "hdd",
    bandwidthBps: 200 * MB,
    latencyNs: 5_000_000,
    maxSectorsBytes: 1024 * KIB,
    queueDepth: 32,
    completion: "softirq",
    irqCpu: 1,
    irqName: "ahci",
  },
  /** pmem: synchronous, completion in the submitter's task context. [Mikulas Patocka 2020, <alpine.LRH.2.02.2008311513150.7870@file01.intranet.prod.int.rdu2.redhat.com>] */
  pmem: {
    name: "pmem",
    bandwidthBps: 2000 * MB,
    latencyNs: 0,
    maxSectorsBytes: 2147483647 * KIB,
    queueDepth: 1 << 30,
    completion: "task",
    irqCpu: -1,
    irqName: "pmem",
  },
};

export class BlockDevice {
  busyUntilNs = 0;
  inflightRequests = 0;
  bytesWritten = 0;
  biosCompleted = 0;
  requestsCompleted = 0;
  busyNs = 0;
  readonly bytesPerNs: number;

  constructor(readonly p: DeviceProfile) {
    if (!(p.bandwidthBps > 0)) throw new RangeError(`device ${p.name}: bandwidth must be > 0`);
    if (!(p.maxSectorsBytes >= 4096)) throw new RangeError(`device ${p.name}: max_sectors must be >= 4 KiB`);
    this.bytesPerNs = p.bandwidthBps / 1e9;
  }

  /** Requests a bio of `bytes` is split into (blk_queue_split / bio_split_to_limits). */
  requestsFor(bytes: number): number {
    return Math.max(1, Math.ceil(bytes / this.p.maxSectorsBytes));
  }

  /** Sectors the original bio's bi_sector advances by when it is split (all but the last piece). */
  splitAdvanceSectors(bytes: number): number {
    const n = this.requestsFor(bytes);
    return n <= 1 ? 0 : ((n - 1) * this.p.maxSectorsBytes) / 512;
  }

  /**
   * bi_iter.bi_sector of a bio submitted at `sector` with `sectors` sectors when its bi_end_io runs.
   * Splitting (blk_queue_split, and md raid0 at chunk boundaries) submits the split-off fronts as new
   * bios and keeps the original struct as the last piece; md raid0 (raid0_make_request, 4.x-5.13,
   * before md_account_bio cloned the bio in 5.14) remaps that piece to its member disk; completion's
   * bio_advance (blk_update_request -> req_bio_endio) moves it past the piece. Without md that is the
   * bio's end sector.
   */
  completionSector(sector: number, sectors: number): number {
    const r = this.p.raid0;
    const end = sector + sectors;
    if (r === undefined) return end;
    const chunk = r.chunkBytes / 512;
    const lastChunk = Math.floor((end - 1) / chunk);
    const pieceStart = Math.max(sector, lastChunk * chunk);
    // raid0 with equal members: one zone; chunk c lives on disk c % disks, stripe floor(c / disks)
    const memberStart = Math.floor(lastChunk / r.disks) * chunk + (pieceStart - lastChunk * chunk);
    return memberStart + (end - pieceStart);
  }

  /** Would dispatching `requests` more exceed the queue depth? (an empty queue always accepts) */
  full(requests: number): boolean {
    return this.inflightRequests > 0 && this.inflightRequests + requests > this.p.queueDepth;
  }

  /** Start service of `bytes` at `now`; returns the completion time. */
  dispatch(now: number, bytes: number, requests: number): number {
    const start = Math.max(now, this.busyUntilNs);
    const xfer = bytes / this.bytesPerNs;
    this.busyUntilNs = start + xfer;
    this.busyNs += xfer;
    this.inflightRequests += requests;
    return Math.ceil(this.busyUntilNs + this.p.latencyNs);
  }

  complete(bytes: number, requests: number): void {
    this.inflightRequests -= requests;
    this.bytesWritten += bytes;
    this.biosCompleted++;
    this.requestsCompleted += requests;
  }
}
