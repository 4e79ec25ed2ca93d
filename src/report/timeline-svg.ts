// The static per-CPU timeline of a run's interesting window, for the HTML report: the window around
// the first finding (or the longest holdoff when there is none), one group of lanes per CPU (the task
// that ran, from sched_switch; hardirqs and softirqs; the kernel functions the model ran, nested),
// lock waits, a time axis with units, and the finding marked where it fired. It reads the same
// TraceEvent stream as the Perfetto export and the web timeline, recorded by a WindowTrace sink in a
// second run of the same scenario and seed (runs are deterministic, so both runs are the same run).

import type { TraceEvent, TraceSink } from "../sim/trace.js";
import { TRACE_MODEL } from "../sim/trace.js";
import { fmtTime } from "./format.js";
import { escapeHtml } from "./html.js";
import type { Finding, RunResult } from "./result.js";

export interface TimeWindow {
  fromNs: number;
  toNs: number;
  /** Why this window: the finding or holdoff it shows. */
  reason: string;
  /** The finding shown (its time is marked), if any. */
  finding?: Finding;
  /** Start of the stall a lockup finding reports (marked too), if known. */
  stuckFromNs?: number;
}

/** Look-back for findings that do not say how long they took to fire (races): 30 µs. */
const RACE_LOOKBACK_NS = 30_000;

/** How long before its report a finding's cause started: the stall it reports, else RACE_LOOKBACK_NS. */
function lookback(f: Finding): number | undefined {
  const ms = f.details.stalled_ms;
  if (typeof ms === "number" && ms > 0) return ms * 1e6;
  const m = /stuck for (\d+)s/.exec(f.message);
  if (m) return Number(m[1]) * 1e9;
  return undefined;
}

/** The window the report draws for `r`, or undefined when the run has neither finding nor holdoff. */
export function interestingWindow(r: RunResult): TimeWindow | undefined {
  const f = r.findings[0];
  if (f) {
    const stuck = lookback(f);
    const back = stuck ?? RACE_LOOKBACK_NS;
    const margin = back * 0.1;
    const w: TimeWindow = {
      fromNs: Math.max(0, f.tNs - back - margin),
      toNs: f.tNs + (stuck !== undefined ? margin : back / 3),
      reason: `first finding: ${f.kind} at ${fmtTime(f.tNs, back / 1000)}`,
      finding: f,
    };
    if (stuck !== undefined) w.stuckFromNs = Math.max(0, f.tNs - stuck);
    return w;
  }
  let best: RunResult["holdoff"]["perCpu"][number] | undefined;
  for (const h of r.holdoff.perCpu) if (h.maxNs > 0 && (!best || h.maxNs > best.maxNs)) best = h;
  if (!best) return undefined;
  const from = best.maxAtNs - best.maxNs;
  const margin = Math.max(best.maxNs * 0.1, 1000);
  return {
    fromNs: Math.max(0, from - margin),
    toNs: best.maxAtNs + margin,
    reason: `longest holdoff: CPU ${best.cpu}, ${fmtTime(best.maxNs, best.maxNs / 1000)}`,
  };
}

export interface Instant {
  cpu: number;
  t: number;
  name: string;
  detail: string;
  /** Instants of this name merged into this one (same CPU, within a pixel). */
  count: number;
}

export interface Span {
  cpu: number;
  /** 0 task, 1 irq, 2 kernel function, 3 lock wait. */
  lane: number;
  from: number;
  to: number;
  name: string;
}

/**
 * A TraceSink that keeps only what overlaps one window, merging same-named neighbours closer than a
 * 1/2000 of the window (a 22 s lockup runs millions of iomap_finish_ioend calls), so its memory is
 * bounded by the picture, not by the run.
 */
export class WindowTrace implements TraceSink {
  readonly level = TRACE_MODEL;
  readonly spans: Span[] = [];
  /** Model instants (user stores and loads, TLB flushes, ...) on the finding's CPUs: one per name and pixel. */
  readonly instants: Instant[] = [];
  readonly cpus = new Set<number>();
  private readonly running = new Map<number, { from: number; name: string }>();
  private readonly irqs = new Map<number, { from: number; name: string }[]>();
  private readonly waits = new Map<number, { from: number; name: string; cpu: number }>();
  private readonly last = new Map<string, Span>();
  private readonly lastInstant = new Map<string, Instant>();
  private readonly instantCpus: Set<number>;
  private readonly joinNs: number;
  private readonly pixelNs: number;
  private lastT = 0;

