// `faultline sweep` and `faultline merge`: the cross product of parameter values, variants and seeds,
// run in worker threads, appended to results.jsonl and results.csv as results arrive, resumable, and
// splittable into deterministic shards that `merge` puts back together.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SingleBar } from "cli-progress";
import { Piscina } from "piscina";
import { htmlReport } from "../report/html.js";
import { renderSvg, type ScalingPoint, scalingSpec } from "../report/plots.js";
import type { RunResult } from "../report/result.js";
import { loadScenario, type SetOption } from "../scenario/load.js";
import { catalog } from "../scenario/models.js";
import { SEEDS_RE, scenarioSeeds, seedRange } from "../scenario/schema.js";
import { commaList, intOption, loadArg, parseSets } from "./common.js";
import { ensureDir, readTextFile, UsageError, writeFileAtomic } from "./io.js";
import { runJob, type SweepJob, type SweepJobResult } from "./sweep-worker.js";

export const SWEEP_FORMAT = "faultline-sweep";
const MAX_JOBS = 1_000_000;

export interface SweepParam {
  path: string;
  values: string[];
}

/** What identifies a sweep: two directories can be merged only if their manifests agree on it. */
export interface SweepManifest {
  format: typeof SWEEP_FORMAT;
  version: 1;
  scenario: string;
  scenarioFile: string;
  sets: string[];
  params: SweepParam[];
  seeds: number[];
  totalJobs: number;
  /** [k, n] (1-based k), or null for all jobs. */
  shard: [number, number] | null;
}

export interface SweepRow {
  index: number;
  params: Record<string, string>;
  seed: number;
  result?: RunResult;
  error?: string;
}

interface Job {
  index: number;
  params: Record<string, string>;
  seed: number;
  sets: SetOption[];
}

interface SweepOptions {
  out: string;
  param: string[];
  kernel?: string;
  set: string[];
  seeds?: string;
  jobs?: string;
  shard?: string;
}

export function parseSeeds(v: string): number[] {
  const m = SEEDS_RE.exec(v);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (b < a) throw new UsageError(`--seeds ${v}: the range is empty (B < A)`);
    if (b - a >= MAX_JOBS) throw new UsageError(`--seeds ${v}: at most ${MAX_JOBS} seeds`);
    return seedRange(a, b);
  }
  return commaList(v, "--seeds").map((x) => intOption(x, "--seeds"));
}

export function parseShard(v: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m) throw new UsageError(`--shard ${v}: expected K/N with 1 <= K <= N, e.g. --shard 1/4`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || k < 1 || k > n) throw new UsageError(`--shard ${v}: expected K/N with 1 <= K <= N`);
  return [k, n];
}

/** All jobs of the sweep in a fixed order: params (first outermost), then seeds. */
export function expandJobs(params: readonly SweepParam[], seeds: readonly number[]): Job[] {
  let combos: Record<string, string>[] = [{}];
  for (const p of params) combos = combos.flatMap((c) => p.values.map((v) => ({ ...c, [p.path]: v })));
  const jobs: Job[] = [];
  for (const c of combos) {
    for (const seed of seeds) {
      const sets = Object.entries(c).map(([path, value]) => ({
        path,
        value,
        label: `--param ${path}=${value}`,
      }));
      jobs.push({ index: jobs.length, params: c, seed, sets });
    }
  }
  return jobs;
}

