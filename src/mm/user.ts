// User-mode memory accesses through the CPU's TLB, and the system-call entry points user programs
// (src/workloads) use. Every access is one yield point; a TLB miss walks the page table, and a
// missing or insufficient PTE raises a page fault (do_user_addr_fault), after which the access is
// re-executed. Every store writes a fresh value; loads are checked against the shadow (invariant 4).
import { type KGen, RET_TO_USER } from "../sim/effects.js";
import {
  do_user_addr_fault,
  FAULT_OK,
  FAULT_SEGV,
  fault_after_vma_lock,
  fault_fast_finish,
  fault_fast_try,
} from "./fault.js";
import { dup_mmap, exit_mmap } from "./fork.js";
import { do_mbind } from "./mempolicy.js";
import { do_brk, do_madvise, do_mmap, do_mprotect, do_mremap, do_munmap, type MmapOpts } from "./syscalls.js";
import { type MmThread, touch, touchPte, tracing, yp } from "./thread.js";
import { sliceSince, traced, traceLoad, traceStore } from "./trace.js";
import { hex, type MmStruct, PTE_PRESENT, PTE_WRITE } from "./types.js";

const Y_USER = yp("user_access");
const FAULTS_PER_ACCESS_MAX = 64;

/** Result of an access: the value read (loads), or -1 after SIGSEGV. */
export const SEGV = -1;

/**
 * One user access at page vpn, word `word`: a load (checked against the shadow) or a store of a
 * fresh value. `thinkNs` is the user-mode CPU time before the access.
 */
export function* user_access(
  th: MmThread,
  vpn: number,
  word: number,
  write: boolean,
  thinkNs = 0,
): KGen<number> {
  th.cost += thinkNs;
  const sim = th.sim;
  if (!th.timed) yield Y_USER;
  else if (th.cost > 0) {
    // timed driver: a TLB miss goes on into the fault path, whose first yield charges this time too
    const pte = sim.tlbs.lookup(th.cpu, th.mm.id, vpn);
    if (pte !== 0 && (!write || pte & PTE_WRITE)) yield th.charge();
  }
  if (tracing(th)) {
    touch(th, `tlbmm:${th.mm.id}`, false);
    touchPte(th, th.mm, vpn, write);
  }
  const task = th.k.task;
  // exit_to_user_mode: honour need_resched (tasks sharing a CPU are preempted here under NONE)
  if (th.k.cpu.needResched || th.k.cpu.needReschedLazy) yield RET_TO_USER;
  task.inUser = true;
  for (let tries = 0; ; tries++) {
    const mm = th.mm;
    const cpu = th.cpu;
    let pte = sim.tlbs.lookup(cpu, mm.id, vpn);
    if (pte === 0 || (write && !(pte & PTE_WRITE))) {
      // TLB miss (or a read-only entry for a store): hardware page walk
      th.cost += sim.costs.pageWalkNs;
      const p = vpn >= 0 && vpn < mm.vaPages ? mm.pte[vpn]! : 0;
      if (p & PTE_PRESENT && (!write || p & PTE_WRITE)) {
        sim.tlbs.fill(cpu, mm.id, vpn, p);
        mm.cpumask[cpu] = 1;
        pte = p;
      } else {
        if (tries >= FAULTS_PER_ACCESS_MAX) {
          sim.finding(
            "fault_livelock",
            [cpu],
            [vpn],
            `${FAULTS_PER_ACCESS_MAX} faults for one access at ${hex(vpn)}`,
          );
          return SEGV;
        }
        task.inUser = false;
        const t0 = sim.m.now + th.cost;
        let r: number;
        if (th.timed && sim.sw.perVmaLock && sim.inject === null) {
          // fast path: no generator below this one for the common fault
          const v = fault_fast_try(th, vpn, write);
          if (v !== null) {
            if (th.cost > 0) yield th.charge(); // with the VMA read lock held
            fault_fast_finish(th, v, vpn);
            r = FAULT_OK;
          } else r = yield* fault_after_vma_lock(th, vpn, write, th.fastVma);
        } else r = yield* do_user_addr_fault(th, vpn, write);
        task.inUser = true;
        if (th.measure && sim.faultLat !== null) sim.faultLat.record(sim.m.now + th.cost - t0);
        sliceSince(th, "do_user_addr_fault", t0, hex(vpn));
        if (r === FAULT_SEGV) return SEGV;
        continue;
      }
    }
    return access(th, mm, vpn, word, write, pte >>> 3);
  }
}

