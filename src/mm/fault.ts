// The page-fault path: the arch handler (arch/x86/mm/fault.c do_user_addr_fault, arm64 do_page_fault),
// lock_vma_under_rcu, the mmap_lock fallback, and handle_mm_fault with its anonymous, zero-page, COW,
// file, swap and userfaultfd cases (mm/memory.c). Steps and yields follow docs/design/mm-model.md §3.

import { type Effect, type KGen, PREEMPT_ENABLE } from "../sim/effects.js";
import type { SpinLock } from "../sync/spinlock.js";
import { ppc_bad_access_under_vma_lock } from "./arch_powerpc.js";
import { ZERO_FRAME } from "./frames.js";
import {
  mmap_read_lock,
  mmap_read_trylock,
  mmap_read_unlock,
  mmap_write_downgrade,
  mmap_write_lock,
  mmap_write_unlock,
  ptl_lock,
  ptl_lock_wait,
  ptl_trylock_fast,
  ptl_unlock,
  ptlOf,
} from "./locking.js";
import { folio_alloc_mpol, vma_alloc_folio } from "./mempolicy.js";
import { folio_add_lru, folio_batch_move_lru, pcp_empty, pcp_take, rmqueue_bulk } from "./page_alloc.js";
import { pmd_alloc, pte_alloc } from "./pgtable.js";
import { __anon_vma_prepare, folio_add_new_anon_rmap } from "./rmap.js";
import { fastPath, type MmThread, tracing, yieldAt, yp } from "./thread.js";
import { flush_tlb_page } from "./tlbflush.js";
import { traced } from "./trace.js";
import {
  hex,
  MmStruct,
  mkPte,
  PTE_PRESENT,
  PTE_SWAP,
  PTE_WRITE,
  pteFrame,
  rangeRemove,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_READ,
  VM_SHARED,
  VM_UFFD_MISSING,
  VM_WRITE,
  type Vma,
} from "./types.js";
import {
  VSR_EAGAIN,
  VSR_FAIL,
  VSR_RECYCLED,
  vma_end_read,
  vma_put_recycled,
  vma_start_read,
  vma_start_write,
  vmaModify,
} from "./vma_lock.js";
import { VM } from "./vmstat.js";

// vm_fault_t bits (include/linux/mm_types.h)
export const VM_FAULT_OOM = 0x1;
export const VM_FAULT_MAJOR = 0x4;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_RETRY = 0x400;
export const VM_FAULT_COMPLETED = 0x4000;
// fault flags
export const FAULT_FLAG_WRITE = 0x1;
export const FAULT_FLAG_TRIED = 0x20;
export const FAULT_FLAG_USER = 0x40;
export const FAULT_FLAG_VMA_LOCK = 0x1000;

const Y_VMA_START_READ = yp("lock_vma_under_rcu:vma_start_read");
const Y_HPF_PTL = yp("handle_pte_fault:pte_offset_map_lock");
const Y_ANON_PTL = yp("do_anonymous_page:pte_offset_map_lock");
const Y_WP_PTL = yp("wp_page_copy:pte_offset_map_lock");
const Y_WP_COPY = yp("wp_page_copy:copy");
const Y_SWAP_PTL = yp("do_swap_page:pte_offset_map_lock");
const Y_FAULT_PTL = yp("do_fault:pte_offset_map_lock");

const MISS_RETRY_LIMIT = 1000;

