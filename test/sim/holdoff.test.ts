// The holdoff record counts samples per distinct value before adding them to its HDR histogram:
// the histogram must be the one that recording every sample at once, in order, gives.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HoldoffRecord, newHistogram } from "../../src/sim/stats.js";

describe("HoldoffRecord", () => {
  it("gives the histogram of recording each sample at once, whatever the values and their order", () => {
    const sample = fc.oneof(
      fc.integer({ min: 0, max: 5000 }),
      fc.integer({ min: 0, max: 4_000_000_000 }),
      fc.double({ min: 0, max: 1e7, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), sample), { maxLength: 400 }), (xs) => {
        const r = new HoldoffRecord();
        const direct = [newHistogram(), newHistogram(), newHistogram()];
        const used = [false, false, false];
        for (const [kind, ns] of xs) {
          r.record(kind, ns, 0);
          direct[kind]!.recordValue(Math.max(1, Math.round(ns)));
          used[kind] = true;
        }
        for (let kind = 0; kind < 3; kind++) {
          const h = r.hist[kind];
          if (!used[kind]) {
            expect(h).toBeNull();
            continue;
          }
          const d = direct[kind]!;
          expect(h!.totalCount).toBe(d.totalCount);
          expect(h!.maxValue).toBe(d.maxValue);
          expect(h!.minNonZeroValue).toBe(d.minNonZeroValue);
          expect(h!.mean).toBe(d.mean);
          expect(h!.stdDeviation).toBe(d.stdDeviation);
          for (const q of [0, 10, 50, 90, 99, 99.9, 100])
            expect(h!.getValueAtPercentile(q)).toBe(d.getValueAtPercentile(q));
          expect(h!.estimatedFootprintInBytes).toBe(d.estimatedFootprintInBytes);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("the same histogram when values come in runs (the last value's count is kept apart), read midway too", () => {
    const run = fc.tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 4_000_000_000 })),
      fc.integer({ min: 1, max: 6 }),
    );
    fc.assert(
      fc.property(fc.array(run, { maxLength: 200 }), fc.integer({ min: 0, max: 200 }), (runs, readAt) => {
        const r = new HoldoffRecord();
        const direct = [newHistogram(), newHistogram(), newHistogram()];
        runs.forEach(([kind, ns, times], i) => {
          for (let j = 0; j < times; j++) {
            r.record(kind, ns, 0);
            direct[kind]!.recordValue(Math.max(1, Math.round(ns)));
          }
          if (i === readAt) void r.hist; // reading flushes the pending counts; recording goes on after
        });
        for (let kind = 0; kind < 3; kind++) {
          const h = r.hist[kind];
          const d = direct[kind]!;
          if (d.totalCount === 0) {
            expect(h).toBeNull();
            continue;
          }
          expect(h!.totalCount).toBe(d.totalCount);
          expect(h!.outputPercentileDistribution()).toBe(d.outputPercentileDistribution());
        }
      }),
      { numRuns: 60 },
    );
  });

  it("the same histogram when more distinct values arrive than it gathers before adding them", () => {
    const r = new HoldoffRecord();
    const d = newHistogram();
    for (let i = 0; i < 12_000; i++) {
      const ns = ((i * 7919) % 9000) + (i % 3) * 1_000_000;
      r.record(1, ns, i);
      d.recordValue(Math.max(1, Math.round(ns)));
    }
    const h = r.hist[1]!;
    expect([h.totalCount, h.maxValue, h.minNonZeroValue, h.mean]).toEqual([
      d.totalCount,
      d.maxValue,
      d.minNonZeroValue,
      d.mean,
    ]);
    expect(h.outputPercentileDistribution()).toBe(d.outputPercentileDistribution());
  });

  it("keeps the longest holdoff and when it ended", () => {
    const r = new HoldoffRecord();
    r.record(0, 500, 10);
    r.record(0, 900, 20);
    r.record(0, 700, 30);
    expect([r.maxNs[0], r.maxAt[0]]).toEqual([900, 20]);
    expect(r.hist[0]!.totalCount).toBe(3);
    r.record(0, 100, 40);
    expect(r.hist[0]!.totalCount).toBe(4);
    expect(r.hist[0]!.minNonZeroValue).toBe(100);
  });
});