function access(
  th: MmThread,
  mm: MmStruct,
  vpn: number,
  word: number,
  write: boolean,
  frame: number,
): number {
  const sim = th.sim;
  const fr = sim.frames;
  const w = sim.words;
  const cpu = th.cpu;
  if (fr.isFree(frame)) {
    sim.finding(
      "vma_lifetime",
      [cpu],
      [vpn],
      `${write ? "store" : "load"} at ${hex(vpn)} through a stale TLB entry to freed frame ${frame}`,
      { frame },
    );
    return write ? 0 : SEGV;
  }
  const idx = frame * w + word;
  const sidx = vpn * w + word;
  const exp = mm.expected;
  if (write) {
    const val = sim.nextValue++;
    fr.content[idx] = val;
    if (sim.m.modelTrace) traceStore(th, vpn, word, val, frame);
    if (exp !== null) {
      exp[sidx] = val;
      mm.lastStoreCpu![sidx] = cpu;
      mm.storedBlocks![vpn >> 6] = 1;
    }
    // a store through a TLB entry the page table no longer backs (write-protected or replaced)
    const cur = mm.pte[vpn]!;
    if (cur >>> 3 !== frame || (cur & (PTE_PRESENT | PTE_WRITE)) !== (PTE_PRESENT | PTE_WRITE))
      sim.note(cpu, "store_via_stale_tlb", vpn, frame, true);
    return val;
  }
  const have = fr.content[idx]!;
  if (sim.m.modelTrace) traceLoad(th, vpn, word, have, frame, exp !== null ? exp[sidx]! : -1);
  if (exp !== null) {
    const e = exp[sidx]!;
    if (e >= 0 && have !== e) {
      // who: the loader, the CPU whose store was lost, and the CPU that last replaced the page
      const storer = mm.lastStoreCpu![sidx]!;
      const copier = sim.lastEventCpu("wp_page_copy:install", vpn);
      const cpus = [cpu];
      for (const c of [storer, copier]) if (c >= 0 && !cpus.includes(c)) cpus.push(c);
      sim.finding(
        "lost_update",
        cpus,
        [vpn],
        `load at ${hex(vpn)} word ${word} on cpu${cpu} read ${have}; the last store (cpu${storer}) wrote ${e}` +
          (copier >= 0 ? `; cpu${copier} last replaced the page (wp_page_copy)` : ""),
        { mm: mm.id, word, expected: e, found: have, frame, storeCpu: storer, copyCpu: copier },
      );
    }
  }
  return have;
}

/** A system call: kernel entry, the call, exit_to_user_mode (which honours need_resched). */
function* syscall<T>(th: MmThread, body: KGen<T>): KGen<T> {
  const task = th.k.task;
  task.inUser = false;
  const r = yield* body;
  task.inUser = true;
  if (th.k.cpu.needResched || th.k.cpu.needReschedLazy) {
    if (th.cost > 0) yield th.timed ? th.charge() : 0;
    yield RET_TO_USER;
  }
  return r;
}

/** The calls a user program makes (each a generator to run with yield*). */
export const sys = {
  mmap: (th: MmThread, npages: number, o?: MmapOpts) =>
    syscall(th, traced(th, "do_mmap", do_mmap(th, npages, o))),
  munmap: (th: MmThread, start: number, npages: number) =>
    syscall(th, traced(th, "do_vmi_munmap", do_munmap(th, start, npages))),
  mprotect: (th: MmThread, start: number, npages: number, prot: number) =>
    syscall(th, traced(th, "do_mprotect_pkey", do_mprotect(th, start, npages, prot))),
  madvise: (th: MmThread, start: number, npages: number, advice: number) =>
    syscall(th, traced(th, "do_madvise", do_madvise(th, start, npages, advice))),
  mremap: (th: MmThread, old: number, npages: number, flags = 0) =>
    syscall(th, traced(th, "do_mremap", do_mremap(th, old, npages, flags))),
  brk: (th: MmThread, end: number) => syscall(th, traced(th, "do_brk_flags", do_brk(th, end))),
  mbind: (th: MmThread, start: number, npages: number, mode: number) =>
    syscall(th, traced(th, "do_mbind", do_mbind(th, start, npages, mode))),
  fork: (th: MmThread) => syscall(th, traced(th, "dup_mmap", dup_mmap(th, th.mm))),
  exit_mmap: (th: MmThread, mm: MmStruct) => syscall(th, traced(th, "exit_mmap", exit_mmap(th, mm))),
};

// ---------------------------------------------------------------- generator-free hot path

/** ua() result: a fast-path fault waits for its CPU time: `yield th.charge()`, then uaComplete(th). */
export const UA_PENDING = -2;
/** ua() result: continue with `yield* uaSlow(th)` (the request is saved in the thread). */
export const UA_SLOW = -3;

