// Verifying the bug catalog (src/kernels/mm-bugs.ts): each entry's built-in scenario with its fix
// switched off must give one of its findings, and with the fix on none at all, in the timed driver
// over several seeds and under the race checker. Browser-safe (the caller loads the scenarios).
import { check } from "../check/checker.js";
import type { MmBug, MmBugFix } from "../kernels/mm-bugs.js";
import { checkTargetFor } from "./checktarget.js";
import { runScenario } from "./run.js";
import type { Scenario } from "./schema.js";

/** The scenario with the bug's fix on (as the fixed variants have it) or off (the code before the fix). */
export function withFix(s: Scenario, fix: MmBugFix, on: boolean): Scenario {
  const kernel = {
    ...s.kernel,
    switches: { ...s.kernel.switches },
    disableLockSites: s.kernel.disableLockSites.filter((x) => !(fix.kind === "site" && x === fix.site)),
  };
  if (fix.kind === "site" && !on) kernel.disableLockSites.push(fix.site);
  if (fix.kind === "switch") kernel.switches[fix.name] = on ? fix.fixed : fix.buggy;
  return { ...s, kernel };
}

/** How a fix appears on the command line and in reports. */
export function fixLabel(fix: MmBugFix): string {
  return fix.kind === "site" ? `site ${fix.site}` : `switch ${fix.name}=${String(fix.fixed)}`;
}

export interface TimedVerdict {
  seeds: number[];
  /** Fix off: seeds whose run gave one of the bug's findings, and the first such finding. */
  offSeedsFound: number;
  offFirst: { kind: string; message: string } | null;
  /** Fix on: findings of any kind over all seeds. */
  onFindings: number;
  onFirst: { kind: string; message: string } | null;
  ok: boolean;
}

export interface CheckVerdict {
  scenario: string;
  /** Fix off: schedules until a violation of one of the bug's kinds (null: none within the budget). */
  offFoundAfter: number | null;
  offFinding: { kind: string; message: string } | null;
  /** Shrunk counterexample length (steps) and its step labels. */
  offSteps: number;
  offLabels: string[];
  /** Fix on: schedules run and violations found (any kind). */
  onSchedules: number;
  onFinding: { kind: string; message: string } | null;
  ok: boolean;
}

export interface BugVerdict {
  id: string;
  timed: TimedVerdict;
  check: CheckVerdict | null;
  ok: boolean;
}

export interface VerifyOptions {
  /** Seeds of the timed driver (default 1..5). */
  seeds?: readonly number[];
  /** Race-checker schedules with the fix off / on. */
  checkBudgetOff?: number;
  checkBudgetOn?: number;
  /** Wall-time limit of each check (s). */
  checkTimeS?: number;
  /** Skip the race checker. */
  noCheck?: boolean;
}

const first = (f: { kind: string; message: string } | undefined) =>
  f === undefined ? null : { kind: f.kind, message: f.message };

/** Timed driver: fix off must show one of the kinds on at least one seed; fix on nothing on any. */
export function verifyTimed(bug: MmBug, s: Scenario, seeds: readonly number[]): TimedVerdict {
  let offSeedsFound = 0;
  let offFirst: TimedVerdict["offFirst"] = null;
  let onFindings = 0;
  let onFirst: TimedVerdict["onFirst"] = null;
  const off = withFix(s, bug.fix, false);
  const on = withFix(s, bug.fix, true);
  for (const seed of seeds) {
    const r = runScenario(off, { seed });
    const hit = r.findings.find((f) => bug.kinds.includes(f.kind));
    if (hit !== undefined) {
      offSeedsFound++;
      offFirst ??= first(hit);
    }
    const r2 = runScenario(on, { seed });
    onFindings += r2.findings.length;
    onFirst ??= first(r2.findings[0]);
  }
  return {
    seeds: [...seeds],
    offSeedsFound,
    offFirst,
    onFindings,
    onFirst,
    ok: offSeedsFound > 0 && onFindings === 0,
  };
}

/** Race checker (random schedules): fix off must violate one of the kinds; fix on must not violate anything. */
export function verifyCheck(bug: MmBug, s: Scenario, o: VerifyOptions = {}): CheckVerdict {
  const seed = s.seed ?? 1;
  const timeS = o.checkTimeS ?? 60;
  const offT = checkTargetFor(withFix(s, bug.fix, false), { seed, kinds: bug.kinds });
  const off = check(offT, { strategy: "random", budget: o.checkBudgetOff ?? 3000, timeS, seed });
  const onT = checkTargetFor(withFix(s, bug.fix, true), { seed });
  const on = check(onT, { strategy: "random", budget: o.checkBudgetOn ?? 300, timeS, seed, shrink: false });
  const cx = off.counterexample;
  const onCx = on.counterexample;
  return {
    scenario: s.name,
    offFoundAfter: cx !== null ? off.foundAt + 1 : null,
    offFinding: cx !== null ? { kind: cx.finding.kind, message: cx.finding.message } : null,
    offSteps: cx?.steps ?? 0,
    offLabels: cx?.labels ?? [],
    onSchedules: on.schedules,
    onFinding: onCx !== null ? { kind: onCx.finding.kind, message: onCx.finding.message } : null,
    ok: cx !== null && onCx === null,
  };
}

/** Verify one catalog entry; `load` returns a built-in scenario by name. */
export function verifyBug(bug: MmBug, load: (name: string) => Scenario, o: VerifyOptions = {}): BugVerdict {
  const s = load(bug.scenario);
  const timed = verifyTimed(bug, s, o.seeds ?? [1, 2, 3, 4, 5]);
  // the check configuration runs on the bug scenario's kernel (variant, switches, sites)
  const chk = o.noCheck ? null : verifyCheck(bug, { ...load(bug.checkScenario), kernel: s.kernel }, o);
  return { id: bug.id, timed, check: chk, ok: timed.ok && (chk === null || chk.ok) };
}
