// Typed arrays handed back by finished race-checker runs and reused, zeroed, by the next build of
// the same target. An explore run is a few dozen steps; allocating and collecting the page-table and
// oracle arrays of its address spaces anew each time cost about a fifth of it.

/** The arrays of MmSim's ring of recent model events (only entries written in a run are read). */
export interface RingArrays {
  t: Float64Array;
  cpu: Int16Array;
  vpn: Int32Array;
  aux: Int32Array;
  /** Repeats of the same event folded into one entry (the first time is kept in `t`, the last in `last`). */
  count: Int32Array;
  last: Float64Array;
  fn: string[];
}

export function newRingArrays(n: number): RingArrays {
  return {
    t: new Float64Array(n),
    cpu: new Int16Array(n),
    vpn: new Int32Array(n),
    aux: new Int32Array(n),
    count: new Int32Array(n),
    last: new Float64Array(n),
    fn: new Array<string>(n).fill(""),
  };
}

export class ArrayPool {
  private readonly rings: RingArrays[] = [];

  /** A ring of `n` entries (contents left from an earlier run: the ring reads only what it wrote). */
  ring(n: number): RingArrays {
    const r = this.rings.pop();
    return r !== undefined && r.t.length === n ? r : newRingArrays(n);
  }

  giveRing(r: RingArrays): void {
    if (this.rings.length < 8) this.rings.push(r);
  }

  private readonly i32 = new Map<number, Int32Array[]>();
  private readonly i16 = new Map<number, Int16Array[]>();
  private readonly u8 = new Map<number, Uint8Array[]>();

  /** A zeroed Int32Array of length n. */
  int32(n: number): Int32Array {
    const a = this.i32.get(n)?.pop();
    if (a === undefined) return new Int32Array(n);
    a.fill(0);
    return a;
  }

  /** An Int16Array of length n filled with `value`. */
  int16(n: number, value: number): Int16Array {
    const a = this.i16.get(n)?.pop() ?? new Int16Array(n);
    a.fill(value);
    return a;
  }

  /** A zeroed Uint8Array of length n. */
  uint8(n: number): Uint8Array {
    const a = this.u8.get(n)?.pop();
    if (a === undefined) return new Uint8Array(n);
    a.fill(0);
    return a;
  }

  /** Take arrays back (their owner will never touch them again). */
  give(a: Int32Array | Int16Array | Uint8Array): void {
    const m = (a instanceof Int32Array ? this.i32 : a instanceof Int16Array ? this.i16 : this.u8) as Map<
      number,
      (Int32Array | Int16Array | Uint8Array)[]
    >;
    let l = m.get(a.length);
    if (l === undefined) m.set(a.length, (l = []));
    if (l.length < 64) l.push(a);
  }
}
