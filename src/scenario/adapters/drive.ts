// The timed driver loop shared by adapters that own their machine: run in slices of virtual time until
// the stop time, the event budget, a stopping finding, or (when asked) the workloads are done.
import type { Machine } from "../../sim/machine.js";
import type { Scenario } from "../schema.js";
import type { StopReason } from "./types.js";

/** Virtual time a run may last when the scenario gives no stop.time. */
export const DEFAULT_TIME_LIMIT_NS = 600e9;
/** The runner checks for finished workloads this often (virtual time). */
const SLICE_NS = 10e6;

export function drive(
  m: Machine,
  s: Scenario,
  done: () => boolean,
  onProgress?: (simNs: number, events: number) => void,
): StopReason {
  const endNs = s.stop.time ?? DEFAULT_TIME_LIMIT_NS;
  for (;;) {
    const budget = s.stop.maxEvents - m.queue.popped;
    if (budget <= 0) return "max-events";
    m.run(Math.min(endNs, m.now + SLICE_NS), budget);
    onProgress?.(m.now, m.queue.popped);
    // A model may stop the machine itself when its workloads are done; a stopping finding says "finding".
    if (m.stopped) return m.stopReason.startsWith("finding") || !done() ? "finding" : "done";
    if (s.stop.whenDone && done()) return "done";
    if (m.now >= endNs) return "time";
  }
}