/** access_error (arch/x86/mm/fault.c; arm64: !(vma->vm_flags & vm_flags) in do_page_fault). */
export function access_error(th: MmThread, write: boolean, v: Vma): boolean {
  if (write) return (v.flags & VM_WRITE) === 0;
  if (th.sim.sw.arch === "arm64") return (v.flags & VM_READ) === 0;
  return (v.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0;
}

/** The result of a user fault for the access that took it. */
export const FAULT_OK = 0;
export const FAULT_SEGV = 1;

/** Fault entry: accounting and the trap's CPU time (part of do_user_addr_fault). */
export function fault_enter(th: MmThread, vpn: number, write: boolean): void {
  const sim = th.sim;
  sim.count(VM.USER_FAULTS);
  th.faults++;
  th.cost += sim.costs.faultBaseNs;
  th.faultStartCount = th.faultCounted;
  sim.note(th.cpu, "do_user_addr_fault", vpn, write ? 1 : 0);
}

/**
 * do_user_addr_fault (arch/x86/mm/fault.c, 6.4 per-VMA attempt from the seed patch; 6.10 bad-access
 * signalling; arm64 do_page_fault has the same shape, its access_error differs). Every user fault of
 * both drivers enters here: lock_vma_under_rcu, handle_mm_fault under the VMA lock, vma_end_read;
 * or the mmap_lock path (lock_mm_and_find_vma) when the VMA lock was refused or the fault must retry.
 * With fast paths on, the per-VMA attempt runs as faultFast (no generator) and goes on in
 * faultResume from the first step that must yield; below is its generator form.
 */
export function* do_user_addr_fault(th: MmThread, vpn: number, write: boolean): KGen<number> {
  const f0 = faultFast(th, vpn, write);
  if (f0 === FAULT_STAGED) return yield* faultResume(th, vpn, write);
  if (f0 !== FAULT_GENERIC) return f0;
  fault_enter(th, vpn, write);
  const sim = th.sim;
  const sw = sim.sw;
  const mm = th.mm;
  let v: Vma | null = null;
  if (sw.perVmaLock) v = yield* traced(th, "lock_vma_under_rcu", lock_vma_under_rcu(th, mm, vpn));
  const flags = FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
  const fl = th.fl;
  if (sw.perVmaLock) {
    const before = th.faultStartCount;
    let accessFallback = false;
    if (v !== null) {
      if (access_error(th, write, v)) {
        const r = vmaAccessError(th, v, vpn);
        if (r >= 0) return r;
        accessFallback = true;
      } else {
        const fault = yield* traced(
          th,
          "handle_mm_fault",
          handle_mm_fault(th, v, vpn, flags | FAULT_FLAG_VMA_LOCK),
        );
        // timed driver: the fault's CPU time passes while the VMA read lock is held
        if (th.timed && th.cost > 0 && fl.vmaHow >= 0 && !th.pass()) yield th.due;
        th.fr.flags = flags;
        const r = vmaAttemptDone(th, vpn, v, fault);
        if (r !== FAULT_STAGED) return r;
        return yield* lock_mmap(th, vpn, write, th.fr.flags);
      }
    }
    checkIdentity(th, vpn, before, accessFallback);
  }
  return yield* lock_mmap(th, vpn, write, flags);
}

// ---------------------------------------------------------------- the per-VMA attempt without a generator

/** faultFast's results besides the fault's own: go on in faultResume; or (nothing done) run do_user_addr_fault's generator form. */
export const FAULT_STAGED = -1;
export const FAULT_GENERIC = -2;

// Where faultFast handed a fault over to faultResume (FaultResume.stage): what is to be yielded
// there, then the steps after it (faultFast's functions again, up to the next hand-over).
const ST_P1 = 1; // lock_vma_under_rcu's time point (th.due), then the walk
const ST_WALK = 2; // lvurTries from the first try (lvurFastOk refused)
const ST_P2 = 3; // vma_start_read's time point (th.due, the yield point after a switch to explore), then the lock
const ST_LVUR = 4; // lvurLock found a detached VMA (walk again) or a recycled one (drop it)
const ST_MMAP = 5; // the mmap_lock path
const ST_PMD = 6; // pmd_alloc, then handle_pte_fault
const ST_OTHER = 7; // handle_pte_fault's other cases
const ST_ANON = 8; // do_anonymous_page's generator form
const ST_P3 = 9; // the page-table lock's time point (th.due), then the lock
const ST_PTL = 10; // the page-table lock is taken: spin
const ST_LRU = 11; // the LRU batch is full: folio_batch_move_lru, then set_pte
const ST_PREEMPT = 12; // preempt_enable() at spin_unlock is a preemption point
const ST_P4 = 13; // vma_end_read's time point (th.due), then the end

function staged(th: MmThread, stage: number): number {
  th.fr.stage = stage;
  return FAULT_STAGED;
}

/**
 * do_user_addr_fault's per-VMA attempt without a generator (fast paths on, per-VMA locks): the
 * same steps as the generator form, in the same order, each time point passed in place. Returns
 * the fault's result; or FAULT_STAGED at the first step that must go to the CPU loop (a time point
 * that does not pass, a lock to wait for, a step only a generator form has), where faultResume goes
 * on; or FAULT_GENERIC, having done nothing, when the generator form must run.
 */
export function faultFast(th: MmThread, vpn: number, write: boolean): number {
  if (!th.sim.sw.perVmaLock || !fastPath(th)) return FAULT_GENERIC;
  fault_enter(th, vpn, write);
  th.fr.flags = FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
  // lock_vma_under_rcu's time point: the trap's CPU time (and the user time before it) passes
  // before the walk, so the previous fault's vma_end_read and this trylock are two accesses at
  // two different times
  if (th.cost > 0 && !th.pass()) return staged(th, ST_P1);
  return fastWalk(th, vpn, write);
}

/** lock_vma_under_rcu's first try (lvurTries' steps): the walk, vma_start_read's time point, the lock. */
function fastWalk(th: MmThread, vpn: number, write: boolean): number {
  if (!lvurFastOk(th)) return staged(th, ST_WALK);
  const sim = th.sim;
  const rcu = sim.disabled.size === 0 || !sim.disabled.has(LVUR_RCU_SITE);
  const w = lvurWalk(th, th.mm, vpn, rcu);
  if (w === null) return fastLocked(th, vpn, write, null);
  const inc = w.incarnation;
  // yieldAt(th, Y_VMA_START_READ): the charge (no yield so far: the timed driver still runs)
  if (th.cost > 0 && !th.pass()) {
    const s = th.fr;
    s.v = w;
    s.inc = inc;
    s.rcu = rcu;
    return staged(th, ST_P2);
  }
  return fastLock(th, vpn, write, w, inc, rcu);
}

function fastLock(th: MmThread, vpn: number, write: boolean, w: Vma, inc: number, rcu: boolean): number {
  const r = lvurLock(th, th.mm, vpn, w, inc, rcu);
  if (r === RETRY_WALK || r === RECYCLED) {
    const s = th.fr;
    s.v = w;
    s.rcu = rcu;
    s.r = r;
    return staged(th, ST_LVUR);
  }
  return fastLocked(th, vpn, write, r);
}

/** After lock_vma_under_rcu (v: the read-locked VMA, or null): the access check, handle_mm_fault's entry. */
function fastLocked(th: MmThread, vpn: number, write: boolean, v: Vma | null): number {
  if (v === null) {
    checkIdentity(th, vpn, th.faultStartCount, false);
    return staged(th, ST_MMAP);
  }
  if (access_error(th, write, v)) {
    const r = vmaAccessError(th, v, vpn);
    if (r >= 0) return r;
    checkIdentity(th, vpn, th.faultStartCount, true);
    return staged(th, ST_MMAP);
  }
  th.fr.v = v;
  if (hmfEnter(th, vpn)) return staged(th, ST_PMD);
  return fastPte(th, vpn, v);
}

/** handle_pte_fault after handle_mm_fault's entry: do_anonymous_page's write fault up to its page-table lock. */
function fastPte(th: MmThread, vpn: number, v: Vma): number {
  const s = th.fr;
  if (!hmfAnon(th, v, vpn)) return staged(th, ST_OTHER);
  const frame = anonNewPageFast(th, v, vpn, s.flags | FAULT_FLAG_VMA_LOCK);
  if (frame < 0) return staged(th, ST_ANON);
  const ptl = ptlOf(th.mm, vpn);
  s.frame = frame;
  s.ptl = ptl;
  if (th.cost > 0 && !th.pass()) return staged(th, ST_P3);
  return fastPtl(th, vpn, v, frame, ptl);
}

function fastPtl(th: MmThread, vpn: number, v: Vma, frame: number, ptl: SpinLock): number {
  if (!ptl_trylock_fast(th, ptl, Y_ANON_PTL.site)) return staged(th, ST_PTL);
  return fastInstall(th, vpn, v, frame, ptl);
}

/** Under the page-table lock: folio_add_new_anon_rmap, folio_add_lru_vma, set_pte_at, then the unlock. */
function fastInstall(th: MmThread, vpn: number, v: Vma, frame: number, ptl: SpinLock): number {
  if (anonInstallBegin(th, v, vpn, th.fr.flags | FAULT_FLAG_VMA_LOCK, frame)) {
    if (folio_add_lru(th)) return staged(th, ST_LRU);
    anonInstallEnd(th, v, vpn, frame);
  }
  return fastUnlock(th, vpn, v, ptl);
}

function fastUnlock(th: MmThread, vpn: number, v: Vma, ptl: SpinLock): number {
  if (ptl_unlock(th, ptl)) return staged(th, ST_PREEMPT);
  return fastEnd(th, vpn, v, 0);
}

/** handle_mm_fault returned `fault`: the time point before vma_end_read (the lock held meanwhile). */
function fastEnd(th: MmThread, vpn: number, v: Vma, fault: number): number {
  if (th.timed && th.cost > 0 && th.fl.vmaHow >= 0 && !th.pass()) {
    th.fr.fault = fault;
    return staged(th, ST_P4);
  }
  return vmaAttemptDone(th, vpn, v, fault);
}

/**
 * vma_end_read and the per-VMA attempt's result (6.4 always ends the read here; 6.6+ only if
 * handle_mm_fault did not drop it, fl.vmaHow -1 then), for both forms of do_user_addr_fault: the
 * fault's result, or FAULT_STAGED (stage ST_MMAP) for the mmap_lock path with th.fr.flags.
 */
function vmaAttemptDone(th: MmThread, vpn: number, v: Vma, fault: number): number {
  const fl = th.fl;
  vma_end_read(th, v, fl.vmaHow);
  fl.vmaHow = -1;
  if (!(fault & VM_FAULT_RETRY)) {
    lockEvent(th, VM.VMA_LOCK_SUCCESS);
    if (th.mm.writerPid !== 0) th.sim.count(VM.FAULTS_DURING_MMAP_WRITE);
    checkIdentity(th, vpn, th.faultStartCount, false);
    return fault & VM_FAULT_SIGSEGV ? bad_area(th, vpn) : FAULT_OK;
  }
  lockEvent(th, VM.VMA_LOCK_RETRY);
  if (fault & VM_FAULT_MAJOR) th.fr.flags |= FAULT_FLAG_TRIED; // 46e714c729c8
  checkIdentity(th, vpn, th.faultStartCount, false);
  return staged(th, ST_MMAP);
}

/**
 * faultFast's fault from where it was handed over (FaultResume): the step that had to go to the CPU
 * loop (resumeStep), then faultFast's functions again (resumeAfter), up to the end or the next
 * hand-over. Its generator callees run as Ctx.subcall (the same steps as yield*), and what each
 * stage needs is in MmThread.fr: this generator, made for most faults of a storm on many CPUs, keeps
 * a small frame.
 */
export function* faultResume(th: MmThread, vpn: number, write: boolean): KGen<number> {
  const s = th.fr;
  for (;;) {
    const st = s.stage;
    const x = yield resumeStep(th, vpn, write, st);
    if (st === ST_MMAP) return x as number;
    // a warm start may have switched the machine to the explore driver at that charge
    if (st === ST_P2 && !th.timed) yield Y_VMA_START_READ;
    const r = resumeAfter(th, vpn, write, st, x);
    if (r !== FAULT_STAGED) return r;
  }
}

/** What faultResume yields at stage `st`: the time due, preempt_enable(), or a generator callee (Ctx.subcall). */
function resumeStep(th: MmThread, vpn: number, write: boolean, st: number): Effect | number {
  const s = th.fr;
  const k = th.k;
  switch (st) {
    case ST_P1:
    case ST_P2:
    case ST_P3:
    case ST_P4:
      return th.due;
    case ST_PREEMPT:
      return PREEMPT_ENABLE;
    case ST_WALK:
      return k.subcall(lvurTries(th, th.mm, vpn, 0));
    case ST_LVUR:
      return k.subcall(s.r === RETRY_WALK ? lvurTries(th, th.mm, vpn, 1) : lvurDropRecycled(th, s.v!, s.rcu));
    case ST_MMAP:
      return k.subcall(lock_mmap(th, vpn, write, s.flags));
    case ST_PMD:
      return k.subcall(pmd_alloc(th, th.mm, vpn));
    case ST_OTHER:
      return k.subcall(hmfOther(th, s.v!, vpn, s.flags | FAULT_FLAG_VMA_LOCK));
    case ST_ANON:
      return k.subcall(do_anonymous_page(th, s.v!, vpn, s.flags | FAULT_FLAG_VMA_LOCK));
    case ST_PTL:
      return k.subcall(ptl_lock_wait(th, s.ptl!, Y_ANON_PTL.site));
    case ST_LRU:
      return k.subcall(folio_batch_move_lru(th));
    default:
      throw new Error(`faultResume: stage ${st}`);
  }
}

/** The steps after stage `st` (`x`: what the yield gave back, a callee's result), to the next hand-over or the end. */
function resumeAfter(th: MmThread, vpn: number, write: boolean, st: number, x: unknown): number {
  const s = th.fr;
  switch (st) {
    case ST_P1:
      return fastWalk(th, vpn, write);
    case ST_WALK:
    case ST_LVUR:
      return fastLocked(th, vpn, write, x as Vma | null);
    case ST_P2:
      return fastLock(th, vpn, write, s.v!, s.inc, s.rcu);
    case ST_PMD:
      return fastPte(th, vpn, s.v!);
    case ST_OTHER:
    case ST_ANON:
      return fastEnd(th, vpn, s.v!, x as number);
    case ST_P3:
      return fastPtl(th, vpn, s.v!, s.frame, s.ptl!);
    case ST_PTL:
      return fastInstall(th, vpn, s.v!, s.frame, s.ptl!);
    case ST_LRU:
      anonInstallEnd(th, s.v!, vpn, s.frame);
      return fastUnlock(th, vpn, s.v!, s.ptl!);
    case ST_PREEMPT:
      return fastEnd(th, vpn, s.v!, 0);
    case ST_P4:
      return vmaAttemptDone(th, vpn, s.v!, s.fault);
    default:
      throw new Error(`faultResume: stage ${st}`);
  }
}

/**
 * do_user_addr_fault's access error under the VMA lock: the lock goes, then bad_area (its result),
 * or -1 for the fallback to the mmap_lock path (6.4: lock_mmap retries the access check there).
 */
function vmaAccessError(th: MmThread, v: Vma, vpn: number): number {
  const sw = th.sim.sw;
  const fl = th.fl;
  if (sw.arch === "powerpc" && !sw.ppcBadAccessFallback) {
    // powerpc ___do_page_fault as first posted (v4 31/33): bad_access() under the VMA lock
    ppc_bad_access_under_vma_lock(th, v);
    vma_end_read(th, v, fl.vmaHow);
    fl.vmaHow = -1;
    return bad_area(th, vpn);
  }
  vma_end_read(th, v, fl.vmaHow);
  fl.vmaHow = -1;
  if (sw.badAccessUnderVmaLock) {
    lockEvent(th, VM.VMA_LOCK_SUCCESS);
    return bad_area(th, vpn);
  }
  return -1;
}

/**
 * do_user_addr_fault's lock_mmap: the mmap_lock path (arch/x86/mm/fault.c), retried while
 * handle_mm_fault returns VM_FAULT_RETRY. A generator of its own, so that the per-VMA attempt's
 * generator (every fault's) stays small: fewer registers to allocate and save per fault, and less
 * code for the optimizing compiler.
 */
function* lock_mmap(th: MmThread, vpn: number, write: boolean, flags: number): KGen<number> {
  const sim = th.sim;
  const sw = sim.sw;
  const mm = th.mm;
  const fl = th.fl;
  let fault = 0;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 16) {
      sim.finding(
        "fault_livelock",
        [th.cpu],
        [vpn],
        `fault at ${hex(vpn)} retried ${attempt} times under mmap_lock`,
      );
      return FAULT_SEGV;
    }
    const v = sw.lockMmAndFindVma
      ? yield* traced(th, "lock_mm_and_find_vma", lock_mm_and_find_vma(th, mm, vpn))
      : yield* traced(th, "find_vma", mmap_find_vma_legacy(th, mm, vpn));
    if (v === null) return bad_area(th, vpn);
    if (access_error(th, write, v)) {
      yield* mmap_read_unlock(th, mm, fl.mmapHeld);
      return bad_area(th, vpn);
    }
    fault = yield* traced(th, "handle_mm_fault", handle_mm_fault(th, v, vpn, flags));
    if (fault & VM_FAULT_RETRY) {
      // handle_mm_fault dropped mmap_lock (handle_userfault, folio_lock_or_retry)
      flags |= FAULT_FLAG_TRIED;
      continue;
    }
    yield* mmap_read_unlock(th, mm, fl.mmapHeld);
    if (mm.writerPid !== 0) sim.count(VM.FAULTS_DURING_MMAP_WRITE);
    return fault & VM_FAULT_SIGSEGV ? bad_area(th, vpn) : FAULT_OK;
  }
}

