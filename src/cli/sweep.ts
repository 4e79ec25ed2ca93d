// `faultline sweep` and `faultline merge`: the cross product of parameter values, variants and seeds,
// run in worker threads (workerpool), appended to results.jsonl and results.csv as results arrive,
// resumable, and splittable into deterministic shards (K/N, or `auto` from a Kubernetes indexed Job or a
// SLURM array) that `merge` puts back together. Files the tool wrote earlier are read as untrusted input.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import workerpool from "workerpool";
import { z } from "zod";
import { htmlReport } from "../report/html.js";
import { renderSvg, type ScalingPoint, scalingSpec } from "../report/plots.js";
import { RunResult } from "../report/result.js";
import { loadScenario, type SetOption } from "../scenario/load.js";
import { catalog } from "../scenario/models.js";
import { SEEDS_RE, scenarioSeeds, seedRange } from "../scenario/schema.js";
import { commaList, intOption, loadArg, parseSets } from "./common.js";
import {
  appendText,
  checkPathPlan,
  checkWritableDir,
  ensureDir,
  interruptible,
  parseJsonFile,
  readTextFile,
  samePath,
  shown,
  UsageError,
  writeFileAtomic,
} from "./io.js";
import { startProgress } from "./progress.js";
import { scenarioInputs } from "./scenarios.js";
import { runJob, type SweepJob, type SweepJobResult } from "./sweep-job.js";

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
  shards?: string;
  quiet?: boolean;
}

/** The names a sweep writes into its --out directory. */
export function sweepWrites(name: string): boolean {
  return (
    /^(sweep\.json|results\.jsonl|results\.csv|report\.html|scaling-\d+\.svg)$/.test(name) ||
    name.startsWith(".faultline-tmp-")
  );
}

export function parseSeeds(v: string): number[] {
  const m = SEEDS_RE.exec(v);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b))
      throw new UsageError(`--seeds ${shown(v)}: seeds are integers from 0 to ${Number.MAX_SAFE_INTEGER}`);
    if (b < a) throw new UsageError(`--seeds ${v}: the range is empty (B < A)`);
    if (b - a >= MAX_JOBS)
      throw new UsageError(`--seeds ${v}: at most ${MAX_JOBS.toLocaleString("en-US")} seeds`);
    return seedRange(a, b);
  }
  if (v.includes(".."))
    throw new UsageError(
      `--seeds ${shown(v)}: expected a range A..B of integers from 0 to ${Number.MAX_SAFE_INTEGER}, or a list such as 1,5,9`,
    );
  if (v.length > 20 * MAX_JOBS) throw new UsageError(`--seeds: a list of at most ${MAX_JOBS} seeds`);
  const list = commaList(v, "--seeds");
  if (list.length > MAX_JOBS) throw new UsageError(`--seeds: a list of at most ${MAX_JOBS} seeds`);
  return list.map((x) => intOption(x, "--seeds"));
}

export function parseShard(v: string): [number, number] {
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(v.trim());
  if (!m)
    throw new UsageError(`--shard ${shown(v)}: expected K/N with 1 <= K <= N, e.g. --shard 1/4, or auto`);
  const k = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || k < 1 || k > n) throw new UsageError(`--shard ${v}: expected K/N with 1 <= K <= N`);
  if (n > MAX_JOBS) throw new UsageError(`--shard ${v}: N is at most ${MAX_JOBS}`);
  return [k, n];
}

function envInt(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const v = env[name] ?? "";
  if (!/^\d{1,9}$/.test(v.trim()) || Number(v) < min)
    throw new UsageError(
      `--shard auto: environment variable ${name}=${JSON.stringify(shown(v))}; allowed: an integer of at least ${min}`,
    );
  return Number(v);
}

/** --shard auto: the shard from the batch scheduler's environment.
 * - SLURM job array (sbatch --array=A-B[:S]): K from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
 *   SLURM_ARRAY_TASK_STEP, N = SLURM_ARRAY_TASK_COUNT.
 * - Kubernetes indexed Job (completionMode: Indexed): K = JOB_COMPLETION_INDEX + 1 (0-based index), N from
 *   --shards (the Job's completions; Kubernetes does not put it in the environment). */
