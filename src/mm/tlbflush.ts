// TLB flushes (arch/x86/mm/tlb.c flush_tlb_mm_range / native_flush_tlb_multi / flush_tlb_func):
// local invalidation plus shootdown IPIs to the other CPUs in mm_cpumask, waited for by the
// initiator. Two models: "atomic" (default; the remote entries are gone in the same step and the
// initiator is charged tlbFlushIpiNs) and "ipi" (timed driver: engine IPIs, each remote CPU flushes
// in its interrupt handler, the initiator spins until every one has acknowledged).

import { type KGen, SPIN } from "../sim/effects.js";
import type { Ctx } from "../sim/task.js";
import type { MmThread } from "./thread.js";
import { TLB_SINGLE_PAGE_FLUSH_CEILING } from "./tlb.js";
import { instant, traced } from "./trace.js";
import type { MmStruct } from "./types.js";
import { VM } from "./vmstat.js";

const FLUSH_MM = -1;

/** Invalidate on one CPU: one page, a range [vpn, end), or the whole mm (vpn = FLUSH_MM). */
function flushOn(th: MmThread, cpu: number, mm: MmStruct, vpn: number, end: number): void {
  const t = th.sim.tlbs;
  if (vpn === FLUSH_MM) t.flushMm(cpu, mm.id);
  else for (let v = vpn; v < end; v++) t.flushOne(cpu, mm.id, v);
}

/** Local flush, then the remote CPUs of mm_cpumask (atomically, or by IPIs and a wait). */
function* shootdown(th: MmThread, mm: MmStruct, vpn: number, end: number): KGen<void> {
  const sim = th.sim;
  const self = th.cpu;
  const all = vpn === FLUSH_MM;
  const pages = all ? 0 : end - vpn;
  const mask = mm.cpumask;
  sim.count(all ? VM.NR_TLB_LOCAL_FLUSH_ALL : VM.NR_TLB_LOCAL_FLUSH_ONE, all ? 1 : pages);
  th.cost += sim.costs.tlbFlushLocalNs * (all ? 1 : pages);
  flushOn(th, self, mm, vpn, end);
  let remote = 0;
  for (let c = 0; c < mask.length; c++) if (mask[c] && c !== self) remote++;
  if (remote === 0) return;
  sim.count(VM.NR_TLB_REMOTE_FLUSH);
  sim.count(VM.NR_TLB_REMOTE_FLUSH_RECEIVED, remote);
  if (!sim.ipiShootdown || !th.timed) {
    instant(th, "native_flush_tlb_multi", `${remote} remote CPUs (atomic shootdown)`, remote);
    for (let c = 0; c < mask.length; c++) if (mask[c] && c !== self) flushOn(th, c, mm, vpn, end);
    th.cost += sim.costs.tlbFlushIpiNs;
    return;
  }
  // native_flush_tlb_multi: send the IPIs, wait (spinning, interrupts on) for every flush_tlb_func
  const m = sim.m;
  const k: Ctx = th.k;
  if (th.cost > 0) yield th.charge();
  let pending = remote;
  const perCpuNs = sim.costs.tlbFlushLocalNs * (all ? 1 : pages);
  for (let c = 0; c < mask.length; c++) {
    if (!mask[c] || c === self) continue;
    const cpu = c;
    function* flush_tlb_func(): KGen<void> {
      yield perCpuNs;
      flushOn(th, cpu, mm, vpn, end);
      if (--pending === 0) m.kickSpinner(k);
    }
    m.sendIpi(cpu, "TLB", (hk) => hk.call("flush_tlb_func", flush_tlb_func()));
  }
  for (let guard = 0; pending > 0; guard++) {
    if (guard > 1_000_000) throw new Error("TLB shootdown: acknowledgements never came");
    yield SPIN;
  }
}

/** flush_tlb_page / ptep_clear_flush (arch/x86/mm/tlb.c flush_tlb_mm_range, mm/pgtable-generic.c) */
export function* flush_tlb_page(th: MmThread, mm: MmStruct, vpn: number): KGen<void> {
  th.sim.note(th.cpu, "flush_tlb_page", vpn);
  yield* traced(th, "flush_tlb_page", shootdown(th, mm, vpn, vpn + 1));
}

/** flush_tlb_mm (arch/x86/mm/tlb.c): every entry of the mm on every CPU of mm_cpumask. */
export function* flush_tlb_mm(th: MmThread, mm: MmStruct): KGen<void> {
  th.sim.note(th.cpu, "flush_tlb_mm", 0, mm.id);
  yield* traced(th, "flush_tlb_mm", shootdown(th, mm, FLUSH_MM, 0));
}

/** flush_tlb_range (arch/x86/mm/tlb.c): per page up to tlb_single_page_flush_ceiling, else the whole mm. */
export function* flush_tlb_range(th: MmThread, mm: MmStruct, start: number, end: number): KGen<void> {
  if (end - start > TLB_SINGLE_PAGE_FLUSH_CEILING) {
    yield* flush_tlb_mm(th, mm);
    return;
  }
  th.sim.note(th.cpu, "flush_tlb_range", start, end - start);
  yield* traced(th, "flush_tlb_range", shootdown(th, mm, start, end));
}
