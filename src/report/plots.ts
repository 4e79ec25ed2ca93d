// Plots as SVG, rendered by vega-lite + vega without a browser: latency distributions, holdoff over
// time, variants side by side, and scaling curves from sweeps.
import type * as vl from "vega-lite";
import type { RunResult } from "./result.js";

type Spec = vl.TopLevelSpec;

const WIDTH = 560;
const HEIGHT = 260;

/** Renders a vega-lite spec to an SVG string. vega and vega-lite are loaded on first use: they take
 * about half of the CLI's start-up time, and only reports draw plots. */
export async function renderSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
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

/** A time unit for values up to `maxNs`: the axis reads 12.5 ms, not 12,500,000. */
export function timeUnit(maxNs: number): { div: number; unit: string } {
  if (maxNs >= 1e9) return { div: 1e9, unit: "s" };
  if (maxNs >= 1e6) return { div: 1e6, unit: "ms" };
  if (maxNs >= 1e3) return { div: 1e3, unit: "µs" };
  return { div: 1, unit: "ns" };
}

/** Line styles for series that may overlap: colour and dash both differ. */
const DASHES = [
  [1, 0],
  [6, 3],
  [2, 2],
  [8, 3, 2, 3],
  [1, 3],
  [12, 4],
];
const styleBy = (field: string) => ({
  color: { field, type: "nominal", title: null, legend: { labelLimit: 400 }, scale: { scheme: "tableau10" } },
  strokeDash: { field, type: "nominal", title: null, scale: { range: DASHES } },
});

/** Latency CDFs of one latency metric (one line per result), log time axis in its unit. */
export function latencySpec(results: readonly RunResult[], name?: string): Spec | undefined {
  const values: { series: string; t: number; fraction: number }[] = [];
  let max = 1;
  for (const r of results)
    for (const l of r.latency)
      if (name === undefined || l.name === name) for (const [v] of l.cdf) max = Math.max(max, v);
  const { div, unit } = timeUnit(max);
  for (const r of results) {
    for (const l of r.latency) {
      if (name !== undefined && l.name !== name) continue;
      for (const [v, fraction] of l.cdf)
        values.push({
          series: name === undefined ? `${label(r)}: ${l.name}` : label(r),
          t: Math.max(1, v) / div,
          fraction,
        });
    }
  }
  if (values.length === 0) return undefined;
  return {
    ...base(name === undefined ? "Latency distribution (cumulative)" : `${name} latency (cumulative)`),
    data: { values },
    mark: { type: "line", interpolate: "step-after", point: false, strokeWidth: 2 },
    encoding: {
      x: { field: "t", type: "quantitative", scale: { type: "log" }, title: `latency (${unit}, log scale)` },
      y: { field: "fraction", type: "quantitative", title: "fraction of samples ≤ x" },
      ...styleBy("series"),
    },
  } as Spec;
}

/**
 * Longest holdoff per time bucket, one line per CPU (and per result when several); a log axis when
 * the values span two orders of magnitude or more (373 ms stays visible beside 49.5 s).
 */
export function holdoffTimelineSpec(results: readonly RunResult[]): Spec | undefined {
  const raw: { series: string; tS: number; ns: number }[] = [];
  for (const r of results) {
    const { bucketNs, maxNs } = r.holdoff.timeline;
    maxNs.forEach((row, cpu) => {
      row.forEach((v, i) => {
        if (v <= 0) return;
        raw.push({
          series: results.length > 1 ? `${label(r)} CPU${cpu}` : `CPU${cpu}`,
          tS: ((i + 1) * bucketNs) / 1e9,
          ns: v,
        });
      });
    });
  }
  if (raw.length === 0) return undefined;
  const max = Math.max(...raw.map((v) => v.ns));
  const min = Math.min(...raw.map((v) => v.ns));
  const log = max / min >= 100;
  const { div, unit } = timeUnit(max);
  const values = raw.map((v) => ({ series: v.series, tS: v.tS, holdoff: v.ns / div }));
  return {
    ...base("Scheduler holdoff over time"),
    data: { values },
    mark: { type: "line", interpolate: "step-before", point: true, strokeWidth: 2 },
    encoding: {
      x: { field: "tS", type: "quantitative", title: "virtual time (s)" },
      y: {
        field: "holdoff",
        type: "quantitative",
        title: `longest holdoff in bucket (${unit}${log ? ", log scale" : ""})`,
        scale: log ? { type: "log" } : {},
      },
      ...styleBy("series"),
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
  // no empty panels: a metric that is 0 everywhere says nothing
  const shown = new Set(values.filter((v) => v.value !== 0).map((v) => v.metric));
  const kept = values.filter((v) => shown.has(v.metric));
  if (kept.length === 0) return undefined;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Variants side by side",
    background: "white",
    data: { values: kept },
    facet: { column: { field: "metric", type: "nominal", title: null } },
    spec: {
      width: 160,
      height: 200,
      mark: "bar",
      encoding: {
        x: { field: "variant", type: "nominal", title: null, sort: null },
        y: { field: "value", type: "quantitative", title: null, axis: { tickMinStep: 1 } },
        color: {
          field: "variant",
          type: "nominal",
          legend: null,
          sort: null,
          scale: { scheme: "tableau10" },
        },
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
  const integer = numeric && points.every((p) => Number.isInteger(p.x));
  const color = { field: "series", type: "nominal", title: null, legend: { labelLimit: 400 } };
  const y = {
    field: "y",
    type: "quantitative",
    title: `${yTitle} (mean over seeds; band: min-max)`,
    aggregate: "mean",
  };
  const x = {
    field: "x",
    type: "quantitative",
    title: xTitle,
    ...(integer ? { axis: { format: "d", tickMinStep: 1 } } : {}),
  };
  return {
    ...base(`${yTitle} against ${xTitle}`),
    data: { values: [...points] },
    ...(numeric
      ? {
          encoding: { x, color },
          layer: [
            {
              mark: { type: "errorband", extent: "min-max" },
              encoding: { y: { field: "y", type: "quantitative", title: null } },
            },
            {
              mark: { type: "line", point: true },
              encoding: { y, strokeDash: { field: "series", type: "nominal", title: null } },
            },
          ],
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
  // one metric per plot: a latency CDF per latency name (fsync, pg_writeback_clear, ...)
  const names = [...new Set(results.flatMap((r) => r.latency.map((l) => l.name)))];
  const specs: [string, string, Spec | undefined][] = [
    ["variants", "Variants side by side", variantsSpec(results)],
    ...names.map((n): [string, string, Spec | undefined] => [
      `latency-${n.replace(/[^\w.-]+/g, "_")}`,
      `${n} latency`,
      latencySpec(results, n),
    ]),
    ["holdoff", "Scheduler holdoff over time", holdoffTimelineSpec(results)],
  ];
  const plots: Plot[] = [];
  for (const [name, title, spec] of specs) if (spec) plots.push({ name, title, svg: await renderSvg(spec) });
  return plots;
}
