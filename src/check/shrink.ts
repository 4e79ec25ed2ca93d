// Shrinking a failing schedule: fewest steps first, then fewest CPUs taking steps, then fewest
// context switches, keeping the same violated invariant. A candidate is a list of choices replayed
// with ReplayStrategy (unfollowable choices fall back without adding switches), and its actual
// executed schedule replaces it when it still fails, so every kept candidate replays exactly.
import { type CheckTarget, type RunOutcome, runOnce } from "./run.js";
import { contextSwitches, ReplayStrategy } from "./strategy.js";

export interface ShrinkResult {
  outcome: RunOutcome;
  attempts: number;
  /** Steps, CPUs and switches before and after. */
  before: { steps: number; cpus: number; switches: number };
  after: { steps: number; cpus: number; switches: number };
}

function cpusUsed(choices: readonly number[]): number {
  return new Set(choices).size;
}

function measure(o: RunOutcome) {
  return { steps: o.steps, cpus: cpusUsed(o.choices), switches: contextSwitches(o.choices) };
}

function better(a: RunOutcome, b: RunOutcome): boolean {
  const x = measure(a);
  const y = measure(b);
  if (x.steps !== y.steps) return x.steps < y.steps;
  if (x.cpus !== y.cpus) return x.cpus < y.cpus;
  return x.switches < y.switches;
}

export function shrink(target: CheckTarget, failing: RunOutcome, maxAttempts = 2000): ShrinkResult {
  const kind = failing.finding!.kind;
  let best = failing;
  let attempts = 0;
  const tryChoices = (choices: number[], excluded: ReadonlySet<number> = new Set()): boolean => {
    if (attempts >= maxAttempts) return false;
    attempts++;
    // a candidate longer than the best cannot replace it: stop it one step past the best's length.
    // A run that ends within best.steps steps runs exactly as under target.maxSteps (its end checks
    // too: explore() skips the deadlock check only at the budget), so every decision is the same
    const o = runOnce(
      target,
      new ReplayStrategy(choices, excluded),
      Math.min(target.maxSteps, best.steps + 1),
    );
    if (o.finding === null || o.finding.kind !== kind) return false;
    if (!better(o, best)) return false;
    best = o;
    return true;
  };

  for (let improved = true; improved && attempts < maxAttempts; ) {
    improved = false;
    const base = best.choices;
    // 1. ddmin-style chunk removal, large chunks first
    for (let size = Math.max(1, base.length >> 1); size >= 1 && attempts < maxAttempts; size >>= 1) {
      for (let i = 0; i + size <= best.choices.length && attempts < maxAttempts; ) {
        const c = best.choices;
        if (tryChoices([...c.slice(0, i), ...c.slice(i + size)])) improved = true;
        else i += size;
      }
    }
    // 2. drop a CPU entirely (it runs only where nothing else can)
    for (const cpu of [...new Set(best.choices)].sort((a, b) => a - b)) {
      if (attempts >= maxAttempts) break;
      const c = best.choices.filter((x) => x !== cpu);
      if (tryChoices(c, new Set([cpu]))) improved = true;
    }
    // 3. remove context switches: let the previous CPU take the step instead
    for (let i = 1; i < best.choices.length && attempts < maxAttempts; i++) {
      const c = best.choices;
      if (c[i] === c[i - 1]) continue;
      const alt = c.slice();
      alt[i] = c[i - 1]!;
      if (tryChoices(alt)) improved = true;
    }
  }
  return { outcome: best, attempts, before: measure(failing), after: measure(best) };
}
