// Messages between the page and the simulation worker (web/src/worker.ts).
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

export type ToWorker = RunRequest | ExportRequest | PlotsRequest;

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
  json: string;
}

export type FromWorker = Progress | Done | Plots | Failed | TraceExport;
