// `faultline check` and `faultline replay`: the race checker on a scenario's per-VMA-lock model,
// counterexample files, and their exact replay as a per-CPU step table (and a Perfetto trace).

import { type Command, Option } from "commander";
import type { CheckProgress, CheckResult, StrategyName } from "../check/checker.js";
import { type Counterexample, formatStepTable, replay } from "../check/counterexample.js";
import { DEFAULT_GRAIN } from "../check/exhaustive.js";
import { checkAsync, defaultJobs } from "../check/parallel.js";
import { parseWarmStart, type WarmStart, WarmStartError } from "../check/warm.js";
import { ChromeTraceWriter } from "../report/trace.js";
import { findVariant } from "../scenario/catalog.js";
import {
  checkTargetFor,
  counterexampleProblem,
  findingKindsOf,
  targetFromCounterexample,
} from "../scenario/checktarget.js";
import { catalog } from "../scenario/models.js";
import { parseDurationNs } from "../scenario/units.js";
import { intOption, loadArg, parseSets, pickSeed } from "./common.js";
import {
  checkPathPlan,
  checkWritableFile,
  FileSink,
  parseJsonFile,
  readTextFile,
  UsageError,
  writeFileAtomic,
} from "./io.js";
import { startProgress } from "./progress.js";
import { scenarioInputs } from "./scenarios.js";

const collect = (v: string, prev: string[]) => [...prev, v];

function warmStartOption(v: string): WarmStart | null {
  if (v === "none") return null;
  try {
    return parseWarmStart(v, parseDurationNs);
  } catch (e) {
    if (e instanceof WarmStartError) throw new UsageError(`--warm-start: ${e.message}`);
    throw e;
  }
}

const EXAMPLES_CHECK = `
Examples:
  faultline check pervma-fork-race --kernel 6.4.0 --out race.json
  faultline check pervma-fork-race --kernel 6.4.0 --strategy pct --kind lost_update
  faultline check pervma-fork-race-mini --kernel 6.4.0 --out race.json
  faultline check pervma-fork-race-mini --kernel 6.4.3 --strategy exhaustive
  faultline check pervma-check-small --strategy exhaustive --budget 1000000 --time 600
  faultline check pervma-fork-race-mini --kernel 6.4.3 --disable-site dup_mmap:vma_start_write
  faultline check pervma-fork-race-mini --strategy pct --pct-depth 5 --budget 2000
  faultline check iomap-s2 --kernel 5.17 --set fs.files[0].size=256KiB --set fs.files[0].predirty=256KiB \
      --set fs.files[0].extentSize=64KiB --set fs.endIoDelay=0 --set fs.dirtyExpire=0 \
      --set workloads[1].enabled=false --disable-site write_cache_pages:folio_lock
  faultline replay race.json --trace race-trace.json`;

/** Exit status of `faultline check` when the search ended without covering its space and found nothing. */
export const EXIT_INCOMPLETE = 3;

// checkExitCode's statuses, as docs/readme/30-check.md ("Verdicts and exit statuses") gives them
const EXIT_HELP = `

Exit status:
  0  no violation, and the search covered its whole bounded space (exhaustive
     without --stateful: verified)
  1  a violation was found
  2  bad input (unknown scenario, lock site or option value, an engine-only
     scenario, an unreachable warm start, an --out file that cannot be written)
  ${EXIT_INCOMPLETE}  no violation found, but nothing verified: random and PCT always;
     exhaustive when a budget ran out or a run was cut by --max-steps with CPUs
     still able to move; a --stateful search, even a complete one`;

function out(s: string): void {
  process.stdout.write(s);
}

function peakRssMiB(): number {
  const r = process.resourceUsage?.();
  // maxRSS is in KiB on Linux
  return r ? Math.round(r.maxRSS / 1024) : Math.round(process.memoryUsage().rss / 2 ** 20);
}