export function autoShard(env: NodeJS.ProcessEnv, shards: string | undefined): [number, number] {
  const given = shards === undefined ? undefined : intOption(shards, "--shards", 1, MAX_JOBS);
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = envInt(env, "SLURM_ARRAY_TASK_ID", 0);
    const count = envInt(env, "SLURM_ARRAY_TASK_COUNT", 1);
    const min = env.SLURM_ARRAY_TASK_MIN === undefined ? 1 : envInt(env, "SLURM_ARRAY_TASK_MIN", 0);
    const step = env.SLURM_ARRAY_TASK_STEP === undefined ? 1 : envInt(env, "SLURM_ARRAY_TASK_STEP", 1);
    if (id < min || (id - min) % step !== 0 || (id - min) / step >= count)
      throw new UsageError(
        `--shard auto: SLURM_ARRAY_TASK_ID=${id} is not one of the ${count} tasks from ${min} in steps of ${step}`,
      );
    if (given !== undefined && given !== count)
      throw new UsageError(`--shards ${given}: SLURM_ARRAY_TASK_COUNT says ${count} shards`);
    return [(id - min) / step + 1, count];
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = envInt(env, "JOB_COMPLETION_INDEX", 0);
    if (given === undefined)
      throw new UsageError(
        "--shard auto: JOB_COMPLETION_INDEX is set (Kubernetes indexed Job); give --shards N, the Job's completions",
      );
    if (index >= given)
      throw new UsageError(
        `--shard auto: JOB_COMPLETION_INDEX=${index}; allowed: 0 to ${given - 1} with --shards ${given}`,
      );
    return [index + 1, given];
  }
  throw new UsageError(
    "--shard auto: neither SLURM_ARRAY_TASK_ID (SLURM job array) nor JOB_COMPLETION_INDEX (Kubernetes indexed Job) is set; give --shard K/N",
  );
}

