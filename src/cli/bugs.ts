// `faultline bugs`: the catalog of real per-VMA-lock bugs the model reproduces (src/kernels/mm-bugs.ts),
// and `--verify`, which runs each entry's scenario with its fix off (expects its finding) and on
// (expects none) in the timed driver over several seeds and under the race checker.
import type { Command } from "commander";
import { findMmBug, MM_BUGS, type MmBug } from "../kernels/mm-bugs.js";
import { table } from "../report/format.js";
import { type BugVerdict, fixLabel, verifyBug } from "../scenario/bugs.js";
import type { Scenario } from "../scenario/schema.js";
import { intOption, loadArg } from "./common.js";
import { checkWritableFile, UsageError, writeFileAtomic } from "./io.js";

function out(s: string): void {
  process.stdout.write(s);
}

/** One row per catalog entry: commit, subject, variants, fix, scenario. */
export function bugsTable(bugs: readonly MmBug[] = MM_BUGS): string[] {
  return table(
    bugs.map((b) => [b.id, b.subject, `${b.introduced} -> ${b.fixedIn}`, fixLabel(b.fix), b.scenario]),
    ["l", "l", "l", "l", "l"],
  );
}

function bugJson(b: MmBug, v?: BugVerdict): Record<string, unknown> {
  return {
    id: b.id,
    short: b.short,
    subject: b.subject,
    introduced: b.introduced,
    fixedIn: b.fixedIn,
    fix: b.fix,
    scenario: b.scenario,
    checkScenario: b.checkScenario,
    kinds: b.kinds,
    symptom: b.symptom,
    ...(v !== undefined ? { verify: v } : {}),
  };
}

function verdictLines(b: MmBug, v: BugVerdict): string[] {
  const t = v.timed;
  const n = t.seeds.length;
  const lines = [`${b.id}  ${b.subject}  [${v.ok ? "reproduces" : "FAILS"}]`];
  lines.push(
    `  timed  fix off: ${t.offSeedsFound}/${n} seeds ${t.offFirst ? t.offFirst.kind : `without ${b.kinds.join("/")}`}` +
      `; fix on: ${t.onFindings === 0 ? `no finding on ${n} seeds` : `${t.onFindings} finding(s), first ${t.onFirst!.kind}`}`,
  );
  if (t.offFirst) lines.push(`         ${t.offFirst.message}`);
  const c = v.check;
  if (c !== null)
    lines.push(
      `  check  ${c.scenario} fix off: ${c.offFinding ? `${c.offFinding.kind} after ${c.offFoundAfter} schedule(s), shrunk to ${c.offSteps} steps` : "no violation"}` +
        `; fix on: ${c.onFinding ? `VIOLATION ${c.onFinding.kind}` : `none in ${c.onSchedules} schedules`}`,
    );
  return lines;
}

export function registerBugsCommand(program: Command): void {
  program
    .command("bugs")
    .description(
      "the real per-VMA-lock bugs the model reproduces; --verify runs each with its fix off (finding expected) and on (none)",
    )
    .option(
      "--verify [commit...]",
      "verify every entry, or the given commits/short names (timed driver over seeds, and faultline check)",
    )
    .option("--json <file>", "write the catalog (and verdicts) as JSON to FILE ('-' for stdout)")
    .option("--seeds <n>", "timed driver: seeds 1..N per entry", "5")
    .option("--budget <n>", "race checker: schedules with the fix off (on: a tenth, at least 100)", "3000")
    .option("--no-check", "skip the race checker")
    .addHelpText(
      "after",
      "\nExamples:\n  faultline bugs\n  faultline bugs --verify\n  faultline bugs --verify fb49c455323f c137381f71ae --json -",
    )
    .action((o, cmd: Command) => {
      if (o.json && o.json !== "-") checkWritableFile(o.json, "JSON catalog");
      const sel = o.verify;
      // the values are checked whether or not they are used; without --verify they would do nothing
      const n = intOption(o.seeds, "--seeds", 1, 1000);
      const budget = intOption(o.budget, "--budget", 1, 10_000_000);
      if (sel === undefined)
        for (const flag of ["seeds", "budget", "check"])
          if (cmd.getOptionValueSource(flag) === "cli")
            throw new UsageError(
              `--${flag === "check" ? "no-check" : flag}: only with --verify (the catalog alone runs nothing); allowed: faultline bugs --verify ... --${flag === "check" ? "no-check" : `${flag} N`}`,
            );
      let bugs: readonly MmBug[] = MM_BUGS;
      if (Array.isArray(sel) && sel.length > 0)
        bugs = (sel as string[]).map((id) => {
          const b = findMmBug(id);
          if (b === undefined)
            throw new UsageError(
              `--verify ${id}: not in the catalog; known: ${MM_BUGS.map((x) => `${x.id} (${x.short})`).join(", ")}`,
            );
          return b;
        });
      if (sel === undefined) {
        if (o.json) {
          const doc = `${JSON.stringify({ faultline: "bugs", bugs: bugs.map((b) => bugJson(b)) }, null, 2)}\n`;
          if (o.json === "-") out(doc);
          else writeFileAtomic(o.json, doc, "JSON catalog");
        }
        if (o.json !== "-") out(`${bugsTable(bugs).join("\n")}\n`);
        process.exitCode = 0;
        return;
      }
      const seeds = Array.from({ length: n }, (_, i) => i + 1);
      const load = (name: string): Scenario => loadArg(name, []).scenario;
      const verdicts: BugVerdict[] = [];
      for (const b of bugs) {
        const v = verifyBug(b, load, {
          seeds,
          checkBudgetOff: budget,
          checkBudgetOn: Math.max(100, Math.floor(budget / 10)),
          noCheck: o.check === false,
        });
        verdicts.push(v);
        if (o.json !== "-") out(`${verdictLines(b, v).join("\n")}\n`);
      }
      const ok = verdicts.filter((v) => v.ok).length;
      if (o.json) {
        const doc = `${JSON.stringify(
          {
            faultline: "bugs",
            reproduced: ok,
            total: verdicts.length,
            bugs: bugs.map((b, i) => bugJson(b, verdicts[i])),
          },
          null,
          2,
        )}\n`;
        if (o.json === "-") out(doc);
        else writeFileAtomic(o.json, doc, "JSON catalog");
      }
      if (o.json !== "-") out(`${ok}/${verdicts.length} reproduce with the fix off and vanish with it on\n`);
      process.exitCode = ok === verdicts.length ? 0 : 1;
    });
}