/** count_vm_vma_lock_event, and the per-fault tally of invariant 9. */
function lockEvent(th: MmThread, e: VM): void {
  th.sim.count(e);
  th.faultCounted++;
}

function bad_area(th: MmThread, vpn: number): number {
  th.sim.count(VM.SEGV);
  th.segv++;
  th.sim.note(th.cpu, "SIGSEGV", vpn);
  return FAULT_SEGV;
}

/** The 6.3/6.4.0 fallback of do_user_addr_fault (arch/x86/mm/fault.c): mmap_read_lock, find_vma, expand_stack under the read lock. */
function* mmap_find_vma_legacy(th: MmThread, mm: MmStruct, vpn: number): KGen<Vma | null> {
  const fl = th.fl;
  fl.mmapHeld = yield* mmap_read_lock(th, mm, "do_user_addr_fault:mmap_read_lock");
  th.cost += th.sim.costs.mmapFindVmaNs; // find_vma's walk, with mmap_lock held
  const v = mm.findVma(vpn);
  if (v !== null && v.start <= vpn) return v;
  if (v !== null && v.flags & VM_GROWSDOWN && expand_stack(th, v, vpn)) return v;
  yield* mmap_read_unlock(th, mm, fl.mmapHeld);
  return null;
}

/** lock_mm_and_find_vma (mm/memory.c 6.4.1+, mm/mmap_lock.c later): stack growth under the write lock. */
function* lock_mm_and_find_vma(th: MmThread, mm: MmStruct, vpn: number): KGen<Vma | null> {
  const fl = th.fl;
  fl.mmapHeld = yield* mmap_read_lock(th, mm, "lock_mm_and_find_vma:mmap_read_lock");
  th.cost += th.sim.costs.mmapFindVmaNs; // find_vma's walk, with mmap_lock held
  let v = mm.findVma(vpn);
  if (v !== null && v.start <= vpn) return v;
  if (v === null || !(v.flags & VM_GROWSDOWN)) {
    yield* mmap_read_unlock(th, mm, fl.mmapHeld);
    return null;
  }
  // no atomic upgrade: drop, take the write lock, look again
  yield* mmap_read_unlock(th, mm, fl.mmapHeld);
  const wh = yield* mmap_write_lock(th, mm, "lock_mm_and_find_vma:mmap_write_lock");
  v = mm.findVma(vpn);
  if (v === null) {
    yield* mmap_write_unlock(th, mm, wh);
    return null;
  }
  if (v.start > vpn) {
    if (!(v.flags & VM_GROWSDOWN)) {
      yield* mmap_write_unlock(th, mm, wh);
      return null;
    }
    if (th.sim.sw.lockVmaBeforeStackExpand) yield* vma_start_write(th, v, "expand_downwards:vma_start_write");
    if (!expand_stack(th, v, vpn)) {
      yield* mmap_write_unlock(th, mm, wh);
      return null;
    }
  }
  yield* mmap_write_downgrade(th, mm, wh);
  fl.mmapHeld = wh;
  return v;
}

