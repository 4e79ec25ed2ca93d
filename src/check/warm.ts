// Warm starts: a check target's run begins with the deterministic prefix of the scenario in the
// timed driver (up to a named model event, or a virtual time), and the strategy explores from the
// state it reached (Machine.enterExplore). The prefix depends on the scenario and seed only, so a
// counterexample that records the warm start replays exactly; its schedule is the part after it.
import type { Machine } from "../sim/machine.js";

/** Where the timed prefix of a warm start ends. */
export interface WarmStart {
  /** A model event (the names in findings' step lists, e.g. "dup_mmap"): stop at its `count`-th occurrence. */
  event?: string;
  count?: number;
  /** Or a virtual time (ns). */
  timeNs?: number;
}

/** A warm start that cannot be reached (the event never happens in the timed run): a user error. */
export class WarmStartError extends Error {}

/** Longest timed prefix (virtual ns) a warm start may run looking for its event. */
export const WARM_LIMIT_NS = 60e9;

const WARM_RE = /^([A-Za-z_][\w:.-]*?)(?:#([1-9]\d*))?$/;

/** "dup_mmap", "dup_mmap#3", or a time: the text of a warm start (CLI, scenario field). */
export function parseWarmStart(text: string, parseTimeNs: (s: string) => number | undefined): WarmStart {
  const t = parseTimeNs(text);
  if (t !== undefined && /\d/.test(text[0] ?? "")) return { timeNs: t };
  const m = WARM_RE.exec(text.trim());
  if (m === null)
    throw new WarmStartError(
      `warm start "${text}": expected a model event name (e.g. dup_mmap, or dup_mmap#2 for the second) or a time (e.g. 2ms)`,
    );
  return { event: m[1]!, count: Number(m[2] ?? 1) };
}

export function formatWarmStart(w: WarmStart): string {
  if (w.event !== undefined) return (w.count ?? 1) > 1 ? `${w.event}#${w.count}` : w.event;
  return `${((w.timeNs ?? 0) / 1e6).toFixed(3).replace(/\.?0+$/, "")}ms`;
}

/**
 * Run the timed prefix on `m` (a timed machine with the watchdogs off, its model set up) and turn it
 * into an explore-mode machine. `watch` lets the model report its events by name (null: the model
 * has none). Throws WarmStartError if the event does not happen.
 */
export function warmUp(
  m: Machine,
  w: WarmStart,
  watch: ((onEvent: ((name: string) => void) | null) => void) | null,
): void {
  let seen = 0;
  const want = w.count ?? 1;
  // the first names the run passes, in order: what a user could have asked for instead
  const names = new Set<string>();
  if (w.event !== undefined) {
    if (watch === null) throw new WarmStartError(`warm start at ${w.event}: this model names no events`);
    watch((name) => {
      if (names.size < 40) names.add(name);
      if (name === w.event && ++seen === want) m.stop(`warm start: ${formatWarmStart(w)}`);
    });
  }
  m.run(w.timeNs ?? WARM_LIMIT_NS);
  watch?.(null);
  if (w.event !== undefined && seen < want)
    throw new WarmStartError(
      `warm start at ${formatWarmStart(w)}: the timed run ${m.stopped ? `ended (${m.stopReason})` : `reached ${WARM_LIMIT_NS / 1e9} s`} after ${seen} of ${want} "${w.event}" events; allowed: an event it passes (${names.size > 0 ? [...names].join(", ") : "none"}) or a time`,
    );
  // a time past the end of the run would leave nothing to explore
  if (w.timeNs !== undefined && m.stopped)
    throw new WarmStartError(
      `warm start at ${formatWarmStart(w)}: the timed run ended (${m.stopReason}) at ${formatWarmStart({ timeNs: m.now })}, before it; allowed: a time before the run ends, or an event`,
    );
  m.enterExplore();
}