/** The number of jobs of a sweep, computed before any job is built. */
function jobCount(params: readonly SweepParam[], seeds: number): number {
  let n = seeds;
  for (const p of params) n *= p.values.length;
  return n;
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

/** The worker thread's script (absent when running from the TypeScript sources: jobs then run here). */
const WORKER = fileURLToPath(new URL("./sweep-worker.js", import.meta.url));

export async function runSweep(arg: string, o: SweepOptions, env: NodeJS.ProcessEnv = {}): Promise<number> {
  // Everything is checked before anything is created or run.
  const dir = o.out;
  checkPathPlan({
    inputs: scenarioInputs(arg),
    files: [],
    dirs: [{ path: dir, what: "sweep directory", flag: "--out", writes: sweepWrites }],
  });
  const threads = o.jobs ? intOption(o.jobs, "--jobs", 1, 256) : Math.max(1, os.availableParallelism());
  const shard =
    o.shard === undefined ? null : o.shard.trim() === "auto" ? autoShard(env, o.shards) : parseShard(o.shard);
  if (o.shards !== undefined && o.shard?.trim() !== "auto")
    throw new UsageError("--shards: only with --shard auto (give --shard K/N otherwise)");
  const fixed = parseSets(o.set);
  const params: SweepParam[] = parseSets(o.param, "--param").map((s) => ({
    path: s.path,
    values: commaList(s.value, `--param ${s.path}`),
  }));
  if (o.kernel) params.unshift({ path: "kernel.variant", values: commaList(o.kernel, "--kernel") });
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.path)) throw new UsageError(`--param ${p.path}: swept twice; allowed: each field once`);
    seen.add(p.path);
  }
  const seeds0 = o.seeds ? parseSeeds(o.seeds) : undefined;
  const base = loadArg(arg, fixed);
  const seeds = seeds0 ?? scenarioSeeds(base.scenario);
  const count = jobCount(params, seeds.length);
  if (count > MAX_JOBS)
    throw new UsageError(
      `sweep: ${count.toLocaleString("en-US")} jobs; allowed: at most ${MAX_JOBS.toLocaleString("en-US")}`,
    );
  // Every parameter value must give a valid scenario before anything runs.
  for (const p of params)
    for (const v of p.values)
      loadScenario(base.source.text, {
        file: base.source.file,
        sets: [...fixed, { path: p.path, value: v, label: `--param ${p.path}=${v}` }],
        catalog: catalog(),
      });
  checkWritableDir(dir, "sweep directory");
  const all = expandJobs(params, seeds);
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
  const existing = fs.existsSync(path.join(dir, "sweep.json"))
    ? readManifest(path.join(dir, "sweep.json"))
    : null;
  if (
    existing &&
    (manifestKey(existing) !== manifestKey(manifest) ||
      JSON.stringify(existing.shard) !== JSON.stringify(manifest.shard))
  )
    throw new UsageError(
      `--out ${dir}: holds a different sweep (${existing.scenario}${existing.shard ? `, shard ${existing.shard.join("/")}` : ""}: ${manifestDifference(existing, "there", manifest, "here")}); allowed: the same sweep (to resume) or another --out directory`,
    );
  const oldRows = existing ? readRows(dir, manifest) : [];
  ensureDir(dir, "sweep directory");
  const store = SweepStore.create(dir, manifest, oldRows);
  const todo = mine.filter((j) => !store.done.has(j.index));
  const bar = startProgress({
    label: "sweep",
    total: mine.length,
    start: mine.length - todo.length,
    unit: "jobs",
    quiet: o.quiet === true,
  });
  const toJob = (j: Job): SweepJob => ({
    index: j.index,
    text: base.source.text,
    file: base.source.file,
    sets: [...fixed, ...j.sets],
    seed: j.seed,
  });
  let failure: unknown;
  const accept = (j: Job, r: SweepJobResult) => {
    if (failure !== undefined) return;
    try {
      store.append({
        index: j.index,
        params: j.params,
        seed: j.seed,
        ...(r.json ? { result: JSON.parse(r.json) } : { error: r.error }),
      });
    } catch (e) {
      failure = e;
      throw e;
    }
    bar.increment();
  };
  try {
    if (threads === 1 || todo.length <= 1 || !fs.existsSync(WORKER)) {
      for (const j of todo) accept(j, runJob(toJob(j)));
    } else {
      const pool = workerpool.pool(WORKER, {
        workerType: "thread",
        maxWorkers: Math.min(threads, todo.length),
      });
      try {
        await interruptible(() =>
          Promise.all(
            todo.map((j) =>
              (pool.exec("runJob", [toJob(j)]) as Promise<SweepJobResult>).then((r) => accept(j, r)),
            ),
          ),
        );
      } finally {
        await pool.terminate(true);
      }
    }
  } finally {
    bar.stop();
  }
  store.rewriteSorted();
  const rows = store.rows();
  await writeSweepReport(dir, manifest, rows);
  const failed = rows.filter((r) => r.error).length;
  const findings = rows.filter((r) => (r.result?.findings.length ?? 0) > 0).length;
  if (!o.quiet)
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

  /** The store of `dir` (checked to hold this sweep or nothing), with the rows already done. */
  static create(dir: string, manifest: SweepManifest, rows: readonly SweepRow[]): SweepStore {
    const mfile = path.join(dir, "sweep.json");
    if (!fs.existsSync(mfile))
      writeFileAtomic(mfile, `${JSON.stringify(manifest, null, 2)}\n`, "sweep manifest");
    const store = new SweepStore(dir, manifest);
    for (const row of rows) store.addRow(row);
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
    const csvFresh = this.csvColumns === null;
    const csv = this.csvText([r]);
    appendText(path.join(this.dir, "results.jsonl"), `${JSON.stringify(r)}\n`, "results");
    if (csvFresh) writeFileAtomic(path.join(this.dir, "results.csv"), csv, "results");
    else appendText(path.join(this.dir, "results.csv"), csv, "results");
    this.addRow(r);
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

/** The first field in which two sweeps differ (manifestKey's fields, then the shard), in words:
 * `seeds 1, 3 in sw2, 1, 2 in sw` for where a and b are "in sw2" and "in sw". */
function manifestDifference(a: SweepManifest, whereA: string, b: SweepManifest, whereB: string): string {
  const seeds = (m: SweepManifest) =>
    m.seeds.length > 6
      ? `${m.seeds.slice(0, 5).join(", ")}, ... (${m.seeds.length} seeds)`
      : m.seeds.join(", ");
  const show: [string, (m: SweepManifest) => string][] = [
    ["scenario", (m) => m.scenario],
    ["--set", (m) => m.sets.join(" ") || "none"],
    ["--param", (m) => m.params.map((p) => `${p.path}=${p.values.join(",")}`).join(" ") || "none"],
    ["seeds", seeds],
    ["jobs", (m) => String(m.totalJobs)],
    ["shard", (m) => (m.shard ? m.shard.join("/") : "none")],
  ];
  for (const [field, f] of show) {
    const x = f(a);
    const y = f(b);
    if (x !== y) return `${field} ${shown(x, 200)} ${whereA}, ${shown(y, 200)} ${whereB}`;
  }
  return "the same sweep";
}

const ManifestSchema = z.strictObject({
  format: z.literal(SWEEP_FORMAT),
  version: z.literal(1),
  scenario: z.string().max(200),
  scenarioFile: z.string().max(4096),
  sets: z.array(z.string().max(100_000)).max(1000),
  params: z
    .array(
      z.strictObject({
        path: z.string().min(1).max(1000),
        values: z.array(z.string().max(100_000)).min(1).max(MAX_JOBS),
      }),
    )
    .max(100),
  seeds: z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).min(1).max(MAX_JOBS),
  totalJobs: z.number().int().min(1).max(MAX_JOBS),
  shard: z.tuple([z.number().int().min(1), z.number().int().min(1).max(MAX_JOBS)]).nullable(),
});