/** expand_stack -> expand_downwards (mm/mmap.c, all versions; 6.4.1+ only under the write lock): grow a VM_GROWSDOWN VMA down to vpn. */
function expand_stack(th: MmThread, v: Vma, vpn: number): boolean {
  const mm = v.vm_mm!;
  const idx = MmStruct.indexOf(mm.vmas, v);
  const prevEnd = idx > 0 ? mm.vmas[idx - 1]!.end : 0;
  if (vpn < prevEnd + 1) return false; // stack guard gap of one page
  vmaModify(th, v, "expand_downwards");
  v.start = vpn;
  th.sim.count(VM.STACK_EXPAND);
  th.sim.note(th.cpu, "expand_downwards", vpn);
  return true;
}

/** lock_vma_under_rcu (mm/memory.c 6.4; mm/mmap_lock.c 6.15). Returns the read-locked VMA or null. */
export function* lock_vma_under_rcu(th: MmThread, mm: MmStruct, vpn: number): KGen<Vma | null> {
  // timed driver: the trap's CPU time (and the user time before it) passes before the walk, so the
  // previous fault's vma_end_read and this trylock are two accesses at two different times
  if (th.timed && th.cost > 0 && !th.pass()) yield th.due;
  return yield* lvurTries(th, mm, vpn, 0);
}

