// The event queue, ordered by (time, lane, sequence). Lane is the CPU number for kernel events (so
// ties at one instant are broken by CPU, as the design asks) or a priority for generic processes.
// Two tiers: a timing wheel holds events at integer times in the next WHEEL_SLOTS time units (O(1)
// push and pop: the common case of short delays and many ties), and a binary min-heap holds the
// rest. Keys live inline in typed arrays and payload slots are recycled: pushing allocates nothing.
// push() returns the event's payload slot, which remove() takes to cancel the event before it pops
// (the slot is valid until then: a popped or removed event's slot is recycled).

/** Whatever an event calls when it fires. `arg` lets one handler serve many events (e.g. a token). */
export interface Handler {
  fire(arg: number): void;
}

/** Lanes are packed with the sequence number into one exact double: lane < 2^11, seq < 2^42. */
const LANE_SHIFT = 2 ** 42;
export const MAX_LANE = 2047;
/** Width of the timing wheel in time units (a power of two). */
const WHEEL_SLOTS = 4096;
const WHEEL_WORDS = WHEEL_SLOTS >> 5;
const WHEEL_MASK = WHEEL_SLOTS - 1;
const EMPTY_I32 = new Int32Array(0);
const EMPTY_U32 = new Uint32Array(0);

export class EventQueue {
  private hTime: Float64Array;
  private hKey: Float64Array;
  private hSlot: Int32Array;
  /**
   * Each heap event's heap index, by payload slot (kept by every heap move, for remove()); a wheel
   * event's entry is left as it was: remove() tells the tiers apart by whether hSlot holds the slot there.
   */
  private hPos: Int32Array;
  private arg: Float64Array;
  private handler: (Handler | null)[];
  private free: Int32Array;
  // wheel entries (indexed by payload slot) and slots
  private eTime: Float64Array;
  private eKey: Float64Array;
  private eNext: Int32Array;
  // allocated at the first wheel insert (many short-lived queues, e.g. explore runs, never need it)
  private wHead: Int32Array = EMPTY_I32;
  private wTail: Int32Array = EMPTY_I32;
  private wBits: Uint32Array = EMPTY_U32;
  /** One bit per word of wBits that is not 0 (the scan for the earliest slot skips empty words by it). */
  private wSum: Uint32Array = EMPTY_U32;
  private wCount = 0;
  /** Wheel slot holding the earliest wheel event, or -1 when unknown. */
  private wMin = -1;
  /** Time of the last popped event: the wheel covers [cursor, cursor + WHEEL_SLOTS). */
  private cursor = 0;
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
    this.hPos = new Int32Array(capacity);
    this.arg = new Float64Array(capacity);
    this.handler = new Array(capacity).fill(null);
    this.free = new Int32Array(capacity);
    this.eTime = new Float64Array(capacity);
    this.eKey = new Float64Array(capacity);
    this.eNext = new Int32Array(capacity);
    for (let i = capacity - 1; i >= 0; i--) this.free[this.nFree++] = i;
  }

  get size(): number {
    return this.n + this.wCount;
  }

  /** Sequence numbers handed out so far (= events ever scheduled). */
  get scheduled(): number {
    return this.nextSeq;
  }

  /** Time of the earliest event, or Infinity. */
  peekTime(): number {
    const ht = this.n === 0 ? Number.POSITIVE_INFINITY : this.hTime[0]!;
    if (this.wCount === 0) return ht;
    const wt = this.eTime[this.wHead[this.wheelMin()]!]!;
    return wt < ht ? wt : ht;
  }

  /** Schedule an event; returns its payload slot (for remove(), until the event pops). */
  push(time: number, lane: number, h: Handler, arg: number): number {
    if (this.nFree === 0) this.grow();
    const s = this.free[--this.nFree]!;
    this.arg[s] = arg;
    this.handler[s] = h;
    const key = lane * LANE_SHIFT + this.nextSeq++;
    const ahead = time - this.cursor;
    if (ahead >= 0 && ahead < WHEEL_SLOTS && time === Math.floor(time) && this.wheelInsert(s, time, key))
      return s;
    this.siftUp(this.n++, time, key, s);
    return s;
  }

  /** Put (time, key, slot) at heap index i or above it, moving the entries it goes before down. */
  private siftUp(i: number, time: number, key: number, s: number): void {
    const hTime = this.hTime;
    const hKey = this.hKey;
    const hSlot = this.hSlot;
    const hPos = this.hPos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = hTime[p]!;
      if (pt < time || (pt === time && hKey[p]! < key)) break;
      hTime[i] = pt;
      hKey[i] = hKey[p]!;
      const ps = hSlot[p]!;
      hSlot[i] = ps;
      hPos[ps] = i;
      i = p;
    }
    hTime[i] = time;
    hKey[i] = key;
    hSlot[i] = s;
    hPos[s] = i;
  }

  /** Put (time, key, slot) at heap index i or below it (among the first n), moving smaller children up. */
  private siftDown(i: number, n: number, t: number, k: number, sl: number): void {
    const hTime = this.hTime;
    const hKey = this.hKey;
    const hSlot = this.hSlot;
    const hPos = this.hPos;
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
      const cs = hSlot[c]!;
      hSlot[i] = cs;
      hPos[cs] = i;
      i = c;
    }
    hTime[i] = t;
    hKey[i] = k;
    hSlot[i] = sl;
    hPos[sl] = i;
  }

  /**
   * Cancel a queued event by the slot push() returned (it must not have popped or been removed): the
   * others keep their (time, lane, sequence) order. O(1) plus the walk along its wheel slot's list
   * (events at that one instant) for a wheel event, O(log n) for a heap event.
   */
  remove(s: number): void {
    if (this.handler[s] === null) throw new Error(`EventQueue.remove(): slot ${s} holds no event`);
    // hPos is kept for heap events only: a slot is in the heap when its position holds it there
    const pos = this.hPos[s]!;
    if (pos >= this.n || this.hSlot[pos] !== s) this.wheelRemove(s);
    else {
      const n = --this.n;
      if (pos !== n) {
        // the last entry fills the hole, then moves up or down to its place
        const t = this.hTime[n]!;
        const k = this.hKey[n]!;
        const sl = this.hSlot[n]!;
        const p = (pos - 1) >> 1;
        if (pos > 0 && (t < this.hTime[p]! || (t === this.hTime[p]! && k < this.hKey[p]!)))
          this.siftUp(pos, t, k, sl);
        else this.siftDown(pos, n, t, k, sl);
      }
    }
    this.handler[s] = null;
    this.free[this.nFree++] = s;
  }

  private wheelRemove(s: number): void {
    const idx = this.eTime[s]! & WHEEL_MASK;
    const eNext = this.eNext;
    const next = eNext[s]!;
    let prev = -1;
    for (let e = this.wHead[idx]!; e !== s; e = eNext[e]!) {
      if (e < 0) throw new Error("EventQueue.remove(): the event is not in its wheel slot");
      prev = e;
    }
    if (prev < 0) this.wHead[idx] = next;
    else eNext[prev] = next;
    if (next < 0) this.wTail[idx] = prev;
    if (this.wHead[idx]! < 0) this.slotEmptied(idx);
    this.wCount--;
  }

  /**
   * The wheel slot's list is empty now (its head is -1): clear its tail, its bit and its summary bit.
   * A slot holds one time (the window is WHEEL_SLOTS wide), so the earliest slot changes only when
   * it empties.
   */
  private slotEmptied(idx: number): void {
    this.wTail[idx] = -1;
    const w = idx >> 5;
    if ((this.wBits[w]! &= ~(1 << (idx & 31))) === 0) this.wSum[w >> 5]! &= ~(1 << (w & 31));
    if (this.wMin === idx) this.wMin = -1;
  }

  /**
   * Append to the slot's list when the key goes at its tail or head (the common case); false when it
   * would go in the middle (a lower lane than the tail's at a busy instant): the heap takes it then,
   * since pop() merges both tiers by (time, key), instead of a walk along a long slot list.
   */
  private wheelInsert(s: number, time: number, key: number): boolean {
    // time mod WHEEL_SLOTS for an integer time below 2^53: ToInt32 keeps the time mod 2^32, whose low
    // bits these are (a double's % is a call to fmod)
    const idx = time & WHEEL_MASK;
    const eTime = this.eTime;
    const eKey = this.eKey;
    const eNext = this.eNext;
    eTime[s] = time;
    eKey[s] = key;
    if (this.wHead.length === 0) {
      this.wHead = new Int32Array(WHEEL_SLOTS).fill(-1);
      this.wTail = new Int32Array(WHEEL_SLOTS).fill(-1);
      this.wBits = new Uint32Array(WHEEL_WORDS);
      this.wSum = new Uint32Array(WHEEL_WORDS >> 5);
    }
    const head = this.wHead[idx]!;
    if (head < 0) {
      eNext[s] = -1;
      this.wHead[idx] = s;
      this.wTail[idx] = s;
      this.wBits[idx >> 5]! |= 1 << (idx & 31);
      this.wSum[idx >> 10]! |= 1 << ((idx >> 5) & 31);
    } else {
      const tail = this.wTail[idx]!;
      if (eKey[tail]! < key) {
        eNext[s] = -1;
        eNext[tail] = s;
        this.wTail[idx] = s;
      } else if (key < eKey[head]!) {
        eNext[s] = head;
        this.wHead[idx] = s;
      } else return false;
    }
    this.wCount++;
    const wm = this.wMin;
    if (wm >= 0 && time < eTime[this.wHead[wm]!]!) this.wMin = idx;
    return true;
  }

  /**
   * Slot of the earliest wheel event (wCount > 0): the first set bit of the bitmap from the cursor's
   * slot on, round to the slots before it (times past the window's wrap), found through wSum's words.
   */
  private wheelMin(): number {
    if (this.wMin >= 0) return this.wMin;
    const start = Math.ceil(this.cursor) & WHEEL_MASK;
    const bits = this.wBits;
    const w0 = start >> 5;
    const word = bits[w0]! & (~0 << (start & 31));
    if (word !== 0) return (this.wMin = (w0 << 5) + (31 - Math.clz32(word & -word)));
    // the next non-empty word after w0, then from word 0 on (w0 itself last: its slots before start)
    let w = this.nextWord(w0 + 1, WHEEL_WORDS);
    if (w < 0) w = this.nextWord(0, w0 + 1);
    if (w < 0) throw new Error("EventQueue: wheel count and bitmap disagree");
    const b = bits[w]!;
    return (this.wMin = (w << 5) + (31 - Math.clz32(b & -b)));
  }

  /** The first word index in [from, to) whose wBits word is not 0, or -1. */
  private nextWord(from: number, to: number): number {
    const sum = this.wSum;
    for (let j = from >> 5; j << 5 < to; j++) {
      let s = sum[j]!;
      if (j === from >> 5) s &= ~0 << (from & 31);
      if (s !== 0) {
        const w = (j << 5) + (31 - Math.clz32(s & -s));
        return w < to ? w : -1;
      }
    }
    return -1;
  }

  /**
   * Pop the earliest event into out*; returns false when empty, or when the earliest event lies
   * after `until` (then nothing is popped: peekTime() and pop() in one).
   */
  pop(until = Number.POSITIVE_INFINITY): boolean {
    if (this.wCount > 0) {
      const idx = this.wheelMin();
      const s = this.wHead[idx]!;
      const wt = this.eTime[s]!;
      if (this.n === 0 || wt < this.hTime[0]! || (wt === this.hTime[0]! && this.eKey[s]! < this.hKey[0]!)) {
        if (wt > until) return false;
        const next = this.eNext[s]!;
        this.wHead[idx] = next;
        if (next < 0) this.slotEmptied(idx);
        this.wCount--;
        this.cursor = wt;
        this.outTime = wt;
        this.outArg = this.arg[s]!;
        this.outHandler = this.handler[s]!;
        this.handler[s] = null;
        this.free[this.nFree++] = s;
        this.popped++;
        return true;
      }
    }
    if (this.n === 0) return false;
    const hTime = this.hTime;
    if (hTime[0]! > until) return false;
    const hSlot = this.hSlot;
    const s = hSlot[0]!;
    this.outTime = hTime[0]!;
    // an event pushed into the past pops first but must not move the wheel's window back: slots
    // already hold times up to cursor + WHEEL_SLOTS, which would then alias earlier times
    if (this.outTime > this.cursor) this.cursor = this.outTime;
    this.outArg = this.arg[s]!;
    this.outHandler = this.handler[s]!;
    this.handler[s] = null;
    this.free[this.nFree++] = s;
    this.popped++;
    const n = --this.n;
    // the last entry fills the root's place, then moves down to its own
    if (n > 0) this.siftDown(0, n, hTime[n]!, this.hKey[n]!, hSlot[n]!);
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
    this.eTime = grow64(this.eTime);
    this.eKey = grow64(this.eKey);
    const en = new Int32Array(cap);
    en.set(this.eNext);
    this.eNext = en;
    const hs = new Int32Array(cap);
    hs.set(this.hSlot);
    this.hSlot = hs;
    const hp = new Int32Array(cap);
    hp.set(this.hPos);
    this.hPos = hp;
    this.handler.length = cap;
    this.handler.fill(null, old);
    const f = new Int32Array(cap);
    f.set(this.free.subarray(0, this.nFree));
    this.free = f;
    for (let i = cap - 1; i >= old; i--) this.free[this.nFree++] = i;
    this.cap = cap;
  }
}
