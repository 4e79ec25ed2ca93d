// A worker thread that runs one scenario and streams its trace into a file descriptor the main thread
// opened (worker threads share the process's descriptors). The main thread stays free meanwhile, so
// SIGINT/SIGTERM are handled during a long traced run: the temporary trace file is removed.
import * as fs from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import type { TextSink } from "../report/sink.js";
import { ChromeTraceWriter } from "../report/trace.js";
import { loadScenario, type SetOption } from "../scenario/load.js";
import { catalog } from "../scenario/models.js";
import { runScenario } from "../scenario/run.js";
import type { TraceLevel } from "../sim/trace.js";

export interface RunWorkerData {
  text: string;
  file: string;
  sets: SetOption[];
  seed: number;
  labels: string[];
  /** The open temporary trace file (the main thread closes and renames it). */
  fd: number;
  meta: Record<string, string>;
  level?: TraceLevel;
  /** false: the mm model's generator-free fast paths off (`run --no-fast-paths`). */
  fastPaths?: boolean;
}

export type RunWorkerMessage =
  | { kind: "progress"; simNs: number }
  | { kind: "done"; result: unknown }
  | { kind: "error"; message: string; code?: string };

/** Writes to the descriptor; closing and renaming belong to the main thread. */
class FdSink implements TextSink {
  constructor(private readonly fd: number) {}
  write(chunk: string): void {
    fs.writeSync(this.fd, chunk);
  }
  close(): void {}
  abort(): void {}
}

const d = workerData as RunWorkerData;
const post = (m: RunWorkerMessage) => parentPort!.postMessage(m);
try {
  const s = loadScenario(d.text, { file: d.file, sets: d.sets, catalog: catalog() });
  const writer = new ChromeTraceWriter(
    new FdSink(d.fd),
    d.meta,
    d.level !== undefined ? { level: d.level } : {},
  );
  let last = -1;
  const result = runScenario(s, {
    seed: d.seed,
    sets: d.labels,
    trace: writer,
    ...(d.fastPaths !== undefined ? { fastPaths: d.fastPaths } : {}),
    onProgress: (simNs) => {
      // about 100 messages over a run at most
      if (simNs - last >= (s.stop.time ?? 600e9) / 100) {
        last = simNs;
        post({ kind: "progress", simNs });
      }
    },
  });
  writer.finish();
  post({ kind: "done", result });
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  post({ kind: "error", message: err?.message ?? String(e), ...(err?.code ? { code: err.code } : {}) });
}
