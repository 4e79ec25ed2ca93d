// The event queue and the PRNG streams (src/sim/queue.ts, prng.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashString, mulberry32, Rng } from "../../src/sim/prng.js";
import { EventQueue, type Handler, MAX_LANE } from "../../src/sim/queue.js";

const NOP: Handler = { fire() {} };

function drain(q: EventQueue): { t: number; arg: number }[] {
  const out: { t: number; arg: number }[] = [];
  while (q.pop()) out.push({ t: q.outTime, arg: q.outArg });
  return out;
}

describe("EventQueue", () => {
  it("orders by time, then lane, then insertion sequence", () => {
    const q = new EventQueue(2);
    q.push(10, 3, NOP, 0);
    q.push(5, 7, NOP, 1);
    q.push(10, 1, NOP, 2);
    q.push(10, 3, NOP, 3);
    q.push(5, 7, NOP, 4);
    q.push(0, MAX_LANE, NOP, 5);
    q.push(10, 0, NOP, 6);
    expect(q.size).toBe(7);
    expect(q.peekTime()).toBe(0);
    expect(drain(q).map((e) => e.arg)).toEqual([5, 1, 4, 6, 2, 0, 3]);
    expect(q.size).toBe(0);
    expect(q.popped).toBe(7);
    expect(q.scheduled).toBe(7);
    expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY);
    expect(q.pop()).toBe(false);
  });

  it("returns the handler of each event and recycles slots", () => {
    const q = new EventQueue(1);
    const hs: Handler[] = [{ fire() {} }, { fire() {} }];
    for (let round = 0; round < 3; round++) {
      q.push(round * 2 + 1, 0, hs[1]!, 1);
      q.push(round * 2, 0, hs[0]!, 0);
      expect(q.pop()).toBe(true);
      expect(q.outHandler).toBe(hs[0]);
      expect(q.pop()).toBe(true);
      expect(q.outHandler).toBe(hs[1]);
    }
  });

  it("matches a sorted reference for random pushes and interleaved pops (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("push" as const),
        t: fc.integer({ min: 0, max: 50 }),
        lane: fc.integer({ min: 0, max: MAX_LANE }),
      }),
      fc.record({ kind: fc.constant("pop" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const q = new EventQueue(4);
        const ref: { t: number; lane: number; seq: number }[] = [];
        let seq = 0;
        let lastT = -1;
        for (const o of ops) {
          if (o.kind === "push") {
            // the engine never schedules into the past: keep pushes at or after the last popped time
            const t = Math.max(o.t, lastT);
            q.push(t, o.lane, NOP, seq);
            ref.push({ t, lane: o.lane, seq });
            seq++;
          } else {
            ref.sort((a, b) => a.t - b.t || a.lane - b.lane || a.seq - b.seq);
            const want = ref.shift();
            const got = q.pop();
            if (want === undefined) {
              expect(got).toBe(false);
              continue;
            }
            expect(got).toBe(true);
            expect(q.outTime).toBe(want.t);
            expect(q.outArg).toBe(want.seq);
            lastT = want.t;
          }
        }
        ref.sort((a, b) => a.t - b.t || a.lane - b.lane || a.seq - b.seq);
        expect(drain(q).map((e) => e.arg)).toEqual(ref.map((r) => r.seq));
      }),
      { numRuns: 200 },
    );
  });

  it("matches the reference across both tiers: wheel times, far times, fractional times (property)", () => {
    const time = fc.oneof(
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.double({ min: 0, max: 9000, noNaN: true }),
      fc.constant(4095),
      fc.constant(4096),
      fc.integer({ min: 0, max: 2 ** 40 }),
    );
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), dt: time, lane: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant("pop" as const) }),
      fc.record({ kind: fc.constant("peek" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 500 }), (ops) => {
        const q = new EventQueue(2);
        const ref: { t: number; lane: number; seq: number }[] = [];
        let seq = 0;
        let now = 0;
        const sortRef = () => ref.sort((a, b) => a.t - b.t || a.lane - b.lane || a.seq - b.seq);
        for (const o of ops) {
          if (o.kind === "push") {
            const t = now + o.dt;
            q.push(t, o.lane, NOP, seq);
            ref.push({ t, lane: o.lane, seq });
            seq++;
          } else if (o.kind === "peek") {
            sortRef();
            expect(q.peekTime()).toBe(ref.length ? ref[0]!.t : Number.POSITIVE_INFINITY);
            expect(q.size).toBe(ref.length);
          } else {
            sortRef();
            const want = ref.shift();
            expect(q.pop()).toBe(want !== undefined);
            if (want === undefined) continue;
            expect(q.outTime).toBe(want.t);
            expect(q.outArg).toBe(want.seq);
            now = want.t;
          }
        }
        sortRef();
        expect(drain(q).map((e) => e.arg)).toEqual(ref.map((r) => r.seq));
      }),
      { numRuns: 300 },
    );
  });

  it("an event pushed into the past pops first and does not disturb the wheel's order", () => {
    const q = new EventQueue(4);
    q.push(10, 0, NOP, 0);
    q.pop();
    q.push(4105, 0, NOP, 1); // far end of the wheel window (slot 9)
    q.push(5, 0, NOP, 2); // in the past
    expect(q.pop() && q.outTime).toBe(5);
    q.push(9, 1, NOP, 3); // after the past pop: must not share slot 9 with 4105
    expect(drain(q).map((e) => e.t)).toEqual([9, 4105]);
    q.push(4200, 0, NOP, 4);
    q.push(4106, 0, NOP, 5);
    q.push(1, 0, NOP, 6);
    expect(drain(q).map((e) => e.t)).toEqual([1, 4106, 4200]);
  });

  it("matches a sorted reference with pushes before, inside and beyond the wheel window (property)", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("push" as const),
        dt: fc.integer({ min: -5000, max: 9000 }),
        frac: fc.boolean(),
        lane: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({ kind: fc.constant("pop" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const q = new EventQueue(4);
        const ref: { t: number; lane: number; seq: number }[] = [];
        let seq = 0;
        let lastT = 0;
        const byKey = (a: (typeof ref)[0], b: (typeof ref)[0]) =>
          a.t - b.t || a.lane - b.lane || a.seq - b.seq;
        for (const o of ops) {
          if (o.kind === "push") {
            const t = lastT + o.dt + (o.frac ? 0.25 : 0);
            q.push(t, o.lane, NOP, seq);
            ref.push({ t, lane: o.lane, seq: seq++ });
            continue;
          }
          ref.sort(byKey);
          const want = ref.shift();
          expect(q.pop()).toBe(want !== undefined);
          if (want === undefined) continue;
          expect([q.outTime, q.outArg]).toEqual([want.t, want.seq]);
          lastT = want.t;
        }
        ref.sort(byKey);
        expect(drain(q).map((e) => e.arg)).toEqual(ref.map((r) => r.seq));
      }),
      { numRuns: 300 },
    );
  });

  it("remove() cancels events in the wheel (head, middle, tail of a slot) and in the heap", () => {
    const q = new EventQueue(2);
    const ids: number[] = [];
    // four ties at time 7 (one wheel slot, lanes in order), two far events (heap), one fractional (heap)
    for (let i = 0; i < 4; i++) ids.push(q.push(7, i, NOP, i));
    ids.push(q.push(1e6, 0, NOP, 4));
    ids.push(q.push(2e6, 0, NOP, 5));
    ids.push(q.push(3.5, 0, NOP, 6));
    q.remove(ids[1]!); // middle of the slot's list
    q.remove(ids[0]!); // its head
    q.remove(ids[3]!); // its tail
    q.remove(ids[4]!); // the heap's root
    expect(q.size).toBe(3);
    expect(q.peekTime()).toBe(3.5);
    q.remove(ids[6]!); // the heap's last remaining early event
    expect(q.peekTime()).toBe(7);
    expect(drain(q).map((e) => e.arg)).toEqual([2, 5]);
    // removed events are not popped, and their slots are reused
    expect(q.popped).toBe(2);
    expect(q.scheduled).toBe(7);
    expect(() => q.remove(ids[2]!)).toThrow(/holds no event/);
  });

  it("remove() in the heap moves the last entry up when it is earlier than the hole's parent", () => {
    const q = new EventQueue(2);
    // fractional times go to the heap; pushed in this order they lie as the array [1.5, 9.5, 2.5,
    // 18.5, 11.5, 16.5, 7.5]: removing 18.5 (index 3) leaves 7.5 in its place, under 9.5
    const ids = [7.5, 9.5, 1.5, 18.5, 11.5, 16.5, 2.5].map((t, i) => q.push(t, 0, NOP, i));
    q.remove(ids[3]!);
    expect(drain(q).map((e) => e.t)).toEqual([1.5, 2.5, 7.5, 9.5, 11.5, 16.5]);
  });

  it("remove() of the earliest wheel slot's only event moves peekTime to the next slot", () => {
    const q = new EventQueue(4);
    const a = q.push(5, 0, NOP, 0);
    q.push(9, 0, NOP, 1);
    expect(q.peekTime()).toBe(5);
    q.remove(a);
    expect(q.peekTime()).toBe(9);
    const b = q.push(6, 1, NOP, 2);
    expect(q.peekTime()).toBe(6);
    q.remove(b);
    expect(q.peekTime()).toBe(9);
    expect(drain(q).map((e) => e.arg)).toEqual([1]);
    expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it("removals keep the (time, lane, seq) pop order of every other event, in both tiers (property)", () => {
    const time = fc.oneof(
      fc.integer({ min: 0, max: 30 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.double({ min: 0, max: 9000, noNaN: true }),
      fc.constant(4096),
      fc.integer({ min: -100, max: 0 }), // into the past (the heap takes it)
    );
    const op = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant("push" as const),
          dt: time,
          lane: fc.integer({ min: 0, max: 4 }),
        }),
        weight: 8,
      },
      { arbitrary: fc.record({ kind: fc.constant("pop" as const) }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant("peek" as const) }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }), weight: 3 },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 500, size: "max" }), (ops) => {
        const q = new EventQueue(2);
        // the reference: live events with the slot push() returned, in push order
        const ref: { t: number; lane: number; seq: number; id: number }[] = [];
        let seq = 0;
        let now = 0;
        let popped = 0;
        const byKey = (a: (typeof ref)[0], b: (typeof ref)[0]) =>
          a.t - b.t || a.lane - b.lane || a.seq - b.seq;
        for (const o of ops) {
          if (o.kind === "push") {
            const t = now + o.dt;
            const id = q.push(t, o.lane, NOP, seq);
            // a slot is never handed out twice while its event is queued
            expect(ref.some((r) => r.id === id)).toBe(false);
            ref.push({ t, lane: o.lane, seq: seq++, id });
          } else if (o.kind === "remove") {
            if (ref.length === 0) continue;
            const [gone] = ref.splice(o.pick % ref.length, 1);
            q.remove(gone!.id);
            expect(q.size).toBe(ref.length);
          } else if (o.kind === "peek") {
            const first = [...ref].sort(byKey)[0];
            expect(q.peekTime()).toBe(first === undefined ? Number.POSITIVE_INFINITY : first.t);
          } else {
            const first = [...ref].sort(byKey)[0];
            expect(q.pop()).toBe(first !== undefined);
            if (first === undefined) continue;
            popped++;
            expect([q.outTime, q.outArg]).toEqual([first.t, first.seq]);
            ref.splice(ref.indexOf(first), 1);
            now = first.t;
          }
        }
        expect(q.popped).toBe(popped);
        expect(drain(q).map((e) => e.arg)).toEqual([...ref].sort(byKey).map((r) => r.seq));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps FIFO order for many equal keys across growth", () => {
    const q = new EventQueue(2);
    for (let i = 0; i < 5000; i++) q.push(7, 2, NOP, i);
    const got = drain(q).map((e) => e.arg);
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe("PRNG", () => {
  it("mulberry32 matches the reference generator's first values", () => {
    const r = mulberry32(0x5eed);
    const a = [r(), r(), r()];
    const r2 = mulberry32(0x5eed);
    expect([r2(), r2(), r2()]).toEqual(a);
    for (const v of a) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
  });

  it("FNV-1a of known strings", () => {
    expect(hashString("")).toBe(0x811c9dc5);
    expect(hashString("a")).toBe(0xe40c292c);
  });

  it("is deterministic per (seed, name)", () => {
    const a = new Rng(42, "mm.workload");
    const b = new Rng(42, "mm.workload");
    const xs = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xs);
  });

  it("differs across seeds and across names", () => {
    const seq = (r: Rng) => Array.from({ length: 16 }, () => r.u32());
    const base = seq(new Rng(42, "x"));
    expect(seq(new Rng(43, "x"))).not.toEqual(base);
    expect(seq(new Rng(42, "y"))).not.toEqual(base);
  });

  it("streams are independent: draws from one do not change another", () => {
    const seqOf = (interleave: boolean) => {
      const a = new Rng(7, "a");
      const b = new Rng(7, "b");
      const out: number[] = [];
      for (let i = 0; i < 50; i++) {
        if (interleave) for (let j = 0; j < i % 5; j++) b.u32();
        out.push(a.u32());
      }
      return out;
    };
    expect(seqOf(true)).toEqual(seqOf(false));
  });

  it("int/range/float/jitter/exp stay in range", () => {
    const r = new Rng(1, "ranges");
    for (let i = 0; i < 2000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const n = r.int(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
      const g = r.range(-3, 3);
      expect(g >= -3 && g <= 3).toBe(true);
      const j = r.jitter(1000, 0.05);
      expect(j >= 950 && j <= 1050).toBe(true);
      expect(r.exp(10) >= 0).toBe(true);
    }
    expect(r.jitter(1000, 0)).toBe(1000);
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it("int(n) is roughly uniform", () => {
    const r = new Rng(3, "uniform");
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
  });

  it("fork gives a deterministic child stream", () => {
    const a = new Rng(5, "p").fork("c");
    const b = new Rng(5, "p").fork("c");
    expect(a.u32()).toBe(b.u32());
  });
});