  constructor(readonly window: TimeWindow) {
    this.pixelNs = (window.toNs - window.fromNs) / PLOT_W;
    this.joinNs = this.pixelNs / 20;
    this.instantCpus = new Set(window.finding?.cpus ?? []);
  }

  event(e: TraceEvent): void {
    if (e.t > this.lastT) this.lastT = e.t;
    if (e.cpu >= 0) this.cpus.add(e.cpu);
    switch (e.kind) {
      case "sched_switch": {
        const cur = this.running.get(e.cpu);
        if (cur) this.add(e.cpu, 0, cur.from, e.t, cur.name);
        if (e.b !== 0) this.running.set(e.cpu, { from: e.t, name: `${e.name}:${e.b}` });
        else this.running.delete(e.cpu);
        break;
      }
      case "irq_handler_entry":
      case "softirq_entry": {
        let st = this.irqs.get(e.cpu);
        if (!st) this.irqs.set(e.cpu, (st = []));
        st.push({ from: e.t, name: `${e.kind === "softirq_entry" ? "softirq" : "irq"}:${e.name}` });
        break;
      }
      case "irq_handler_exit":
      case "softirq_exit": {
        const o = this.irqs.get(e.cpu)?.pop();
        if (o) this.add(e.cpu, 1, o.from, e.t, o.name);
        break;
      }
      case "slice":
        this.add(e.cpu, 2, e.a, e.b, e.name);
        break;
      case "model": {
        if (!this.instantCpus.has(e.cpu) || e.name.startsWith("finding:")) break;
        if (e.t < this.window.fromNs || e.t > this.window.toNs) break;
        const key = `${e.cpu}|${e.name}`;
        const prev = this.lastInstant.get(key);
        if (prev && e.t - prev.t < this.pixelNs) {
          prev.count++;
          break;
        }
        const i: Instant = { cpu: e.cpu, t: e.t, name: e.name, detail: e.detail, count: 1 };
        this.instants.push(i);
        this.lastInstant.set(key, i);
        break;
      }
      case "contention_begin":
        this.waits.set(e.pid, { from: e.t, name: `wait ${e.name}`, cpu: e.cpu });
        break;
      case "contention_end": {
        const w = this.waits.get(e.pid);
        if (w) this.add(w.cpu, 3, w.from, e.t, w.name);
        this.waits.delete(e.pid);
        break;
      }
      default:
        break;
    }
  }

  /** Closes what still runs at the end of the run. */
  finish(): void {
    for (const [cpu, r] of this.running) this.add(cpu, 0, r.from, this.lastT, r.name);
    for (const [cpu, st] of this.irqs) for (const o of st) this.add(cpu, 1, o.from, this.lastT, o.name);
    for (const w of this.waits.values()) this.add(w.cpu, 3, w.from, this.lastT, w.name);
    this.running.clear();
    this.irqs.clear();
    this.waits.clear();
  }

  private add(cpu: number, lane: number, from: number, to: number, name: string): void {
    if (to < this.window.fromNs || from > this.window.toNs || cpu < 0) return;
    const key = `${cpu}|${lane}|${name}`;
    const prev = this.last.get(key);
    if (prev && from >= prev.from && from - prev.to <= this.joinNs) {
      if (to > prev.to) prev.to = to;
      return;
    }
    const s: Span = { cpu, lane, from, to, name };
    this.spans.push(s);
    this.last.set(key, s);
  }
}

const W = 1040;
const LEFT = 110;
const RIGHT = 16;
const PLOT_W = W - LEFT - RIGHT;
const TOP = 28;
/** Slices narrower than this many pixels are drawn as per-pixel occupancy (opacity = busy fraction). */
const THIN_PX = 2;
const ROW = 16;
const MAX_DEPTH = 4;
const LANE_FILL = ["#4e79a7", "#e15759", "#59a14f", "#b07aa1"];
const FN_FILLS = ["#59a14f", "#8cd17d", "#86bcb6", "#499894"];

