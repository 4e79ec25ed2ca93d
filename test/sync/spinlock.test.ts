// Spinlocks: mutual exclusion, FIFO hand-off, irqsave/bh flavours, trylock, lock_stat, disabled sites,
// and the cache-line cost model.
import { describe, expect, it } from "vitest";
import { BLOCK_SOFTIRQ, type Ctx, type KGen, Machine, type MachineConfig } from "../../src/sim/index.js";
import {
  CacheLine,
  formatLockStat,
  lockStats,
  SpinLock,
  spin_lock,
  spin_lock_bh,
  spin_lock_irq,
  spin_lock_irqsave,
  spin_trylock,
  spin_unlock,
  spin_unlock_bh,
  spin_unlock_irq,
  spin_unlock_irqrestore,
} from "../../src/sync/index.js";

const US = 1_000;
const MS = 1_000_000;

function machine(over: Partial<MachineConfig> = {}): Machine {
  return new Machine({
    cpus: 4,
    jitter: 0,
    watchdogThreshS: 0,
    hungTaskTimeoutS: 0,
    wqWatchdogThreshS: 0,
    ...over,
  });
}

describe("spin_lock / spin_unlock", () => {
  it("mutual exclusion across 4 CPUs; preemption disabled while held", () => {
    const m = machine();
    const lock = new SpinLock("test_lock");
    let inside = 0;
    let maxInside = 0;
    let total = 0;
    for (let cpu = 0; cpu < 4; cpu++) {
      m.createTask(`t${cpu}`, cpu, function* (k) {
        for (let i = 0; i < 50; i++) {
          yield* spin_lock(k, lock, "test:lock");
          expect(k.cpu.preemptCount).toBe(1);
          inside++;
          maxInside = Math.max(maxInside, inside);
          yield 1 * US;
          total++;
          inside--;
          yield* spin_unlock(k, lock);
          expect(k.cpu.preemptCount).toBe(0);
          yield 300;
        }
      });
    }
    m.run(1000 * MS);
    expect(total).toBe(200);
    expect(maxInside).toBe(1);
    expect(lock.locked).toBe(false);
    expect(lock.waiters).toEqual([]);
    const row = lockStats(m)
      .rows()
      .find((r) => r.class === "test_lock")!;
    expect(row.acquisitions).toBe(200);
    expect(row.contentions).toBeGreaterThan(0);
    expect(row["waittime-max"]).toBeGreaterThan(0);
    expect(row["holdtime-min"]).toBeGreaterThanOrEqual(1 * US);
  });

  it("scales to 256 CPUs contending one lock", () => {
    const m = machine({ cpus: 256 });
    const lock = new SpinLock("big_lock");
    let inside = 0;
    let total = 0;
    for (let cpu = 0; cpu < 256; cpu++)
      m.createTask(`t${cpu}`, cpu, function* (k) {
        for (let i = 0; i < 5; i++) {
          yield* spin_lock(k, lock, "big");
          inside++;
          expect(inside).toBe(1);
          yield 500;
          total++;
          inside--;
          yield* spin_unlock(k, lock);
          yield 10 * US;
        }
      });
    m.run(1000 * MS);
    expect(total).toBe(1280);
    expect(lock.locked).toBe(false);
    expect(lockStats(m).get("big_lock").contentions).toBeGreaterThan(500);
  });

  it("hands the lock over to spinning waiters in FIFO order", () => {
    const m = machine();
    const lock = new SpinLock("fifo_lock");
    const order: number[] = [];
    m.createTask("holder", 0, function* (k) {
      yield* spin_lock(k, lock, "holder");
      yield 1 * MS;
      yield* spin_unlock(k, lock);
    });
    for (const [cpu, delay] of [
      [3, 100],
      [1, 200],
      [2, 300],
    ] as const) {
      m.createTask(`w${cpu}`, cpu, function* (k) {
        yield delay * US;
        yield* spin_lock(k, lock, `waiter${cpu}`);
        order.push(cpu);
        yield 10 * US;
        yield* spin_unlock(k, lock);
      });
    }
    m.run(10 * MS);
    expect(order).toEqual([3, 1, 2]);
    const st = lockStats(m).get("fifo_lock");
    expect(st.contentions).toBe(3);
    expect([...st.contendedAt.keys()].sort()).toEqual(["waiter1", "waiter2", "waiter3"]);
  });

  it("spin_trylock fails while held (restoring preempt_count) and succeeds when free", () => {
    const m = machine();
    const lock = new SpinLock("try_lock");
    const got: boolean[] = [];
    m.createTask("holder", 0, function* (k) {
      yield* spin_lock(k, lock, "holder");
      yield 1 * MS;
      yield* spin_unlock(k, lock);
    });
    m.createTask("trier", 1, function* (k) {
      yield 100 * US;
      got.push(yield* spin_trylock(k, lock, "trier"));
      expect(k.cpu.preemptCount).toBe(0);
      yield 2 * MS;
      got.push(yield* spin_trylock(k, lock, "trier"));
      expect(k.cpu.preemptCount).toBe(1);
      yield* spin_unlock(k, lock);
    });
    m.run(10 * MS);
    expect(got).toEqual([false, true]);
  });
});

