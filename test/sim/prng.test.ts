// The engine's PRNG streams are part of every result: the same (seed, name) must give the same
// numbers whatever the representation of the state (pinned values from the session 7 engine, whose
// state words were uint32; they are int32 with the same bits now).
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/sim/prng.js";

describe("Rng", () => {
  it("gives the pinned streams", () => {
    const r = new Rng(7, "mm.workload");
    expect(Array.from({ length: 6 }, () => r.u32())).toEqual([
      1286579657, 3178248762, 964122791, 3650986778, 1856451659, 4186572757,
    ]);
    const s = new Rng(4294967295, "");
    for (let i = 0; i < 1000; i++) s.u32();
    expect([s.u32(), s.u32()]).toEqual([2032544120, 3206888040]);
    const j = new Rng(1, "jitter");
    expect(Array.from({ length: 5 }, () => j.jitter(1000, 0.05))).toEqual([1014, 971, 1004, 1021, 964]);
  });

  it("draws uint32 values and floats in [0, 1)", () => {
    const r = new Rng(3, "range");
    for (let i = 0; i < 10_000; i++) {
      const u = r.u32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });
});
