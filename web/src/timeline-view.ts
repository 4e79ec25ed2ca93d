// The per-CPU timeline on a canvas: one group of rows per CPU (task, hardirq, softirq, workqueue items,
// lock waits), marks for dmesg lines, findings and model events. Wheel zooms around the pointer, drag
// pans, double-click fits. Several views can share one Viewport (compare: zoom both sides together).
import { fmtNs, fmtTime } from "../../src/report/format.js";
import {
  intervalAt,
  type Lane,
  lowerBound,
  MARK_DMESG,
  MARK_FINDING,
  MARK_MODEL,
  RectBuffer,
  type TimelineData,
  visibleRectsInto,
} from "./timeline-data.js";

export class Viewport {
  t0 = 0;
  nsPerPx = 1;
  /** A time cursor (step view), or null. */
  cursorNs: number | null = null;
  private readonly listeners = new Set<() => void>();
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
  set(t0: number, nsPerPx: number): void {
    this.t0 = t0;
    this.nsPerPx = Math.max(0.01, nsPerPx);
    for (const f of this.listeners) f();
  }
  setCursor(t: number | null): void {
    this.cursorNs = t;
    for (const f of this.listeners) f();
  }
  /** Width of the plotting area of the views showing this viewport (set by them). */
  plotPx = 1000;
  /** Shows [a, b] with a margin of a third of it each side, and puts the cursor at `cursor`. */
  focusRange(a: number, b: number, cursor: number): void {
    const pad = Math.max(50, (b - a) / 3);
    this.cursorNs = cursor;
    this.set(a - pad, (b - a + 2 * pad) / Math.max(1, this.plotPx));
  }
  /** Shows [t - span/2, t + span/2] and puts the cursor at t. */
  focus(t: number, spanNs: number): void {
    this.cursorNs = t;
    this.set(t - spanNs / 2, spanNs / Math.max(1, this.plotPx));
  }
}

const GUTTER_PX = 96;
const AXIS_PX = 22;
const ROW_PX: Record<Lane["kind"], number> = {
  step: 20,
  task: 20,
  fn: 12,
  holdoff: 9,
  hardirq: 9,
  softirq: 9,
  work: 9,
  lock: 9,
};
/** Paul Tol's "muted" qualitative palette (colour-blind safe): kernel functions by name. */
const FN_PALETTE = [
  "#88CCEE",
  "#44AA99",
  "#117733",
  "#999933",
  "#DDCC77",
  "#CC6677",
  "#AA4499",
  "#6699CC",
  "#AA7744",
];
const HOLDOFF_COLOR = "#E69F00";
const OVER_THRESHOLD_COLOR = "#B2182B";
const FLOW_COLOR = "rgba(40, 40, 60, 0.75)";
const MAX_FLOWS = 400;
const GROUP_GAP_PX = 7;
const LABEL_FONT = "11px system-ui, sans-serif";
const MARK_PX = 7;

interface Row {
  lane: Lane;
  y: number;
  h: number;
}

