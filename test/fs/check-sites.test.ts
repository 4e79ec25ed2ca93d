// Every writeback lock site, switched off, gives its finding in the explore driver; with the lock
// the same search finds nothing. The searches are bounded by schedules (budget), not by time.
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/checker.js";
import { type IomapCheckConfig, iomapCheckTarget } from "../../src/check/iomap.js";

function search(c: IomapCheckConfig, strategy: "random" | "pct", budget: number) {
  return check(iomapCheckTarget(c), { strategy, budget, timeS: 1e12 });
}

describe("page_wait_table: folio_wait_bit_common and folio_wake_bit", () => {
  const base = { variant: "5.17", pages: 16, fsyncers: 1 };
  it("with both locks, 300 random and 300 PCT schedules find nothing", () => {
    for (const strategy of ["random", "pct"] as const) {
      const r = search(base, strategy, 300);
      expect(r.verdict).toBe("no violation found");
      expect(r.schedules).toBe(300);
    }
  });
  for (const site of ["folio_wait_bit_common:spin_lock_irq", "folio_wake_bit:spin_lock_irqsave"]) {
    it(`without ${site}: the waiter queues itself after the waker walked the queue (lost wake-up)`, () => {
      const r = search({ ...base, disableLockSites: [site] }, "random", 300);
      expect(r.verdict).toBe("violation");
      const f = r.counterexample!.finding;
      expect(f.kind).toBe("lost_wakeup");
      expect(f.message).toMatch(
        /sleeps in folio_wait_writeback on folio \d+ of inode \d+ although PG_writeback is clear/,
      );
      // the shrunk schedule has the waiter's two steps with the completion's walk between them
      expect(r.counterexample!.labels.join(" ")).toContain(
        "folio_wait_bit_common:__add_wait_queue_entry_tail",
      );
    });
  }
});
