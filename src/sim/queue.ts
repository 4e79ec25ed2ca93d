// The event queue: a binary min-heap ordered by (time, lane, sequence). Lane is the CPU number for
// kernel events (so ties at one instant are broken by CPU, as the design asks) or a priority for
// generic processes. Keys live inline in typed arrays and payload slots are recycled, so pushing
// allocates nothing and comparisons touch two contiguous arrays.

/** Whatever an event calls when it fires. `arg` lets one handler serve many events (e.g. a token). */
export interface Handler {
  fire(arg: number): void;
}

/** Lanes are packed with the sequence number into one exact double: lane < 2^11, seq < 2^42. */
const LANE_SHIFT = 2 ** 42;
export const MAX_LANE = 2047;

export class EventQueue {
  private hTime: Float64Array;
  private hKey: Float64Array;
  private hSlot: Int32Array;
  private arg: Float64Array;
  private handler: (Handler | null)[];
  private free: Int32Array;
  private nFree = 0;
  private cap: number;
  private n = 0;
  private nextSeq = 0;
  /** Number of events popped so far. */
  popped = 0;
  /** Time, handler and arg of the last popped event (no allocation per pop). */
  outTime = 0;
  outArg = 0;
  outHandler: Handler | null = null;

  constructor(capacity = 1024) {
    this.cap = capacity;
    this.hTime = new Float64Array(capacity);
    this.hKey = new Float64Array(capacity);
    this.hSlot = new Int32Array(capacity);
    this.arg = new Float64Array(capacity);
    this.handler = new Array(capacity).fill(null);
    this.free = new Int32Array(capacity);
    for (let i = capacity - 1; i >= 0; i--) this.free[this.nFree++] = i;
  }

  get size(): number {
    return this.n;
  }

  /** Sequence numbers handed out so far (= events ever scheduled). */
  get scheduled(): number {
    return this.nextSeq;
  }

  /** Time of the earliest event, or Infinity. */
  peekTime(): number {
    return this.n === 0 ? Number.POSITIVE_INFINITY : this.hTime[0]!;
  }

  push(time: number, lane: number, h: Handler, arg: number): void {
    if (this.n === this.cap) this.grow();
    const s = this.free[--this.nFree]!;
    this.arg[s] = arg;
    this.handler[s] = h;
    const key = lane * LANE_SHIFT + this.nextSeq++;
    const hTime = this.hTime;
    const hKey = this.hKey;
    const hSlot = this.hSlot;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = hTime[p]!;
      if (pt < time || (pt === time && hKey[p]! < key)) break;
      hTime[i] = pt;
      hKey[i] = hKey[p]!;
      hSlot[i] = hSlot[p]!;
      i = p;
    }
    hTime[i] = time;
    hKey[i] = key;
    hSlot[i] = s;
  }

  /** Pop the earliest event into out*; returns false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    const hTime = this.hTime;
    const hKey = this.hKey;
    const hSlot = this.hSlot;
    const s = hSlot[0]!;
    this.outTime = hTime[0]!;
    this.outArg = this.arg[s]!;
    this.outHandler = this.handler[s]!;
    this.handler[s] = null;
    this.free[this.nFree++] = s;
    this.popped++;
    const n = --this.n;
    if (n > 0) {
      const t = hTime[n]!;
      const k = hKey[n]!;
      const sl = hSlot[n]!;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        let ct = hTime[c]!;
        let ck = hKey[c]!;
        const r = c + 1;
        if (r < n) {
          const rt = hTime[r]!;
          if (rt < ct || (rt === ct && hKey[r]! < ck)) {
            c = r;
            ct = rt;
            ck = hKey[r]!;
          }
        }
        if (t < ct || (t === ct && k < ck)) break;
        hTime[i] = ct;
        hKey[i] = ck;
        hSlot[i] = hSlot[c]!;
        i = c;
      }
      hTime[i] = t;
      hKey[i] = k;
      hSlot[i] = sl;
    }
    return true;
  }

  private grow(): void {
    const old = this.cap;
    const cap = old * 2;
    const grow64 = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.hTime = grow64(this.hTime);
    this.hKey = grow64(this.hKey);
    this.arg = grow64(this.arg);
    const hs = new Int32Array(cap);
    hs.set(this.hSlot);
    this.hSlot = hs;
    this.handler.length = cap;
    this.handler.fill(null, old);
    const f = new Int32Array(cap);
    f.set(this.free.subarray(0, this.nFree));
    this.free = f;
    for (let i = cap - 1; i >= old; i--) this.free[this.nFree++] = i;
    this.cap = cap;
  }
}
