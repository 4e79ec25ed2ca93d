// Plots as SVG, rendered by vega-lite + vega without a browser: latency distributions, holdoff over
// time, variants side by side, and scaling curves from sweeps.
import * as vega from "vega";
import * as vl from "vega-lite";
import type { RunResult } from "./result.js";

type Spec = vl.TopLevelSpec;

const WIDTH = 560;
const HEIGHT = 260;

/** Renders a vega-lite spec to an SVG string. */
export async function renderSvg(spec: Spec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = (title: string): Partial<Spec> => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  title,
  width: WIDTH,
  height: HEIGHT,
  background: "white",
  config: { font: "sans-serif" },
});

const label = (r: RunResult) => `${r.kernel.variant} seed ${r.scenario.seed}`;

/** Latency CDFs (one line per result and latency name), log-scaled time axis. */
export function latencySpec(results: readonly RunResult[]): Spec | undefined {
  const values: { series: string; ns: number; fraction: number }[] = [];
  for (const r of results) {
    for (const l of r.latency) {
      for (const [v, fraction] of l.cdf)
        values.push({ series: `${label(r)}: ${l.name}`, ns: Math.max(1, v), fraction });
    }
  }
  if (values.length === 0) return undefined;
  return {
    ...base("Latency distribution (cumulative)"),
    data: { values },
    mark: { type: "line", interpolate: "step-after", point: false },
    encoding: {
      x: { field: "ns", type: "quantitative", scale: { type: "log" }, title: "latency (ns)" },
      y: { field: "fraction", type: "quantitative", title: "fraction of samples ≤ x" },
      color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } },
    },
  } as Spec;
}

/** Longest holdoff per time bucket, one line per CPU (and per result when several). */
export function holdoffTimelineSpec(results: readonly RunResult[]): Spec | undefined {
  const values: { series: string; tS: number; holdoffMs: number }[] = [];
  for (const r of results) {
    const { bucketNs, maxNs } = r.holdoff.timeline;
    maxNs.forEach((row, cpu) => {
      row.forEach((v, i) => {
        values.push({
          series: results.length > 1 ? `${label(r)} CPU${cpu}` : `CPU${cpu}`,
          tS: ((i + 1) * bucketNs) / 1e9,
          holdoffMs: v / 1e6,
        });
      });
    });
  }
  if (values.every((v) => v.holdoffMs === 0)) return undefined;
  return {
    ...base("Scheduler holdoff over time"),
    data: { values },
    mark: { type: "line", interpolate: "step-before" },
    encoding: {
      x: { field: "tS", type: "quantitative", title: "virtual time (s)" },
      y: { field: "holdoffMs", type: "quantitative", title: "longest holdoff in bucket (ms)" },
      color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } },
    },
  } as Spec;
}

/** Variants side by side: each throughput, the longest holdoff and the finding count. */
export function variantsSpec(results: readonly RunResult[]): Spec | undefined {
  if (results.length < 2) return undefined;
  const values: { variant: string; metric: string; value: number }[] = [];
  for (const r of results) {
    for (const t of r.throughput)
      values.push({ variant: r.kernel.variant, metric: `${t.name} (${t.unit})`, value: t.value });
    const hold = r.holdoff.perCpu.reduce((m, h) => Math.max(m, h.maxNs), 0);
    if (results.some((x) => x.holdoff.perCpu.some((h) => h.maxNs > 0)))
      values.push({ variant: r.kernel.variant, metric: "longest holdoff (ms)", value: hold / 1e6 });
    values.push({ variant: r.kernel.variant, metric: "findings", value: r.findings.length });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Variants side by side",
    background: "white",
    data: { values },
    facet: { column: { field: "metric", type: "nominal", title: null } },
    spec: {
      width: 160,
      height: 200,
      mark: "bar",
      encoding: {
        x: { field: "variant", type: "nominal", title: null, sort: null },
        y: { field: "value", type: "quantitative", title: null },
        color: { field: "variant", type: "nominal", legend: null, sort: null },
      },
    },
    resolve: { scale: { y: "independent" } },
  } as Spec;
}

export interface ScalingPoint {
  series: string;
  /** A number (scaling curve) or a category (bars), e.g. a preemption model. */
  x: number | string;
  y: number;
}

/**
 * A metric against a swept parameter, one line (numeric parameter) or one bar group (categorical, e.g.
 * preemption model) per series, mean over seeds.
 */
export function scalingSpec(
  points: readonly ScalingPoint[],
  xTitle: string,
  yTitle: string,
): Spec | undefined {
  if (points.length === 0) return undefined;
  const numeric = points.every((p) => typeof p.x === "number");
  const color = { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } };
  const y = { field: "y", type: "quantitative", title: yTitle, aggregate: "mean" };
  return {
    ...base(`${yTitle} against ${xTitle}`),
    data: { values: [...points] },
    ...(numeric
      ? {
          mark: { type: "line", point: true },
          encoding: { x: { field: "x", type: "quantitative", title: xTitle }, y, color },
        }
      : {
          mark: "bar",
          encoding: {
            x: { field: "x", type: "nominal", title: xTitle, sort: null },
            xOffset: { field: "series", sort: null },
            y,
            color,
          },
        }),
  } as Spec;
}

export interface Plot {
  /** File name stem, e.g. "latency". */
  name: string;
  title: string;
  svg: string;
}

/** The standard plots for a set of results of one scenario (one run, or a comparison). */
export async function standardPlots(results: readonly RunResult[]): Promise<Plot[]> {
  const specs: [string, string, Spec | undefined][] = [
    ["variants", "Variants side by side", variantsSpec(results)],
    ["latency", "Latency distribution", latencySpec(results)],
    ["holdoff", "Scheduler holdoff over time", holdoffTimelineSpec(results)],
  ];
  const plots: Plot[] = [];
  for (const [name, title, spec] of specs) if (spec) plots.push({ name, title, svg: await renderSvg(spec) });
  return plots;
}