export async function runSweep(arg: string, o: SweepOptions): Promise<number> {
  const fixed = parseSets(o.set);
  const base = loadArg(arg, fixed);
  const params: SweepParam[] = parseSets(o.param, "--param").map((s) => ({
    path: s.path,
    values: commaList(s.value, `--param ${s.path}`),
  }));
  if (o.kernel) params.unshift({ path: "kernel.variant", values: commaList(o.kernel, "--kernel") });
  const seeds = o.seeds ? parseSeeds(o.seeds) : scenarioSeeds(base.scenario);
  const shard = o.shard ? parseShard(o.shard) : null;
  const all = expandJobs(params, seeds);
  if (all.length > MAX_JOBS) throw new UsageError(`sweep: ${all.length} jobs; at most ${MAX_JOBS}`);
  // Every parameter value must give a valid scenario before anything runs.
  for (const p of params)
    for (const v of p.values)
      loadScenario(base.source.text, {
        file: base.source.file,
        sets: [...fixed, { path: p.path, value: v, label: `--param ${p.path}=${v}` }],
        catalog: catalog(),
      });
  const manifest: SweepManifest = {
    format: SWEEP_FORMAT,
    version: 1,
    scenario: base.scenario.name,
    scenarioFile: base.source.file,
    sets: fixed.map((s) => `${s.path}=${s.value}`),
    params,
    seeds,
    totalJobs: all.length,
    shard,
  };
  const mine = shard ? all.filter((j) => j.index % shard[1] === shard[0] - 1) : all;
  const dir = o.out;
  ensureDir(dir, "sweep directory");
  const store = SweepStore.open(dir, manifest);
  const todo = mine.filter((j) => !store.done.has(j.index));
  const threads = o.jobs ? intOption(o.jobs, "--jobs", 1, 256) : Math.max(1, os.availableParallelism());
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: "sweep [{bar}] {value}/{total} jobs | {eta_formatted} left", hideCursor: true })
    : undefined;
  bar?.start(mine.length, mine.length - todo.length);
  const toJob = (j: Job): SweepJob => ({
    index: j.index,
    text: base.source.text,
    file: base.source.file,
    sets: [...fixed, ...j.sets],
    seed: j.seed,
  });
  const accept = (j: Job, r: SweepJobResult) => {
    store.append({
      index: j.index,
      params: j.params,
      seed: j.seed,
      ...(r.json ? { result: JSON.parse(r.json) } : { error: r.error }),
    });
    bar?.increment();
  };
  try {
    if (threads === 1 || todo.length <= 1) {
      for (const j of todo) accept(j, runJob(toJob(j)));
    } else {
      const pool = new Piscina({
        filename: new URL("./sweep-worker.js", import.meta.url).href,
        maxThreads: threads,
        minThreads: 1,
      });
      try {
        await Promise.all(todo.map((j) => pool.run(toJob(j)).then((r: SweepJobResult) => accept(j, r))));
      } finally {
        await pool.destroy();
      }
    }
  } finally {
    bar?.stop();
  }
  store.rewriteSorted();
  const rows = store.rows();
  await writeSweepReport(dir, manifest, rows);
  const failed = rows.filter((r) => r.error).length;
  const findings = rows.filter((r) => (r.result?.findings.length ?? 0) > 0).length;
  process.stderr.write(
    `sweep: ${rows.length}/${mine.length} jobs done${shard ? ` (shard ${shard[0]}/${shard[1]} of ${all.length})` : ""}, ${findings} with findings, ${failed} failed; ${path.join(dir, "results.csv")}\n`,
  );
  if (failed > 0) return 2;
  return findings > 0 ? 1 : 0;
}

/** results.jsonl (one row per line, the source of truth) and results.csv, appended per row. */
class SweepStore {
  readonly done = new Set<number>();
  private readonly list: SweepRow[] = [];
  private csvColumns: string[] | null = null;

  private constructor(
    private readonly dir: string,
    private readonly manifest: SweepManifest,
  ) {}

  static open(dir: string, manifest: SweepManifest): SweepStore {
    const mfile = path.join(dir, "sweep.json");
    if (fs.existsSync(mfile)) {
      const old = parseManifest(mfile);
      if (
        manifestKey(old) !== manifestKey(manifest) ||
        JSON.stringify(old.shard) !== JSON.stringify(manifest.shard)
      )
        throw new UsageError(`${dir} holds a different sweep (${old.scenario}); use another --out directory`);
    } else {
      writeFileAtomic(mfile, `${JSON.stringify(manifest, null, 2)}\n`, "sweep manifest");
    }
    const store = new SweepStore(dir, manifest);
    for (const row of readRows(dir)) store.addRow(row);
    // Rewrite both files from the complete rows: drops a line cut short by an interruption.
    store.rewriteSorted();
    return store;
  }

  /** Rewrites both files in job order (rows are appended in arrival order while the sweep runs). */
  rewriteSorted(): void {
    const rows = this.rows();
    writeFileAtomic(
      path.join(this.dir, "results.jsonl"),
      rows.map((r) => `${JSON.stringify(r)}\n`).join(""),
      "results",
    );
    this.csvColumns = null;
    writeFileAtomic(path.join(this.dir, "results.csv"), this.csvText(rows), "results");
  }

