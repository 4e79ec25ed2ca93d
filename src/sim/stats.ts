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

/** Holdoff samples of one CPU, split by the context that held the CPU off. */
export class HoldoffRecord {
  readonly hist: (Histogram | null)[] = [null, null, null];
  readonly maxNs = [0, 0, 0];
  /** Time at which the longest holdoff ended, per context. */
  readonly maxAt = [0, 0, 0];

  record(kind: number, ns: number, at: number): void {
    let h = this.hist[kind];
    if (h === null || h === undefined) h = this.hist[kind] = newHistogram();
    h.recordValue(Math.max(1, Math.round(ns)));
    if (ns > this.maxNs[kind]!) {
      this.maxNs[kind] = ns;
      this.maxAt[kind] = at;
    }
  }
}
