// Physical frames: contents are values (W words per page), with refcount, mapcount and flags in typed
// arrays indexed by frame number. Frame 0 is the shared zero page.

export const FRAME_ANON_EXCLUSIVE = 1; // PageAnonExclusive
export const FRAME_FREE = 2;
export const FRAME_ZERO = 4;
export const ZERO_FRAME = 0;

/** Where a step's shared-object accesses go (Machine, explore driver); null in the timed driver. */
export interface FrameFootprint {
  footprint: { touch(key: string, write: boolean): void } | null;
}

export class Frames {
  content: Int32Array;
  refcount: Int32Array;
  mapcount: Int32Array;
  flags: Uint8Array;
  private free: Int32Array;
  private nfree = 0;
  /** Frames ever handed out (high-water mark of the frame number space). */
  top = 1;
  /**
   * The machine whose explore-driver footprints record frame accesses (frame:F): the accessors
   * below record their own reads and writes, so that a step cannot forget them; in the timed
   * driver (footprint null) they cost one branch.
   */
  sink: FrameFootprint | null = null;
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
    // a loop: a few words per page, where fill()'s builtin call costs more than the stores
    const c = this.content;
    for (let i = f * this.words, end = i + this.words; i < end; i++) c[i] = 0;
    this.allocated++;
    this.track(f, true);
    return f;
  }

  /** Record an access to frame f in the explore driver's current step footprint. */
  track(f: number, write: boolean): void {
    const fp = this.sink?.footprint;
    if (fp != null) fp.touch(`frame:${f}`, write);
  }

  /** A new anonymous mapping of f (folio_add_new_anon_rmap): mapcount 1, PageAnonExclusive. */
  mapNewAnon(f: number): void {
    this.track(f, true);
    this.mapcount[f] = 1;
    this.flags[f]! |= FRAME_ANON_EXCLUSIVE;
  }

  /** wp_page_reuse: the page is exclusive to this mapping again. */
  setAnonExclusive(f: number): void {
    this.track(f, true);
    this.flags[f]! |= FRAME_ANON_EXCLUSIVE;
  }

  /** do_wp_page's reuse test: PageAnonExclusive or the only reference (a read of the frame). */
  reusable(f: number): boolean {
    this.track(f, false);
    return (this.flags[f]! & FRAME_ANON_EXCLUSIVE) !== 0 || this.refcount[f] === 1;
  }

  /** One more mapping and reference (get_page + page_dup_rmap); `shared` drops PageAnonExclusive (fork). */
  dupMapping(f: number, shared: boolean): void {
    this.track(f, true);
    this.refcount[f]!++;
    this.mapcount[f]!++;
    if (shared) this.flags[f]! &= ~FRAME_ANON_EXCLUSIVE;
  }

  /** page_remove_rmap: one mapping fewer (the reference is dropped by put). */
  unmapOne(f: number): void {
    this.track(f, true);
    this.mapcount[f]!--;
  }

  /** Only mapped and referenced once (shrink_folio_list's test before swapping out; a read). */
  mappedOnce(f: number): boolean {
    this.track(f, false);
    return this.mapcount[f] === 1 && this.refcount[f] === 1;
  }

  /** try_to_unmap for swap-out: the contents go to `dst` at `off`, no mapping is left. */
  swapOut(f: number, dst: Int32Array, off: number): void {
    this.track(f, true);
    const w = this.words;
    dst.set(this.content.subarray(f * w, f * w + w), off);
    this.mapcount[f] = 0;
  }

  /** Swap-in: the contents come from `src` at `off`. */
  fillFrom(f: number, src: Int32Array, off: number): void {
    this.track(f, true);
    const w = this.words;
    this.content.set(src.subarray(off, off + w), f * w);
  }

  /** A user store of `val` to word `word` of f. */
  store(f: number, word: number, val: number): void {
    this.track(f, true);
    this.content[f * this.words + word] = val;
  }

  /** A user load of word `word` of f. */
  load(f: number, word: number): number {
    this.track(f, false);
    return this.content[f * this.words + word]!;
  }

  /** Copy the contents of frame `src` into `dst` (copy_user_highpage). */
  copy(dst: number, src: number): void {
    this.track(src, false);
    this.track(dst, true);
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
    this.track(f, true);
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
