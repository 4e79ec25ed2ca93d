// S3 (Dave's V4 measurement) is the calibration: completion CPU time of a 10.1 GB and a 15.8 GB file
// with the default cost profile (spec §5 costs, nothing fitted to §4).
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

  it("15.8 GB file: completion CPU within 15 % of 2 s", () => {
    const ms = r.completionCpuNs.b! / 1e6;
    expect(ms).toBeGreaterThan(2000 * 0.85);
    expect(ms).toBeLessThan(2000 * 1.15);
  });

  it("dave-v4 bounds ioends at 4096 pages and merges physically contiguous ones", () => {
    expect(r.fs.ioendPagesMax).toBeLessThanOrEqual(4096);
    expect(r.fs.mergedRunPagesMax).toBeGreaterThan(4096);
    expect(r.softLockups).toBe(0);
  });
});
