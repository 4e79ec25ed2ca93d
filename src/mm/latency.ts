// A cheap latency recorder for the fault hot path: log-linear buckets (128 per power of two, so
// under 1 % relative error) in a typed array, turned into an HDR histogram when the run ends.
import { type Histogram, newHistogram } from "../sim/stats.js";

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;

const NO_COUNTS = new Float64Array(0);

export class LatencyRecorder {
  /** Allocated at the first record (explore runs build a model per schedule and record nothing). */
  counts: Float64Array = NO_COUNTS;
  total = 0;

  record(ns: number): void {
    if (this.total === 0) this.counts = new Float64Array(33 * SUB);
    let v = ns >= 1 ? Math.min(Math.round(ns), 0xffffffff) >>> 0 : 1;
    const e = 31 - Math.clz32(v);
    let i: number;
    if (e < SUB_BITS) i = v;
    else {
      v = (v >>> (e - SUB_BITS)) & (SUB - 1);
      i = (e - SUB_BITS + 1) * SUB + v;
    }
    this.counts[i]++;
    this.total++;
  }

  /** The lowest value of bucket i. */
  static bucketValue(i: number): number {
    if (i < SUB) return i;
    const e = ((i / SUB) | 0) + SUB_BITS - 1;
    const sub = i % SUB;
    return (SUB + sub) * 2 ** (e - SUB_BITS);
  }

  /** The recorded values as an HDR histogram (each at its bucket's midpoint). */
  toHistogram(h: Histogram = newHistogram()): Histogram {
    const c = this.counts;
    for (let i = 0; i < c.length; i++) {
      const n = c[i]!;
      if (n === 0) continue;
      const lo = LatencyRecorder.bucketValue(i);
      const hi = LatencyRecorder.bucketValue(i + 1);
      h.recordValueWithCount(Math.max(1, Math.round((lo + hi - 1) / 2)), n);
    }
    return h;
  }
}
