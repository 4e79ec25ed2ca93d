// User-mode memory accesses through the CPU's TLB, and the system-call entry points user programs
// (src/workloads) use. Every access is one yield point; a TLB miss walks the page table, and a
// missing or insufficient PTE raises a page fault (do_user_addr_fault), after which the access is
// re-executed. Every store writes a fresh value; loads are checked against the shadow (invariant 4,
// src/mm/oracle.ts userStore / userLoad).
import { type Effect, type KGen, RET_TO_USER } from "../sim/effects.js";
import { do_user_addr_fault, FAULT_SEGV, FAULT_STAGED, faultFast, faultResume } from "./fault.js";
import { dup_mmap, exit_mmap } from "./fork.js";
import { do_mbind } from "./mempolicy.js";
import { do_brk, do_madvise, do_mmap, do_mprotect, do_mremap, do_munmap, type MmapOpts } from "./syscalls.js";
import { fastPath, type MmThread, yp } from "./thread.js";
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
  // exit_to_user_mode: honour need_resched (tasks sharing a CPU are preempted here under NONE)
  if (th.k.cpu.needResched || th.k.cpu.needReschedLazy) yield RET_TO_USER;
  th.k.task.inUser = true;
  for (let tries = 0; ; tries++) {
    const r = uaTry(th, vpn, word, write, tries);
    if (r !== UA_FAULT) return r;
    const c = faultCall(th, vpn, write);
    if (uaFaultDone(th, vpn, typeof c === "number" ? c : ((yield c) as number))) return SEGV;
  }
}

/**
 * do_user_addr_fault() entered from a user-access loop, started here so that a fault that yields
 * nowhere costs the loop no yield: its fault flags when it ended at once, otherwise the effect to
 * yield for the rest of it (Ctx.subcallFrom), whose resume gives the flags:
 * `const c = faultCall(th, vpn, write); const flags = typeof c === "number" ? c : ((yield c) as number);`
 * With fast paths on, the per-VMA attempt runs as faultFast, without a generator, and only a fault
 * with a step for the CPU loop makes one (faultResume, from that step on).
 */
export function faultCall(th: MmThread, vpn: number, write: boolean): number | Effect {
  const r = faultFast(th, vpn, write);
  if (r >= 0) return r;
  const g = r === FAULT_STAGED ? faultResume(th, vpn, write) : do_user_addr_fault(th, vpn, write);
  const f = g.next();
  return f.done ? f.value : th.k.subcallFrom(g, f);
}

/**
 * One try of an access (the loop of user_access), without a generator: the TLB, on a miss the
 * hardware page walk, then the access; or, when the PTE is missing or insufficient, the fault's
 * entry from user mode (the task leaves user mode, the fault's start time is kept) and UA_FAULT:
 * the caller runs `yield* do_user_addr_fault(th, vpn, write)` and hands its result to uaFaultDone.
 */
function uaTry(th: MmThread, vpn: number, word: number, write: boolean, tries: number): number {
  return uaTryAfter(th, vpn, word, write, tries, th.sim.tlbs.lookup(th.cpu, th.mm.id, vpn));
}

/** uaTry after its TLB lookup (`pte`, 0 on a miss): the page walk on a miss, the access or the fault. */
function uaTryAfter(
  th: MmThread,
  vpn: number,
  word: number,
  write: boolean,
  tries: number,
  tlbPte: number,
): number {
  const sim = th.sim;
  const mm = th.mm;
  const cpu = th.cpu;
  let pte = tlbPte;
  if (pte === 0 || (write && !(pte & PTE_WRITE))) {
    // TLB miss (or a read-only entry for a store): hardware page walk
    th.cost += sim.costs.pageWalkNs;
    const p = vpn >= 0 && vpn < mm.vaPages ? mm.pteGet(vpn) : 0;
    if (p & PTE_PRESENT && (!write || p & PTE_WRITE)) {
      // tlbPte 0: the lookup just before missed in every level (nothing ran since)
      if (tlbPte === 0) sim.tlbs.fillMissed(cpu, mm.id, vpn, p);
      else sim.tlbs.fill(cpu, mm.id, vpn, p);
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
      th.k.task.inUser = false;
      th.uaReq.t0 = sim.m.now + th.cost;
      return UA_FAULT;
    }
  }
  return access(th, mm, vpn, word, write, pte >>> 3);
}

