// What a model adapter does for the runner: builds the machine and the model from a scenario, runs it,
// and hands back the machine (for holdoff, dmesg, findings, lock_stat) and the model's measurements.
import type { Histogram } from "hdr-histogram-js";
import type { RunResult, Throughput } from "../../report/result.js";
import type { MachineConfig } from "../../sim/config.js";
import type { Machine } from "../../sim/machine.js";
import type { TraceSink } from "../../sim/trace.js";
import type { VariantInfo } from "../catalog.js";
import type { Scenario } from "../schema.js";

export type SwitchValue = boolean | number | string;
export type StopReason = RunResult["run"]["stopReason"];

export interface ModelOutput {
  throughput: Throughput[];
  latency: { name: string; hist: Histogram }[];
  /** Counters under their /proc/vmstat names. */
  vmstat: Record<string, number>;
  /** Other model counters. */
  counters: Record<string, number>;
}

export interface AdapterInput {
  scenario: Scenario;
  variant: VariantInfo;
  seed: number;
  /** Effective switches: the variant's, with the scenario's overrides (dotted names). */
  switches: Readonly<Record<string, SwitchValue>>;
  /** The merged cost table (profile + overrides). */
  costs: Readonly<Record<string, number>>;
  /** Machine configuration derived from the scenario (cpus, hz, preemption, watchdog, seed, costs). */
  machine: Partial<MachineConfig>;
  trace: TraceSink | null;
  /** Called after every slice of virtual time the runner drives (progress bars). */
  onProgress?: (simNs: number, events: number) => void;
  /** mm model: the generator-free forms of uncontended steps (RunOptions.fastPaths). */
  fastPaths?: boolean;
}

export interface AdapterRun {
  m: Machine;
  stopReason: StopReason;
  output: ModelOutput;
}

export type Adapter = (input: AdapterInput) => AdapterRun;

/** The scenario asks for something this build cannot run (exit 2 with the message). */
export class ModelUnavailableError extends Error {
  override readonly name = "ModelUnavailableError";
}
