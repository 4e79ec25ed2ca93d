// What a model adapter gives the runner: workloads started on a machine, and their measurements.
import type { Histogram } from "hdr-histogram-js";
import type { Throughput } from "../../report/result.js";
import type { Machine } from "../../sim/machine.js";
import type { VariantInfo } from "../catalog.js";
import type { Scenario } from "../schema.js";

export type SwitchValue = boolean | number | string;

export interface ModelOutput {
  throughput: Throughput[];
  latency: { name: string; hist: Histogram }[];
  /** Counters under their /proc/vmstat names. */
  vmstat: Record<string, number>;
  /** Other model counters. */
  counters: Record<string, number>;
}

export interface ModelInstance {
  /** True once every workload has finished (the run may stop). */
  done(): boolean;
  /** Measurements, read once after the run. */
  collect(): ModelOutput;
}

export interface AdapterInput {
  m: Machine;
  scenario: Scenario;
  variant: VariantInfo;
  /** Effective switches: the variant's, with the scenario's overrides (dotted names). */
  switches: Readonly<Record<string, SwitchValue>>;
  /** The merged cost table (profile + overrides). */
  costs: Readonly<Record<string, number>>;
}

export type Adapter = (input: AdapterInput) => ModelInstance;

/** The scenario asks for something this build cannot run yet (exit 2 with the message). */
export class ModelUnavailableError extends Error {
  override readonly name = "ModelUnavailableError";
}