interface UaState {
  vpn: number;
  word: number;
  write: boolean;
  /** User time not yet added to th.cost (0 once committed). */
  think: number;
  /** The fast fault attempt failed after taking effect: resume with fault_after_vma_lock. */
  resume: boolean;
  t0: number;
  v: import("./types.js").Vma | null;
}

function uaState(th: MmThread): UaState {
  let s = (th as unknown as { ua?: UaState }).ua;
  if (s === undefined) {
    s = { vpn: 0, word: 0, write: false, think: 0, resume: false, t0: 0, v: null };
    (th as unknown as { ua?: UaState }).ua = s;
  }
  return s;
}

/**
 * The same access as user_access without creating a generator when the timed driver needs no
 * yield, or needs exactly one for a fast-path fault. Use it as
 * `let r = ua(th, vpn, word, write, think);` then, while `r <= UA_PENDING`: on UA_PENDING
 * `yield th.charge(); r = uaComplete(th);`, else `r = yield* uaSlow(th);`.
 * The explore driver always goes through user_access.
 */
export function ua(th: MmThread, vpn: number, word: number, write: boolean, thinkNs = 0): number {
  const s = uaState(th);
  s.vpn = vpn;
  s.word = word;
  s.write = write;
  s.think = thinkNs;
  s.resume = false;
  const sim = th.sim;
  const k = th.k;
  const c = k.cpu;
  if (!th.timed || sim.m.footprint !== null || c.needResched || c.needReschedLazy) return UA_SLOW;
  const mm = th.mm;
  const cpu = c.id;
  const pte = sim.tlbs.lookup(cpu, mm.id, vpn);
  if (pte !== 0 && (!write || pte & PTE_WRITE)) {
    if (th.cost + thinkNs > 0) return UA_SLOW; // a time point before the access: user_access yields
    k.task.inUser = true;
    return access(th, mm, vpn, word, write, pte >>> 3);
  }
  if (vpn < 0 || vpn >= mm.vaPages || !sim.sw.perVmaLock || sim.inject !== null) return UA_SLOW;
  // committed from here on
  s.think = 0;
  th.cost += thinkNs + sim.costs.pageWalkNs;
  k.task.inUser = true;
  const p = mm.pte[vpn]!;
  if (p & PTE_PRESENT && (!write || p & PTE_WRITE)) {
    sim.tlbs.fill(cpu, mm.id, vpn, p);
    mm.cpumask[cpu] = 1;
    return access(th, mm, vpn, word, write, p >>> 3);
  }
  k.task.inUser = false;
  s.t0 = sim.m.now + th.cost;
  const v = fault_fast_try(th, vpn, write);
  s.v = v;
  if (v !== null) return th.cost > 0 ? UA_PENDING : uaComplete(th);
  s.resume = true;
  return UA_SLOW;
}

/** After the fast fault's CPU time has been charged: end it and perform the access. */
export function uaComplete(th: MmThread): number {
  const s = uaState(th);
  const sim = th.sim;
  fault_fast_finish(th, s.v!, s.vpn);
  s.v = null;
  th.k.task.inUser = true;
  if (th.measure && sim.faultLat !== null) sim.faultLat.record(sim.m.now + th.cost - s.t0);
  sliceSince(th, "do_user_addr_fault", s.t0, hex(s.vpn));
  const mm = th.mm;
  const p = mm.pte[s.vpn]!;
  if (p & PTE_PRESENT && (!s.write || p & PTE_WRITE)) {
    th.cost += sim.costs.pageWalkNs;
    sim.tlbs.fill(th.cpu, mm.id, s.vpn, p);
    mm.cpumask[th.cpu] = 1;
    return access(th, mm, s.vpn, s.word, s.write, p >>> 3);
  }
  return UA_SLOW; // changed meanwhile: the generator path faults again
}

/** The generator path of ua() (slow cases, the explore driver). */
export function* uaSlow(th: MmThread): KGen<number> {
  const s = uaState(th);
  if (s.resume) {
    s.resume = false;
    const r = yield* fault_after_vma_lock(th, s.vpn, s.write, th.fastVma);
    th.k.task.inUser = true;
    const sim = th.sim;
    if (th.measure && sim.faultLat !== null) sim.faultLat.record(sim.m.now + th.cost - s.t0);
    sliceSince(th, "do_user_addr_fault", s.t0, hex(s.vpn));
    if (r === FAULT_SEGV) return SEGV;
  }
  const think = s.think;
  s.think = 0;
  return yield* user_access(th, s.vpn, s.word, s.write, think);
}
