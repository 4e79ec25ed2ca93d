// Typed arrays handed back by finished race-checker runs and reused, zeroed, by the next build of
// the same target. An explore run is a few dozen steps; allocating and collecting the page-table and
// oracle arrays of its address spaces anew each time cost about a fifth of it.

export class ArrayPool {
  private readonly i32 = new Map<number, Int32Array[]>();
  private readonly i16 = new Map<number, Int16Array[]>();

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

  /** Take arrays back (their owner will never touch them again). */
  give(a: Int32Array | Int16Array): void {
    const m = (a instanceof Int32Array ? this.i32 : this.i16) as Map<number, (Int32Array | Int16Array)[]>;
    let l = m.get(a.length);
    if (l === undefined) m.set(a.length, (l = []));
    if (l.length < 64) l.push(a);
  }
}
