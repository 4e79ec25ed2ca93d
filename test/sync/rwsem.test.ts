// rw-semaphores: shared readers, exclusive writers, the writer-waiting rule, FIFO hand-off, trylock,
// downgrade, lock_stat classes, disabled sites.
import { describe, expect, it } from "vitest";
import { type Ctx, type KGen, Machine, type MachineConfig } from "../../src/sim/index.js";
import {
  down_read,
  down_read_trylock,
  down_write,
  down_write_trylock,
  downgrade_write,
  lockStats,
  RwSemaphore,
  up_read,
  up_write,
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

type Log = string[];

/** A task on `cpu` that starts at `at`, takes `sem` in `mode` and holds it for `holdNs`. */
function user(
  m: Machine,
  log: Log,
  name: string,
  cpu: number,
  at: number,
  mode: "R" | "W",
  holdNs: number,
  sem: RwSemaphore,
): void {
  m.createTask(name, cpu, function* (k) {
    yield at;
    if (mode === "R") yield* down_read(k, sem, `${name}:down_read`);
    else yield* down_write(k, sem, `${name}:down_write`);
    log.push(`${name}+`);
    yield holdNs;
    log.push(`${name}-`);
    if (mode === "R") yield* up_read(k, sem);
    else yield* up_write(k, sem);
  });
}

describe("rwsem", () => {
  it("readers share, a writer excludes everyone", () => {
    const m = machine();
    const sem = new RwSemaphore("mmap_lock");
    const log: Log = [];
    user(m, log, "r1", 0, 0, "R", 1 * MS, sem);
    user(m, log, "r2", 1, 100 * US, "R", 1 * MS, sem);
    user(m, log, "w", 2, 2 * MS, "W", 1 * MS, sem);
    user(m, log, "r3", 3, 2500 * US, "R", 1 * MS, sem);
    m.run(20 * MS);
    expect(log).toEqual(["r1+", "r2+", "r1-", "r2-", "w+", "w-", "r3+", "r3-"]);
    expect(sem.locked).toBe(false);
  });

  it("a waiting writer blocks new readers, and read trylock fails while anyone waits", () => {
    const m = machine();
    const sem = new RwSemaphore("mmap_lock");
    const log: Log = [];
    const tries: [string, boolean][] = [];
    user(m, log, "r1", 0, 0, "R", 2 * MS, sem);
    user(m, log, "w", 1, 500 * US, "W", 1 * MS, sem);
    user(m, log, "r2", 2, 1 * MS, "R", 1 * MS, sem); // arrives while w waits: must queue behind it
    m.createTask("trier", 3, function* (k) {
      yield 1500 * US;
      tries.push(["read-while-writer-waits", yield* down_read_trylock(k, sem, "trier")]);
      tries.push(["write-while-held", yield* down_write_trylock(k, sem, "trier")]);
      yield 10 * MS;
      tries.push(["read-when-free", yield* down_read_trylock(k, sem, "trier")]);
      yield* up_read(k, sem);
      tries.push(["write-when-free", yield* down_write_trylock(k, sem, "trier")]);
      yield* up_write(k, sem);
    });
    m.run(30 * MS);
    expect(log).toEqual(["r1+", "r1-", "w+", "w-", "r2+", "r2-"]);
    expect(tries).toEqual([
      ["read-while-writer-waits", false],
      ["write-while-held", false],
      ["read-when-free", true],
      ["write-when-free", true],
    ]);
  });

  it("read trylock succeeds alongside readers when nobody waits", () => {
    const m = machine();
    const sem = new RwSemaphore("s");
    const got: boolean[] = [];
    user(m, [], "r1", 0, 0, "R", 2 * MS, sem);
    m.createTask("trier", 1, function* (k) {
      yield 100 * US;
      got.push(yield* down_read_trylock(k, sem, "t"));
      expect(sem.readers).toBe(2);
      yield* up_read(k, sem);
    });
    m.run(10 * MS);
    expect(got).toEqual([true]);
  });

  it("hands over FIFO: head writer first, then all queued readers together, writers keep their places", () => {
    const m = machine({ cpus: 6 });
    const sem = new RwSemaphore("s");
    const log: Log = [];
    user(m, log, "w0", 0, 0, "W", 1 * MS, sem);
    user(m, log, "w1", 1, 100 * US, "W", 1 * MS, sem);
    user(m, log, "r1", 2, 200 * US, "R", 1 * MS, sem);
    user(m, log, "w2", 3, 300 * US, "W", 1 * MS, sem);
    user(m, log, "r2", 4, 400 * US, "R", 1 * MS, sem);
    m.run(30 * MS);
    // w0 -> w1 (head) -> r1 and r2 together (rwsem_mark_wake wakes every queued reader) -> w2
    expect(log).toEqual(["w0+", "w0-", "w1+", "w1-", "r1+", "r2+", "r1-", "r2-", "w2+", "w2-"]);
    expect(sem.waitList).toEqual([]);
    const w = lockStats(m).get("s-W");
    const r = lockStats(m).get("s-R");
    expect([w.acquisitions, w.contentions]).toEqual([3, 2]);
    expect([r.acquisitions, r.contentions]).toEqual([2, 2]);
  });

  it("downgrade_write: the writer becomes a reader and queued readers join it", () => {
    const m = machine();
    const sem = new RwSemaphore("s");
    const log: Log = [];
    m.createTask("w", 0, function* (k) {
      yield* down_write(k, sem, "w");
      log.push("w+");
      yield 1 * MS;
      yield* downgrade_write(k, sem);
      log.push("downgraded");
      expect(sem.writer).toBe(null);
      yield 2 * MS;
      log.push("w-");
      yield* up_read(k, sem);
    });
    user(m, log, "r1", 1, 100 * US, "R", 500 * US, sem);
    user(m, log, "w2", 2, 200 * US, "W", 100 * US, sem);
    m.run(20 * MS);
    expect(log).toEqual(["w+", "downgraded", "r1+", "r1-", "w-", "w2+", "w2-"]);
  });

  it("waiters sleep in D state (the CPU goes idle meanwhile)", () => {
    const m = machine({ cpus: 2 });
    const sem = new RwSemaphore("s");
    let stateWhileWaiting = -1;
    user(m, [], "w0", 0, 0, "W", 5 * MS, sem);
    const w1 = m.createTask("w1", 1, function* (k: Ctx): KGen<void> {
      yield 100 * US;
      yield* down_write(k, sem, "w1");
      yield* up_write(k, sem);
    });
    m.at(2 * MS, () => {
      stateWhileWaiting = w1.state;
    });
    m.run(20 * MS);
    expect(stateWhileWaiting).toBe(2); // TASK_UNINTERRUPTIBLE
    expect(m.cpus[1]!.busyNs[0]).toBeLessThan(1 * MS);
  });

  it("up_write by a non-owner is a simulator error", () => {
    const m = machine({ cpus: 1 });
    const sem = new RwSemaphore("s");
    m.createTask("bad", 0, function* (k) {
      yield* up_write(k, sem);
    });
    expect(() => m.run(1 * MS)).toThrow(/up_write\(s\) by a task that does not hold it/);
  });

  it("disabled sites: trylocks succeed, downgrade of a skipped write lock releases as a read", () => {
    const m = machine({ cpus: 1 });
    m.disabledSites.add("off:w");
    m.disabledSites.add("off:try");
    const sem = new RwSemaphore("s");
    const got: boolean[] = [];
    m.createTask("t", 0, function* (k) {
      yield* down_write(k, sem, "off:w");
      expect(sem.locked).toBe(false);
      yield* downgrade_write(k, sem);
      got.push(yield* down_write_trylock(k, sem, "off:try"));
      yield* up_write(k, sem); // the skipped trylock
      yield* up_read(k, sem); // the downgraded skip
      expect(sem.skips).toEqual([]);
    });
    m.run(1 * MS);
    expect(got).toEqual([true]);
    expect(m.findings).toEqual([]);
  });

  it("disabled sites skip acquire and release", () => {
    const m = machine();
    m.disabledSites.add("w:down_write");
    const sem = new RwSemaphore("s");
    const log: Log = [];
    user(m, log, "r", 0, 0, "R", 2 * MS, sem);
    user(m, log, "w", 1, 100 * US, "W", 1 * MS, sem);
    m.run(10 * MS);
    expect(log).toEqual(["r+", "w+", "w-", "r-"]);
    expect(sem.locked).toBe(false);
    expect(sem.skips).toEqual([]);
  });
});
