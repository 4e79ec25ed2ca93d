// Histograms (HDR) and the per-CPU scheduler-holdoff record.
import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

/** An HDR histogram of non-negative integers (ns), 3 significant digits, auto-resizing. */
export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function percentiles(h: Histogram): Percentiles {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    mean: Math.round(h.mean),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** Distinct values a HoldoffRecord gathers per context before it adds them to the histogram. */
const PENDING_MAX = 4096;

/**
 * Holdoff samples of one CPU, split by the context that held the CPU off. A sample is counted per
 * distinct value first (against about 130 ns for an HDR recordValue(): its bucket index takes a log2
 * and two pows) and added to the histogram with recordValueWithCount() when `hist` is read or
 * PENDING_MAX distinct values wait: an HDR histogram's state (counts, min, max, total, size after
 * auto-resizing) does not depend on the order of its samples, so `hist` is the histogram that
 * recording each sample at once gives. The count of the last value per context is kept apart from
 * the Map (a run of equal samples costs a compare each instead of a Map get and set: 99.99 % of
 * `pingpong`'s 600,517 samples repeat the one before, 88 % of `resource`'s, all but 16 of
 * `kernel-lockstorm16`'s) and goes into the Map when another value comes or the histogram is read.
 */
export class HoldoffRecord {
  private readonly hists: (Histogram | null)[] = [null, null, null];
  private readonly pending: Map<number, number>[] = [new Map(), new Map(), new Map()];
  /** The last value recorded per context (0: none) and how many times in a row it came. */
  private readonly lastV = [0, 0, 0];
  private readonly lastN = [0, 0, 0];
  readonly maxNs = [0, 0, 0];
  /** Time at which the longest holdoff ended, per context. */
  readonly maxAt = [0, 0, 0];

  /** The holdoff histogram per context kind (null: no sample of that kind). */
  get hist(): (Histogram | null)[] {
    for (let kind = 0; kind < 3; kind++) this.flush(kind);
    return this.hists;
  }

  record(kind: number, ns: number, at: number): void {
    const v = Math.max(1, Math.round(ns));
    if (this.lastV[kind] === v) this.lastN[kind]!++;
    else {
      this.spill(kind);
      this.lastV[kind] = v;
      this.lastN[kind] = 1;
    }
    if (ns > this.maxNs[kind]!) {
      this.maxNs[kind] = ns;
      this.maxAt[kind] = at;
    }
  }

  /** The last value's run into the Map (and the Map into the histogram when it is full). */
  private spill(kind: number): void {
    const n = this.lastN[kind]!;
    if (n === 0) return;
    const v = this.lastV[kind]!;
    this.lastV[kind] = 0;
    this.lastN[kind] = 0;
    const p = this.pending[kind]!;
    p.set(v, (p.get(v) ?? 0) + n);
    if (p.size >= PENDING_MAX) this.flush(kind);
  }

  private flush(kind: number): void {
    this.spill(kind);
    const p = this.pending[kind]!;
    if (p.size === 0) return;
    let h = this.hists[kind];
    if (h === null || h === undefined) h = this.hists[kind] = newHistogram();
    for (const [v, n] of p) h.recordValueWithCount(v, n);
    p.clear();
  }
}
