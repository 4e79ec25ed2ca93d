// The faultline command line. Exit status: 0 success, 1 a run found a violation (any finding),
// 2 bad input (scenario, options, unreadable or unwritable paths). Never a stack trace for bad input.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Argument, Command, CommanderError } from "commander";
import { compareReport } from "../report/compare.js";
import { table } from "../report/format.js";
import {
  canonical,
  RESULT_FORMAT,
  RESULT_VERSION,
  RunResult,
  resultJson,
  resultJsonSchema,
} from "../report/result.js";
import { textReport } from "../report/text.js";
import { ModelUnavailableError } from "../scenario/adapters/types.js";
import { findVariant } from "../scenario/catalog.js";
import { ScenarioError } from "../scenario/errors.js";
import { catalog } from "../scenario/models.js";
import { scenarioJsonSchema } from "../scenario/schema.js";
import { registerBugsCommand } from "./bugs.js";
import { registerCheckCommands } from "./check.js";
import {
  commaList,
  intOption,
  loadArg,
  parseSets,
  pickSeed,
  reportTimeline,
  reportWrites,
  runTraced,
  runWithTrace,
  traceLevelOption,
  writeReportDir,
} from "./common.js";
import { runDemo } from "./demo.js";
import {
  checkPathPlan,
  checkWritableDir,
  checkWritableFile,
  ensureDir,
  type PathPlan,
  removeTempFiles,
  UsageError,
  writeFileAtomic,
} from "./io.js";
import { builtinSummaries, scenarioInputs } from "./scenarios.js";
import { runMerge, runSweep } from "./sweep.js";

const collect = (v: string, prev: string[]) => [...prev, v];

const EXAMPLES_RUN = `
Examples:
  faultline run softlockup-demo
  faultline run pervma-fork-race --kernel 6.4.3 --seed 7 --json out.json
  faultline run my.yaml --set machine.cpus=8 --set workloads[0].threads=8 --trace trace.json
  faultline run iomap-s1 --report report/   (open report/index.html)`;

function out(s: string): void {
  process.stdout.write(s);
}

function err(s: string): void {
  process.stderr.write(s);
}

/** Writes JSON to FILE atomically, or to stdout for "-". */
function writeJsonOption(file: string, json: string): void {
  if (file === "-") out(json);
  else writeFileAtomic(file, json, "JSON result");
}

/** Checks, before anything runs or is created, that the outputs can be written and that none of them
 * is an input or another output. */
function checkOutputs(arg: string, o: { json?: string; trace?: string; report?: string }): void {
  // only --json writes to stdout for "-"; elsewhere it would be a file or folder named "-"
  if (o.trace === "-")
    throw new UsageError(
      "--trace -: the trace is not written to stdout; allowed: a file path (--json - prints the result)",
    );
  if (o.report === "-")
    throw new UsageError("--report -: the report is a folder of files; allowed: a directory path");
  const files: PathPlan["files"] = [];
  if (o.json && o.json !== "-") files.push({ path: o.json, what: "JSON result", flag: "--json" });
  if (o.trace) files.push({ path: o.trace, what: "trace", flag: "--trace" });
  checkPathPlan({
    inputs: scenarioInputs(arg),
    files,
    dirs: o.report
      ? [{ path: o.report, what: "report directory", flag: "--report", writes: reportWrites }]
      : [],
  });
  for (const f of files) checkWritableFile(f.path, f.what);
  if (o.report) checkWritableDir(o.report, "report directory");
}