/** Reads DIR/sweep.json as untrusted input: every field checked, the job count recomputed. */
function readManifest(file: string): SweepManifest {
  const text = readTextFile(file, "sweep manifest", 256 * 2 ** 20);
  const doc = parseJsonFile(file, text, "a sweep.json written by faultline sweep");
  const r = ManifestSchema.safeParse(doc);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const field = i.path.map(String).join(".") || "(the document)";
    throw new UsageError(
      `${file}: field ${field}: ${i.message}; allowed: a sweep.json written by faultline sweep`,
    );
  }
  const m = r.data as SweepManifest;
  const n = jobCount(m.params, m.seeds.length);
  if (n !== m.totalJobs)
    throw new UsageError(
      `${file}: field totalJobs: found ${m.totalJobs}, but params and seeds give ${n} jobs; allowed: a sweep.json written by faultline sweep`,
    );
  if (m.shard && m.shard[0] > m.shard[1])
    throw new UsageError(`${file}: field shard: found ${m.shard.join("/")}; allowed: K/N with 1 <= K <= N`);
  return m;
}

const RowSchema = z.strictObject({
  index: z.number().int().min(0),
  params: z.record(z.string(), z.string()),
  seed: z.number().int().min(0),
  result: z.unknown().optional(),
  error: z.string().optional(),
});

/** Reads DIR/results.jsonl as untrusted input. Each row must be a job of `m` (index in range and in
 * the shard, the job's parameters and seed) with a valid result or an error. The last line may be cut
 * short (an interrupted sweep): it is dropped and its job runs again. Anything else is an error naming
 * the file, the line and the field. */
function readRows(dir: string, m: SweepManifest): SweepRow[] {
  const file = path.join(dir, "results.jsonl");
  if (!fs.existsSync(file)) return [];
  const text = readTextFile(file, "results", 512 * 2 ** 20);
  const lines = text.split("\n");
  const rows: SweepRow[] = [];
  const seen = new Set<number>();
  const nSeeds = m.seeds.length;
  const bad = (n: number, what: string) =>
    new UsageError(
      `${file}:${n}: ${what}; allowed: one job row per line as faultline sweep writes it (remove the line to run that job again)`,
    );
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const lineNo = i + 1;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      const last = lines.slice(i + 1).every((l) => l.trim() === "");
      if (last) continue; // cut short when the sweep was interrupted: that job runs again
      throw bad(lineNo, "found a line that is not JSON");
    }
    const r = RowSchema.safeParse(doc);
    if (!r.success) {
      const is = r.error.issues[0]!;
      throw bad(lineNo, `field ${is.path.map(String).join(".") || "(the row)"}: ${is.message}`);
    }
    const row = r.data;
    if (row.index >= m.totalJobs)
      throw bad(lineNo, `field index: found ${row.index}, the sweep has ${m.totalJobs} jobs`);
    if (m.shard && row.index % m.shard[1] !== m.shard[0] - 1)
      throw bad(lineNo, `field index: job ${row.index} is not in shard ${m.shard.join("/")}`);
    if (seen.has(row.index)) throw bad(lineNo, `field index: job ${row.index} appears twice`);
    seen.add(row.index);
    const expectedSeed = m.seeds[row.index % nSeeds]!;
    if (row.seed !== expectedSeed)
      throw bad(lineNo, `field seed: found ${row.seed}, job ${row.index} has seed ${expectedSeed}`);
    let rest = Math.floor(row.index / nSeeds);
    const expected: Record<string, string> = {};
    for (let p = m.params.length - 1; p >= 0; p--) {
      const par = m.params[p]!;
      expected[par.path] = par.values[rest % par.values.length]!;
      rest = Math.floor(rest / par.values.length);
    }
    if (
      Object.keys(row.params).length !== m.params.length ||
      m.params.some((p) => row.params[p.path] !== expected[p.path])
    )
      throw bad(
        lineNo,
        `field params: found ${shown(JSON.stringify(row.params))}, job ${row.index} has ${shown(JSON.stringify(expected))}`,
      );
    if ((row.result === undefined) === (row.error === undefined))
      throw bad(lineNo, "a row has either result or error");
    if (row.result !== undefined) {
      const res = RunResult.safeParse(row.result);
      if (!res.success) {
        const is = res.error.issues[0]!;
        throw bad(lineNo, `field result.${is.path.map(String).join(".")}: ${is.message}`);
      }
    }
    rows.push(doc as SweepRow);
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