  private addRow(r: SweepRow): void {
    if (this.done.has(r.index)) return;
    this.done.add(r.index);
    this.list.push(r);
  }

  append(r: SweepRow): void {
    this.addRow(r);
    fs.appendFileSync(path.join(this.dir, "results.jsonl"), `${JSON.stringify(r)}\n`);
    const fresh = this.csvColumns === null;
    const text = this.csvText([r]);
    if (fresh) writeFileAtomic(path.join(this.dir, "results.csv"), text, "results");
    else fs.appendFileSync(path.join(this.dir, "results.csv"), text);
  }

  rows(): SweepRow[] {
    return [...this.list].sort((a, b) => a.index - b.index);
  }

  /** CSV lines for rows; the header is written with the first row that has a result. */
  private csvText(rows: readonly SweepRow[]): string {
    let text = "";
    for (const r of rows) {
      if (this.csvColumns === null) {
        this.csvColumns = csvColumns(this.manifest, r.result);
        text += `${this.csvColumns.map(csvCell).join(",")}\n`;
      }
      text += `${csvRow(this.csvColumns, this.manifest, r).map(csvCell).join(",")}\n`;
    }
    return text;
  }
}

function manifestKey(m: SweepManifest): string {
  return JSON.stringify([m.scenario, m.sets, m.params, m.seeds, m.totalJobs]);
}