describe("irqsave, irq and bh flavours", () => {
  it("spin_lock_irqsave keeps irqs off while held; a pending irq is taken at the restore", () => {
    const m = machine({ cpus: 1 });
    const lock = new SpinLock("irq_lock");
    const log: string[] = [];
    m.createTask("t", 0, function* (k) {
      const flags = yield* spin_lock_irqsave(k, lock, "t:irqsave");
      expect(flags).toBe(false);
      expect(k.irqsDisabled()).toBe(true);
      // nested: the inner save sees irqs already off and does not turn them on
      const lock2 = new SpinLock("inner");
      const f2 = yield* spin_lock_irqsave(k, lock2, "t:inner");
      expect(f2).toBe(true);
      yield 1 * MS;
      yield* spin_unlock_irqrestore(k, lock2, f2);
      expect(k.irqsDisabled()).toBe(true);
      log.push(`restore@${k.m.now}`);
      yield* spin_unlock_irqrestore(k, lock, flags);
      log.push(`after@${k.m.now}`);
      expect(k.irqsDisabled()).toBe(false);
      expect(k.cpu.preemptCount).toBe(0);
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        log.push(`irq@${k.m.now}`);
        yield 1;
      },
      500 * US,
    );
    m.run(10 * MS);
    const t = 1 * MS + 1500; // context switch cost at start
    expect(log[0]).toMatch(/^restore@/);
    const restoreAt = Number(log[0]!.split("@")[1]);
    expect(restoreAt).toBeGreaterThanOrEqual(t);
    expect(log[1]).toMatch(/^irq@/);
    expect(Number(log[1]!.split("@")[1])).toBeGreaterThanOrEqual(restoreAt);
    expect(log[2]).toMatch(/^after@/);
  });

  it("spin_lock_irq / spin_unlock_irq", () => {
    const m = machine({ cpus: 1 });
    const lock = new SpinLock("l");
    m.createTask("t", 0, function* (k) {
      yield* spin_lock_irq(k, lock, "t:irq");
      expect([k.irqsDisabled(), k.cpu.preemptCount]).toEqual([true, 1]);
      yield* spin_unlock_irq(k, lock);
      expect([k.irqsDisabled(), k.cpu.preemptCount]).toEqual([false, 0]);
    });
    m.run(1 * MS);
    expect(m.findings).toEqual([]);
  });

  it("spin_lock_bh: softirqs raised meanwhile run at spin_unlock_bh", () => {
    const m = machine({ cpus: 1 });
    const lock = new SpinLock("bh_lock");
    const log: string[] = [];
    m.openSoftirq(BLOCK_SOFTIRQ, function* () {
      log.push(`softirq lockHeld=${lock.locked}`);
      yield 1;
    });
    m.createTask("t", 0, function* (k) {
      yield* spin_lock_bh(k, lock, "t:bh");
      expect(k.cpu.preemptCount).toBe(0x200);
      yield 2 * MS;
      log.push("unlock");
      yield* spin_unlock_bh(k, lock);
      log.push("after");
      expect(k.cpu.preemptCount).toBe(0);
    });
    m.raiseIrq(
      0,
      "dev",
      function* (k) {
        k.m.raiseSoftirq(0, BLOCK_SOFTIRQ);
        yield 1;
      },
      1 * MS,
    );
    m.run(10 * MS);
    expect(log).toEqual(["unlock", "softirq lockHeld=false", "after"]);
  });
});