export function buildProgram(): Command {
  const program = new Command("faultline")
    .description(
      "Deterministic simulator of Linux page faults under per-VMA locks and of iomap/XFS writeback completion.\nRun a scenario (a built-in name or a YAML/JSON file), compare kernel variants, sweep parameters.",
    )
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  program
    .command("run")
    .description("run one scenario on one kernel variant and seed; print the text report")
    .argument("<scenario>", "built-in scenario name (see `faultline list`) or a YAML/JSON file")
    .option("-k, --kernel <variant>", "kernel variant (see `faultline variants`)")
    .option("--set <path=value>", "override a scenario field, e.g. machine.cpus=8 (repeatable)", collect, [])
    .option("--seed <n>", "PRNG seed (default: the scenario's first seed)")
    .option("--json <file>", "write the JSON result to FILE ('-' for stdout instead of the text report)")
    .option("--trace <file>", "write a Perfetto-openable trace (Chrome JSON) to FILE")
    .option(
      "--trace-level <level>",
      "what --trace records: sched (scheduler, irqs, locks), model (also kernel-function slices, flows; default), all (also every user load/store)",
    )
    .option("--report <dir>", "write an HTML report with plots into DIR")
    .option(
      "--no-fast-paths",
      "run every step of the mm model in its generator form and every engine step through the CPU loop (the results are byte-identical; slower)",
    )
    .option("-q, --quiet", "print nothing but errors")
    .addHelpText("after", EXAMPLES_RUN)
    .action(async (arg: string, o) => {
      checkOutputs(arg, o);
      const l = loadArg(arg, parseSets(o.set), o.kernel);
      const seed = pickSeed(l.scenario, o.seed === undefined ? undefined : intOption(o.seed, "--seed"));
      const level = traceLevelOption(o.traceLevel);
      if (o.report) ensureDir(o.report, "report directory");
      const fast = o.fastPaths === false ? false : undefined;
      const r = o.trace
        ? await runTraced(l, seed, o.trace, o.quiet === true, level, fast)
        : runWithTrace(l, seed, undefined, o.quiet === true, undefined, fast);
      if (o.json) writeJsonOption(o.json, resultJson(r));
      if (!o.quiet && o.json !== "-") out(textReport(r));
      if (o.report) {
        const index = await writeReportDir(o.report, `faultline: ${r.scenario.name} on ${r.kernel.variant}`, [
          {
            heading: `${r.scenario.name} on ${r.kernel.variant}`,
            intro: l.scenario.description,
            results: [r],
            timelines: [reportTimeline(l, seed, r)],
            plots: [],
            drawPlots: l.scenario.report.plots,
          },
        ]);
        if (!o.quiet) err(`report: ${index}\n`);
      }
      process.exitCode = r.findings.length > 0 ? 1 : 0;
    });

  program
    .command("compare")
    .description("run one scenario on several kernel variants and print them side by side")
    .argument("<scenario>", "built-in scenario name or a YAML/JSON file")
    .option(
      "-k, --kernel <variants>",
      "comma-separated variants, e.g. 6.4.0,6.4.3 (default: the scenario's compare list)",
    )
    .option("--set <path=value>", "override a scenario field (repeatable)", collect, [])
    .option("--seed <n>", "PRNG seed")
    .option("--json <file>", "write all results as one JSON document to FILE ('-' for stdout)")
    .option("--report <dir>", "write an HTML report with plots into DIR")
    .option("-q, --quiet", "no progress bar")
    .addHelpText("after", "\nExample:\n  faultline compare pervma-fork-race --kernel 6.4.0,6.4.3")
    .action(async (arg: string, o) => {
      checkOutputs(arg, o);
      const sets = parseSets(o.set);
      const base = loadArg(arg, sets);
      const variants = o.kernel ? commaList(o.kernel, "--kernel") : base.scenario.compare;
      if (!variants || variants.length === 0)
        throw new UsageError(`compare ${arg}: give --kernel A,B,... (the scenario has no compare list)`);
      const loaded = variants.map((v) => loadArg(arg, sets, v));
      const seed = pickSeed(base.scenario, o.seed === undefined ? undefined : intOption(o.seed, "--seed"));
      if (o.report) ensureDir(o.report, "report directory");
      const results = loaded.map((l) => runWithTrace(l, seed, undefined, o.quiet === true));
      if (o.json) writeJsonOption(o.json, compareJson(results));
      if (o.json !== "-") out(compareReport(results));
      if (o.report) {
        const index = await writeReportDir(o.report, `faultline compare: ${base.scenario.name}`, [
          {
            heading: `${base.scenario.name}: ${variants.join(" vs ")}`,
            intro: base.scenario.description,
            results,
            timelines: results.map((r, i) => reportTimeline(loaded[i]!, seed, r)),
            plots: [],
            drawPlots: base.scenario.report.plots,
          },
        ]);
        if (!o.quiet) err(`report: ${index}\n`);
      }
      process.exitCode = results.some((r) => r.findings.length > 0) ? 1 : 0;
    });

  program
    .command("sweep")
    .description(
      "run the cross product of parameter values and seeds in worker threads; CSV + JSON lines as results arrive",
    )
    .argument("<scenario>", "built-in scenario name or a YAML/JSON file")
    .requiredOption(
      "--out <dir>",
      "output directory (results.csv, results.jsonl, sweep.json, report.html); reruns resume",
    )
    .option("--param <path=v1,v2,...>", "a swept field and its values (repeatable)", collect, [])
    .option("-k, --kernel <variants>", "comma-separated variants to sweep over")
    .option("--set <path=value>", "a fixed override (repeatable)", collect, [])
    .option("--seeds <a..b>", "seed range A..B or list A,B,C (default: the scenario's seeds)")
    .option("-j, --jobs <n>", "worker threads (default: CPUs available)")
    .option(
      "--shard <k/n|auto>",
      "run only slice K of N (1-based) of the jobs, for batch schedulers; combine with `merge`. auto: K and N from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or K from JOB_COMPLETION_INDEX (Kubernetes indexed Job) with --shards N",
    )
    .option("--shards <n>", "with --shard auto on Kubernetes: the number of shards (the Job's completions)")
    .option("-q, --quiet", "no progress bar and no summary line")
    .addHelpText(
      "after",
      "\nExamples:\n  faultline sweep pervma-fault-storm --param machine.cpus=1,2,4,8 --kernel 6.3,6.4.3 --seeds 1..5 --out sweep/\n  faultline sweep iomap-s8 --param machine.preemption=none,voluntary,full,lazy --seeds 1..3 --shard 2/4 --out shard2/\n  faultline sweep iomap-s8 --seeds 1..100 --shard auto --out shard-$SLURM_ARRAY_TASK_ID/   (sbatch --array=1-4)",
    )
    .action(async (arg: string, o) => {
      process.exitCode = await runSweep(arg, o, process.env);
    });

  program
    .command("merge")
    .description("merge the output directories of sweep shards into one")
    .argument("<dirs...>", "sweep output directories")
    .requiredOption("--out <dir>", "directory for the merged results")
    .option("--allow-missing", "write the merge even when jobs are missing (exit status 2 otherwise)")
    .option("-q, --quiet", "no summary line")
    .action(async (dirs: string[], o) => {
      process.exitCode = await runMerge(dirs, o.out, {
        allowMissing: o.allowMissing === true,
        quiet: o.quiet === true,
      });
    });

  program
    .command("list")
    .description("list the built-in scenarios, one line each")
    .action(() => {
      const rows = builtinSummaries().map((s) => [s.name, s.title]);
      out(`${table(rows, ["l", "l"]).join("\n")}\n`);
    });

  program
    .command("variants")
    .description("list the kernel variants, one line each")
    .action(() => {
      const rows = catalog().variants.map((v) => [
        v.name,
        v.model,
        v.aliases.length > 0 ? `(${v.aliases.join(", ")})` : "",
        v.summary,
      ]);
      out(`${table(rows, ["l", "l", "l", "l"]).join("\n")}\n`);
    });

  program
    .command("explain")
    .description("what a kernel variant switches, and which lock sites and yield points it has")
    .argument("<variant>", "variant name or alias")
    .action((name: string) => {
      const v = findVariant(catalog(), name);
      if (!v)
        throw new UsageError(
          `unknown variant "${name}"; known: ${catalog()
            .variants.map((x) => x.name)
            .join(", ")}`,
        );
      const lines = [
        `${v.name} (${v.model}${v.aliases.length > 0 ? `; also ${v.aliases.join(", ")}` : ""})`,
        `  ${v.summary}`,
        "",
      ];
      lines.push(`switches (set with kernel.switches.NAME or --set kernel.switches.NAME=VALUE):`);
      if (v.switches.length === 0) lines.push("  none");
      lines.push(
        ...table(
          v.switches.map((s) => [
            s.name,
            String(s.default),
            s.values ? `one of ${s.values.join(", ")}` : s.type,
            s.summary,
          ]),
          ["l", "l", "l", "l"],
        ).map((l) => `  ${l}`),
      );
      lines.push("", "lock sites (disable with kernel.disableLockSites):");
      lines.push(...(v.lockSites.length > 0 ? v.lockSites.map((s) => `  ${s}`) : ["  none"]));
      lines.push("", "yield points:");
      lines.push(...(v.yields.length > 0 ? v.yields.map((s) => `  ${s}`) : ["  none"]));
      out(`${lines.join("\n")}\n`);
    });

  program
    .command("demo")
    .description(
      "the demonstration (npm start): fork race, fault storm, soft lockup; prints comparisons, writes an HTML report",
    )
    .option("--report <dir>", "where to write the HTML report", "faultline-report")
    .option("--no-report", "do not write the HTML report")
    .option("-q, --quiet", "no progress bar")
    .action(async (o) => {
      if (o.report !== false) {
        if (o.report === "-")
          throw new UsageError("--report -: the report is a folder of files; allowed: a directory path");
        checkPathPlan({
          inputs: [],
          files: [],
          dirs: [{ path: o.report, what: "report directory", flag: "--report", writes: reportWrites }],
        });
        checkWritableDir(o.report, "report directory");
      }
      process.exitCode = await runDemo(o.report === false ? undefined : o.report, o.quiet === true);
    });

  program
    .command("serve")
    .description("serve the web page on localhost (built by npm run build)")
    .option("-p, --port <n>", "TCP port (0: any free port)", "8080")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .action(async (o) => {
      // loaded on use: the HTTP server's modules are not needed by any other command
      const { runServe } = await import("./serve.js");
      process.exitCode = await runServe(o);
    });

  program
    .command("schema")
    .description("print the JSON Schema of scenario files or of results")
    .addArgument(new Argument("<which>", "which schema").choices(["scenario", "result"]))
    .action((which: string) => {
      const js =
        which === "result" ? resultJsonSchema() : scenarioJsonSchema(catalog().variants.map((v) => v.name));
      out(`${JSON.stringify(js, null, 2)}\n`);
    });

  registerCheckCommands(program);
  registerBugsCommand(program);

  for (const c of program.commands) c.exitOverride().showHelpAfterError("(run with --help for usage)");
  return program;
}

