// Per-CPU TLBs: direct-mapped, tagged by mm id (as with PCIDs), holding the PTE value a walk found.
// Entries stay until a flush invalidates them: a PTE write-protected without a flush leaves a stale
// writable entry behind (arch/x86/mm/tlb.c semantics at the granularity the model needs).

export const TLB_ENTRIES = 64;
const TLB_MASK = TLB_ENTRIES - 1;
/** Above this many pages a range flush becomes a full flush (tlb_single_page_flush_ceiling). */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

export class Tlbs {
  /** mm id + 1 of each entry (0 = invalid). */
  readonly mm: Int32Array;
  readonly vpn: Int32Array;
  readonly pte: Int32Array;

  constructor(readonly ncpu: number) {
    this.mm = new Int32Array(ncpu * TLB_ENTRIES);
    this.vpn = new Int32Array(ncpu * TLB_ENTRIES);
    this.pte = new Int32Array(ncpu * TLB_ENTRIES);
  }

  /** The cached PTE for (mm, vpn) on `cpu`, or 0 on a miss. */
  lookup(cpu: number, mmId: number, vpn: number): number {
    const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
    return this.mm[i] === mmId + 1 && this.vpn[i] === vpn ? this.pte[i]! : 0;
  }

  fill(cpu: number, mmId: number, vpn: number, pte: number): void {
    const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
    this.mm[i] = mmId + 1;
    this.vpn[i] = vpn;
    this.pte[i] = pte;
  }

  /** Invalidate (mm, vpn) on `cpu`; true if an entry was dropped. */
  flushOne(cpu: number, mmId: number, vpn: number): boolean {
    const i = cpu * TLB_ENTRIES + (vpn & TLB_MASK);
    if (this.mm[i] === mmId + 1 && this.vpn[i] === vpn) {
      this.mm[i] = 0;
      return true;
    }
    return false;
  }

  /** Invalidate every entry of `mm` on `cpu`. */
  flushMm(cpu: number, mmId: number): void {
    const base = cpu * TLB_ENTRIES;
    const tag = mmId + 1;
    for (let i = base; i < base + TLB_ENTRIES; i++) if (this.mm[i] === tag) this.mm[i] = 0;
  }
}
