// Turning recorded measurements into result records: HDR histograms into latency percentiles and
// CDF points, per-CPU holdoff samples into the holdoff table.
import type { Histogram } from "hdr-histogram-js";
import type { HoldoffCpu, Latency } from "./result.js";

/** Percentiles at which the CDF of a latency is sampled for plots. */
export const CDF_LADDER = [
  0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100,
];

export function latencyFromHistogram(name: string, h: Histogram, percentiles: readonly number[]): Latency {
  const empty = h.totalCount === 0;
  const at = (p: number) => (empty ? 0 : Math.round(h.getValueAtPercentile(p)));
  return {
    name,
    count: h.totalCount,
    minNs: empty ? 0 : Math.round(h.minNonZeroValue),
    meanNs: empty ? 0 : Math.round(h.mean),
    maxNs: empty ? 0 : Math.round(h.maxValue),
    percentiles: percentiles.map((p) => ({ p, valueNs: p === 100 ? at(100) : at(p) })),
    cdf: empty ? [] : CDF_LADDER.map((p) => [at(p), p / 100] as [number, number]),
  };
}

export function holdoffFromHistogram(
  cpu: number,
  context: HoldoffCpu["context"],
  h: Histogram | null | undefined,
  maxNs: number,
  maxAtNs: number,
  thresholdsNs: readonly number[],
  overCounts: readonly number[],
): HoldoffCpu {
  const n = h?.totalCount ?? 0;
  return {
    cpu,
    context,
    count: n,
    maxNs: Math.round(maxNs),
    maxAtNs: Math.round(maxAtNs),
    p50Ns: n > 0 ? Math.min(Math.round(maxNs), Math.round(h!.getValueAtPercentile(50))) : 0,
    p99Ns: n > 0 ? Math.min(Math.round(maxNs), Math.round(h!.getValueAtPercentile(99))) : 0,
    over: thresholdsNs.map((t, i) => ({ thresholdNs: t, count: overCounts[i] ?? 0 })),
  };
}