function compareJson(results: readonly RunResult[]): string {
  const doc = {
    format: `${RESULT_FORMAT}-compare`,
    version: RESULT_VERSION,
    results: results.map((r) => canonical(r, RunResult)),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Prints a bad-input error (exit 2) or an internal error (exit 70, with the stack, which is our bug). */
function report(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
      return 0;
    return 2;
  }
  if (e instanceof ScenarioError) {
    err(`faultline: invalid scenario:\n${e.message.replace(/^/gm, "  ")}\n`);
    return 2;
  }
  if (e instanceof UsageError || e instanceof ModelUnavailableError) {
    err(`faultline: ${e.message}\n`);
    return 2;
  }
  err(
    `faultline: internal error (a bug in faultline; please report it with the command line):\n${(e as Error)?.stack ?? String(e)}\n`,
  );
  return 70;
}

/** Runs the command line `argv` (without "node faultline") and returns its exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    return report(e);
  } finally {
    process.exitCode = undefined;
    removeTempFiles();
  }
}

/** The `faultline` process (bin/faultline.js): runs main() and exits with its status.
 * - stdout closed early (`| head -1`): the command goes on with its output discarded and exits with the
 *   status it earned (a violation is still 1).
 * - SIGINT/SIGTERM/SIGHUP while a traced run or a sweep's pool works: temporary files are removed, exit
 *   128 + the signal's number (see `interruptible` in io.ts). */
export async function cli(): Promise<void> {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    // Discard the rest of the output: a closed reader does not change what the command found.
    process.stdout.write = (() => true) as typeof process.stdout.write;
  });
  process.exitCode = await main(process.argv.slice(2));
}

// Run as a script (`tsx src/cli/main.ts ...` while developing): the same as bin/faultline.js.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await cli();