function parseManifest(file: string): SweepManifest {
  try {
    const m = JSON.parse(readTextFile(file, "sweep manifest")) as SweepManifest;
    if (m.format !== SWEEP_FORMAT) throw new Error("not a sweep manifest");
    return m;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: not a faultline sweep manifest`);
  }
}

function readRows(dir: string): SweepRow[] {
  const file = path.join(dir, "results.jsonl");
  if (!fs.existsSync(file)) return [];
  const rows: SweepRow[] = [];
  for (const line of readTextFile(file, "results").split("\n")) {
    if (line.trim() === "") continue;
    try {
      rows.push(JSON.parse(line) as SweepRow);
    } catch {
      // a line cut short when the sweep was interrupted: that job runs again
    }
  }
  return rows;
}

function csvColumns(m: SweepManifest, r: RunResult | undefined): string[] {
  const cols = [
    "index",
    ...m.params.map((p) => p.path),
    "seed",
    "variant",
    "stop_reason",
    "sim_time_ns",
    "events",
    "findings",
    "finding_kinds",
  ];
  for (const t of r?.throughput ?? []) cols.push(`${t.name} (${t.unit})`);
  for (const l of r?.latency ?? []) cols.push(`${l.name} p50 ns`, `${l.name} p99 ns`, `${l.name} max ns`);
  cols.push("holdoff_max_ns", "dmesg_lines", "error");
  return cols;
}

function csvRow(cols: readonly string[], m: SweepManifest, row: SweepRow): string[] {
  const r = row.result;
  const v: Record<string, string> = {
    index: String(row.index),
    seed: String(row.seed),
    error: row.error ?? "",
  };
  for (const p of m.params) v[p.path] = row.params[p.path] ?? "";
  if (r) {
    v.variant = r.kernel.variant;
    v.stop_reason = r.run.stopReason;
    v.sim_time_ns = String(r.run.simTimeNs);
    v.events = String(r.run.events);
    v.findings = String(r.findings.length);
    v.finding_kinds = [...new Set(r.findings.map((f) => f.kind))].join(" ");
    for (const t of r.throughput) v[`${t.name} (${t.unit})`] = String(t.value);
    for (const l of r.latency) {
      v[`${l.name} p50 ns`] = String(l.percentiles.find((p) => p.p === 50)?.valueNs ?? "");
      v[`${l.name} p99 ns`] = String(l.percentiles.find((p) => p.p === 99)?.valueNs ?? "");
      v[`${l.name} max ns`] = String(l.maxNs);
    }
    v.holdoff_max_ns = String(r.holdoff.perCpu.reduce((mx, h) => Math.max(mx, h.maxNs), 0));
    v.dmesg_lines = String(r.dmesg.length);
  }
  return cols.map((c) => v[c] ?? "");
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** report.html with a scaling curve per throughput over the first numeric parameter. */
async function writeSweepReport(dir: string, m: SweepManifest, rows: readonly SweepRow[]): Promise<void> {
  const isNumber = (v: string) => /^-?\d+(\.\d+)?$/.test(v);
  // The x axis: a numeric parameter (a scaling curve), else a categorical one (bars); variants are series.
  const swept = m.params.filter((p) => p.path !== "kernel.variant" && p.values.length > 1);
  const numeric = swept.find((p) => p.values.every(isNumber)) ?? swept[0];
  const ok = rows.filter((r) => r.result);
  const plots = [];
  if (numeric && ok.length > 0) {
    const names = [...new Set(ok.flatMap((r) => r.result!.throughput.map((t) => `${t.name} (${t.unit})`)))];
    const metrics: [string, (r: RunResult) => number | undefined][] = [
      ...names.map((n): [string, (r: RunResult) => number | undefined] => [
        n,
        (r) => r.throughput.find((t) => `${t.name} (${t.unit})` === n)?.value,
      ]),
      ["longest holdoff (ms)", (r) => r.holdoff.perCpu.reduce((mx, h) => Math.max(mx, h.maxNs), 0) / 1e6],
      ["findings", (r) => r.findings.length],
    ];
    for (const [metric, f] of metrics) {
      const points: ScalingPoint[] = [];
      for (const r of ok) {
        const y = f(r.result!);
        if (y === undefined) continue;
        const others = m.params
          .filter((p) => p !== numeric)
          .map((p) =>
            p.path === "kernel.variant"
              ? r.params[p.path]!
              : `${p.path.split(".").pop()}=${r.params[p.path]}`,
          );
        points.push({
          series: others.join(" ") || r.result!.kernel.variant,
          x: numeric.values.every(isNumber) ? Number(r.params[numeric.path]) : r.params[numeric.path]!,
          y,
        });
      }
      const spec = scalingSpec(points, numeric.path, metric);
      if (spec)
        plots.push({
          name: `scaling-${plots.length + 1}`,
          title: `${metric} against ${numeric.path} (mean over seeds)`,
          svg: await renderSvg(spec),
        });
    }
  }
  for (const p of plots) writeFileAtomic(path.join(dir, `${p.name}.svg`), p.svg, "plot");
  const intro = `${rows.length} of ${m.totalJobs} jobs; parameters: ${m.params.map((p) => `${p.path} = ${p.values.join(", ")}`).join("; ") || "none"}; seeds ${m.seeds[0]}..${m.seeds[m.seeds.length - 1]}`;
  writeFileAtomic(
    path.join(dir, "report.html"),
    htmlReport(`faultline sweep: ${m.scenario}`, [{ heading: m.scenario, intro, results: [], plots }]),
    "report",
  );
}

export async function runMerge(dirs: readonly string[], out: string): Promise<number> {
  let manifest: SweepManifest | undefined;
  const byIndex = new Map<number, SweepRow>();
  for (const dir of dirs) {
    const mfile = path.join(dir, "sweep.json");
    if (!fs.existsSync(mfile)) throw new UsageError(`${dir}: no sweep.json; not a sweep output directory`);
    const m = parseManifest(mfile);
    if (manifest && manifestKey(m) !== manifestKey(manifest))
      throw new UsageError(
        `${dir}: a different sweep (${m.scenario}) than ${dirs[0]} (${manifest.scenario}); cannot merge`,
      );
    manifest ??= m;
    for (const r of readRows(dir)) if (!byIndex.has(r.index)) byIndex.set(r.index, r);
  }
  if (!manifest) throw new UsageError("merge: give at least one directory");
  ensureDir(out, "merge output directory");
  const merged: SweepManifest = { ...manifest, shard: null };
  if (fs.existsSync(path.join(out, "sweep.json"))) fs.rmSync(path.join(out, "sweep.json"));
  fs.rmSync(path.join(out, "results.jsonl"), { force: true });
  const store = SweepStore.open(out, merged);
  for (const r of [...byIndex.values()].sort((a, b) => a.index - b.index)) store.append(r);
  const rows = store.rows();
  await writeSweepReport(out, merged, rows);
  const missing = merged.totalJobs - rows.length;
  process.stderr.write(
    `merge: ${rows.length}/${merged.totalJobs} jobs${missing > 0 ? ` (${missing} missing: run the remaining shards and merge again)` : ""}; ${path.join(out, "results.csv")}\n`,
  );
  if (rows.some((r) => r.error)) return 2;
  return rows.some((r) => (r.result?.findings.length ?? 0) > 0) ? 1 : 0;
}
