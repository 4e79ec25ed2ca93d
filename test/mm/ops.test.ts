// Address-space operations run by hand-written user programs: stack growth, mremap, MADV_PAGEOUT
// with swap-in, file-backed faults, userfaultfd, brk, and how each variant takes them.
import { describe, expect, it } from "vitest";
import { mmSwitches } from "../../src/kernels/mm.js";
import {
  MADV_PAGEOUT,
  MmFile,
  MmSimulation,
  type MmThread,
  PROT_READ,
  PROT_WRITE,
  SEGV,
  sys,
  user_access,
} from "../../src/mm/index.js";
import type { KGen } from "../../src/sim/effects.js";

function run(variant: string, prog: (th: MmThread, s: MmSimulation) => KGen<unknown>, cpus = 1) {
  const s = new MmSimulation({
    cpus,
    seed: 1,
    mode: "timed",
    preempt: "none",
    jitter: 0,
    switches: mmSwitches(variant),
    disabledSites: [],
    costs: {},
    wordsPerPage: 4,
    vaPages: 4096,
    latency: true,
  });
  s.spawn("prog", s.mm, 0, (th) => prog(th, s));
  s.m.run(20e6);
  s.m.finish();
  return { s, vm: s.sim.vmstat.toRecord(), findings: s.m.findings };
}

describe("stack expansion", () => {
  const prog = function* (th: MmThread) {
    const st = yield* sys.mmap(th, 4, { at: 1000, growsdown: true });
    expect(st).toBe(1000);
    expect(yield* user_access(th, 1001, 0, true)).toBeGreaterThan(0);
    // below the stack VMA: the fault path grows it (6.4.0 under the read lock, 6.4.3+ under the write lock)
    expect(yield* user_access(th, 996, 0, true)).toBeGreaterThan(0);
    expect(th.mm.findVma(996)!.start).toBe(996);
    // too far below another mapping's guard gap: SIGSEGV
    yield* sys.mmap(th, 4, { at: 900 });
    expect(yield* user_access(th, 904, 0, true)).toBe(SEGV);
  };
  for (const v of ["6.3", "6.4.0", "6.4.3", "6.15"])
    it(`${v}: grows a VM_GROWSDOWN VMA on a fault below it`, () => {
      const r = run(v, prog);
      expect(r.vm.model_stack_expand).toBe(1);
      expect(r.vm.model_segv).toBe(1);
      expect(r.findings).toEqual([]);
    });
});

describe("mremap, brk, mprotect", () => {
  it("moves a populated VMA with its contents", () => {
    const r = run("6.4.3", function* (th) {
      const a = yield* sys.mmap(th, 8);
      for (let i = 0; i < 8; i++) yield* user_access(th, a + i, 1, true);
      const b = yield* sys.mremap(th, a, 8);
      expect(b).toBeGreaterThan(a);
      for (let i = 0; i < 8; i++) expect(yield* user_access(th, b + i, 1, false)).toBeGreaterThan(0);
      expect(yield* user_access(th, a, 1, false)).toBe(SEGV);
    });
    expect(r.findings).toEqual([]);
  });

  it("grows the heap with brk and write-protects with mprotect", () => {
    const r = run("6.15", function* (th) {
      th.mm.brkStart = 2000;
      expect(yield* sys.brk(th, 2004)).toBe(0);
      expect(yield* sys.brk(th, 2010)).toBe(0);
      expect(yield* user_access(th, 2009, 0, true)).toBeGreaterThan(0);
      expect(yield* sys.mprotect(th, 2000, 10, PROT_READ)).toBe(0);
      expect(yield* user_access(th, 2009, 0, true)).toBe(SEGV);
      expect(yield* user_access(th, 2009, 0, false)).toBeGreaterThan(0);
      expect(yield* sys.mprotect(th, 2000, 10, PROT_READ | PROT_WRITE)).toBe(0);
      expect(yield* user_access(th, 2009, 0, true)).toBeGreaterThan(0);
    });
    expect(r.findings).toEqual([]);
    expect(r.vm.model_segv).toBe(1);
  });
});

