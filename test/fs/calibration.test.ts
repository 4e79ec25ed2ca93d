// S3 (Dave's V4 measurement): completion CPU time of a 10.1 GB and a 15.8 GB file with the default
// costs. The per-folio cost is Dave's idle figure (290 ns), so the 10.1 GB file is the anchor; the
// 15.8 GB file (Dave: ~2 s, ~500 ns/page, written while other writeback ran) is a check of the
// i_pages contention model, and the model comes out low (see docs/fs.md).
import { describe, expect, it } from "vitest";
import { run } from "./helpers.js";

describe("iomap-s3 calibration", () => {
  const r = run("iomap-s3");

  it("runs to completion without findings", () => {
    expect(r.done).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.fs.invariantCounts).toEqual({});
  });

  it("10.1 GB file: completion CPU within 15 % of 715 ms", () => {
    const ms = r.completionCpuNs.a! / 1e6;
    expect(ms).toBeGreaterThan(715 * 0.85);
    expect(ms).toBeLessThan(715 * 1.15);
  });

  it("15.8 GB file: at least the uncontended 290 ns per page, below Dave's ~2 s (the model's gap)", () => {
    const ms = r.completionCpuNs.b! / 1e6;
    const pages = Math.ceil(15.8e9 / 4096);
    expect(ms).toBeGreaterThanOrEqual((pages * 290) / 1e6);
    expect(ms).toBeLessThan(2000);
  });

  it("dave-v4 bounds ioends at 4096 pages and merges physically contiguous ones", () => {
    expect(r.fs.ioendPagesMax).toBeLessThanOrEqual(4096);
    expect(r.fs.mergedRunPagesMax).toBeGreaterThan(4096);
    expect(r.softLockups).toBe(0);
  });
});