/** lock_vma_under_rcu's walk-and-lock loop from try `from` on. */
function* lvurTries(th: MmThread, mm: MmStruct, vpn: number, from: number): KGen<Vma | null> {
  const off = th.sim.disabled;
  const rcu = off.size === 0 || !off.has(LVUR_RCU_SITE);
  for (let retry = from; retry < MISS_RETRY_LIMIT; retry++) {
    const v = lvurWalk(th, mm, vpn, rcu);
    if (v === null) return null;
    const inc = v.incarnation;
    // || a writer may stamp, detach or free V here (the walk result is used later, §6.2)
    if (!th.timed || th.cost > 0) yield* yieldAt(th, Y_VMA_START_READ);
    const delay = th.timed ? th.sim.injectedDelay(Y_VMA_START_READ.site) : 0;
    if (delay > 0) yield delay; // fault injection: an mdelay() in the window
    const r = lvurLock(th, mm, vpn, v, inc, rcu);
    if (r === RECYCLED) return yield* lvurDropRecycled(th, v, rcu);
    if (r !== RETRY_WALK) return r;
  }
  return lvurGiveUp(th, vpn);
}

const RETRY_WALK = 1 as const;
const RECYCLED = 3 as const;
const LVUR_RCU_SITE = "lock_vma_under_rcu:rcu_read_lock";

/**
 * Whether do_user_addr_fault may run lvurTries' first try in its own generator (timed driver, after
 * lock_vma_under_rcu's time point): no injected delay at the window and no footprints to record, so
 * the try is the walk, the yield point's charge and the lock, as lvurTries makes them.
 */
function lvurFastOk(th: MmThread): boolean {
  return th.sim.injectedDelay(Y_VMA_START_READ.site) === 0 && !tracing(th);
}

/** D2: the VMA now belongs to another mm: drop the reference vma_start_read took, then fall back. */
function* lvurDropRecycled(th: MmThread, v: Vma, rcu: boolean): KGen<null> {
  yield* vma_put_recycled(th, v);
  return inval(th, rcu);
}

function lvurGiveUp(th: MmThread, vpn: number): null {
  th.sim.finding(
    "fault_livelock",
    [th.cpu],
    [vpn],
    `lock_vma_under_rcu: ${MISS_RETRY_LIMIT} walks found only detached VMAs at ${hex(vpn)}`,
  );
  return inval(th, false);
}

/** rcu_read_lock, mas_walk and the checks made before locking (6.4: anonymous, anon_vma set). */
function lvurWalk(th: MmThread, mm: MmStruct, vpn: number, rcu: boolean): Vma | null {
  const sim = th.sim;
  const sw = sim.sw;
  if (rcu) sim.rcuReadLock(th.cpu);
  th.cost += sim.costs.lvurNs; // the walk and the checks (atomics are charged on their lines)
  const v = MmStruct.walk(mm.vmas, vpn); // mas_walk
  if (v === null) return inval(th, rcu);
  if (sw.vmaLockImpl === "rwsem") {
    if (!v.anonymous && !sw.eligibleFile) return inval(th, rcu);
    if (sw.anonVmaCheck === "before-lock") {
      if (v.anonymous && v.anon_vma === 0) return inval(th, rcu);
    }
  }
  return v;
}

/** vma_start_read and the checks made with the VMA locked; RETRY_WALK after a detached VMA (MISS). */
function lvurLock(
  th: MmThread,
  mm: MmStruct,
  vpn: number,
  v: Vma,
  inc: number,
  rcu: boolean,
): Vma | null | typeof RETRY_WALK | typeof RECYCLED {
  const sim = th.sim;
  const sw = sim.sw;
  const fl = th.fl;
  const cpu = th.cpu;
  if (sw.vmaLockImpl === "rwsem") sim.oracle.vmaTouched(th, v, inc, vpn); // invariant 7
  const how = vma_start_read(th, mm, v, "lock_vma_under_rcu:vma_start_read");
  if (how === VSR_FAIL) return inval(th, rcu);
  if (how === VSR_RECYCLED) return RECYCLED;
  if (how === VSR_EAGAIN) {
    // D2: detached; vma_start_read dropped the RCU section, retry the walk
    if (rcu) sim.rcuReadUnlock(cpu);
    sim.count(VM.VMA_LOCK_MISS);
    return RETRY_WALK;
  }
  v.readers++;
  fl.vmaHow = how;
  if (sw.vmaLockImpl === "rwsem") {
    if (sw.anonVmaCheck === "after-lock") {
      if (v.anonymous && v.anon_vma === 0) return endInval(th, v, rcu);
    }
    if (v.flags & VM_UFFD_MISSING && !sw.eligibleUffd) return endInval(th, v, rcu);
    if (sw.detachedBeforeRange && v.detached) {
      endMiss(th, v, rcu);
      return RETRY_WALK;
    }
    if (vpn < v.start || vpn >= v.end) return endInval(th, v, rcu);
    if (v.detached) {
      endMiss(th, v, rcu);
      return RETRY_WALK;
    }
    if (rcu) sim.rcuReadUnlock(cpu);
  } else {
    if (rcu) sim.rcuReadUnlock(cpu);
    if (vpn < v.start || vpn >= v.end) return endInval(th, v, false);
  }
  sim.oracle.lockedVma(th, mm, v, vpn); // invariant 3
  fl.gen = v.gen;
  fl.incarnation = v.incarnation;
  return v;
}

function inval(th: MmThread, rcu: boolean): null {
  if (rcu) th.sim.rcuReadUnlock(th.cpu);
  lockEvent(th, VM.VMA_LOCK_ABORT);
  return null;
}

function endInval(th: MmThread, v: Vma, rcu: boolean): null {
  const fl = th.fl;
  vma_end_read(th, v, fl.vmaHow);
  fl.vmaHow = -1;
  return inval(th, rcu);
}

function endMiss(th: MmThread, v: Vma, rcu: boolean): void {
  const fl = th.fl;
  vma_end_read(th, v, fl.vmaHow);
  fl.vmaHow = -1;
  if (rcu) th.sim.rcuReadUnlock(th.cpu);
  th.sim.count(VM.VMA_LOCK_MISS);
}

