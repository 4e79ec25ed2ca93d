// How the per-folio loops of the writeback model are charged: not per folio (5 M folios would be
// 5 M events), but in chunks that end at the variant's next resched point or a state quantum; the
// state changes of a chunk are applied once its CPU time has passed. This is a simulator device,
// not a kernel step: it decides where virtual time advances, never what the kernel does.
import type { Ctx, condResched, KGen } from "../sim/index.js";
import type { FsModel } from "./fs.js";

/** Submission CPU accumulated by write_cache_pages and its callbacks, charged in pieces. */
export interface SubmitCost {
  ns: number;
}

/** Charge accumulated submission CPU, then pass write_cache_pages' per-batch cond_resched `cr`. */
export function* flushCost(
  fs: FsModel,
  _k: Ctx,
  cost: SubmitCost,
  cr: ReturnType<typeof condResched>,
): KGen<void> {
  if (cost.ns <= 0) return;
  const ns = cost.ns;
  cost.ns = 0;
  fs.stats.submitCpuNs += ns;
  yield fs.m.jit(ns);
  yield cr;
}

/** Charge `ns` of submission CPU now, then pass `cr`. */
export function* chargeSubmit(
  fs: FsModel,
  _k: Ctx,
  ns: number,
  cr: ReturnType<typeof condResched>,
): KGen<void> {
  if (ns <= 0) return;
  fs.stats.submitCpuNs += ns;
  yield fs.m.jit(ns);
  yield cr;
}

/**
 * Folios of the next completion chunk from `f` (of `f1`): a loop quantum's worth when the loop has
 * a resched point per unit (trond), a state quantum's worth otherwise, and never past the next
 * every-N resched point (brian).
 */
export function finishChunkEnd(
  fs: FsModel,
  f: number,
  f1: number,
  perFolioNs: number,
  crEvery: number,
  sinceCr: number,
): number {
  const quantum = crEvery === 1 ? fs.cfg.loopQuantumNs : fs.cfg.stateQuantumNs;
  let chunk = Math.max(1, Math.floor(quantum / perFolioNs));
  if (crEvery > 1) chunk = Math.min(chunk, crEvery - sinceCr);
  return Math.min(f1, f + chunk);
}
