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

/**
 * PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random distinct
 * priorities per CPU, the highest-priority enabled CPU runs, and at d-1 random change points the
 * running CPU drops to a priority below all initial ones. Finds a bug of depth d with probability
 * at least 1/(n k^(d-1)).
 */
export class PctStrategy implements ExploreStrategy {
  private readonly prio: number[];
  private readonly changeAt: Map<number, number>;
  private step = 0;

  constructor(seed: number, nCpus: number, depth: number, maxSteps: number) {
    const rng = new Rng(seed, "check.pct");
    const perm = Array.from({ length: nCpus }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    this.prio = perm.map((p) => p + depth);
    this.changeAt = new Map();
    for (let j = 1; j < depth; j++) this.changeAt.set(1 + rng.int(Math.max(1, maxSteps)), depth - j);
  }

  choose(enabled: readonly number[]): number {
    let best = enabled[0]!;
    for (const c of enabled) if (this.prio[c]! > this.prio[best]!) best = c;
    this.step++;
    const low = this.changeAt.get(this.step);
    if (low !== undefined) this.prio[best] = low;
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