describe("swap-in (MADV_PAGEOUT)", () => {
  const prog = function* (th: MmThread) {
    const a = yield* sys.mmap(th, 4);
    for (let i = 0; i < 4; i++) yield* user_access(th, a + i, 2, true);
    yield* sys.madvise(th, a, 4, MADV_PAGEOUT);
    for (let i = 0; i < 4; i++) expect(yield* user_access(th, a + i, 2, false)).toBeGreaterThan(0);
  };
  it("6.4: do_swap_page returns VM_FAULT_RETRY under the VMA lock, the retry under mmap_lock swaps in", () => {
    const r = run("6.4.3", prog);
    expect(r.vm.pswpout).toBe(4);
    expect(r.vm.pswpin).toBe(4);
    expect(r.vm.vma_lock_retry).toBe(4);
    expect(r.findings).toEqual([]);
  });
  it("6.15: swap-in completes under the VMA lock", () => {
    const r = run("6.15", prog);
    expect(r.vm.pswpin).toBe(4);
    expect(r.vm.vma_lock_retry).toBe(0);
    expect(r.vm.pgmajfault).toBe(4);
    expect(r.findings).toEqual([]);
  });
});

describe("file-backed and userfaultfd VMAs", () => {
  const fileProg = function* (th: MmThread) {
    const f = new MmFile(1, "data", 16);
    const a = yield* sys.mmap(th, 8, { file: f, shared: true });
    for (let i = 0; i < 8; i++) yield* user_access(th, a + i, 0, false);
    const p = yield* sys.mmap(th, 8, { file: f });
    yield* user_access(th, p, 0, true); // private write: do_cow_fault
  };
  it("6.4 refuses file VMAs in lock_vma_under_rcu (abort); 6.15 handles them under the VMA lock", () => {
    const a = run("6.4.3", fileProg);
    expect(a.vm.vma_lock_abort).toBe(9);
    const b = run("6.15", fileProg);
    expect(b.vm.vma_lock_abort).toBe(0);
    expect(b.vm.vma_lock_success).toBe(9);
    expect(a.findings).toEqual([]);
    expect(b.findings).toEqual([]);
  });

  const uffdProg = function* (th: MmThread) {
    const a = yield* sys.mmap(th, 2, { uffd: true });
    expect(yield* user_access(th, a, 0, false)).toBe(0);
  };
  it("userfaultfd: 6.4 aborts to mmap_lock; 6.15 drops the VMA lock and retries", () => {
    const a = run("6.4.3", uffdProg);
    expect(a.vm.model_uffd_fault).toBe(1);
    expect(a.vm.vma_lock_abort).toBe(1);
    const b = run("6.15", uffdProg);
    expect(b.vm.model_uffd_fault).toBe(1);
    expect(b.vm.vma_lock_retry).toBe(1);
    expect(b.findings).toEqual([]);
  });
});

describe("arm64 access check", () => {
  it("a read of a write-only mapping faults on arm64 and not on x86", () => {
    const prog = function* (th: MmThread) {
      const a = yield* sys.mmap(th, 1, { prot: PROT_WRITE });
      return yield* user_access(th, a, 0, false);
    };
    const s = new MmSimulation({
      cpus: 1,
      seed: 1,
      mode: "timed",
      preempt: "none",
      jitter: 0,
      switches: mmSwitches("6.15", { arch: "arm64" }),
      disabledSites: [],
      costs: {},
      wordsPerPage: 4,
      vaPages: 256,
      latency: false,
    });
    s.spawn("p", s.mm, 0, prog);
    s.m.run(20e6);
    expect(s.sim.vmstat.toRecord().model_segv).toBe(1);
    expect(run("6.15", prog).vm.model_segv).toBe(0);
  });
});