/** The oracle at every PTE install: invariants 3 and 8 (src/mm/oracle.ts). */
function installCheck(th: MmThread, mm: MmStruct, v: Vma, vpn: number, flags: number): void {
  th.sim.oracle.install(th, mm, v, vpn, (flags & FAULT_FLAG_VMA_LOCK) !== 0);
}

/** The oracle after the per-VMA attempt: invariant 9 (src/mm/oracle.ts). */
function checkIdentity(th: MmThread, vpn: number, before: number, accessFallback: boolean): void {
  th.sim.oracle.faultIdentity(th, vpn, before, accessFallback);
}

/** The VMA-lock holder gives it up before returning VM_FAULT_RETRY (6.6+ dropLockOnRetry). */
function retryUnderVmaLock(th: MmThread, v: Vma, flags: number): number {
  if (flags & FAULT_FLAG_VMA_LOCK && th.sim.sw.dropLockOnRetry) {
    const fl = th.fl;
    vma_end_read(th, v, fl.vmaHow);
    fl.vmaHow = -1;
  }
  return VM_FAULT_RETRY;
}

/** handle_mm_fault -> __handle_mm_fault -> handle_pte_fault (mm/memory.c). */
export function* handle_mm_fault(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  if (hmfEnter(th, vpn)) yield* pmd_alloc(th, th.mm, vpn);
  if (hmfAnon(th, v, vpn))
    return yield* traced(th, "do_anonymous_page", do_anonymous_page(th, v, vpn, flags));
  return yield* hmfOther(th, v, vpn, flags);
}

/** handle_mm_fault's entry (PGFAULT): true when __handle_mm_fault must first allocate the PMD table
 * (pud_alloc, pmd_alloc: a new 1 GiB range). */
function hmfEnter(th: MmThread, vpn: number): boolean {
  th.sim.count(VM.PGFAULT);
  return !th.mm.pgtables.hasPmdTable(vpn);
}

/** handle_pte_fault's PTE read (after hmfEnter): true when the fault goes to do_anonymous_page. */
function hmfAnon(th: MmThread, v: Vma, vpn: number): boolean {
  const mm = th.mm;
  return mm.pteGet(vpn) === 0 && v.anonymous && !(v.flags & VM_UFFD_MISSING);
}

/** handle_pte_fault's other cases (after hmfEnter): userfault, file, swap, write-protect, spurious. */
function* hmfOther(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const pte = mm.pteGet(vpn);
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (pte === 0) {
    if (v.anonymous) return yield* traced(th, "handle_userfault", handle_userfault(th, v, vpn, flags));
    return yield* traced(th, "do_fault", do_fault(th, v, vpn, flags));
  }
  if (!(pte & PTE_PRESENT)) {
    if (pte & PTE_SWAP) return yield* traced(th, "do_swap_page", do_swap_page(th, v, vpn, flags, pte));
    return 0;
  }
  if (write && !(pte & PTE_WRITE)) {
    const ptl = ptlOf(mm, vpn);
    yield* pte_offset_map_lock(th, mm, vpn, ptl, Y_HPF_PTL);
    if (mm.pteGet(vpn) !== pte) {
      if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
      return 0;
    }
    return yield* traced(th, "do_wp_page", do_wp_page(th, v, vpn, flags, pte));
  }
  // spurious fault: the TLB held an older entry; flush it locally
  sim.tlbs.flushOne(th.cpu, mm.id, vpn);
  return 0;
}

/** anon_vma_prepare (include/linux/rmap.h): __anon_vma_prepare (src/mm/rmap.ts) when anon_vma is NULL. */
function* anon_vma_prepare(th: MmThread, v: Vma, vpn: number): KGen<void> {
  if (v.anon_vma !== 0) return;
  yield* __anon_vma_prepare(th, v, vpn);
}

/** vmf_anon_prepare (mm/memory.c 6.10+): under the VMA lock only with mmap_read_trylock, else RETRY. */
function* vmf_anon_prepare(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  if (v.anon_vma !== 0) return 0;
  if (flags & FAULT_FLAG_VMA_LOCK) {
    const r = yield* mmap_read_trylock(th, th.mm, "vmf_anon_prepare:mmap_read_trylock");
    if (r === 0) return retryUnderVmaLock(th, v, flags);
    yield* anon_vma_prepare(th, v, vpn);
    yield* mmap_read_unlock(th, th.mm, r === 1);
    return 0;
  }
  yield* anon_vma_prepare(th, v, vpn);
  return 0;
}

/** anon_vma_prepare (6.4: the VMA lock path only runs with anon_vma set) or vmf_anon_prepare (6.10+). */
function* anonPrepare(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  if (th.sim.sw.anonVmaCheck === "none") return yield* vmf_anon_prepare(th, v, vpn, flags);
  yield* anon_vma_prepare(th, v, vpn);
  return 0;
}

/** Set a freshly installed anonymous page's PTE and rmap state. */
function setAnonPte(th: MmThread, mm: MmStruct, v: Vma, vpn: number, frame: number, write: boolean): void {
  const fr = th.sim.frames;
  folio_add_new_anon_rmap(th, frame, v);
  fr.mapNewAnon(frame);
  mm.pteSet(vpn, mkPte(frame, write));
}

/**
 * pte_offset_map_lock() (include/linux/mm.h): the page-table lock of `vpn` at the yield point's site,
 * after the step's cost (timed) or the yield point (explore). The PTE accesses under it record
 * themselves (MmStruct.pteGet / pteSet).
 */
function* pte_offset_map_lock(
  th: MmThread,
  _mm: MmStruct,
  _vpn: number,
  ptl: SpinLock,
  point: Effect,
): KGen<void> {
  if (th.timed) {
    if (th.cost > 0 && !th.pass()) yield th.due;
  } else yield point;
  if (!ptl_trylock_fast(th, ptl, point.site)) yield* ptl_lock_wait(th, ptl, point.site);
}

