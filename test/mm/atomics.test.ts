// Atomics per fault on the lock's cache line (src/sync CacheLine counts every RMW): the kernel makes
// two on the uncontended path, one to take the lock after the trap and one to drop it before the
// return to user space; 6.3 on mm->mmap_lock (down_read, up_read), 6.4.x on the separately allocated
// struct vma_lock (down_read_trylock, up_read), 6.15 on vm_refcnt inside the VMA (inc_not_zero, dec).
import { describe, expect, it } from "vitest";
import { runMmScenario } from "../../src/mm/scenario.js";

const PAGES = 256;

function run(variant: string) {
  const r = runMmScenario({
    variant,
    cpus: 1,
    seed: 3,
    workloads: [{ type: "fault-loop", threads: 1, regionSize: 4096 * PAGES, faultsPerThread: PAGES }],
  });
  expect(r.completed).toBe(true);
  expect(r.faults).toBe(PAGES);
  const mm = r.sim.mms[0]!;
  const v = mm.vmas[0]!;
  return {
    mmap: mm.mmap_lock.line.rmws,
    vmaLock: v.vm_lock.line.rmws,
    refcnt: v.refcnt.line.rmws,
    vmaLine: v.line.rmws,
    aborts: r.vmstat.vma_lock_abort,
  };
}

describe("atomics per fault on the lock line, uncontended", () => {
  it("6.3: down_read and up_read of mmap_lock, two per fault", () => {
    const c = run("6.3");
    expect(c.mmap).toBe(2 * PAGES);
    expect(c.vmaLock + c.refcnt).toBe(0);
  });

  for (const variant of ["6.4.0", "6.4.3"])
    it(`${variant}: down_read_trylock and up_read of the VMA lock, two per fault; mmap_lock only for the first`, () => {
      const c = run(variant);
      // 6.4 refuses a VMA without anon_vma before locking it (vma_lock_abort): the first write
      // fault takes mmap_lock and sets anon_vma, every later one stays on the VMA lock
      expect(c.aborts).toBe(1);
      expect(c.mmap).toBe(2);
      expect(c.vmaLock).toBe(2 * (PAGES - 1));
      expect(c.refcnt).toBe(0);
      // the fields faults read (vm_lock_seq) are on another line, never written by a fault
      expect(c.vmaLine).toBe(0);
    });

  it("6.15: refcount inc-not-zero and dec of vm_refcnt, two per fault", () => {
    const c = run("6.15");
    // the first write fault sets anon_vma in vmf_anon_prepare under mmap_read_trylock (6.10+)
    expect(c.aborts).toBe(0);
    expect(c.mmap).toBe(2);
    expect(c.refcnt).toBe(2 * PAGES);
    expect(c.vmaLock).toBe(0);
  });
});

describe("one VMA shared by 8 faulting threads", () => {
  it("both RMWs of every fault move the lock's line: 6.3 on mmap_lock, 6.4.3 on the VMA lock, 6.15 on vm_refcnt", () => {
    const per: Record<string, number> = {};
    for (const variant of ["6.3", "6.4.3", "6.15"]) {
      const r = runMmScenario({
        variant,
        cpus: 8,
        seed: 1,
        workloads: [
          { type: "fault-loop", threads: 8, sharedVma: true, regionSize: 4096 * 512, faultsPerThread: 512 },
        ],
      });
      const mm = r.sim.mms[0]!;
      const v = mm.vmas[0]!;
      per[variant] =
        (variant === "6.3"
          ? mm.mmap_lock.line.transfers
          : variant === "6.4.3"
            ? v.vm_lock.line.transfers
            : v.refcnt.line.transfers) / r.faults;
    }
    // the up_read before the return to user space and the trylock after the next trap are two
    // accesses at two times; other CPUs take the line in between
    for (const variant of ["6.3", "6.4.3", "6.15"]) expect(per[variant]).toBeGreaterThan(1.9);
  });
});
