// Physical frames: contents are values (W words per page), with refcount, mapcount and flags in typed
// arrays indexed by frame number. Frame 0 is the shared zero page.

export const FRAME_ANON_EXCLUSIVE = 1; // PageAnonExclusive
export const FRAME_FREE = 2;
export const FRAME_ZERO = 4;
export const ZERO_FRAME = 0;

export class Frames {
  content: Int32Array;
  refcount: Int32Array;
  mapcount: Int32Array;
  flags: Uint8Array;
  private free: Int32Array;
  private nfree = 0;
  /** Frames ever handed out (high-water mark of the frame number space). */
  top = 1;
  allocated = 0;

  constructor(
    readonly words: number,
    capacity = 1024,
    readonly maxFrames = 1 << 26,
  ) {
    this.content = new Int32Array(capacity * words);
    this.refcount = new Int32Array(capacity);
    this.mapcount = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.free = new Int32Array(capacity);
    this.flags[ZERO_FRAME] = FRAME_ZERO;
    this.refcount[ZERO_FRAME] = 1 << 30;
  }

  get capacity(): number {
    return this.refcount.length;
  }

  private grow(): void {
    const n = this.capacity * 2;
    if (n > this.maxFrames) throw new RangeError(`frames: more than ${this.maxFrames} frames in use`);
    const c = new Int32Array(n * this.words);
    c.set(this.content);
    this.content = c;
    const r = new Int32Array(n);
    r.set(this.refcount);
    this.refcount = r;
    const m = new Int32Array(n);
    m.set(this.mapcount);
    this.mapcount = m;
    const f = new Uint8Array(n);
    f.set(this.flags);
    this.flags = f;
    const fr = new Int32Array(n);
    fr.set(this.free.subarray(0, this.nfree));
    this.free = fr;
  }

  /** alloc_page: refcount 1, mapcount 0, contents zeroed. */
  alloc(): number {
    let f: number;
    if (this.nfree > 0) f = this.free[--this.nfree]!;
    else {
      if (this.top >= this.capacity) this.grow();
      f = this.top++;
    }
    this.refcount[f] = 1;
    this.mapcount[f] = 0;
    this.flags[f] = 0;
    this.content.fill(0, f * this.words, (f + 1) * this.words);
    this.allocated++;
    return f;
  }

  /** Copy the contents of frame `src` into `dst` (copy_user_highpage). */
  copy(dst: number, src: number): void {
    const w = this.words;
    this.content.copyWithin(dst * w, src * w, (src + 1) * w);
  }

  isFree(f: number): boolean {
    return (this.flags[f]! & FRAME_FREE) !== 0;
  }

  /**
   * put_page: drop a reference; returns true when the frame was freed, false otherwise, and
   * "underflow" when the frame was already free (a model bookkeeping error the caller reports).
   */
  put(f: number): boolean | "underflow" {
    if (f === ZERO_FRAME) return false;
    if (this.isFree(f) || this.refcount[f]! <= 0) return "underflow";
    if (--this.refcount[f]! > 0) return false;
    this.flags[f] = FRAME_FREE;
    if (this.nfree >= this.free.length) {
      const fr = new Int32Array(this.free.length * 2);
      fr.set(this.free);
      this.free = fr;
    }
    this.free[this.nfree++] = f;
    this.allocated--;
    return true;
  }

  /** Bytes held by the typed arrays (for memory figures). */
  bytes(): number {
    return this.content.byteLength + this.refcount.byteLength * 3 + this.flags.byteLength;
  }
}
