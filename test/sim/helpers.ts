// Shared helpers for the engine tests.
import type { MachineConfig } from "../../src/sim/config.js";
import { Machine } from "../../src/sim/machine.js";

export const US = 1_000;
export const MS = 1_000_000;
export const S = 1_000_000_000;

/** Engine costs set to zero so that times in tests are exact. */
export const ZERO_COSTS = {
  contextSwitchNs: 0,
  irqEntryNs: 0,
  tickNs: 0,
  hrtimerNs: 0,
  ipiLatencyNs: 0,
  wakeupNs: 0,
  softlockupFnNs: 0,
  syscallNs: 0,
};

/** A machine without jitter and without the background detectors (unless asked for). */
export function quietMachine(over: Partial<MachineConfig> = {}): Machine {
  return new Machine({
    cpus: 1,
    jitter: 0,
    watchdogThreshS: 0,
    hungTaskTimeoutS: 0,
    wqWatchdogThreshS: 0,
    ...over,
  });
}

/** A machine with zero engine costs (exact timing). */
export function exactMachine(over: Partial<MachineConfig> = {}): Machine {
  return quietMachine({ costs: ZERO_COSTS, ...over });
}