/** do_anonymous_page (mm/memory.c): zero page for reads, a new zeroed page for writes. */
function* do_anonymous_page(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  const mm = th.mm;
  // pte_alloc: the PTE table of this 2 MiB range, before the zero page or a new page
  if (!mm.pgtables.hasPteTable(vpn)) yield* pte_alloc(th, mm, vpn);
  if (!(flags & FAULT_FLAG_WRITE)) {
    const ptl = ptlOf(mm, vpn);
    yield* pte_offset_map_lock(th, mm, vpn, ptl, Y_ANON_PTL);
    if (mm.pteGet(vpn) === 0) {
      installCheck(th, mm, v, vpn, flags);
      mm.pteSet(vpn, mkPte(ZERO_FRAME, false));
      th.sim.count(VM.ZERO_PAGE_MAP);
    }
    if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
    return 0;
  }
  // generator-free forms (timed driver): anon_vma set (anonPrepare yields nothing), no mempolicy
  // (vma_alloc_folio yields nothing), pte_offset_map_lock's steps in this generator
  const r = fastPath(th) && v.anon_vma !== 0 ? 0 : yield* anonPrepare(th, v, vpn, flags);
  if (r !== 0) return r;
  // vma_alloc_zeroed_movable_folio: an order-0 page from this CPU's pcp list
  if (pcp_empty(th)) yield* rmqueue_bulk(th);
  pcp_take(th);
  // asked again after rmqueue_bulk's yields: a warm start may have switched the machine to the
  // explore driver there, whose steps pause at pte_offset_map_lock's yield point
  const frame = anonZeroed(
    th,
    fastPath(th) && v.vm_policy === 0 ? folio_alloc_mpol(th, 0) : yield* vma_alloc_folio(th, v, vpn),
  );
  const ptl = ptlOf(mm, vpn);
  if (fastPath(th)) {
    if (th.cost > 0 && !th.pass()) yield th.due;
    if (!ptl_trylock_fast(th, ptl, Y_ANON_PTL.site)) yield* ptl_lock_wait(th, ptl, Y_ANON_PTL.site);
  } else yield* pte_offset_map_lock(th, mm, vpn, ptl, Y_ANON_PTL);
  if (anonInstallBegin(th, v, vpn, flags, frame)) {
    // folio_add_new_anon_rmap, folio_add_lru_vma, set_pte_at (all under the PTL)
    if (folio_add_lru(th)) yield* folio_batch_move_lru(th);
    anonInstallEnd(th, v, vpn, frame);
  }
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
  return 0;
}

/** The new page of do_anonymous_page's write fault is zeroed (vma_alloc_zeroed_movable_folio). */
function anonZeroed(th: MmThread, frame: number): number {
  th.sim.count(VM.PGALLOC_NORMAL);
  th.cost += th.sim.costs.anonFaultAllocZeroNs;
  return frame;
}

/**
 * do_anonymous_page's write fault up to its page-table lock without a generator (fast paths), when
 * none of those steps yields: the PTE table present, anon_vma set, a page on this CPU's pcp list,
 * no mempolicy. Returns the new page, or -1 (nothing done) for do_anonymous_page's generator.
 */
function anonNewPageFast(th: MmThread, v: Vma, vpn: number, flags: number): number {
  if (
    // asked again here, as do_anonymous_page does at its entry: a warm start may have switched
    // the machine to the explore driver since do_user_addr_fault began
    !fastPath(th) ||
    !th.mm.pgtables.hasPteTable(vpn) ||
    !(flags & FAULT_FLAG_WRITE) ||
    v.anon_vma === 0 ||
    v.vm_policy !== 0 ||
    pcp_empty(th)
  )
    return -1;
  pcp_take(th);
  return anonZeroed(th, folio_alloc_mpol(th, 0));
}

/**
 * Under the PTL: false (the page put back) when another thread installed the PTE first; else the
 * oracle's install check, and the caller adds the folio to the LRU batch, then anonInstallEnd.
 */
function anonInstallBegin(th: MmThread, v: Vma, vpn: number, flags: number, frame: number): boolean {
  const mm = th.mm;
  if (mm.pteGet(vpn) !== 0) {
    // another thread installed it first
    putFrame(th, frame, vpn);
    return false;
  }
  installCheck(th, mm, v, vpn, flags);
  return true;
}

/** folio_add_new_anon_rmap and set_pte_at of the new anonymous page (under the PTL). */
function anonInstallEnd(th: MmThread, v: Vma, vpn: number, frame: number): void {
  setAnonPte(th, th.mm, v, vpn, frame, (v.flags & VM_WRITE) !== 0);
}

/** put_page with the model's bookkeeping check. */
export function putFrame(th: MmThread, frame: number, vpn: number): void {
  const r = th.sim.frames.put(frame);
  if (r === "underflow") th.sim.finding("model_bookkeeping", [th.cpu], [vpn], `frame ${frame} freed twice`);
  else if (r) th.sim.count(VM.PGFREE);
}

/** do_wp_page (mm/memory.c), called with the PTL held: reuse an exclusive page or copy it. */
function* do_wp_page(th: MmThread, v: Vma, vpn: number, flags: number, pte: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const fr = sim.frames;
  const frame = pteFrame(pte);
  const ptl = ptlOf(mm, vpn);
  if (v.flags & VM_SHARED) {
    // wp_page_shared: a shared mapping becomes writable in place
    mm.pteSet(vpn, pte | PTE_WRITE);
    sim.tlbs.flushOne(th.cpu, mm.id, vpn);
    if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
    return 0;
  }
  if (frame !== ZERO_FRAME && v.anonymous && fr.reusable(frame)) {
    // wp_page_reuse
    fr.setAnonExclusive(frame);
    mm.pteSet(vpn, pte | PTE_WRITE);
    sim.tlbs.flushOne(th.cpu, mm.id, vpn);
    th.cost += sim.costs.wpReuseNs;
    sim.count(VM.WP_REUSE);
    if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
    return 0;
  }
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
  return yield* traced(th, "wp_page_copy", wp_page_copy(th, v, vpn, flags, pte));
}

/**
 * wp_page_copy (mm/memory.c): allocate, copy the old page (no lock held), then under the PTL check the
 * PTE is unchanged, ptep_clear_flush, install the copy. A store through a stale writable TLB entry
 * between the copy and the flush is lost (the mechanism stated in commit 2b4f3b4987b5).
 */