describe("disabled sites", () => {
  it("skip both the acquisition and the release without crashing; exclusion is gone", () => {
    const m = machine();
    m.disabledSites.add("racy:lock");
    const lock = new SpinLock("racy");
    let inside = 0;
    let maxInside = 0;
    for (let cpu = 0; cpu < 2; cpu++) {
      m.createTask(`t${cpu}`, cpu, function* (k) {
        for (let i = 0; i < 10; i++) {
          yield* spin_lock(k, lock, "racy:lock");
          inside++;
          maxInside = Math.max(maxInside, inside);
          yield 10 * US;
          inside--;
          yield* spin_unlock(k, lock);
        }
      });
    }
    m.run(10 * MS);
    expect(maxInside).toBe(2);
    expect(lock.locked).toBe(false);
    expect(lock.skips).toEqual([]);
    expect(m.cpus.every((c) => c.preemptCount === 0)).toBe(true);
  });

  it("a disabled site and an enabled one on the same lock: only the enabled one excludes", () => {
    const m = machine({ cpus: 1 });
    m.disabledSites.add("off");
    const lock = new SpinLock("mixed");
    m.createTask("t", 0, function* (k) {
      yield* spin_lock(k, lock, "on");
      yield* spin_lock(k, lock, "off"); // would self-deadlock if it were on
      yield* spin_unlock(k, lock); // the skipped one
      expect(lock.owner).toBe(k);
      yield* spin_unlock(k, lock);
      expect(lock.locked).toBe(false);
    });
    m.run(1 * MS);
    expect(m.findings).toEqual([]);
  });
});

describe("lock_stat", () => {
  it("formats rows like /proc/lock_stat", () => {
    const m = machine();
    const lock = new SpinLock("mm->page_table_lock");
    for (let cpu = 0; cpu < 2; cpu++)
      m.createTask(`t${cpu}`, cpu, function* (k) {
        for (let i = 0; i < 5; i++) {
          yield* spin_lock(k, lock, `site${cpu}`);
          yield 2 * US;
          yield* spin_unlock(k, lock);
        }
      });
    m.run(10 * MS);
    const rows = lockStats(m).rows();
    expect(rows.length).toBe(1);
    const r = rows[0]!;
    expect(r.class).toBe("mm->page_table_lock");
    expect(r.acquisitions).toBe(10);
    expect(r["holdtime-total"]).toBeGreaterThanOrEqual(20 * US);
    expect(r["holdtime-avg"]).toBe(Math.round(r["holdtime-total"] / 10));
    const text = formatLockStat(rows);
    expect(text[0]).toBe("lock_stat version 0.4");
    expect(text.at(-1)).toMatch(/^\s+mm->page_table_lock:\s+\d+\s+\d+/);
  });
});

describe("cache-line cost model", () => {
  function ctxOn(m: Machine, cpu: number): Ctx {
    return m.cpus[cpu]!.idle.frame;
  }

  it("a line owned by another CPU costs a transfer; a local one is cheap", () => {
    const m = machine();
    const line = new CacheLine();
    const a = ctxOn(m, 0);
    const b = ctxOn(m, 1);
    const first = line.rmw(a);
    expect(first).toBe(line.costs.atomicRemoteNs); // cold miss
    m.now += 1000;
    expect(line.rmw(a)).toBe(line.costs.atomicLocalNs);
    m.now += 1000;
    expect(line.bouncesFor(b)).toBe(true);
    expect(line.rmw(b)).toBe(line.costs.atomicRemoteNs);
    expect(line.transfers).toBe(1);
    expect(line.read(b)).toBe(1);
    expect(line.read(a)).toBe(line.costs.readRemoteNs);
  });

  it("contended read-modify-writes serialise", () => {
    const m = machine();
    const line = new CacheLine();
    const costs = [0, 1, 2, 3].map((cpu) => line.rmw(ctxOn(m, cpu)));
    const r = line.costs.atomicRemoteNs;
    expect(costs).toEqual([r, 2 * r, 3 * r, 4 * r]);
  });

  it("contended spinlocks cost more than uncontended ones", () => {
    function run(cpus: number): number {
      const m = machine({ cpus });
      const lock = new SpinLock("l");
      for (let c = 0; c < cpus; c++)
        m.createTask(`t${c}`, c, function* (k): KGen<void> {
          for (let i = 0; i < 100; i++) {
            yield* spin_lock(k, lock, "s");
            yield 100;
            yield* spin_unlock(k, lock);
          }
        });
      m.run(100 * MS);
      return m.cpus.reduce((s, c) => s + c.busyNs[0]!, 0) / (cpus * 100);
    }
    expect(run(4)).toBeGreaterThan(run(1) * 1.5);
  });
});
