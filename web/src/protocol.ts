// Messages between the page and the simulation worker (web/src/worker.ts).
import type { Counterexample, StepRow } from "../../src/check/counterexample.js";
import type { RunResult } from "../../src/report/result.js";
import type { TimelineData } from "./timeline-data.js";

export interface SetPair {
  path: string;
  value: string;
}

export interface RunRequest {
  type: "run";
  id: number;
  /** Scenario text (YAML or JSON) and the name errors should use. */
  text: string;
  file: string;
  /** Overrides from the form (kernel.variant, machine.cpus, workloads[0].size, ...). */
  sets: SetPair[];
  seed: number | null;
}

export interface ExportRequest {
  type: "export-trace";
  id: number;
}

export interface PlotsRequest {
  type: "plots";
  id: number;
  results: RunResult[];
}

export interface CheckRequest {
  type: "check";
  id: number;
  text: string;
  file: string;
  sets: SetPair[];
  seed: number | null;
  strategy: "random" | "pct" | "exhaustive";
  budget: number;
  timeS: number;
  /** Finding kinds that count as a violation; empty: any finding. */
  kinds: string[];
}

export interface ReplayRequest {
  type: "replay";
  id: number;
  counterexample: Counterexample;
}

export type ToWorker = RunRequest | ExportRequest | PlotsRequest | CheckRequest | ReplayRequest;

export interface Progress {
  type: "progress";
  id: number;
  /** 0..1 of the scenario's virtual time limit. */
  fraction: number;
  simNs: number;
  events: number;
}

export interface Done {
  type: "done";
  id: number;
  result: RunResult;
  /** The same text and JSON the CLI writes. */
  text: string;
  json: string;
  timeline: TimelineData;
  /** Wall time of the run in ms (not part of the deterministic result). */
  wallMs: number;
  traceEvents: number;
  /** Trace events beyond the worker's storage cap: the timeline and the Perfetto export stop before them. */
  droppedEvents: number;
}

export interface Plots {
  type: "plots";
  id: number;
  plots: { name: string; title: string; svg: string }[];
}

export interface Failed {
  type: "error";
  id: number;
  /** "scenario": a problem in the scenario (messages have file:line:col); "model": model not built; else a bug. */
  kind: "scenario" | "model" | "internal";
  message: string;
}

export interface TraceExport {
  type: "trace";
  id: number;
  /** The Chrome JSON trace in chunks (a long run's trace is larger than one string should be). */
  parts: string[];
}

/** The checker's search: schedules tried so far. */
export interface CheckProgress {
  type: "check-progress";
  id: number;
  schedules: number;
}

export interface CheckSummary {
  verdict: string;
  strategy: string;
  schedules: number;
  elapsedMs: number;
  complete: boolean;
  foundAt: number;
  originalSteps: number | null;
}

/** A counterexample replayed: its step table and a timeline whose time axis is the step number. */
export interface Replayed {
  type: "replayed";
  id: number;
  check: CheckSummary | null;
  counterexample: Counterexample | null;
  reproduced: boolean;
  finding: { kind: string; message: string; step: number } | null;
  rows: StepRow[];
  cpus: number;
  timeline: TimelineData | null;
}

export type FromWorker = Progress | Done | Plots | Failed | TraceExport | CheckProgress | Replayed;