interface Group {
  cpu: number;
  y: number;
  h: number;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const LANE_HUE: Record<Lane["kind"], [number, number, number]> = {
  // base hue, hue spread, lightness
  // tasks in blues and cyans, irqs red, softirqs orange-brown, work items green, lock waits one
  // magenta (never a task hue), findings pure red marks
  step: [200, 200, 68],
  task: [205, 50, 64],
  fn: [0, 0, 0],
  holdoff: [38, 0, 50],
  hardirq: [0, 12, 50],
  softirq: [25, 10, 45],
  work: [120, 40, 45],
  lock: [305, 0, 42],
};

/** `text` cut with "…" to fit `w` pixels (as `measure` measures it); "" if nothing fits. */
function fitText(measure: (t: string) => number, text: string, w: number): string {
  if (w < 8) return "";
  if (measure(text) <= w) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (measure(`${text.slice(0, mid)}…`) <= w) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? "" : `${text.slice(0, lo)}…`;
}

/** Nice tick step (1, 2, 5 x 10^k ns) for about `px` pixels between ticks. */
function tickStep(nsPerPx: number, px: number): number {
  const raw = nsPerPx * px;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Fills [x0, x1) x [y0, y1) of a frame's pixels (row stride `stride`) with `v`. */
function fillRun(
  px: Uint32Array,
  stride: number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  v: number,
): void {
  for (let y = y0, o = y0 * stride; y < y1; y++, o += stride) px.fill(v, o + x0, o + x1);
}

/** A mark drawn as a shape over the frame's pixels: a dmesg triangle, a stale-TLB diamond, a finding. */
interface MarkShape {
  kind: number;
  px: number;
  group: Group;
}

export class TimelineView {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly tip: HTMLDivElement;
  private rows: Row[] = [];
  private groups: Group[] = [];
  /** Per CPU: its group of rows and its first task row (flows and marks look them up per event). */
  private groupByCpu: (Group | undefined)[] = [];
  private taskRowByCpu: (Row | undefined)[] = [];
  /** Per holdoff row: the intervals long enough to reach the threshold line (few; found once). */
  private longHoldoffs = new Map<Row, Int32Array>();
  /** One lane's rectangles in view, reused by every row of every frame. */
  private readonly rects = new RectBuffer();
  /** Per lane kind, per label: the rectangle colour as one ImageData pixel (0: not looked up yet). */
  private readonly pixelByKind = new Map<Lane["kind"], Uint32Array>();
  /** Per string: 1 if a mark with that label is drawn as a diamond, 2 as a tick (0: not looked at yet). */
  private markShape = new Uint8Array(0);
  /** Flows in view (indices into data.flows), reused. */
  private pickedFlows = new Int32Array(MAX_FLOWS + 1);
  private heightPx = 0;
  private widthPx = 0;
  private frame = 0;
  private readonly colorCache = new Map<Lane["kind"], string[]>();
  /** Widths of label texts in the label font (measureText is slow on software rasterisation). */
  private readonly textWidths = new Map<string, number>();
  /** The parts of a frame that change only with the layout and width: backgrounds, idle hatching, gutter. */
  private staticLayer: HTMLCanvasElement | null = null;
  private frameBuf: { img: ImageData; px: Uint32Array; base: Uint32Array; dpr: number } | null = null;
  private readonly pixelColors = new Map<string, number>();
  private readonly unsub: () => void;
  private readonly ro: ResizeObserver;
  private drag: { x: number; t0: number } | null = null;
  private downX = 0;
  /** End of the span "fit" shows (compare: the longer of the two runs); default the data's end. */
  fitEndNs: number | null = null;
  /** Rectangles drawn in the last frame (for tests and the status line). */
  lastDrawn = 0;
  /** The rectangles those became after merging touching ones (what the rasteriser filled). */
  lastPainted = 0;
  /** Called with the time under the pointer on a click (not a drag). */
  onPick: ((t: number) => void) | null = null;

  constructor(
    private readonly host: HTMLElement,
    private data: TimelineData,
    readonly viewport: Viewport,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "timeline-canvas";
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute(
      "aria-label",
      `per-CPU timeline of ${data.cpus} CPUs; wheel or W/S zoom, drag or A/D pan, double-click or 0 fits`,
    );
    this.tip = document.createElement("div");
    this.tip.className = "timeline-tip";
    this.tip.hidden = true;
    host.append(this.canvas, this.tip);
    this.ctx = this.canvas.getContext("2d", { alpha: false })!;
    this.layout();
    this.unsub = viewport.subscribe(() => this.schedule());
    this.ro = new ResizeObserver(() => {
      this.resize();
    });
    this.ro.observe(host);
    this.canvas.addEventListener("wheel", this.onWheel, { passive: false });
    this.canvas.addEventListener("pointerdown", this.onDown);
    this.canvas.addEventListener("pointermove", this.onMove);
    this.canvas.addEventListener("pointerup", this.onUp);
    this.canvas.addEventListener("pointerleave", this.onLeave);
    this.canvas.addEventListener("dblclick", () => this.fit());
    this.canvas.tabIndex = 0;
    this.canvas.addEventListener("keydown", this.onKey);
    this.resize();
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.unsub();
    this.ro.disconnect();
    this.canvas.remove();
    this.tip.remove();
  }

  setData(d: TimelineData): void {
    this.data = d;
    this.colorCache.clear();
    this.pixelByKind.clear();
    this.layout();
    this.resize();
  }

  /** Shows the whole run. */
  fit(): void {
    const w = Math.max(1, this.widthPx - GUTTER_PX);
    const span = Math.max(1, (this.fitEndNs ?? this.data.endNs) - this.data.startNs);
    this.viewport.set(this.data.startNs - span * 0.01, (span * 1.02) / w);
  }

  zoomTo(t0: number, t1: number): void {
    const w = Math.max(1, this.widthPx - GUTTER_PX);
    this.viewport.set(t0, Math.max(1e-3, (t1 - t0) / w));
  }

  private layout(): void {
    this.rows = [];
    this.groups = [];
    let y = AXIS_PX + 4;
    let cpu = -1;
    let group: Group | null = null;
    for (const lane of this.data.lanes) {
      if (lane.cpu !== cpu) {
        if (group) {
          group.h = y - group.y;
          y += GROUP_GAP_PX;
        }
        cpu = lane.cpu;
        group = { cpu, y, h: 0 };
        this.groups.push(group);
        y += MARK_PX;
      }
      const h = ROW_PX[lane.kind];
      this.rows.push({ lane, y, h });
      y += h + 1;
    }
    if (group) group.h = y - group.y;
    this.heightPx = y + 6;
    this.groupByCpu = [];
    for (const gr of this.groups) if (gr.cpu >= 0) this.groupByCpu[gr.cpu] = gr;
    this.taskRowByCpu = [];
    for (const r of this.rows)
      if (r.lane.kind === "task" && r.lane.sub === 0 && r.lane.cpu >= 0 && !this.taskRowByCpu[r.lane.cpu])
        this.taskRowByCpu[r.lane.cpu] = r;
    this.longHoldoffs = new Map();
    const thr = this.data.thresholdNs;
    if (thr > 0)
      for (const r of this.rows) {
        if (r.lane.kind !== "holdoff") continue;
        const l = r.lane;
        const long: number[] = [];
        for (let i = 0; i < l.n; i++) if (l.end[i]! - l.start[i]! >= thr / 2) long.push(i);
        this.longHoldoffs.set(r, Int32Array.from(long));
      }
    this.markShape = new Uint8Array(this.data.strings.length);
  }

  private resize(): void {
    const w = Math.max(200, this.host.clientWidth);
    const first = this.widthPx === 0;
    this.widthPx = w;
    this.viewport.plotPx = w - GUTTER_PX;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(this.heightPx * dpr);
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${this.heightPx}px`;
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.staticLayer = null;
    this.frameBuf = null;
    if (!first) this.draw();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** The pixel value of label `label` on lanes of `kind` (a typed array per kind: this runs per rectangle). */
  private pixelOf(kind: Lane["kind"], label: number): number {
    let byLabel = this.pixelByKind.get(kind);
    if (byLabel === undefined || label >= byLabel.length) {
      const grown = new Uint32Array(Math.max(this.data.strings.length, label + 1));
      if (byLabel !== undefined) grown.set(byLabel);
      this.pixelByKind.set(kind, (byLabel = grown));
    }
    const v = byLabel[label]!;
    // opaque colours have alpha 255 in the top byte: 0 is never a colour
    return v !== 0 ? v : (byLabel[label] = this.pixelColor(this.color(kind, label)));
  }

  /** The colour of label `label` on lanes of `kind` (looked up in an array per kind: this runs per rectangle). */
  private color(kind: Lane["kind"], label: number): string {
    let byLabel = this.colorCache.get(kind);
    if (byLabel === undefined) this.colorCache.set(kind, (byLabel = []));
    const c = byLabel[label];
    return c !== undefined ? c : (byLabel[label] = this.makeColor(kind, label));
  }

  private makeColor(kind: Lane["kind"], label: number): string {
    const [base, spread, light] = LANE_HUE[kind];
    const name = this.data.strings[label] ?? "";
    if (kind === "fn") return FN_PALETTE[hash(name) % FN_PALETTE.length]!;
    if (kind === "holdoff") return HOLDOFF_COLOR;
    const h = hash(kind === "task" ? name.replace(/:\d+$/, "") : name);
    const hue = (base + (h % (spread + 1)) - spread / 2 + 360) % 360;
    return `hsl(${hue.toFixed(0)} 55% ${light}%)`;
  }

  /** What the last frame showed: labels drawn, annotations, threshold lines (tests read it). */
  shown: string[] = [];

  draw(): void {
    const started = performance.now();
    this.shown = [];
    this.paint();
    this.host.dataset.shown = this.shown.join("\n");
    // for tests and the curious: how long the last frame took and how many rectangles it drew
    this.host.dataset.drawMs = (performance.now() - started).toFixed(1);
    this.host.dataset.rects = String(this.lastDrawn);
    this.host.dataset.painted = String(this.lastPainted);
    this.host.dataset.view = `${Math.round(this.viewport.t0)}:${Math.round(this.viewport.t0 + (this.widthPx - GUTTER_PX) * this.viewport.nsPerPx)}`;
  }

  private paint(): void {
    const g = this.ctx;
    const W = this.widthPx;
    const { t0, nsPerPx } = this.viewport;
    const plotW = W - GUTTER_PX;
    const t1 = t0 + plotW * nsPerPx;
    const x = (t: number) => GUTTER_PX + (t - t0) / nsPerPx;
    // The rectangles are written straight into the frame's pixels, on whole device pixels, over a
    // copy of the static layer (backgrounds, idle hatching, gutter), and put on the canvas at once:
    // thousands of small rectangles cost the software rasteriser tens of ms as paths or fillRects,
    // as pixel runs they cost what their area costs. Text, marks, flows and notes are drawn on top.
    const frame = this.framePixels();
    const px = frame.px;
    px.set(frame.base);
    const dpr = frame.dpr;
    const stride = frame.img.width;
    let drawn = 0;
    let painted = 0;
    const labels: { text: string; x: number; y: number; w: number }[] = [];
    for (const r of this.rows) {
      drawn += visibleRectsInto(r.lane, t0, t1, nsPerPx, this.rects);
      painted += this.paintRow(r, frame, t0, nsPerPx, labels);
    }
    const shapes = this.paintMarks(t0, t1, x, px, stride, dpr);
    g.putImageData(frame.img, 0, 0);
    g.save();
    g.beginPath();
    g.rect(GUTTER_PX, 0, plotW, this.heightPx);
    g.clip();
    g.font = LABEL_FONT;
    g.textBaseline = "middle";
    g.fillStyle = "#102030";
    const measure = (t: string) => this.textWidth(t);
    for (const l of labels) {
      const text = fitText(measure, l.text, l.w);
      if (text === "") continue;
      g.fillText(text, l.x, l.y);
      this.shown.push(`label ${text}`);
    }
    this.drawThresholds(t0, t1, x);
    this.drawMarkShapes(shapes);
    this.drawFlows(t0, t1, x);
    this.drawNotes(t0, t1, x);
    if (this.viewport.cursorNs !== null) {
      const cx = x(this.viewport.cursorNs);
      if (this.data.unit === "step") {
        // the current step: a band over [step-1, step]
        const x0 = x(this.viewport.cursorNs - 1);
        g.fillStyle = "rgba(0, 80, 208, 0.18)";
        g.fillRect(x0, AXIS_PX, Math.max(2, cx - x0), this.heightPx - AXIS_PX);
      }
      g.fillStyle = "#0050d0";
      g.fillRect(cx - 1, AXIS_PX, 2, this.heightPx - AXIS_PX);
    }
    g.restore();
    this.lastDrawn = drawn;
    this.lastPainted = painted;
    this.drawAxis(t0, t1, x);
  }

  /**
   * Writes the rectangles of row `r` (in this.rects) into the frame's pixels; returns how many runs it
   * filled. A method of its own, called once per row: the JIT compiles it as a whole, not as an
   * inner loop entered by on-stack replacement and left again at the end of every row.
   */
  private paintRow(
    r: Row,
    frame: { px: Uint32Array; img: ImageData; dpr: number },
    t0: number,
    nsPerPx: number,
    labels: { text: string; x: number; y: number; w: number }[],
  ): number {
    const buf = this.rects;
    const n = buf.n;
    const lane = r.lane;
    const kind = lane.kind;
    const labelled = kind === "task" || kind === "step" || kind === "fn";
    const px = frame.px;
    const dpr = frame.dpr;
    const stride = frame.img.width;
    const xMin = Math.round(GUTTER_PX * dpr);
    const xMax = frame.img.width;
    const W = this.widthPx;
    const rowY1 = Math.round((r.y + r.h) * dpr);
    let painted = 0;
    let lastLabel = -1;
    let value = 0;
    // the previous run in this row: [runX0, runX1) x [runY0, rowY1) in device pixels, colour runV
    let runX0 = 0;
    let runX1 = -1;
    let runY0 = 0;
    let runV = 0;
    for (let k = 0; k < n; k++) {
      const s = buf.s[k]!;
      const e = buf.e[k]!;
      const i = buf.i[k]!;
      const busy = buf.busy[k]!;
      const label = lane.label[i]!;
      if (label !== lastLabel) {
        lastLabel = label;
        value = this.pixelOf(kind, label);
      }
      const xs = Math.round(Math.max(GUTTER_PX - 1, GUTTER_PX + (s - t0) / nsPerPx));
      const xe = Math.round(Math.min(W + 1, GUTTER_PX + (e - t0) / nsPerPx));
      const w = Math.max(1, xe - xs);
      // a collapsed pixel column (busy < 1): as tall as the share of its time that is busy (at least 2 px)
      const h = busy < 1 ? Math.max(2, Math.round(r.h * busy)) : r.h;
      const y0 = Math.round((r.y + r.h - h) * dpr);
      const x0 = Math.max(xMin, Math.round(xs * dpr));
      const x1 = Math.min(xMax, Math.round((xs + w) * dpr));
      // a rectangle touching the previous one of its colour and height extends it
      if (value === runV && y0 === runY0 && x0 <= runX1 && x1 > runX0) {
        if (x1 > runX1) runX1 = x1;
      } else {
        if (runX1 > runX0) {
          fillRun(px, stride, runX0, runX1, runY0, rowY1, runV);
          painted++;
        }
        runX0 = x0;
        runX1 = x1;
        runY0 = y0;
        runV = value;
      }
      if (busy >= 1 && labelled && xe - xs > 24)
        labels.push({ text: this.data.strings[label] ?? "", x: xs + 3, y: r.y + r.h / 2, w: xe - xs - 6 });
    }
    if (runX1 > runX0) {
      fillRun(px, stride, runX0, runX1, runY0, rowY1, runV);
      painted++;
    }
    return painted;
  }

  /** Width of `text` in the label font (cached: the same labels come back frame after frame). */
  private textWidth(text: string): number {
    let w = this.textWidths.get(text);
    if (w === undefined) {
      w = this.ctx.measureText(text).width;
      if (this.textWidths.size < 50_000) this.textWidths.set(text, w);
    }
    return w;
  }

  /** The frame's pixel buffer and the static layer's pixels (rebuilt after a layout or size change). */
  private framePixels(): { img: ImageData; px: Uint32Array; base: Uint32Array; dpr: number } {
    if (this.frameBuf !== null) return this.frameBuf;
    const layer = this.staticCanvas();
    const base = new Uint32Array(
      layer.getContext("2d")!.getImageData(0, 0, layer.width, layer.height).data.buffer.slice(0),
    );
    const img = this.ctx.createImageData(layer.width, layer.height);
    this.frameBuf = {
      img,
      px: new Uint32Array(img.data.buffer),
      base,
      dpr: layer.width / Math.max(1, this.widthPx),
    };
    return this.frameBuf;
  }

  /** A CSS colour as one RGBA pixel (little-endian Uint32, as ImageData holds it), via a 1x1 canvas. */
  private pixelColor(css: string): number {
    let v = this.pixelColors.get(css);
    if (v === undefined) {
      const c = document.createElement("canvas");
      c.width = 1;
      c.height = 1;
      const g = c.getContext("2d")!;
      g.fillStyle = css;
      g.fillRect(0, 0, 1, 1);
      v = new Uint32Array(g.getImageData(0, 0, 1, 1).data.buffer)[0]!;
      this.pixelColors.set(css, v);
    }
    return v;
  }

  /** The static layer (built on first use after a layout or size change). */
  private staticCanvas(): HTMLCanvasElement {
    if (this.staticLayer !== null) return this.staticLayer;
    const c = document.createElement("canvas");
    c.width = this.canvas.width;
    c.height = this.canvas.height;
    const g = c.getContext("2d", { alpha: false })!;
    const dpr = window.devicePixelRatio || 1;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const W = this.widthPx;
    const plotW = W - GUTTER_PX;
    g.fillStyle = "#fff";
    g.fillRect(0, 0, W, this.heightPx);
    // CPU group backgrounds; task rows hatched (idle) where no task interval covers them
    for (const gr of this.groups) {
      g.fillStyle = "#f4f5f7";
      g.fillRect(GUTTER_PX, gr.y, plotW, gr.h);
    }
    const idle = this.idlePattern(g);
    for (const r of this.rows)
      if (r.lane.kind === "task" && idle !== null) {
        g.fillStyle = idle;
        g.fillRect(GUTTER_PX, r.y, plotW, r.h);
      }
    this.drawGutter(g);
    this.staticLayer = c;
    return c;
  }

  /** Light diagonal hatching: an idle CPU is visibly idle, not missing data. */
  private idlePattern(g: CanvasRenderingContext2D): CanvasPattern | null {
    const c = document.createElement("canvas");
    c.width = 6;
    c.height = 6;
    const p = c.getContext("2d")!;
    p.fillStyle = "#f4f5f7";
    p.fillRect(0, 0, 6, 6);
    p.strokeStyle = "#d5d9e0";
    p.beginPath();
    p.moveTo(0, 6);
    p.lineTo(6, 0);
    p.stroke();
    return g.createPattern(c, "repeat");
  }

  private rowOf(cpu: number, kind: Lane["kind"]): Row | undefined {
    return this.rows.find((r) => r.lane.cpu === cpu && r.lane.kind === kind && r.lane.sub === 0);
  }

  /** Holdoff bands: the part beyond the soft-lockup threshold in red, and the threshold line. */
  private drawThresholds(t0: number, t1: number, x: (t: number) => number): void {
    const thr = this.data.thresholdNs;
    if (thr <= 0) return;
    const g = this.ctx;
    for (const [r, long] of this.longHoldoffs) {
      const l = r.lane;
      let labelEnd = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < long.length; k++) {
        const i = long[k]!;
        if (l.end[i]! < t0) continue;
        if (l.start[i]! > t1) break;
        const s = l.start[i]!;
        const e = l.end[i]!;
        const line = s + thr;
        if (e - s < thr / 2 || line < t0 || line > t1 + (t1 - t0)) continue;
        if (e > line) {
          g.fillStyle = OVER_THRESHOLD_COLOR;
          const xs = Math.round(Math.max(GUTTER_PX, x(line)));
          g.fillRect(xs, r.y, Math.max(1, Math.round(Math.min(this.widthPx, x(e))) - xs), r.h);
        }
        const lx = Math.round(x(line));
        if (lx < GUTTER_PX || lx > this.widthPx) continue;
        g.fillStyle = OVER_THRESHOLD_COLOR;
        for (let y = r.y - 14; y < r.y + r.h + 4; y += 4) g.fillRect(lx, y, 1, 2);
        g.font = "10px system-ui, sans-serif";
        const crossed = e > line;
        const text = `watchdog threshold ${fmtNs(thr)}${crossed ? ": crossed" : ""}`;
        // one label where several lines crowd together
        if (lx > labelEnd) {
          g.fillText(text, lx + 3, r.y - 8);
          labelEnd = lx + 3 + g.measureText(text).width;
        }
        this.shown.push(`threshold cpu${l.cpu} ${crossed ? "crossed" : "not crossed"}`);
      }
    }
  }

  /** Flows as arrows from cause to effect (wake-ups, IPIs, queue_work, lock hand-overs, bios). */
  private drawFlows(t0: number, t1: number, x: (t: number) => number): void {
    const f = this.data.flows;
    if (!f || f.n === 0) return;
    // flows start before they end: those ending in view started at most the longest flow earlier
    const i0 = lowerBound(f.t0, t0 - (t1 - t0), 0, f.n);
    const picked = this.pickedFlows;
    let n = 0;
    for (let i = i0; i < f.n && f.t0[i]! <= t1; i++) {
      if (f.t1[i]! < t0) continue;
      if (n > MAX_FLOWS) return; // too dense to read: zoom in to see them
      picked[n++] = i;
    }
    if (n > MAX_FLOWS) return;
    const g = this.ctx;
    g.strokeStyle = FLOW_COLOR;
    g.fillStyle = FLOW_COLOR;
    g.lineWidth = 1;
    for (let k = 0; k < n; k++) this.drawFlow(picked[k]!, x);
    if (n > 0) this.shown.push(`flows ${n}`);
  }

  private drawFlow(i: number, x: (t: number) => number): void {
    const f = this.data.flows;
    const g = this.ctx;
    const a = this.taskRowByCpu[f.cpu0[i]!];
    const b = this.taskRowByCpu[f.cpu1[i]!];
    if (a === undefined || b === undefined) return;
    const xa = x(f.t0[i]!);
    const xb = x(f.t1[i]!);
    const ya = a.y + a.h / 2;
    const yb = b.y + (b.y > a.y ? 2 : b.h - 2);
    g.beginPath();
    g.moveTo(xa, ya);
    g.bezierCurveTo(xa + 12, ya, xb - 12, yb, xb, yb);
    g.stroke();
    const dir = xb >= xa ? 1 : -1;
    g.beginPath();
    g.moveTo(xb, yb);
    g.lineTo(xb - 5 * dir, yb - 3);
    g.lineTo(xb - 5 * dir, yb + 3);
    g.fill();
  }

  /** A finding's annotation: a box at the finding and leader lines to its causes. */
  private drawNotes(t0: number, t1: number, x: (t: number) => number): void {
    const g = this.ctx;
    const boxes: { x0: number; x1: number; y: number }[] = [];
    for (const n of this.data.notes ?? []) {
      const visible = (n.t >= t0 && n.t <= t1) || n.targets.some((p) => p.t >= t0 && p.t <= t1);
      if (!visible) continue;
      const gr = this.groups.find((q) => q.cpu === n.cpu) ?? this.groups[0];
      if (!gr) continue;
      const nx = Math.min(Math.max(x(n.t), GUTTER_PX + 4), this.widthPx - 4);
      g.font = "bold 11px system-ui, sans-serif";
      const tw = Math.min(g.measureText(n.text).width + 10, this.widthPx - GUTTER_PX - 8);
      const bx = Math.max(GUTTER_PX + 2, Math.min(nx - tw / 2, this.widthPx - tw - 2));
      // stack boxes that would overlap an earlier one
      let by = gr.y + 2;
      while (boxes.some((b) => b.y === by && b.x0 < bx + tw && bx < b.x1)) by += 18;
      boxes.push({ x0: bx, x1: bx + tw, y: by });
      g.strokeStyle = OVER_THRESHOLD_COLOR;
      g.lineWidth = 1.5;
      for (const p of n.targets) {
        const row = this.rowOf(
          p.cpu,
          p.what === "wp_page_copy" ? "fn" : p.what === "need_resched set" ? "holdoff" : "task",
        );
        if (!row) continue;
        const px = Math.min(Math.max(x(p.t), GUTTER_PX), this.widthPx);
        g.beginPath();
        g.moveTo(nx, by + 16);
        g.lineTo(px, row.y + row.h / 2);
        g.stroke();
        g.beginPath();
        g.arc(px, row.y + row.h / 2, 4, 0, Math.PI * 2);
        g.stroke();
        if (p.t >= t0 && p.t <= t1) this.shown.push(`cause ${p.what} cpu${p.cpu}`);
      }
      g.lineWidth = 1;
      g.fillStyle = "rgba(255, 255, 255, 0.92)";
      g.fillRect(bx, by, tw, 16);
      g.strokeRect(bx + 0.5, by + 0.5, tw - 1, 15);
      g.fillStyle = OVER_THRESHOLD_COLOR;
      g.fillText(
        fitText((t) => g.measureText(t).width, n.text, tw - 8),
        bx + 5,
        by + 8,
      );
      this.shown.push(`note ${n.text}`);
    }
  }

  /**
   * Marks in view: model-event ticks are written into the frame's pixels; dmesg triangles, stale-TLB
   * diamonds and findings are returned to be drawn as shapes over them. Level of detail: one mark per
   * pixel, CPU and kind (findings always), at most MAX_MARKS looked at.
   */
  private paintMarks(
    t0: number,
    t1: number,
    x: (t: number) => number,
    px: Uint32Array,
    stride: number,
    dpr: number,
  ): MarkShape[] {
    const m = this.data.marks;
    const shapes: MarkShape[] = [];
    const findings: MarkShape[] = [];
    const i0 = lowerBound(m.t, t0, 0, m.n);
    const keys = (this.groupByCpu.length + 1) * 8;
    const lastPx = new Float64Array(keys).fill(Number.NaN);
    const MAX_MARKS = 200_000;
    const tick = this.pixelColor("#3060c0");
    const xMin = Math.round(GUTTER_PX * dpr);
    const xMax = Math.round(this.widthPx * dpr);
    const strings = this.data.strings;
    for (let i = i0, seen = 0; i < m.n && m.t[i]! <= t1; i++, seen++) {
      const p = Math.round(x(m.t[i]!));
      const kind = m.kind[i]!;
      const cpu = m.cpu[i]!;
      if (kind === MARK_FINDING) {
        const gr = this.groupByCpu[cpu];
        for (const target of gr ? [gr] : this.groups) findings.push({ kind, px: p, group: target });
        continue;
      }
      if (seen >= MAX_MARKS) continue; // past the budget only findings are looked for
      if (kind !== MARK_DMESG && kind !== MARK_MODEL) continue;
      const key = (cpu + 1) * 8 + kind;
      if (key < keys) {
        if (lastPx[key] === p) continue;
        lastPx[key] = p;
      }
      const gr = this.groupByCpu[cpu];
      const targets = gr ? [gr] : cpu < 0 ? this.groups : [];
      if (kind === MARK_MODEL) {
        const label = m.label[i]!;
        let shape = this.markShape[label] ?? 0;
        if (shape === 0) {
          const text = strings[label] ?? "";
          // the accesses a lost update is made of: a magenta diamond; other model events: a tick
          shape = text.startsWith("store via stale TLB") || text.startsWith("load of a lost write") ? 1 : 2;
          if (label < this.markShape.length) this.markShape[label] = shape;
        }
        if (shape === 2) {
          const x0 = Math.round(p * dpr);
          const x1 = Math.round((p + 1) * dpr);
          if (x0 < xMin || x1 > xMax) continue;
          for (const target of targets)
            fillRun(
              px,
              stride,
              x0,
              x1,
              Math.round((target.y + 1) * dpr),
              Math.round((target.y + MARK_PX - 1) * dpr),
              tick,
            );
          continue;
        }
        const text = strings[label] ?? "";
        const colon = text.indexOf(":");
        this.staleShown.add(`mark ${colon >= 0 ? text.slice(0, colon) : text} cpu${cpu}`);
      }
      for (const target of targets) shapes.push({ kind, px: p, group: target });
    }
    // findings on top of everything, never thinned out
    for (const f of findings) shapes.push(f);
    return shapes;
  }

  /** What paintMarks saw of stale-TLB stores and lost-write loads (tests read it in `shown`). */
  private readonly staleShown = new Set<string>();

  private drawMarkShapes(shapes: MarkShape[]): void {
    const g = this.ctx;
    for (const sh of shapes) {
      const y = sh.group.y;
      const p = sh.px;
      if (sh.kind === MARK_DMESG) {
        g.fillStyle = "#e07000";
        g.beginPath();
        g.moveTo(p - 4, y);
        g.lineTo(p + 4, y);
        g.lineTo(p, y + MARK_PX - 1);
        g.fill();
      } else if (sh.kind === MARK_MODEL) {
        g.fillStyle = "#CC0099";
        g.beginPath();
        g.moveTo(p, y - 1);
        g.lineTo(p + 4, y + 3);
        g.lineTo(p, y + 7);
        g.lineTo(p - 4, y + 3);
        g.fill();
      } else {
        g.fillStyle = "#d00000";
        g.fillRect(p - 1, y, 3, sh.group.h);
      }
    }
    for (const s of this.staleShown) this.shown.push(s);
    this.staleShown.clear();
  }

  private drawGutter(g: CanvasRenderingContext2D): void {
    g.fillStyle = "#fff";
    g.fillRect(0, 0, GUTTER_PX, this.heightPx);
    g.textBaseline = "middle";
    let cpu = -1;
    for (const r of this.rows) {
      const l = r.lane;
      if (l.cpu !== cpu) {
        cpu = l.cpu;
        g.font = "bold 12px system-ui, sans-serif";
        g.fillStyle = "#111";
        g.fillText(`CPU ${l.cpu}`, 6, r.y + r.h / 2);
        if (l.kind !== "task") {
          g.font = "10px system-ui, sans-serif";
          g.fillStyle = "#555";
          g.fillText(l.kind, 56, r.y + r.h / 2);
        }
      } else {
        g.font = "10px system-ui, sans-serif";
        g.fillStyle = "#555";
        const name = l.kind === "fn" ? "kernel fn" : l.kind === "holdoff" ? "need_resched" : l.kind;
        g.fillText(l.sub > 0 ? `${name} ${l.sub + 1}` : name, 14, r.y + r.h / 2);
      }
    }
  }

  private drawAxis(t0: number, t1: number, x: (t: number) => number): void {
    const g = this.ctx;
    const W = this.widthPx;
    g.fillStyle = "#fff";
    g.fillRect(0, 0, W, AXIS_PX);
    g.fillStyle = "#ccc";
    g.fillRect(GUTTER_PX, AXIS_PX - 1, W - GUTTER_PX, 1);
    const steps = this.data.unit === "step";
    const step = steps
      ? Math.max(1, Math.round(tickStep(this.viewport.nsPerPx, 60)))
      : tickStep(this.viewport.nsPerPx, 90);
    const fmt = (t: number) => (steps ? `${Math.round(t)}` : fmtTime(t, step));
    g.font = "10px system-ui, sans-serif";
    g.textBaseline = "middle";
    g.fillStyle = "#333";
    const ticks: string[] = [];
    for (let k = Math.ceil(t0 / step); k * step <= t1; k++) {
      const t = k * step;
      const px = Math.round(x(t));
      if (px < GUTTER_PX) continue;
      g.fillRect(px, AXIS_PX - 6, 1, 5);
      const text = fmt(k === 0 ? 0 : t);
      ticks.push(text);
      g.fillText(text, px + 3, 9);
    }
    this.host.dataset.ticks = ticks.join("|");
    g.fillStyle = "#666";
    g.fillText(steps ? `${Math.round(t1 - t0)} steps` : `${fmtTime(t1 - t0 || 1, step / 10)} in view`, 6, 9);
  }

  // ---------------------------------------------------------------- interaction

  private onWheel = (e: WheelEvent): void => {
    e.preventDefault();
    const vp = this.viewport;
    const rect = this.canvas.getBoundingClientRect();
    const px = Math.max(0, e.clientX - rect.left - GUTTER_PX);
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const d = e.shiftKey ? e.deltaY || e.deltaX : e.deltaX;
      vp.set(vp.t0 + d * vp.nsPerPx, vp.nsPerPx);
      return;
    }
    const factor = Math.exp(e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0025));
    const tAt = vp.t0 + px * vp.nsPerPx;
    const nsPerPx = Math.min(Math.max(vp.nsPerPx * factor, 0.05), this.maxNsPerPx());
    this.setBounded(tAt - px * nsPerPx, nsPerPx);
  };

  /** Sets the view, kept within the run (a little margin each side) and never wider than it. */
  setBounded(t0: number, nsPerPx: number): void {
    const w = Math.max(1, this.widthPx - GUTTER_PX);
    const npp = Math.min(Math.max(nsPerPx, 0.05), this.maxNsPerPx());
    const start = this.data.startNs;
    const end = this.fitEndNs ?? this.data.endNs;
    const margin = (end - start) * 0.01;
    const lo = start - margin;
    const hi = end + margin - w * npp;
    this.viewport.set(hi < lo ? (lo + hi) / 2 : Math.min(Math.max(t0, lo), hi), npp);
  }

  /** Zooms by `factor` (< 1: in) about the middle of the view. */
  zoomCentre(factor: number): void {
    const vp = this.viewport;
    const w = this.widthPx - GUTTER_PX;
    const mid = vp.t0 + (w / 2) * vp.nsPerPx;
    const npp = Math.min(Math.max(vp.nsPerPx * factor, 0.05), this.maxNsPerPx());
    this.setBounded(mid - (w / 2) * npp, npp);
  }

  /** W/S zoom in/out around the middle, A/D pan (as in Perfetto); 0 fits. */
  private onKey = (e: KeyboardEvent): void => {
    const vp = this.viewport;
    const w = this.widthPx - GUTTER_PX;
    const mid = vp.t0 + (w / 2) * vp.nsPerPx;
    const k = e.key.toLowerCase();
    if (k === "w" || k === "s") {
      const nsPerPx = Math.min(Math.max(vp.nsPerPx * (k === "w" ? 0.7 : 1 / 0.7), 0.05), this.maxNsPerPx());
      this.setBounded(mid - (w / 2) * nsPerPx, nsPerPx);
    } else if (k === "a" || k === "d")
      this.setBounded(vp.t0 + (k === "a" ? -1 : 1) * w * 0.15 * vp.nsPerPx, vp.nsPerPx);
    else if (k === "0") this.fit();
    else return;
    e.preventDefault();
  };

  private maxNsPerPx(): number {
    const end = this.fitEndNs ?? this.data.endNs;
    return (Math.max(1, end - this.data.startNs) * 1.02) / Math.max(1, this.widthPx - GUTTER_PX);
  }

  private onDown = (e: PointerEvent): void => {
    this.canvas.setPointerCapture(e.pointerId);
    this.drag = { x: e.clientX, t0: this.viewport.t0 };
    this.downX = e.clientX;
    this.canvas.style.cursor = "grabbing";
  };

  private onUp = (e: PointerEvent): void => {
    this.drag = null;
    if (Math.abs(e.clientX - this.downX) < 3 && this.onPick) {
      const px = e.clientX - this.canvas.getBoundingClientRect().left;
      if (px >= GUTTER_PX) this.onPick(this.viewport.t0 + (px - GUTTER_PX) * this.viewport.nsPerPx);
    }
    this.canvas.releasePointerCapture(e.pointerId);
    this.canvas.style.cursor = "";
  };

  private onLeave = (): void => {
    this.tip.hidden = true;
  };

  private onMove = (e: PointerEvent): void => {
    const vp = this.viewport;
    if (this.drag) {
      this.setBounded(this.drag.t0 - (e.clientX - this.drag.x) * vp.nsPerPx, vp.nsPerPx);
      return;
    }
    const rect = this.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    const text = this.describeAt(px, py);
    if (text === null) {
      this.tip.hidden = true;
      return;
    }
    this.tip.textContent = text;
    this.tip.hidden = false;
    this.tip.style.left = `${Math.min(px + 12, this.widthPx - 260)}px`;
    this.tip.style.top = `${py + 14}px`;
  };

  /** Text for the thing under the pointer: an interval, or a mark near it. */
  describeAt(px: number, py: number): string | null {
    if (px < GUTTER_PX) return null;
    const vp = this.viewport;
    const t = vp.t0 + (px - GUTTER_PX) * vp.nsPerPx;
    const slack = vp.nsPerPx * 3;
    const s = this.data.strings;
    const group = this.groups.find((gr) => py >= gr.y && py < gr.y + MARK_PX);
    if (group) {
      const m = this.data.marks;
      let best = -1;
      for (let i = lowerBound(m.t, t - slack, 0, m.n); i < m.n && m.t[i]! <= t + slack; i++)
        if (m.cpu[i] === group.cpu || m.cpu[i] === -1) best = i;
      if (best >= 0)
        return `${this.data.unit === "step" ? `step ${Math.ceil(m.t[best]!)}` : fmtTime(m.t[best]!, vp.nsPerPx)}  ${s[m.label[best]!]}`;
    }
    const row = this.rows.find((r) => py >= r.y && py < r.y + r.h);
    if (!row) return null;
    const l = row.lane;
    const i = intervalAt(l, t, vp.nsPerPx);
    const at = (v: number) => fmtTime(v, vp.nsPerPx);
    if (i < 0)
      return l.kind === "task"
        ? `CPU ${l.cpu}: idle at ${at(t)}`
        : `CPU ${l.cpu} ${l.kind}: nothing at ${at(t)}`;
    if (l.kind === "step") return `step ${l.info[i]} on CPU ${l.cpu}: ${s[l.label[i]!] ?? ""}`;
    if (this.data.unit === "step")
      return `CPU ${l.cpu} ${l.kind}: ${s[l.label[i]!] ?? ""} (steps ${Math.ceil(l.start[i]!)}..${Math.ceil(l.end[i]!)})`;
    const d = l.end[i]! - l.start[i]!;
    const dur = fmtTime(d, Math.min(vp.nsPerPx, Math.max(1, d / 1000)));
    const what = l.kind === "holdoff" ? "need_resched pending" : (s[l.label[i]!] ?? "");
    const info =
      l.kind === "lock"
        ? ` at ${s[l.info[i]!]}`
        : l.kind === "work"
          ? ` (${s[l.info[i]!]})`
          : l.kind === "fn"
            ? ` (pid ${l.info[i]})`
            : "";
    const kind =
      l.kind === "lock"
        ? "waits for "
        : l.kind === "work"
          ? "work "
          : l.kind === "task" || l.kind === "fn" || l.kind === "holdoff"
            ? ""
            : `${l.kind} `;
    return `CPU ${l.cpu}: ${kind}${what}${info}  ${at(l.start[i]!)} .. ${at(l.end[i]!)} (${dur})`;
  }
}