/** Tick step of about 8 ticks over `span` ns: 1, 2 or 5 times a power of ten. */
function tickStep(span: number): number {
  const raw = span / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** The SVG of the window recorded by `t` (call t.finish() first). */
export function timelineSvg(t: WindowTrace, title: string): string {
  const { fromNs, toNs } = t.window;
  const span = Math.max(1, toNs - fromNs);
  const plotW = PLOT_W;
  const x = (ns: number) => LEFT + ((Math.min(Math.max(ns, fromNs), toNs) - fromNs) / span) * plotW;
  const cpus = [...t.cpus].sort((a, b) => a - b);
  const out: string[] = [];
  let y = TOP;
  const laneY = new Map<string, number>();
  const labels: string[] = [];
  for (const cpu of cpus) {
    const spans = t.spans.filter((s) => s.cpu === cpu);
    // Kernel functions nest: depth = how many enclosing slices are open at its start.
    const fns = spans.filter((s) => s.lane === 2).sort((a, b) => a.from - b.from || b.to - a.to);
    const stack: Span[] = [];
    const depth = new Map<Span, number>();
    for (const s of fns) {
      while (stack.length > 0 && stack[stack.length - 1]!.to <= s.from) stack.pop();
      depth.set(s, stack.length);
      stack.push(s);
    }
    const fnRows = Math.min(MAX_DEPTH, Math.max(1, ...[...depth.values()].map((d) => d + 1)));
    const rows: [number, string, number][] = [
      [0, `CPU ${cpu}`, 1],
      [1, "irq", 1],
      [2, "kernel", fnRows],
      [3, "lock wait", 1],
    ];
    out.push(`<g class="cpu" data-cpu="${cpu}">`);
    for (const [lane, label, n] of rows) {
      laneY.set(`${cpu}|${lane}`, y);
      labels.push(
        `<text x="${LEFT - 6}" y="${y + ROW - 4}" text-anchor="end" class="lane-label">${escapeHtml(label)}</text>`,
      );
      out.push(
        `<rect class="lane" data-lane="${lane}" x="${LEFT}" y="${y}" width="${plotW}" height="${ROW * n}" fill="${lane === 0 ? "#f3f3f3" : "#fafafa"}"/>`,
      );
      const busy = Array.from({ length: n }, () => new Float64Array(plotW));
      for (const s of spans) {
        if (s.lane !== lane) continue;
        const d = lane === 2 ? (depth.get(s) ?? 0) : 0;
        if (d >= MAX_DEPTH) continue;
        const x0 = x(s.from);
        const w = x(s.to) - x0;
        if (w < THIN_PX) {
          // Too thin to draw alone: add its share to each pixel column it covers.
          const row = busy[d]!;
          for (let px = Math.floor(x0 - LEFT); px <= Math.min(plotW - 1, Math.floor(x0 + w - LEFT)); px++) {
            const lo = Math.max(x0, LEFT + px);
            const hi = Math.min(x0 + w, LEFT + px + 1);
            if (px >= 0) row[px]! += Math.max(hi - lo, 0.02);
          }
          continue;
        }
        const fill = lane === 2 ? FN_FILLS[d % FN_FILLS.length]! : LANE_FILL[lane]!;
        const ry = y + d * ROW + 1;
        const tip = `${s.name} ${fmtTime(s.from, span / 1000)} .. ${fmtTime(s.to, span / 1000)} (${fmtTime(s.to - s.from, span / 10000)})`;
        out.push(
          `<rect class="slice" x="${x0.toFixed(1)}" y="${ry}" width="${w.toFixed(1)}" height="${ROW - 2}" fill="${fill}"><title>${escapeHtml(tip)}</title></rect>`,
        );
        if (w > 40) {
          const chars = Math.floor((w - 4) / 6.2);
          const text = s.name.length > chars ? `${s.name.slice(0, Math.max(1, chars - 1))}…` : s.name;
          out.push(
            `<text class="slice-label" x="${(x0 + 2).toFixed(1)}" y="${ry + ROW - 5}">${escapeHtml(text)}</text>`,
          );
        }
      }
      for (const [d, row] of busy.entries()) {
        const fill = lane === 2 ? FN_FILLS[d % FN_FILLS.length]! : LANE_FILL[lane]!;
        // Runs of columns with the same opacity step (0.15 for a trace of work .. 1 for always busy).
        let px = 0;
        while (px < plotW) {
          const q = row[px]! > 0 ? Math.round((0.15 + 0.85 * Math.min(1, row[px]!)) * 20) : 0;
          let end = px + 1;
          while (
            end < plotW &&
            (row[end]! > 0 ? Math.round((0.15 + 0.85 * Math.min(1, row[end]!)) * 20) : 0) === q
          )
            end++;
          if (q > 0)
            out.push(
              `<rect class="busy" x="${LEFT + px}" y="${y + d * ROW + 1}" width="${end - px}" height="${ROW - 2}" fill="${fill}" fill-opacity="${(q / 20).toFixed(2)}"/>`,
            );
          px = end;
        }
      }
      if (lane === 0)
        for (const i of t.instants) {
          if (i.cpu !== cpu) continue;
          const ix = x(i.t);
          const tip = `${i.name} ${i.detail} at ${fmtTime(i.t, span / 10000)}${i.count > 1 ? ` (+${i.count - 1} more within a pixel)` : ""}`;
          out.push(
            `<path class="instant" d="M${ix.toFixed(1)} ${y + ROW - 2}l-3 -6h6z" fill="${i.name.includes("stale") || i.name.includes("lost") ? "#d00" : "#333"}"><title>${escapeHtml(tip)}</title></path>`,
          );
        }
      y += ROW * n;
    }
    out.push("</g>");
    y += 6;
  }
  const bottom = y;
  // Axis: ticks relative to the run's start, labelled with as many decimals as the step needs.
  const step = tickStep(span);
  const axis: string[] = [
    `<line x1="${LEFT}" y1="${bottom}" x2="${W - RIGHT}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (let v = Math.ceil(fromNs / step) * step; v <= toNs; v += step) {
    const tx = x(v).toFixed(1);
    axis.push(
      `<line x1="${tx}" y1="${TOP}" x2="${tx}" y2="${bottom + 4}" stroke="#ddd"/>`,
      `<text class="tick" x="${tx}" y="${bottom + 16}" text-anchor="middle">${escapeHtml(fmtTime(v, step))}</text>`,
    );
  }
  const marks: string[] = [];
  const f = t.window.finding;
  if (t.window.stuckFromNs !== undefined) {
    const sx = x(t.window.stuckFromNs).toFixed(1);
    marks.push(
      `<line class="stuck" x1="${sx}" y1="${TOP - 4}" x2="${sx}" y2="${bottom}" stroke="#f28e2b" stroke-dasharray="4 3"/>`,
      `<text x="${sx}" y="${TOP - 8}" fill="#b85c00" class="mark">stall begins</text>`,
    );
  }
  if (f) {
    const fx = x(f.tNs);
    const anchor = fx > W - 300 ? "end" : "start";
    const cpusOf = new Set(f.cpus);
    for (const c of cpusOf) {
      const ly = laneY.get(`${c}|0`);
      if (ly !== undefined)
        marks.push(
          `<rect class="finding-cpu" x="${LEFT - 108}" y="${ly}" width="4" height="${ROW}" fill="#d00"/>`,
        );
    }
    marks.push(
      `<line class="finding" x1="${fx.toFixed(1)}" y1="${TOP - 4}" x2="${fx.toFixed(1)}" y2="${bottom}" stroke="#d00" stroke-width="1.5"/>`,
      `<text class="finding-label" x="${fx.toFixed(1)}" y="${TOP - 8}" text-anchor="${anchor}" fill="#b00">${escapeHtml(`${f.kind} (CPU ${f.cpus.join(", ")}): ${f.message.split("\n")[0]!}`)}</text>`,
    );
  }
  const h = bottom + 34;
  return `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="system-ui,sans-serif" font-size="11">
<title>${escapeHtml(title)}</title>
<style>.lane-label{fill:#333}.slice-label{fill:#fff;font-size:10px;pointer-events:none}.tick{fill:#333}.mark,.finding-label{font-size:11px}</style>
${out.join("\n")}
${axis.join("\n")}
${labels.join("\n")}
${marks.join("\n")}
<text x="${W - RIGHT}" y="${h - 4}" text-anchor="end" fill="#555">${escapeHtml(`time since boot; ${t.window.reason}`)}</text>
</svg>`;
}
