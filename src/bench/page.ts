// The web page's timeline while wheel-zooming a big run (iomap-s8 5.16: 16k rectangles in view at its
// widest), in headless Chromium on software rasterisation. Two figures per frame:
// - the frame interval, from requestAnimationFrame (what a user sees; on a loaded machine it includes
//   the time the page waited for a CPU);
// - the renderer main thread's CPU time between two frames (the top-level tasks' thread time in
//   Chromium's own trace: input, requestAnimationFrame callbacks, style/layout/paint, commit), which
//   does not count time spent waiting for a CPU: what a frame costs the page, whatever else runs.
// The page test (test/web/page.test.ts) measures with `measureZoomFrames`; `npm run bench -- page`
// prints one line: `page-s8-zoom frames=N p50_ms= p95_ms= max_ms= over50=N cpu_p50_ms= cpu_p95_ms=
// cpu_max_ms= rects_max= painted_max= load1=`.
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import type { Benchmark } from "./kernel.js";

export interface FrameFigures {
  /** Frame intervals measured (requestAnimationFrame to requestAnimationFrame). */
  frames: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  over50Ms: number;
  /** Main-thread CPU time between two frames, from Chromium's trace (thread time of top-level tasks). */
  cpuP50Ms: number;
  cpuP95Ms: number;
  cpuMaxMs: number;
  /** Rectangles in view (level of detail applied) and runs painted after merging, at most. */
  rectsMax: number;
  paintedMax: number;
  /** The JavaScript draw time the page reports (data-draw-ms), at most. */
  drawMsMax: number;
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The value at quantile `f` of the sorted `xs`. */
function quantile(xs: number[], f: number): number {
  return xs.length === 0 ? 0 : xs[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
}

/**
 * Per frame (between two "raf" user-timing marks), the renderer main thread's CPU time: the thread
 * time (`tdur`) of its top-level tasks that start in the frame.
 */
export function frameCpuMs(events: TraceEvent[]): number[] {
  const threads = new Map<string, string>();
  for (const e of events)
    if (e.ph === "M" && e.name === "thread_name") threads.set(`${e.pid}:${e.tid}`, e.args?.name ?? "");
  const marks = events
    .filter((e) => e.name === "raf" && e.ph !== "M")
    .map((e) => e.ts)
    .sort((a, b) => a - b);
  const tasks = events
    .filter(
      (e) => e.ph === "X" && e.name === "RunTask" && threads.get(`${e.pid}:${e.tid}`) === "CrRendererMain",
    )
    .sort((a, b) => a.ts - b.ts);
  const cpu = new Array<number>(Math.max(0, marks.length - 1)).fill(0);
  let end = Number.NEGATIVE_INFINITY;
  let k = 0;
  for (const t of tasks) {
    if (t.ts < end) continue; // nested in the previous top-level task
    end = t.ts + (t.dur ?? 0);
    while (k < marks.length - 1 && t.ts >= marks[k + 1]!) k++;
    if (k >= marks.length - 1 || t.ts < marks[0]!) continue;
    cpu[k]! += (t.tdur ?? 0) / 1000;
  }
  return cpu;
}

/**
 * Wheel-zooms the timeline `testid` about its middle, 12 steps in and 12 out, measuring frame
 * intervals (requestAnimationFrame) and, in a Chromium trace taken meanwhile, the main thread's CPU
 * time per frame. The page's run must have finished.
 */
export async function measureZoomFrames(browser: Browser, p: Page, testid: string): Promise<FrameFigures> {
  const tl = p.getByTestId(testid);
  const box = (await tl.locator("canvas").boundingBox())!;
  await browser.startTracing(p, {
    categories: ["disabled-by-default-devtools.timeline", "devtools.timeline", "blink.user_timing"],
  });
  // strings, not functions: a bundler's helpers (tsx's __name) do not exist in the page
  await p.evaluate(`(() => {
    const w = window;
    w.__frames = [];
    w.__stop = false;
    const tick = (t) => {
      w.__frames.push(t);
      performance.mark("raf");
      if (!w.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  await p.mouse.move(box.x + box.width * 0.5, box.y + 80);
  const rects: number[] = [];
  const painted: number[] = [];
  const drawMs: number[] = [];
  const read = `(() => { const d = document.querySelector('[data-testid="${testid}"]').dataset;
    return [Number(d.rects), Number(d.painted), Number(d.drawMs)]; })()`;
  for (let i = 0; i < 24; i++) {
    await p.mouse.wheel(0, i < 12 ? -250 : 250);
    await p.waitForTimeout(30);
    // one round trip per step, so that the measuring disturbs the page little
    const [r, pa, d] = (await p.evaluate(read)) as number[];
    rects.push(r!);
    painted.push(pa!);
    drawMs.push(d!);
  }
  const frames = (await p.evaluate(
    `(() => { window.__stop = true; return window.__frames; })()`,
  )) as number[];
  const trace = JSON.parse((await browser.stopTracing()).toString("utf8")) as { traceEvents: TraceEvent[] };
  const iv = frames
    .slice(1)
    .map((t, i) => t - frames[i]!)
    .sort((a, b) => a - b);
  const cpu = frameCpuMs(trace.traceEvents).sort((a, b) => a - b);
  return {
    frames: iv.length,
    p50Ms: round(quantile(iv, 0.5)),
    p95Ms: round(quantile(iv, 0.95)),
    maxMs: round(iv[iv.length - 1] ?? 0),
    over50Ms: iv.filter((v) => v > 50).length,
    cpuP50Ms: round(quantile(cpu, 0.5)),
    cpuP95Ms: round(quantile(cpu, 0.95)),
    cpuMaxMs: round(cpu[cpu.length - 1] ?? 0),
    rectsMax: Math.max(...rects),
    paintedMax: Math.max(...painted),
    drawMsMax: Math.max(...drawMs),
  };
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Builds the page, serves it, runs iomap-s8 (5.16) in Chromium and measures a zoom session. */
async function pageLine(): Promise<string> {
  const { build } = await import("vite");
  const { chromium } = await import("playwright-core");
  const { startServer } = await import("../cli/serve.js");
  const outDir = path.join(os.tmpdir(), `faultline-bench-page-${process.pid}`);
  await build({
    configFile: path.join(ROOT, "web", "vite.config.ts"),
    logLevel: "error",
    build: { outDir, emptyOutDir: true },
  });
  const server = await startServer({ root: outDir, port: 0 });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await p.goto(`${server.url}?scenario=iomap-s8&variant=5.16&run`);
    await p.getByTestId("plots").waitFor({ timeout: 600_000 });
    await p.evaluate(`new Promise((r) => requestIdleCallback(() => r(0), { timeout: 5000 }))`);
    const f = await measureZoomFrames(browser, p, "timeline-0");
    return (
      `page-s8-zoom frames=${f.frames} p50_ms=${f.p50Ms} p95_ms=${f.p95Ms} max_ms=${f.maxMs} over50=${f.over50Ms}` +
      ` cpu_p50_ms=${f.cpuP50Ms} cpu_p95_ms=${f.cpuP95Ms} cpu_max_ms=${f.cpuMaxMs} rects_max=${f.rectsMax}` +
      ` painted_max=${f.paintedMax} draw_ms_max=${f.drawMsMax} load1=${os.loadavg()[0]!.toFixed(1)}`
    );
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** `npm run bench -- page`: only when named (it builds the page and starts Chromium). */
export const pageBenchmarks: Benchmark[] = [{ name: "page-s8-zoom", run: () => pageLine() }];
