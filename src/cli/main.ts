// The faultline command line. Exit status: 0 success, 1 a run found a violation (any finding),
// 2 bad input (scenario, options, unreadable or unwritable paths). Never a stack trace for bad input.
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
  runWithTrace,
  traceLevelOption,
  writeReportDir,
} from "./common.js";
import { runDemo } from "./demo.js";
import {
  checkWritableDir,
  checkWritableFile,
  ensureDir,
  removeTempFiles,
  UsageError,
  writeFileAtomic,
} from "./io.js";
import { builtinSummaries } from "./scenarios.js";
import { runServe } from "./serve.js";
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

function checkOutputs(o: { json?: string; trace?: string; report?: string }): void {
  if (o.json && o.json !== "-") checkWritableFile(o.json, "JSON result");
  if (o.trace) checkWritableFile(o.trace, "trace");
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
    .option("-q, --quiet", "print nothing but errors")
    .addHelpText("after", EXAMPLES_RUN)
    .action(async (arg: string, o) => {
      checkOutputs(o);
      const l = loadArg(arg, parseSets(o.set), o.kernel);
      const seed = pickSeed(l.scenario, o.seed === undefined ? undefined : intOption(o.seed, "--seed"));
      if (o.report) ensureDir(o.report, "report directory");
      const r = runWithTrace(l, seed, o.trace, traceLevelOption(o.traceLevel));
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
    .addHelpText("after", "\nExample:\n  faultline compare pervma-fork-race --kernel 6.4.0,6.4.3")
    .action(async (arg: string, o) => {
      checkOutputs(o);
      const sets = parseSets(o.set);
      const base = loadArg(arg, sets);
      const variants = o.kernel ? commaList(o.kernel, "--kernel") : base.scenario.compare;
      if (!variants || variants.length === 0)
        throw new UsageError(`compare ${arg}: give --kernel A,B,... (the scenario has no compare list)`);
      const loaded = variants.map((v) => loadArg(arg, sets, v));
      const seed = pickSeed(base.scenario, o.seed === undefined ? undefined : intOption(o.seed, "--seed"));
      if (o.report) ensureDir(o.report, "report directory");
      const results = loaded.map((l) => runWithTrace(l, seed));
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
        err(`report: ${index}\n`);
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
      "--shard <k/n>",
      "run only slice K of N (1-based) of the jobs, for batch schedulers; combine with `merge`",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  faultline sweep pervma-fault-storm --param machine.cpus=1,2,4,8 --kernel 6.3,6.4.3 --seeds 1..5 --out sweep/\n  faultline sweep iomap-s8 --param machine.preemption=none,voluntary,full,lazy --seeds 1..3 --shard 2/4 --out shard2/",
    )
    .action(async (arg: string, o) => {
      process.exitCode = await runSweep(arg, o);
    });

  program
    .command("merge")
    .description("merge the output directories of sweep shards into one")
    .argument("<dirs...>", "sweep output directories")
    .requiredOption("--out <dir>", "directory for the merged results")
    .action(async (dirs: string[], o) => {
      process.exitCode = await runMerge(dirs, o.out);
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
    .action(async (o) => {
      process.exitCode = await runDemo(o.report === false ? undefined : o.report);
    });

  program
    .command("serve")
    .description("serve the web page on localhost (build it first: npm run build:web)")
    .option("-p, --port <n>", "TCP port (0: any free port)", "8080")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .action(async (o) => {
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

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    return report(e);
  } finally {
    removeTempFiles();
  }
}

// No SIGINT/SIGTERM handlers: a run is synchronous, so a handler would never get to run and would
// only stop the default action. An interrupted run leaves at most a hidden .faultline-tmp-* file,
// never a half-written output file under its final name.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
});

const code = await main(process.argv.slice(2));
process.exitCode = code;
