// Pieces shared by the commands: loading a scenario from an argument, running it with optional trace
// output, and writing a report directory.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type HtmlSection, htmlReport } from "../report/html.js";
import { standardPlots } from "../report/plots.js";
import { type RunResult, resultJson } from "../report/result.js";
import { textReport } from "../report/text.js";
import { interestingWindow, timelineSvg, WindowTrace } from "../report/timeline-svg.js";
import { ChromeTraceWriter } from "../report/trace.js";
import { DEFAULT_TIME_LIMIT_NS } from "../scenario/adapters/drive.js";
import { loadScenario, parseSetOption, type SetOption } from "../scenario/load.js";
import { catalog } from "../scenario/models.js";
import { runScenario } from "../scenario/run.js";
import { type Scenario, scenarioSeeds } from "../scenario/schema.js";
import { TRACE_LEVELS, type TraceLevel } from "../sim/trace.js";
import { ensureDir, FileSink, interruptible, shown, UsageError, writeFileAtomic } from "./io.js";
import { fmtSimTime, startProgress } from "./progress.js";
import type { RunWorkerData, RunWorkerMessage } from "./run-worker.js";
import { resolveScenario, type ScenarioSource } from "./scenarios.js";

export interface Loaded {
  source: ScenarioSource;
  scenario: Scenario;
  sets: SetOption[];
}

/** Parses repeated --set PATH=VALUE options. */
export function parseSets(values: readonly string[], option = "--set"): SetOption[] {
  return values.map((v) => {
    const s = parseSetOption(v);
    if (!s) throw new UsageError(`${option} ${v}: expected PATH=VALUE, e.g. ${option} machine.cpus=8`);
    return s;
  });
}

/** Loads SCENARIO (a file or a built-in name) with overrides; --kernel becomes a labelled override. */
export function loadArg(arg: string, sets: readonly SetOption[], kernel?: string): Loaded {
  const source = resolveScenario(arg);
  const all = [...sets];
  if (kernel !== undefined) all.push({ path: "kernel.variant", value: kernel, label: `--kernel ${kernel}` });
  const scenario = loadScenario(source.text, { file: source.file, sets: all, catalog: catalog() });
  return { source, scenario, sets: all };
}

export function setLabels(sets: readonly SetOption[]): string[] {
  return sets.map((s) => `${s.path}=${s.value}`);
}

/** The seed of a single run: --seed, else the scenario's first seed. */
export function pickSeed(s: Scenario, seed: number | undefined): number {
  return seed ?? scenarioSeeds(s)[0]!;
}

/** --trace-level: sched, model (default) or all. */
export function traceLevelOption(v: string | undefined): TraceLevel | undefined {
  if (v === undefined) return undefined;
  const l = Object.hasOwn(TRACE_LEVELS, v) ? TRACE_LEVELS[v] : undefined;
  if (l === undefined)
    throw new UsageError(`--trace-level ${v}: expected one of ${Object.keys(TRACE_LEVELS).join(", ")}`);
  return l;
}

/** Runs one scenario, streaming its trace to `traceFile` when given (removed again if the run fails),
 * with a progress bar (percentage of the simulated time limit) on a terminal unless `quiet`. */
export function runWithTrace(
  l: Loaded,
  seed: number,
  traceFile?: string,
  quiet = false,
  level?: TraceLevel,
  fastPaths?: boolean,
): RunResult {
  const writer = traceFile
    ? new ChromeTraceWriter(
        new FileSink(traceFile, "trace"),
        { scenario: l.scenario.name, variant: l.scenario.kernel.variant, seed: String(seed) },
        level !== undefined ? { level } : {},
      )
    : undefined;
  const progress = simProgress(l, quiet);
  try {
    const r = runScenario(l.scenario, {
      seed,
      sets: setLabels(l.sets),
      trace: writer ?? null,
      ...(fastPaths !== undefined ? { fastPaths } : {}),
      onProgress: (simNs) => progress.update(simNs),
    });
    writer?.finish();
    return r;
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    progress.stop();
  }
}

const RUN_WORKER = fileURLToPath(new URL("./run-worker.js", import.meta.url));

/** Runs one scenario with its trace streamed to `traceFile`: in a worker thread, so that the main thread
 * can handle SIGINT/SIGTERM during the run and remove the temporary trace file (from the TypeScript
 * sources, where there is no worker script, in this thread). The result is the same either way. */