function* wp_page_copy(th: MmThread, v: Vma, vpn: number, flags: number, orig: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const fr = sim.frames;
  const cpu = th.cpu;
  const r = yield* anonPrepare(th, v, vpn, flags);
  if (r !== 0) return r;
  const old = pteFrame(orig);
  if (pcp_empty(th)) yield* rmqueue_bulk(th);
  pcp_take(th);
  const copy = fr.alloc();
  sim.count(VM.PGALLOC_NORMAL);
  let holder = -1;
  if (old !== ZERO_FRAME) {
    holder = sim.oracle.cowCopy(th, mm, vpn, old); // invariant 5: nobody may still write the old page
    fr.copy(copy, old);
  }
  sim.note(cpu, "wp_page_copy:copy", vpn, old);
  th.cost += sim.costs.wpCopyNs;
  // the copy takes time: another CPU may act between __wp_page_copy_user and taking the PTL
  if (!th.timed) yield Y_WP_COPY;
  const ptl = ptlOf(mm, vpn);
  yield* pte_offset_map_lock(th, mm, vpn, ptl, Y_WP_PTL);
  if (mm.pteGet(vpn) === orig) {
    // ptep_clear_flush, then set_pte_at the new page
    mm.pteSet(vpn, 0);
    mm.busy.push(vpn, vpn + 1);
    yield* flush_tlb_page(th, mm, vpn);
    installCheck(th, mm, v, vpn, flags);
    if (old !== ZERO_FRAME) sim.oracle.cowInstalled(th, vpn, old, holder);
    // folio_add_new_anon_rmap, folio_add_lru_vma (the batch may drain), then set_pte_at
    if (folio_add_lru(th)) yield* folio_batch_move_lru(th);
    setAnonPte(th, mm, v, vpn, copy, true);
    rangeRemove(mm.busy, vpn, vpn + 1);
    if (old !== ZERO_FRAME) {
      fr.unmapOne(old);
      putFrame(th, old, vpn);
    }
    sim.count(VM.COW_COPY);
    sim.note(cpu, "wp_page_copy:install", vpn, copy);
  } else putFrame(th, copy, vpn);
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
  return 0;
}

/** do_swap_page (mm/memory.c): 6.4 returns VM_FAULT_RETRY under the VMA lock; 6.6+ swaps in. */
function* do_swap_page(th: MmThread, v: Vma, vpn: number, flags: number, pte: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  if (flags & FAULT_FLAG_VMA_LOCK && !sim.sw.eligibleSwap) return retryUnderVmaLock(th, v, flags);
  const slot = pteFrame(pte);
  const frame = sim.frames.alloc();
  sim.count(VM.PGALLOC_NORMAL);
  const w = sim.words;
  sim.frames.fillFrom(frame, sim.swapContent, slot * w);
  th.cost += sim.costs.swapInNs;
  sim.count(VM.PSWPIN);
  sim.count(VM.PGMAJFAULT);
  yield* yieldAt(th, Y_SWAP_PTL);
  const ptl = ptlOf(mm, vpn);
  yield* ptl_lock(th, ptl, "do_swap_page:pte_offset_map_lock");
  if (mm.pteGet(vpn) !== pte) {
    putFrame(th, frame, vpn);
    if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
    return VM_FAULT_MAJOR;
  }
  installCheck(th, mm, v, vpn, flags);
  setAnonPte(th, mm, v, vpn, frame, (v.flags & VM_WRITE) !== 0);
  sim.freeSwap(slot);
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
  return VM_FAULT_MAJOR;
}

/** do_fault (mm/memory.c): do_read_fault / do_cow_fault / do_shared_fault on the page cache. */
function* do_fault(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  const fr = sim.frames;
  const file = v.file!;
  const idx = v.pgoff + (vpn - v.start);
  if (idx < 0 || idx >= file.pages.length) return VM_FAULT_SIGSEGV; // SIGBUS beyond EOF
  let pc = file.pages[idx]! - 1;
  if (pc < 0) {
    pc = fr.alloc();
    sim.count(VM.PGALLOC_NORMAL);
    file.pages[idx] = pc + 1;
  }
  th.cost += sim.costs.fileFaultNs;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  const cow = write && !(v.flags & VM_SHARED);
  let frame = pc;
  if (cow) {
    const r = yield* anonPrepare(th, v, vpn, flags);
    if (r !== 0) return r;
    frame = fr.alloc();
    sim.count(VM.PGALLOC_NORMAL);
    fr.copy(frame, pc);
    th.cost += sim.costs.wpCopyNs;
  }
  // finish_fault: pte_alloc when the PMD entry is still none
  if (!mm.pgtables.hasPteTable(vpn)) yield* pte_alloc(th, mm, vpn);
  yield* yieldAt(th, Y_FAULT_PTL);
  const ptl = ptlOf(mm, vpn);
  yield* ptl_lock(th, ptl, "do_fault:pte_offset_map_lock");
  if (mm.pteGet(vpn) !== 0) {
    if (cow) putFrame(th, frame, vpn);
    if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
    return 0;
  }
  installCheck(th, mm, v, vpn, flags);
  if (cow) setAnonPte(th, mm, v, vpn, frame, true);
  else {
    fr.dupMapping(frame, false);
    mm.pteSet(vpn, mkPte(frame, write && (v.flags & VM_WRITE) !== 0));
  }
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
  return 0;
}

/**
 * handle_userfault (fs/userfaultfd.c): drop the lock held (VMA lock 6.6+, or mmap_lock), wait for the
 * monitor to resolve the fault (modelled as UFFDIO_ZEROPAGE after uffdResolveNs), return RETRY.
 */
function* handle_userfault(th: MmThread, v: Vma, vpn: number, flags: number): KGen<number> {
  const sim = th.sim;
  const mm = th.mm;
  sim.count(VM.UFFD_FAULT);
  const fl = th.fl;
  if (flags & FAULT_FLAG_VMA_LOCK) {
    if (!sim.sw.eligibleUffd) return VM_FAULT_SIGSEGV; // refused earlier; only reachable with switches mixed
    vma_end_read(th, v, fl.vmaHow);
    fl.vmaHow = -1;
  } else yield* mmap_read_unlock(th, mm, fl.mmapHeld);
  th.cost += sim.costs.uffdResolveNs;
  // the monitor's UFFDIO_ZEROPAGE: map the zero page if the address is still unpopulated
  const ptl = ptlOf(mm, vpn);
  yield* pte_offset_map_lock(th, mm, vpn, ptl, Y_ANON_PTL);
  if (mm.pteGet(vpn) === 0 && MmStruct.walk(mm.vmas, vpn) === v) {
    mm.pgtables.populate(vpn, vpn + 1); // mfill_atomic allocates the monitor's tables
    mm.pteSet(vpn, mkPte(ZERO_FRAME, false));
  }
  if (ptl_unlock(th, ptl)) yield PREEMPT_ENABLE;
  return VM_FAULT_RETRY;
}