/** Back from do_user_addr_fault (result `r`) to user mode: the fault's latency; true on SIGSEGV. */
function uaFaultDone(th: MmThread, vpn: number, r: number): boolean {
  const sim = th.sim;
  th.k.task.inUser = true;
  const t0 = th.uaReq.t0;
  if (th.measure && sim.faultLat !== null) sim.faultLat.record(sim.m.now + th.cost - t0);
  if (sim.m.modelTrace) sliceSince(th, "do_user_addr_fault", t0, hex(vpn));
  return r === FAULT_SEGV;
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
  if (fr.isFree(frame)) {
    sim.oracle.userAccess(th, vpn, frame, write); // invariant 7
    return write ? 0 : SEGV;
  }
  if (write) {
    const val = sim.nextValue++;
    fr.store(frame, word, val);
    if (sim.m.modelTrace) traceStore(th, vpn, word, val, frame);
    sim.oracle.userStore(th, mm, vpn, word, val); // invariant 4's shadow
    // a store through a TLB entry the page table no longer backs (write-protected or replaced): a
    // diagnostic note for the findings' steps, not the model's behaviour (the raw PTE, unrecorded)
    const cur = mm.pte[vpn]!;
    if (cur >>> 3 !== frame || (cur & (PTE_PRESENT | PTE_WRITE)) !== (PTE_PRESENT | PTE_WRITE))
      sim.note(th.cpu, "store_via_stale_tlb", vpn, frame, true);
    return val;
  }
  const have = fr.load(frame, word);
  if (sim.m.modelTrace) {
    const exp = mm.expected;
    traceLoad(th, vpn, word, have, frame, exp !== null ? exp[vpn * sim.words + word]! : -1);
  }
  sim.oracle.userLoad(th, mm, vpn, word, have, frame); // invariant 4
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

// ---------------------------------------------------------------- generator-free user accesses

/** ua() result: the access needs the generator path, `yield* uaSlow(th)` (the request is saved in the thread). */
export const UA_SLOW = -3;
/** ua() / uaFaulted() result: the access faults; run `yield* do_user_addr_fault(th, vpn, write)`, then uaFaulted. */
export const UA_FAULT = -4;

/**
 * The same access as user_access without its generator, when user_access would yield nowhere
 * before its fault (timed driver, fast paths on): a TLB hit with no CPU time pending, a TLB miss
 * the hardware page walk serves, or the first try of an access that faults (UA_FAULT: user_access's
 * steps up to do_user_addr_fault are done, and the caller enters do_user_addr_fault itself, so the
 * fault's yields resume through one generator level less). Any other access (time to charge
 * first, a pending reschedule, the explore driver) returns UA_SLOW having changed nothing, and runs
 * as user_access. Every fault enters do_user_addr_fault. Use it as
 * ```
 * let r = ua(th, vpn, word, write, think);
 * while (r === UA_FAULT) {
 *   const c = faultCall(th, vpn, write);
 *   r = uaFaulted(th, typeof c === "number" ? c : ((yield c) as number));
 * }
 * if (r === UA_SLOW) r = yield* uaSlow(th);
 * ```
 */
export function ua(th: MmThread, vpn: number, word: number, write: boolean, thinkNs = 0): number {
  const s = th.uaReq;
  s.vpn = vpn;
  s.word = word;
  s.write = write;
  s.think = thinkNs;
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
  // a TLB miss: user_access yields nowhere before its first try
  if (!fastPath(th)) {
    // the hardware page walk serves it (the fault path itself stays in user_access)
    if (vpn < 0 || vpn >= mm.vaPages) return UA_SLOW;
    const p = mm.pteGet(vpn);
    if (!(p & PTE_PRESENT && (!write || p & PTE_WRITE))) return UA_SLOW; // a fault
  }
  th.cost += thinkNs;
  k.task.inUser = true;
  s.tries = 0;
  // user_access's first try; its TLB lookup is the one above (nothing has run since)
  return uaTryAfter(th, vpn, word, write, 0, pte);
}

/**
 * After `yield* do_user_addr_fault` for a UA_FAULT of ua(): back to user mode, then the access's
 * next try (user_access's loop): its value, SEGV, or UA_FAULT again.
 */
export function uaFaulted(th: MmThread, r: number): number {
  const s = th.uaReq;
  if (uaFaultDone(th, s.vpn, r)) return SEGV;
  return uaTry(th, s.vpn, s.word, s.write, ++s.tries);
}

/** The generator path of ua(): user_access with the saved request. */
export function uaSlow(th: MmThread): KGen<number> {
  const s = th.uaReq;
  return user_access(th, s.vpn, s.word, s.write, s.think);
}