export async function runTraced(
  l: Loaded,
  seed: number,
  traceFile: string,
  quiet = false,
  level?: TraceLevel,
  fastPaths?: boolean,
): Promise<RunResult> {
  if (!fs.existsSync(RUN_WORKER)) return runWithTrace(l, seed, traceFile, quiet, level, fastPaths);
  const sink = new FileSink(traceFile, "trace");
  const progress = simProgress(l, quiet);
  const data: RunWorkerData = {
    text: l.source.text,
    file: l.source.file,
    sets: l.sets,
    seed,
    labels: setLabels(l.sets),
    fd: sink.fd,
    meta: { scenario: l.scenario.name, variant: l.scenario.kernel.variant, seed: String(seed) },
    ...(level !== undefined ? { level } : {}),
    ...(fastPaths !== undefined ? { fastPaths } : {}),
  };
  try {
    const result = await interruptible(
      () =>
        new Promise<RunResult>((resolve, reject) => {
          const w = new Worker(RUN_WORKER, { workerData: data });
          w.on("message", (m: RunWorkerMessage) => {
            if (m.kind === "progress") progress.update(m.simNs);
            else if (m.kind === "done") resolve(m.result as RunResult);
            else
              reject(
                m.code
                  ? new UsageError(`cannot write trace ${traceFile}: ${m.message}`)
                  : new Error(m.message),
              );
          });
          w.on("error", reject);
          w.on("exit", (code) => reject(new Error(`the run's worker thread exited (${code})`)));
        }),
    );
    sink.close();
    return result;
  } catch (e) {
    sink.abort();
    throw e;
  } finally {
    progress.stop();
  }
}

/**
 * The report's per-CPU timeline of `r`'s interesting window: the same scenario and seed run again
 * (deterministic, so it is the same run) with a sink that keeps only that window.
 */
export function reportTimeline(l: Loaded, seed: number, r: RunResult): string | undefined {
  const w = interestingWindow(r);
  if (w === undefined) return undefined;
  const t = new WindowTrace(w);
  runScenario(l.scenario, { seed, sets: setLabels(l.sets), trace: t });
  t.finish();
  return timelineSvg(t, `${r.scenario.name} on ${r.kernel.variant}, seed ${seed}: ${w.reason}`);
}

/** Parses "A,B,C" into trimmed non-empty items. */
export function commaList(v: string, what: string): string[] {
  const items = v.split(",").map((x) => x.trim());
  if (items.every((x) => x === ""))
    throw new UsageError(`${what}: expected a comma-separated list, got "${shown(v)}"`);
  const empty = items.indexOf("");
  if (empty >= 0)
    throw new UsageError(
      `${what} ${shown(v)}: item ${empty + 1} is empty; allowed: a comma-separated list without empty items`,
    );
  return items;
}

/** Parses a non-negative integer option. */
export function intOption(v: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v.trim()))
    throw new UsageError(`${what}: expected an integer from ${min} to ${max}, got "${shown(v)}"`);
  const n = Number(v);
  if (n < min || n > max)
    throw new UsageError(`${what}: expected an integer from ${min} to ${max}, got ${n}`);
  return n;
}

/** The names `writeReportDir` may write into its directory. */
export function reportWrites(name: string): boolean {
  return /^(index\.html|.*\.svg|.*-seed\d+\.(json|txt))$/.test(name) || name.startsWith(".faultline-tmp-");
}

/** Writes DIR/index.html, one SVG per plot, and the JSON result(s) and text report(s). */
export async function writeReportDir(
  dir: string,
  title: string,
  sections: readonly (HtmlSection & { drawPlots?: boolean })[],
): Promise<string> {
  ensureDir(dir, "report directory");
  const withPlots: HtmlSection[] = [];
  for (const [i, s] of sections.entries()) {
    const plots = s.plots.length > 0 || s.drawPlots === false ? s.plots : await standardPlots(s.results);
    const stem =
      sections.length > 1
        ? `${i + 1}-${s.results[0]?.scenario.name ?? "run"}`
        : (s.results[0]?.scenario.name ?? "run");
    for (const p of plots) writeFileAtomic(path.join(dir, `${stem}-${p.name}.svg`), p.svg, "plot");
    for (const [ri, r] of s.results.entries()) {
      const base = `${stem}-${r.kernel.variant}-seed${r.scenario.seed}`;
      const tl = s.timelines?.[ri];
      if (tl !== undefined) writeFileAtomic(path.join(dir, `${base}-timeline.svg`), tl, "plot");
      writeFileAtomic(path.join(dir, `${base}.json`), resultJson(r), "result");
      writeFileAtomic(path.join(dir, `${base}.txt`), textReport(r), "report");
    }
    withPlots.push({ ...s, plots });
  }
  const index = path.join(dir, "index.html");
  writeFileAtomic(index, htmlReport(title, withPlots), "report");
  return index;
}

/** The progress of one run in simulated time (on a terminal, not with -q). */
function simProgress(l: Loaded, quiet: boolean) {
  return startProgress({
    label: `${l.scenario.name} on ${l.scenario.kernel.variant}`,
    total: l.scenario.stop.time ?? DEFAULT_TIME_LIMIT_NS,
    unit: fmtSimTime,
    rateUnit: "simulated s/s",
    rateScale: 1e-9,
    quiet,
  });
}
