// Trace events of the mm model: kernel-function slices and instants timed on the thread's own clock
// (virtual time plus the CPU time used since its last yield point, which the timed driver charges
// later), so that a fault's functions nest in the order and at the times they ran. Each helper is a
// single test of Machine.modelTrace when tracing is off; call sites stay one line.
import type { KGen } from "../sim/effects.js";
import type { MmThread } from "./thread.js";
import { hex, PTE_PRESENT, PTE_WRITE } from "./types.js";

/** The thread's trace clock: now plus the uncharged CPU time, never before its previous reading. */
function clock(th: MmThread): number {
  const t = th.sim.m.now + th.cost;
  if (t > th.traceClock) th.traceClock = t;
  return th.traceClock;
}

/** `g` (a call of kernel function `name`) as a trace slice; `g` itself when not tracing. */
export function traced<T>(th: MmThread, name: string, g: KGen<T>): KGen<T> {
  return th.sim.m.modelTrace ? slicing(th, name, g) : g;
}

function* slicing<T>(th: MmThread, name: string, g: KGen<T>): KGen<T> {
  const t0 = clock(th);
  try {
    return yield* g;
  } finally {
    th.sim.m.slice(th.cpu, name, t0, clock(th));
  }
}

/** A slice from `start` (a trace-clock reading, e.g. a fault's entry) to now on the thread's clock. */
export function sliceSince(th: MmThread, name: string, start: number, detail = ""): void {
  if (th.sim.m.modelTrace) th.sim.m.slice(th.cpu, name, Math.min(start, clock(th)), clock(th), detail);
}

/** An instant on the thread's track: `name` with a detail text and two numbers. */
export function instant(th: MmThread, name: string, detail: string, a = 0, b = 0): void {
  const m = th.sim.m;
  if (m.modelTrace) m.emitAt(Math.max(m.now, clock(th)), "model", th.cpu, name, detail, a, b);
}

/**
 * A user store: traced when every access is (TRACE_ALL) or when it goes through a TLB entry the page
 * table no longer backs (the store a lost update loses). a: the value, b: the frame.
 */
export function traceStore(th: MmThread, vpn: number, word: number, value: number, frame: number): void {
  const m = th.sim.m;
  if (!m.modelTrace) return;
  const cur = th.mm.pte[vpn]!;
  const stale = cur >>> 3 !== frame || (cur & (PTE_PRESENT | PTE_WRITE)) !== (PTE_PRESENT | PTE_WRITE);
  if (!stale && !m.traceAll) return;
  const what = stale ? "store via stale TLB" : "store";
  instant(
    th,
    what,
    `${hex(vpn)} word ${word} = ${value} (frame ${frame}, pte frame ${cur >>> 3})`,
    value,
    frame,
  );
}

/** A user load: traced with TRACE_ALL, or when it reads other than the last store (a lost update). */
export function traceLoad(
  th: MmThread,
  vpn: number,
  word: number,
  value: number,
  frame: number,
  expected: number,
): void {
  const m = th.sim.m;
  if (!m.modelTrace) return;
  const lost = expected >= 0 && value !== expected;
  if (!lost && !m.traceAll) return;
  const text = `${hex(vpn)} word ${word} = ${value} (frame ${frame})${lost ? `, last store wrote ${expected}` : ""}`;
  instant(th, lost ? "load of a lost write" : "load", text, value, frame);
}
