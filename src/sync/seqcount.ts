// Sequence counters (include/linux/seqlock.h): writers make the count odd while writing; readers
// sample an even count and retry if it changed.
import { type KGen, yieldPoint } from "../sim/effects.js";
import type { Ctx } from "../sim/task.js";

export class SeqCount {
  sequence = 0;
  /**
   * Footprint key for partial-order reduction: the instance's identity, stable across runs
   * (default: the class name, which is conservative when a class has many instances).
   */
  readonly key: string;
  constructor(
    readonly name: string,
    instance?: string,
  ) {
    this.key = `seqcount:${instance ?? name}`;
  }
}

/** write_seqcount_begin() (caller holds the writer-side lock) */
export function* write_seqcount_begin(k: Ctx, s: SeqCount): KGen<void> {
  yield yieldPoint(`${s.name}:write_begin`);
  k.m.touch(s.key);
  s.sequence++;
}

/** write_seqcount_end() */
export function* write_seqcount_end(k: Ctx, s: SeqCount): KGen<void> {
  yield yieldPoint(`${s.name}:write_end`);
  k.m.touch(s.key);
  s.sequence++;
}

/** raw_read_seqcount_begin(): returns an even sequence (a reader never starts inside a write) */
export function* read_seqcount_begin(k: Ctx, s: SeqCount): KGen<number> {
  yield yieldPoint(`${s.name}:read_begin`);
  k.m.touch(s.key, false);
  for (let spins = 0; s.sequence & 1; spins++) {
    if (spins > 1_000_000) throw new Error(`read_seqcount_begin(${s.name}): writer never finished`);
    yield 20; // cpu_relax()
    yield yieldPoint(`${s.name}:read_begin`);
    k.m.touch(s.key, false);
  }
  return s.sequence;
}

/** read_seqcount_retry(): true if a writer ran since `start` */
export function* read_seqcount_retry(k: Ctx, s: SeqCount, start: number): KGen<boolean> {
  yield yieldPoint(`${s.name}:read_retry`);
  k.m.touch(s.key, false);
  return s.sequence !== start;
}