export async function runMerge(
  dirs: readonly string[],
  out: string,
  o: { allowMissing?: boolean; quiet?: boolean } = {},
): Promise<number> {
  checkPathPlan({
    inputs: dirs.map((d) => ({ path: d, what: "sweep directory" })),
    files: [],
    dirs: [{ path: out, what: "merge output directory", flag: "--out", writes: sweepWrites }],
  });
  let manifest: SweepManifest | undefined;
  const byIndex = new Map<number, SweepRow>();
  for (const [i, dir] of dirs.entries()) {
    const twice = dirs.slice(0, i).find((d) => samePath(d, dir));
    if (twice !== undefined)
      throw new UsageError(`${dir}: given twice (also as ${twice}); allowed: each shard directory once`);
    if (!fs.existsSync(dir))
      throw new UsageError(`${dir}: no such directory; allowed: output directories of faultline sweep`);
    const mfile = path.join(dir, "sweep.json");
    if (!fs.existsSync(mfile))
      throw new UsageError(`${dir}: no sweep.json; allowed: output directories of faultline sweep`);
    const m = readManifest(mfile);
    if (manifest && manifestKey(m) !== manifestKey(manifest))
      throw new UsageError(
        `${dir}: a different sweep than ${dirs[0]} (${manifestDifference(m, `in ${dir}`, manifest, `in ${dirs[0]}`)}); allowed: shards of one sweep`,
      );
    manifest ??= m;
    for (const r of readRows(dir, m)) if (!byIndex.has(r.index)) byIndex.set(r.index, r);
  }
  if (!manifest) throw new UsageError("merge: give at least one directory");
  const merged: SweepManifest = { ...manifest, shard: null };
  const mfile = path.join(out, "sweep.json");
  if (fs.existsSync(mfile)) {
    const old = readManifest(mfile);
    if (manifestKey(old) !== manifestKey(merged) || old.shard !== null)
      throw new UsageError(
        `--out ${out}: holds another sweep (${old.scenario}: ${manifestDifference(old, "there", merged, "in the inputs")}); allowed: an empty directory or an earlier merge of this sweep`,
      );
  }
  const rows = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const missing = merged.totalJobs - rows.length;
  if (missing > 0 && !o.allowMissing) {
    const first = expandJobs(merged.params, merged.seeds)
      .filter((j) => !byIndex.has(j.index))
      .slice(0, 5)
      .map((j) => j.index);
    throw new UsageError(
      `merge: ${rows.length}/${merged.totalJobs} jobs; ${missing} missing (jobs ${first.join(", ")}${missing > first.length ? ", ..." : ""}): run the remaining shards and merge again, or give --allow-missing`,
    );
  }
  checkWritableDir(out, "merge output directory");
  ensureDir(out, "merge output directory");
  const store = SweepStore.create(out, merged, rows);
  await writeSweepReport(out, merged, store.rows());
  if (!o.quiet)
    process.stderr.write(
      `merge: ${rows.length}/${merged.totalJobs} jobs${missing > 0 ? ` (${missing} missing: run the remaining shards and merge again)` : ""}; ${path.join(out, "results.csv")}\n`,
    );
  if (rows.some((r) => r.error)) return 2;
  return rows.some((r) => (r.result?.findings.length ?? 0) > 0) ? 1 : 0;
}
