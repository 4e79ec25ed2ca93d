// Unit tests of the VMA lock designs (per-vma-locks.md §1.3-1.4, §2.2-2.7): D1 rwsem + vm_lock_seq
// + detached (6.4) and D2 vm_refcnt (6.15), driven by two user threads on a timed machine.
import { describe, expect, it } from "vitest";
import { mmSwitches } from "../../src/kernels/mm.js";
import { VM_REFCNT_EXCLUDE_READERS_FLAG as F, MmSimulation, type MmThread } from "../../src/mm/index.js";
import { mmap_write_lock, mmap_write_unlock } from "../../src/mm/locking.js";
import {
  VSR_EAGAIN,
  VSR_FAIL,
  VSR_LOCKED,
  vma_end_read,
  vma_mark_detached,
  vma_start_read,
  vma_start_write,
} from "../../src/mm/vma_lock.js";
import type { KGen } from "../../src/sim/effects.js";

function sim(variant: string) {
  const s = new MmSimulation({
    cpus: 2,
    seed: 1,
    mode: "timed",
    preempt: "none",
    jitter: 0,
    switches: mmSwitches(variant),
    disabledSites: [],
    costs: {},
    wordsPerPage: 4,
    vaPages: 256,
    latency: false,
  });
  const start = s.premap(8);
  const v = s.mm.vmas.find((x) => x.start === start)!;
  return { s, v };
}

for (const variant of ["6.4.3", "6.15"]) {
  describe(`VMA lock, ${variant}`, () => {
    it("a writer waits for the reader, then readers fail until mmap_write_unlock", () => {
      const { s, v } = sim(variant);
      const st = { readLocked: false, writerWaited: false, stamped: false, checked: false, unlocked: false };
      const log: string[] = [];
      function* until(th: MmThread, cond: () => boolean): KGen<void> {
        for (let i = 0; !cond() && i < 10_000; i++) yield* s.m.sleepNs(th.k, 500);
        expect(cond()).toBe(true);
      }
      s.spawn("reader", s.mm, 0, function* (th: MmThread): KGen<void> {
        expect(vma_start_read(th, s.mm, v, "t:read")).toBe(VSR_LOCKED);
        v.readers++;
        st.readLocked = true;
        // the writer is waiting for us: D1 a queued down_write, D2 the exclude-readers flag
        yield* until(th, () =>
          variant === "6.15" ? (v.vm_refcnt & F) !== 0 : v.vm_lock.waitList.length > 0,
        );
        st.writerWaited = true;
        log.push("read-unlock");
        vma_end_read(th, v, VSR_LOCKED);
        yield* until(th, () => st.stamped);
        // V is stamped and mmap_lock is still held for write: read attempts fail
        expect(vma_start_read(th, s.mm, v, "t:read")).toBe(VSR_FAIL);
        st.checked = true;
        yield* until(th, () => st.unlocked);
        expect(vma_start_read(th, s.mm, v, "t:read")).toBe(VSR_LOCKED);
        vma_end_read(th, v, VSR_LOCKED);
        log.push("read-again");
      });
      s.spawn("writer", s.mm, 1, function* (th: MmThread): KGen<void> {
        yield* until(th, () => st.readLocked);
        const h = yield* mmap_write_lock(th, s.mm, "t:mmap_write_lock");
        yield* vma_start_write(th, v, "t:vma_start_write");
        log.push("write-locked");
        if (variant === "6.15") expect(v.vm_refcnt).toBe(1);
        st.stamped = true;
        yield* until(th, () => st.checked);
        yield* mmap_write_unlock(th, s.mm, h);
        st.unlocked = true;
      });
      s.m.run(20e6);
      expect(s.m.findings).toEqual([]);
      expect(st.writerWaited).toBe(true);
      expect(log).toEqual(["read-unlock", "write-locked", "read-again"]);
    });

    it("a detached VMA: D1 flag (lock_vma_under_rcu counts a miss), D2 refcount 0 (EAGAIN)", () => {
      const { s, v } = sim(variant);
      s.spawn("w", s.mm, 0, function* (th: MmThread): KGen<void> {
        const h = yield* mmap_write_lock(th, s.mm, "t:mmap_write_lock");
        yield* vma_start_write(th, v, "t:vma_start_write");
        yield* vma_mark_detached(th, v);
        yield* mmap_write_unlock(th, s.mm, h);
        if (variant === "6.15") {
          expect(v.vm_refcnt).toBe(0);
          expect(vma_start_read(th, s.mm, v, "t:read")).toBe(VSR_EAGAIN);
        } else {
          expect(v.detached).toBe(true);
          // D1: the lock itself succeeds; the caller's detached check turns it into a miss
          expect(vma_start_read(th, s.mm, v, "t:read")).toBe(VSR_LOCKED);
          vma_end_read(th, v, VSR_LOCKED);
        }
      });
      s.m.run(20e6);
      expect(s.m.findings).toEqual([]);
    });

    it("vma_start_write without mmap_lock held for write is a finding (invariant 2)", () => {
      const { s, v } = sim(variant);
      s.spawn("w", s.mm, 0, function* (th: MmThread): KGen<void> {
        yield* vma_start_write(th, v, "t:vma_start_write");
      });
      s.m.run(20e6);
      expect(s.m.findings.map((f) => f.kind)).toEqual(["vma_write_lock_without_mmap_write_lock"]);
    });
  });
}

describe("D2 refcount states", () => {
  it("readers raise vm_refcnt; a writer excludes them with the flag while it waits", () => {
    const { s, v } = sim("6.15");
    let seenWaiting = 0;
    let locked = false;
    s.spawn("reader", s.mm, 0, function* (th: MmThread): KGen<void> {
      expect(vma_start_read(th, s.mm, v, "t:read")).toBe(VSR_LOCKED);
      expect(v.vm_refcnt).toBe(2);
      locked = true;
      for (let i = 0; (v.vm_refcnt & F) === 0 && i < 10_000; i++) yield* s.m.sleepNs(th.k, 500);
      seenWaiting = v.vm_refcnt;
      vma_end_read(th, v, VSR_LOCKED);
    });
    s.spawn("writer", s.mm, 1, function* (th: MmThread): KGen<void> {
      for (let i = 0; !locked && i < 10_000; i++) yield* s.m.sleepNs(th.k, 500);
      const h = yield* mmap_write_lock(th, s.mm, "t:mmap_write_lock");
      yield* vma_start_write(th, v, "t:vma_start_write");
      expect(v.vm_refcnt).toBe(1);
      yield* mmap_write_unlock(th, s.mm, h);
    });
    s.m.run(20e6);
    expect(seenWaiting).toBe(F + 2);
    expect(s.m.findings).toEqual([]);
  });
});
