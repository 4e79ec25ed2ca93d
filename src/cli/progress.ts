// The one progress display of the long commands (run, compare, demo, sweep, and check when its search
// reports progress): a bar with the percentage done (of the simulated time limit, of the jobs, of a
// search budget), the rate and the time left, on stderr, only when stderr is a terminal, never with -q.
// Wall-clock time is read here only: it never reaches a result.
import { SingleBar } from "cli-progress";

export interface ProgressOptions {
  /** What runs, shown first ("pervma-fork-race on 6.4.0", "sweep"). */
  label: string;
  /** The amount that means 100 %. */
  total: number;
  /** How an amount reads ("jobs", or a function turning an amount into text, e.g. ns into "1.2s"). */
  unit: string | ((amount: number) => string);
  /** The rate's unit, e.g. "jobs/s", "simulated s/s". */
  rateUnit?: string;
  /** Scales the rate (amount per wall-clock second) for display, e.g. 1e-9 to show ns as s. */
  rateScale?: number;
  /** -q: nothing at all. */
  quiet?: boolean;
  /** Where the bar goes (default process.stderr); it is shown only when this is a terminal. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Already done when the bar starts (a resumed sweep). */
  start?: number;
}

export interface Progress {
  /** Sets the amount done so far; `note` is shown after the rate (e.g. "best depth 12"). */
  update(done: number, note?: string): void;
  /** Adds one (a job finished). */
  increment(note?: string): void;
  /** Removes the bar. */
  stop(): void;
}

const SILENT: Progress = { update() {}, increment() {}, stop() {} };

function fmtRate(r: number): string {
  if (!Number.isFinite(r)) return "-";
  if (r >= 100) return Math.round(r).toLocaleString("en-US");
  return r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

/** A progress bar, or a silent one when quiet or when the stream is not a terminal. */
export function startProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  if (o.quiet || !(stream as { isTTY?: boolean }).isTTY || !(o.total > 0)) return SILENT;
  const show = typeof o.unit === "function" ? o.unit : (n: number) => `${Math.round(n)} ${o.unit}`;
  const total = typeof o.unit === "function" ? show(o.total) : `${Math.round(o.total)}`;
  const bar = new SingleBar({
    stream: stream as NodeJS.WritableStream,
    format: `${o.label} [{bar}] {percentage}% | {amount} | {rate} {rateUnit} | ETA {eta_formatted}{note}`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
    fps: 5,
  });
  const t0 = Date.now();
  const first = o.start ?? 0;
  let value = first;
  const payload = (note?: string) => {
    const s = (Date.now() - t0) / 1000;
    return {
      amount: `${typeof o.unit === "function" ? show(value) : Math.round(value)}/${total}${typeof o.unit === "function" ? "" : ` ${o.unit}`}`,
      rate: s > 0 ? fmtRate(((value - first) / s) * (o.rateScale ?? 1)) : "-",
      rateUnit: o.rateUnit ?? `${typeof o.unit === "string" ? o.unit : ""}/s`,
      note: note ? ` | ${note}` : "",
    };
  };
  bar.start(o.total, Math.min(value, o.total), payload());
  let stopped = false;
  return {
    update(done, note) {
      if (stopped) return;
      value = done;
      bar.update(Math.min(done, o.total), payload(note));
    },
    increment(note) {
      this.update(value + 1, note);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

/** Virtual time as a person reads it: 1.25s, 340ms. */
export function fmtSimTime(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(ns >= 100e9 ? 0 : 1)}s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(0)}ms`;
  return `${(ns / 1e3).toFixed(0)}us`;
}
