// Seeded pseudo-random numbers: one root seed per run, split into independent named streams.
// No Math.random anywhere in the model: every draw comes from a stream of this file.

/** mulberry32: the 32-bit generator of the SimPy reference benchmark (returns uint32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** FNV-1a hash of a string, used to derive a stream seed from its name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** stream. Deterministic and independent per (root seed, name). */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  // The state words are kept as int32 (the same bits as uint32): values of 2^31 and more would be
  // heap numbers in V8, and a stream that draws per event allocated one per draw.
  constructor(seed: number, name = "") {
    let x = (splitmix32(seed >>> 0) ^ hashString(name)) >>> 0;
    this.s0 = (x = splitmix32(x)) | 0;
    this.s1 = (x = splitmix32(x)) | 0;
    this.s2 = (x = splitmix32(x)) | 0;
    this.s3 = splitmix32(x) | 1;
  }

  /** Next uint32. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return r;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0) throw new RangeError(`Rng.int: n must be > 0, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** Integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** A value scaled by a uniform factor in [1 - frac, 1 + frac], rounded to an integer (cost jitter). */
  jitter(value: number, frac: number): number {
    if (frac <= 0 || value === 0) return value;
    return Math.max(0, Math.round(value * (1 - frac + 2 * frac * this.float())));
  }

  /** Exponential variate with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** Derive an independent child stream. */
  fork(name: string): Rng {
    return new Rng(this.u32(), name);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
