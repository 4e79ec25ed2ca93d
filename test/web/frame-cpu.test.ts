// The page benchmark's reading of a Chromium trace: per frame (between two "raf" marks), the renderer
// main thread's CPU time (thread time of its top-level tasks), nested tasks and other threads left out.
import { describe, expect, it } from "vitest";
import { frameCpuMs } from "../../src/bench/page.js";

const meta = (tid: number, name: string) => ({
  name: "thread_name",
  ph: "M",
  pid: 1,
  tid,
  ts: 0,
  args: { name },
});
const raf = (ts: number) => ({ name: "raf", ph: "I", pid: 1, tid: 10, ts });
const task = (tid: number, ts: number, dur: number, tdur: number) => ({
  name: "RunTask",
  ph: "X",
  pid: 1,
  tid,
  ts,
  dur,
  tdur,
});

describe("frameCpuMs", () => {
  it("sums the main thread's top-level task CPU per frame, without nested tasks or other threads", () => {
    const events = [
      meta(10, "CrRendererMain"),
      meta(11, "Compositor"),
      raf(1000),
      task(10, 1100, 5000, 4000), // frame 0: 4 ms of CPU in 5 ms
      task(10, 1200, 1000, 900), // nested in the previous task: not counted again
      task(11, 1300, 9000, 9000), // another thread
      raf(17_000),
      task(10, 20_000, 100_000, 30_000), // frame 1: waited 70 ms for a CPU, 30 ms of work
      task(10, 500, 100, 100), // before the first frame: not counted
      raf(120_000),
      raf(137_000), // frame 2: idle
      task(10, 140_000, 100, 100), // after the last mark: not counted
    ];
    expect(frameCpuMs(events)).toEqual([4, 30, 0]);
  });

  it("has no frames without two marks", () => {
    expect(frameCpuMs([meta(10, "CrRendererMain"), raf(5), task(10, 6, 10, 10)])).toEqual([]);
  });
});
