// TLB flushes (arch/x86/mm/tlb.c): local invalidation plus shootdown IPIs to the other CPUs in
// mm_cpumask, waited for by the initiator (flush_tlb_mm_range). Modelled as one atomic step: the
// remote CPUs' entries are gone when the initiator continues; the cost is charged to the initiator.
import { type MmThread, touch, tracing } from "./thread.js";
import { TLB_SINGLE_PAGE_FLUSH_CEILING } from "./tlb.js";
import type { MmStruct } from "./types.js";
import { VM } from "./vmstat.js";

function flushCost(th: MmThread, mm: MmStruct, all: boolean, pages: number): void {
  const sim = th.sim;
  const self = th.cpu;
  let remote = 0;
  const mask = mm.cpumask;
  for (let c = 0; c < mask.length; c++) if (mask[c] && c !== self) remote++;
  sim.count(all ? VM.NR_TLB_LOCAL_FLUSH_ALL : VM.NR_TLB_LOCAL_FLUSH_ONE, all ? 1 : pages);
  th.cost += sim.costs.tlbFlushLocalNs * (all ? 1 : pages);
  if (remote > 0) {
    sim.count(VM.NR_TLB_REMOTE_FLUSH);
    sim.count(VM.NR_TLB_REMOTE_FLUSH_RECEIVED, remote);
    th.cost += sim.costs.tlbFlushIpiNs;
  }
}

/** flush_tlb_page / ptep_clear_flush (arch/x86/mm/tlb.c flush_tlb_mm_range, mm/pgtable-generic.c) */
export function flush_tlb_page(th: MmThread, mm: MmStruct, vpn: number): void {
  if (tracing(th)) touch(th, `pte:${mm.id}:${vpn}`, true);
  const t = th.sim.tlbs;
  const mask = mm.cpumask;
  for (let c = 0; c < mask.length; c++) if (mask[c]) t.flushOne(c, mm.id, vpn);
  flushCost(th, mm, false, 1);
  th.sim.note(th.cpu, "flush_tlb_page", vpn);
}

/** flush_tlb_mm (arch/x86/mm/tlb.c): every entry of the mm on every CPU of mm_cpumask. */
export function flush_tlb_mm(th: MmThread, mm: MmStruct): void {
  touch(th, `tlbmm:${mm.id}`, true);
  const t = th.sim.tlbs;
  const mask = mm.cpumask;
  for (let c = 0; c < mask.length; c++) if (mask[c]) t.flushMm(c, mm.id);
  flushCost(th, mm, true, 0);
  th.sim.note(th.cpu, "flush_tlb_mm", 0, mm.id);
}

/** flush_tlb_range (arch/x86/mm/tlb.c): per page up to tlb_single_page_flush_ceiling, else the whole mm. */
export function flush_tlb_range(th: MmThread, mm: MmStruct, start: number, end: number): void {
  if (end - start > TLB_SINGLE_PAGE_FLUSH_CEILING) {
    flush_tlb_mm(th, mm);
    return;
  }
  if (tracing(th)) touch(th, `tlbmm:${mm.id}`, true);
  const t = th.sim.tlbs;
  const mask = mm.cpumask;
  for (let c = 0; c < mask.length; c++)
    if (mask[c]) for (let vpn = start; vpn < end; vpn++) t.flushOne(c, mm.id, vpn);
  flushCost(th, mm, false, end - start);
  th.sim.note(th.cpu, "flush_tlb_range", start, end - start);
}
