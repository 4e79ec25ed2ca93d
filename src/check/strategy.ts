// Schedule strategies for the explore driver: which enabled CPU takes the next step.
import type { ExploreStrategy, Machine } from "../sim/machine.js";
import { Rng } from "../sim/prng.js";

/** Random walk: every enabled CPU equally likely at every step. */
export class RandomStrategy implements ExploreStrategy {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed, "check.random");
  }
  choose(enabled: readonly number[]): number {
    return enabled[this.rng.int(enabled.length)]!;
  }
}

/** PCT's default bound on the steps a choice takes at one priority before it is demoted (see PctStrategy). */
export const PCT_SPIN_BOUND = 64;

/**
 * PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random distinct
 * priorities per choice (each CPU, and the time step that fires the earliest timer), the
 * highest-priority enabled one runs, and at d-1 random change points among the first `kSteps`
 * steps the running one drops to a priority below all initial ones. Finds a bug of depth d with
 * probability at least 1/(n k^(d-1)) when threads block or finish. Kernel threads often spin
 * instead (a writer storing in a loop, a CPU polling a lock, a task polling with short sleeps
 * that the time step keeps waking), and the highest-priority spinner would then take every step:
 * so a choice that has taken its quota of steps at its priority (drawn from 1..spinBound for each
 * priority it gets, so that demotions fall anywhere in a critical window) while another could move
 * is demoted below every priority so far; the others run until they block, finish or are demoted in
 * turn, which bounds how long any spinner holds the run back.
 */
export class PctStrategy implements ExploreStrategy {
  private readonly prio: number[];
  private readonly used: number[];
  /** Steps each choice may take at its current priority (drawn from 1..spinBound). */
  private readonly quota: number[];
  private readonly rng: Rng;
  private readonly changeAt: Map<number, number>;
  private step = 0;
  /** Next demotion priority: below the change points' (1 .. d-1) and every earlier demotion. */
  private floor = 0;
  /** Demotions of spinning choices so far. */
  demotions = 0;

  constructor(
    seed: number,
    nChoices: number,
    depth: number,
    kSteps: number,
    private readonly spinBound = PCT_SPIN_BOUND,
  ) {
    const rng = new Rng(seed, "check.pct");
    const perm = Array.from({ length: nChoices }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    this.prio = perm.map((p) => p + depth);
    this.used = new Array(nChoices).fill(0);
    this.quota = Array.from({ length: nChoices }, () => 1 + rng.int(spinBound));
    this.rng = rng;
    this.changeAt = new Map();
    for (let j = 1; j < depth; j++) this.changeAt.set(1 + rng.int(Math.max(1, kSteps)), depth - j);
  }

  choose(enabled: readonly number[]): number {
    let best = enabled[0]!;
    for (const c of enabled) if (this.prio[c]! > this.prio[best]!) best = c;
    this.step++;
    const low = this.changeAt.get(this.step);
    if (low !== undefined) {
      this.prio[best] = low;
      this.used[best] = 0;
    } else if (++this.used[best]! >= this.quota[best]! && enabled.length > 1) {
      this.prio[best] = this.floor--;
      this.used[best] = 0;
      this.quota[best] = 1 + this.rng.int(this.spinBound);
      this.demotions++;
    }
    return best;
  }
}

/**
 * Follow a recorded list of choices; where a choice is not enabled (or the list has ended), fall back
 * to running the previously chosen CPU if it can still move, else the lowest enabled CPU, so that the
 * completion adds no context switch it does not need.
 */
export class ReplayStrategy implements ExploreStrategy {
  private i = 0;
  private prev = -1;
  /** Steps where the recorded choice could not be followed. */
  mismatches = 0;
  constructor(
    private readonly choices: readonly number[],
    private readonly excluded: ReadonlySet<number> = new Set(),
  ) {}

  choose(enabled: readonly number[]): number {
    const want = this.i < this.choices.length ? this.choices[this.i] : undefined;
    this.i++;
    let c: number;
    if (want !== undefined && enabled.includes(want)) c = want;
    else {
      if (want !== undefined) this.mismatches++;
      c = fallback(enabled, this.prev, this.excluded);
    }
    this.prev = c;
    return c;
  }
}

export function fallback(enabled: readonly number[], prev: number, excluded: ReadonlySet<number>): number {
  if (prev >= 0 && enabled.includes(prev)) return prev;
  for (const c of enabled) if (!excluded.has(c)) return c;
  return enabled[0]!;
}

/** Count the context switches of a schedule (consecutive steps on different CPUs). */
export function contextSwitches(choices: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < choices.length; i++) if (choices[i] !== choices[i - 1]) n++;
  return n;
}

export type { ExploreStrategy, Machine };