function floatOption(v: string, what: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${what}: expected a number from ${min} to ${max}, got "${v}"`);
  return n;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

/** The text a user reads after a check. */
export function checkReport(what: string, r: CheckResult, outFile: string | undefined): string {
  const lines: string[] = [];
  lines.push(`faultline check: ${what}, strategy ${r.strategy}`);
  if (r.verdict === "violation") {
    const cx = r.counterexample!;
    lines.push(`  verdict    VIOLATION: ${cx.finding.kind}`);
    lines.push(`             ${cx.finding.message}`);
  } else if (r.verdict === "verified") {
    lines.push("  verdict    no violation: the bounded state space was covered completely");
  } else if (r.complete && r.storedStates !== undefined) {
    lines.push(
      "  verdict    no violation found: the stateful search finished (a search, not a proof: see README)",
    );
  } else {
    lines.push("  verdict    no violation found within the budget");
  }
  lines.push(
    `  schedules  ${fmtInt(r.schedules)} in ${(r.elapsedMs / 1000).toFixed(2)} s (${fmtInt(r.schedulesPerS)} schedules/s), ${fmtInt(r.stepsExecuted)} steps executed`,
  );
  if (r.strategy === "exhaustive") {
    lines.push(
      `  coverage   ${r.complete ? "complete" : (r.cutRuns ?? 0) > 0 ? `incomplete (${plural(r.cutRuns!, "run")} cut by the step budget with CPUs still able to move: raise --max-steps)` : "incomplete (budget ran out)"}; ${fmtInt(r.pruned)} redundant schedules cut by sleep sets`,
    );
    lines.push(
      `  search     ${plural(r.units, "unit")} of work in ${plural(r.rounds, "round")} ${(r.workerPeakRssMiB ?? []).length === 0 ? "in this process" : `on ${plural(r.workerPeakRssMiB!.length, "worker process", "worker processes")}`}`,
    );
    if (r.storedStates !== undefined)
      lines.push(
        `  states     ${fmtInt(r.storedStates)} stored of ${fmtInt(r.keyedNodes ?? 0)} quiescent nodes, ${fmtInt(r.matched ?? 0)} pruned as explored before (stateful: never "verified")`,
      );
  }
  const workers = r.workerPeakRssMiB ?? [];
  lines.push(
    workers.length > 0
      ? `  memory     peak RSS ${peakRssMiB()} MiB here, ${workers.join(" + ")} MiB in the worker processes`
      : `  memory     peak RSS ${peakRssMiB()} MiB`,
  );
  if (r.counterexample !== null) {
    const cx = r.counterexample;
    lines.push(
      `  found at   schedule ${r.foundAt + 1}; shrunk from ${r.original!.steps} to ${cx.steps} steps on ${cx.cpus} CPUs with ${cx.switches} context switches (${r.shrinkAttempts} replays)`,
    );
    if (outFile) lines.push(`  saved      ${outFile} (replay it: faultline replay ${outFile})`);
  }
  return `${lines.join("\n")}\n`;
}

/** Exit status of a finished check: 1 violation, 0 verified (complete), EXIT_INCOMPLETE otherwise. */
export function checkExitCode(r: CheckResult): number {
  if (r.verdict === "violation") return 1;
  return r.verdict === "verified" ? 0 : EXIT_INCOMPLETE;
}

function readCounterexample(file: string): Counterexample {
  const text = readTextFile(file, "counterexample");
  const doc = parseJsonFile(file, text, "a counterexample written by faultline check --out");
  const problem = counterexampleProblem(doc);
  if (problem !== null) throw new UsageError(`${file}: not a faultline counterexample: ${problem}`);
  return doc as Counterexample;
}

export function registerCheckCommands(program: Command): void {
  program
    .command("check")
    .description(
      "explore interleavings of a scenario (per-VMA-lock or writeback model) until an invariant breaks; shrink and save the counterexample",
    )
    .argument("<scenario>", "built-in scenario name (see `faultline list`) or a YAML/JSON file")
    .addOption(
      new Option("-s, --strategy <name>", "random walk, PCT, or bounded exhaustive search with DPOR")
        .choices(["random", "pct", "exhaustive"])
        .default("random"),
    )
    .option("-b, --budget <n>", "schedules to try at most", "10000")
    .option("-t, --time <seconds>", "wall-time budget in seconds", "60")
    .option(
      "-k, --kernel <variant>",
      "kernel variant (6.3, 6.4.0, 6.4.3, 6.5, 6.15; writeback: 5.16, 5.17, ...)",
    )
    .option("--disable-site <name>", "switch off a lock acquisition site (repeatable)", collect, [])
    .option("--set <path=value>", "override a scenario field (repeatable)", collect, [])
    .option("--seed <n>", "first seed of the random/PCT schedules and of the model (default: the scenario's)")
    .option("--pct-depth <d>", "PCT bug depth", "3")
    .option(
      "--preemption-bound <b>",
      "exhaustive: at most B preemptions per schedule (turns off DPOR, sleep sets and --stateful)",
    )
    .option("--max-steps <n>", "step budget of one schedule", "20000")
    .option(
      "--warm-start <event|time>",
      'run the timed driver up to this model event (e.g. dup_mmap, dup_mmap#2) or time (e.g. 2ms) and explore from there; "none" turns off the scenario\'s',
    )
    .option(
      "-j, --jobs <n>",
      `exhaustive: worker processes (default: one per core, here ${defaultJobs()}); results do not depend on it`,
    )
    .option("--grain <n>", "exhaustive: schedules per unit of work handed to a worker", String(DEFAULT_GRAIN))
    .option(
      "--stateful",
      "exhaustive: prune nodes whose whole state was explored before (quiescent nodes only; one process)",
    )
    .option("--kind <finding>", "only these finding kinds count as violations (repeatable)", collect, [])
    .option("--no-shrink", "keep the counterexample as found")
    .option("-o, --out <file>", "write the counterexample JSON to FILE")
    .option("-q, --quiet", "no progress on stderr and no report: the exit status only")
    .addHelpText("after", EXAMPLES_CHECK + EXIT_HELP)
    .action(async (arg: string, o, cmd: Command) => {
      if (o.out) {
        checkPathPlan({
          inputs: scenarioInputs(arg),
          files: [{ path: o.out, what: "counterexample", flag: "--out" }],
          dirs: [],
        });
        checkWritableFile(o.out, "counterexample");
      }
      const l = loadArg(arg, parseSets(o.set), o.kernel);
      const s = { ...l.scenario, kernel: { ...l.scenario.kernel } };
      const variant = findVariant(catalog(), s.kernel.variant);
      for (const site of o.disableSite as string[]) {
        if (variant !== undefined && !variant.lockSites.includes(site))
          throw new UsageError(
            `--disable-site ${site}: no such lock site in ${variant.name}; allowed: ${variant.lockSites.join(", ")}`,
          );
        if (!s.kernel.disableLockSites.includes(site))
          s.kernel.disableLockSites = [...s.kernel.disableLockSites, site];
      }
      const seed = pickSeed(s, o.seed === undefined ? undefined : intOption(o.seed, "--seed"));
      const kinds = (o.kind as string[]).length > 0 ? (o.kind as string[]) : undefined;
      if (kinds !== undefined && (variant?.model === "mm" || variant?.model === "fs")) {
        // a mistyped kind would never match: the search would end "no violation found"
        const allowed = findingKindsOf(variant.model);
        for (const k of kinds)
          if (!allowed.includes(k))
            throw new UsageError(
              `--kind ${k}: no such finding kind in the ${variant.model === "mm" ? "per-VMA-lock" : "writeback"} model; allowed: ${allowed.join(", ")}`,
            );
      }
      const target = checkTargetFor(s, {
        seed,
        maxSteps: intOption(o.maxSteps, "--max-steps", 1, 10_000_000),
        ...(kinds ? { kinds } : {}),
        ...(o.warmStart !== undefined ? { warmStart: warmStartOption(o.warmStart) } : {}),
      });
      const budget = intOption(o.budget, "--budget", 1, 100_000_000);
      const warm = target.describe?.warmStart as WarmStart | undefined;
      if (warm !== undefined) {
        // an unreachable warm start is the user's error: say so before searching
        try {
          target.build();
        } catch (e) {
          if (e instanceof WarmStartError) throw new UsageError(`${arg}: ${e.message}`);
          throw e;
        }
      }
      const jobs = o.jobs === undefined ? defaultJobs() : intOption(o.jobs, "--jobs", 1, 256);
      const grain = intOption(o.grain, "--grain", 1, 100_000_000);
      const timeS = floatOption(o.time, "--time", 0.001, 86_400);
      const pctDepth = intOption(o.pctDepth, "--pct-depth", 1, 100);
      const preemptionBound =
        o.preemptionBound === undefined
          ? Number.POSITIVE_INFINITY
          : intOption(o.preemptionBound, "--preemption-bound", 0, 1000);
      // an option of another strategy would be ignored: say so rather than search without it
      const only: [string, string, StrategyName][] = [
        ["jobs", "--jobs", "exhaustive"],
        ["grain", "--grain", "exhaustive"],
        ["stateful", "--stateful", "exhaustive"],
        ["preemptionBound", "--preemption-bound", "exhaustive"],
        ["pctDepth", "--pct-depth", "pct"],
      ];
      for (const [key, flag, strategy] of only)
        if (cmd.getOptionValueSource(key) === "cli" && o.strategy !== strategy)
          throw new UsageError(
            `${flag}: only with --strategy ${strategy} (this search is ${o.strategy}); allowed: --strategy ${strategy} ${flag}${key === "stateful" ? "" : " N"}`,
          );
      // the progress of the search (on a terminal, not with -q): schedules against the budget,
      // with elapsed time and the deepest schedule so far
      const progress = startProgress({
        label: `check ${s.name} on ${s.kernel.variant}`,
        total: budget,
        unit: "schedules",
        quiet: o.quiet === true,
      });
      const r = await checkAsync(target, {
        onProgress: (p: CheckProgress) =>
          progress.update(p.schedules, `${(p.elapsedMs / 1000).toFixed(1)} s, depth ${fmtInt(p.bestDepth)}`),
        jobs,
        grain,
        stateful: o.stateful === true,
        strategy: o.strategy as StrategyName,
        budget,
        timeS,
        seed,
        pctDepth,
        preemptionBound,
        shrink: o.shrink !== false,
      }).finally(() => progress.stop());
      process.exitCode = checkExitCode(r);
      if (o.quiet) {
        if (o.out && r.counterexample !== null)
          writeFileAtomic(o.out, `${JSON.stringify(r.counterexample, null, 2)}\n`, "counterexample");
        return;
      }
      const sites =
        s.kernel.disableLockSites.length > 0 ? `, sites off: ${s.kernel.disableLockSites.join(" ")}` : "";
      out(checkReport(`${s.name} on ${s.kernel.variant}, seed ${seed}${sites}`, r, o.out));
      if (r.counterexample !== null) {
        const rep = replay(target, r.counterexample);
        out(`\n${formatStepTable(rep.rows, s.machine.cpus).join("\n")}\n`);
        if (o.out) writeFileAtomic(o.out, `${JSON.stringify(r.counterexample, null, 2)}\n`, "counterexample");
      }
    });

  program
    .command("replay")
    .description("re-run a counterexample exactly and print it as a step table, one column per CPU")
    .argument("<file>", "counterexample JSON written by `faultline check --out`")
    .option("--trace <file>", "write a Perfetto-openable trace of the replay (time = step number)")
    .addHelpText("after", "\nExample:\n  faultline replay race.json --trace race-trace.json")
    .action((file: string, o) => {
      if (o.trace) {
        if (o.trace === "-")
          throw new UsageError("--trace -: the trace is not written to stdout; allowed: a file path");
        checkPathPlan({
          inputs: [{ path: file, what: "counterexample" }],
          files: [{ path: o.trace, what: "trace", flag: "--trace" }],
          dirs: [],
        });
        checkWritableFile(o.trace, "trace");
      }
      const cx = readCounterexample(file);
      const target = targetFromCounterexample(cx);
      const writer = o.trace
        ? new ChromeTraceWriter(new FileSink(o.trace, "trace"), { counterexample: file, target: cx.target })
        : undefined;
      let rep: ReturnType<typeof replay>;
      try {
        rep = replay(target, cx, writer);
        writer?.finish();
      } catch (e) {
        writer?.abort();
        // the file's warm start cannot be reached in this scenario: the file is wrong, not faultline
        if (e instanceof WarmStartError)
          throw new UsageError(
            `${file}: not a counterexample this scenario can replay: field "describe.warmStart": ${e.message}`,
          );
        throw e;
      }
      const d = cx.describe as Record<string, unknown>;
      out(
        `faultline replay: ${cx.target} (kernel ${String(d.kernel)}, seed ${String(d.seed)}), ${cx.steps} steps on ${cx.cpus} CPUs\n`,
      );
      out(`  recorded   ${cx.finding.kind}: ${cx.finding.message}\n`);
      out(
        rep.reproduced
          ? `  replayed   ${rep.finding!.kind}: ${rep.finding!.message}\n  reproduced yes\n\n`
          : `  replayed   ${rep.finding ? `${rep.finding.kind}: ${rep.finding.message}` : "no violation"}\n  reproduced NO (${rep.mismatches} steps could not follow the recorded schedule)\n\n`,
      );
      out(`${formatStepTable(rep.rows, Number(d.cpus)).join("\n")}\n`);
      if (o.trace) out(`\ntrace: ${o.trace}\n`);
      process.exitCode = rep.reproduced ? 1 : 0;
    });
}
