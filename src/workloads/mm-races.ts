// Reproducer programs for per-VMA-lock bugs whose interleaving needs a fixed sequence of system
// calls (src/kernels/mm-bugs.ts). Like the kernel reporters' reproducers, threads meet at a barrier
// before the racing calls; which interleaving happens is left to the scheduler.
import { MADV_PAGEOUT, PROT_READ, PROT_WRITE } from "../mm/syscalls.js";
import type { MmThread } from "../mm/thread.js";
import { sys, user_access } from "../mm/user.js";
import type { KGen } from "../sim/effects.js";
import { SCHEDULE } from "../sim/effects.js";
import { TASK_UNINTERRUPTIBLE } from "../sim/task.js";
import type { WorkloadHost } from "./mm.js";

/**
 * d8ab9f7b644a's shape (per-vma-locks.md §4.5 #6): a VMA V without anon_vma below a one-page VMA S
 * that has one; mprotect makes S mergeable with V, so vma_merge expands V over S and dup_anon_vma
 * gives V S's anon_vma; with the chain allocation failing (fault injection) the merge is abandoned
 * and V's anon_vma reset. A thread writing V in between installs a page whose anon_vma is freed when
 * S is unmapped; MADV_PAGEOUT's rmap walk then reads it.
 */
export interface VmaMergeRace {
  type: "vma-merge-race";
  name?: string;
  enabled?: boolean;
  start?: number;
  /** Rounds of the sequence (default 20). */
  rounds?: number;
  /** User time of the writing thread between the barrier and its store (ns, default 2000). */
  thinkNs?: number;
}

/** Block until `ready()` (woken by the other side), without spinning. */
function* waitFor(th: MmThread, ready: () => boolean, waiters: MmThread[]): KGen<void> {
  for (let guard = 0; !ready() && guard < 100_000; guard++) {
    waiters.push(th);
    th.k.task.state = TASK_UNINTERRUPTIBLE;
    yield SCHEDULE;
    th.k.task.state = 0;
  }
}

export function startVmaMergeRace(h: WorkloadHost, w: VmaMergeRace, _index: number): void {
  const rounds = w.rounds ?? 20;
  const think = w.thinkNs ?? 2000;
  const v = h.premap(2, { gapPages: 2 });
  const s = v + 2;
  let round = -1; // the round whose merge is about to run
  let stored = -1; // the round whose store is done
  let over = false;
  const waitWriter: MmThread[] = [];
  const waitMerger: MmThread[] = [];
  const wake = (list: MmThread[]) => {
    for (const t of list.splice(0)) h.wake(t);
  };
  h.finite();
  h.finite();
  h.spawn(w.name ?? "merger", h.mm, function* (th) {
    for (let r = 0; r < rounds; r++) {
      if (r > 0) {
        // a fresh V without anon_vma
        yield* sys.munmap(th, v, 2);
        yield* sys.mmap(th, 2, { at: v });
      }
      yield* sys.mmap(th, 1, { at: s });
      yield* user_access(th, s, 0, true); // S gets an anon_vma of its own
      yield* sys.mprotect(th, s, 1, PROT_READ);
      round = r;
      wake(waitWriter);
      // mprotect back: S becomes mergeable with V (vma_merge -> dup_anon_vma(V, S))
      yield* sys.mprotect(th, s, 1, PROT_READ | PROT_WRITE);
      yield* waitFor(th, () => stored >= r, waitMerger);
      yield* sys.munmap(th, s, 1);
      yield* sys.madvise(th, v, 2, MADV_PAGEOUT);
    }
    over = true;
    wake(waitWriter);
    h.done();
  });
  h.spawn(`${w.name ?? "merger"}-writer`, h.mm, function* (th) {
    for (let r = 0; r < rounds; r++) {
      yield* waitFor(th, () => round >= r || over, waitWriter);
      if (over) break;
      yield* user_access(th, v, 1, true, think);
      stored = r;
      wake(waitMerger);
    }
    h.done();
  });
}
