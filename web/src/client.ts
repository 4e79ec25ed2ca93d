// The page's side of the simulation worker: one worker per run slot (compare runs two at once);
// cancel terminates the worker, and the next run starts a fresh one.

import type { Counterexample } from "../../src/check/counterexample.js";
import type { RunResult } from "../../src/report/result.js";
import type { CheckRequest, Done, FromWorker, Plots, Replayed, RunRequest } from "./protocol.js";

export class RunError extends Error {
  constructor(
    readonly kind: "scenario" | "model" | "internal" | "cancelled",
    message: string,
  ) {
    super(message);
  }
}

let nextId = 1;

export class SimWorker {
  private worker: Worker | null = null;
  private pending = new Map<
    number,
    {
      resolve: (m: FromWorker) => void;
      reject: (e: Error) => void;
      onProgress?: (f: number, simNs: number, events: number) => void;
    }
  >();

  private get w(): Worker {
    if (!this.worker) {
      this.worker = new Worker(new URL("./worker.ts", import.meta.url), {
        type: "module",
        name: "faultline-sim",
      });
      this.worker.onmessage = (ev: MessageEvent<FromWorker>) => this.receive(ev.data);
      this.worker.onerror = (ev) => {
        ev.preventDefault();
        this.failAll(new RunError("internal", `worker error: ${ev.message}`));
      };
    }
    return this.worker;
  }

  private receive(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === "progress") {
      p.onProgress?.(m.fraction, m.simNs, m.events);
      return;
    }
    if (m.type === "check-progress") {
      p.onProgress?.(m.schedules, 0, 0);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === "error") p.reject(new RunError(m.kind, m.message));
    else p.resolve(m);
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request<T extends FromWorker>(
    msg: object,
    onProgress?: (f: number, simNs: number, events: number) => void,
  ): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: FromWorker) => void, reject, onProgress });
      this.w.postMessage({ ...msg, id });
    });
  }

  run(
    req: Omit<RunRequest, "type" | "id">,
    onProgress: (f: number, simNs: number, events: number) => void,
  ): Promise<Done> {
    return this.request<Done>({ ...req, type: "run" }, onProgress);
  }

  plots(results: RunResult[]): Promise<Plots> {
    return this.request<Plots>({ type: "plots", results });
  }

  check(req: Omit<CheckRequest, "type" | "id">, onProgress: (schedules: number) => void): Promise<Replayed> {
    return this.request<Replayed>({ ...req, type: "check" }, (f) => onProgress(f));
  }

  replay(counterexample: Counterexample): Promise<Replayed> {
    return this.request<Replayed>({ type: "replay", counterexample });
  }

  async exportTrace(): Promise<string[]> {
    const m = await this.request<FromWorker>({ type: "export-trace" });
    return m.type === "trace" ? m.parts : [];
  }

  /** Stops whatever runs (the worker is terminated; its last run can no longer be exported). */
  cancel(): void {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(new RunError("cancelled", "cancelled"));
  }
}
