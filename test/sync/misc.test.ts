// Seqcounts, wait queues, completions, lost-wake-up detection and lockdep.
import { describe, expect, it } from "vitest";
import { Machine, type MachineConfig, TASK_RUNNING } from "../../src/sim/index.js";
import {
  Completion,
  complete,
  complete_all,
  completion_done,
  down_read,
  down_write,
  lockdep,
  RwSemaphore,
  read_seqcount_begin,
  read_seqcount_retry,
  SeqCount,
  SpinLock,
  spin_lock,
  spin_trylock,
  spin_unlock,
  up_read,
  up_write,
  WaitQueueHead,
  wait_event,
  wait_for_completion,
  wake_up,
  wake_up_all,
  write_seqcount_begin,
  write_seqcount_end,
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

describe("seqcount", () => {
  it("a reader overlapping a writer retries; a reader never starts inside a write", () => {
    const m = machine();
    const s = new SeqCount("vm_lock_seq");
    let data = 0;
    const reads: { attempts: number; value: number; startedAt: number }[] = [];
    m.createTask("writer", 0, function* (k) {
      yield 500 * US;
      yield* write_seqcount_begin(k, s);
      yield 1 * MS;
      data = 42;
      yield* write_seqcount_end(k, s);
    });
    for (const [cpu, at] of [
      [1, 200 * US], // starts before the write, finishes during it: retries
      [2, 800 * US], // starts during the write: waits for an even count
      [3, 3 * MS], // after: one attempt
    ] as const) {
      m.createTask(`reader${cpu}`, cpu, function* (k) {
        yield at;
        let attempts = 0;
        let v = 0;
        let seq = 0;
        let startedAt = 0;
        do {
          attempts++;
          seq = yield* read_seqcount_begin(k, s);
          startedAt = k.m.now;
          yield 500 * US;
          v = data;
        } while (yield* read_seqcount_retry(k, s, seq));
        reads.push({ attempts, value: v, startedAt });
      });
    }
    m.run(20 * MS);
    expect(s.sequence).toBe(2);
    const byAttempts = reads.map((r) => [r.attempts, r.value]);
    expect(byAttempts).toContainEqual([2, 42]);
    expect(byAttempts).toContainEqual([1, 42]);
    expect(reads.every((r) => r.value === 42)).toBe(true);
    // the reader that arrived mid-write began only after write_seqcount_end (≈1.5 ms)
    expect(reads.filter((r) => r.attempts === 1).every((r) => r.startedAt >= 1500 * US)).toBe(true);
  });
});

describe("wait queues", () => {
  it("wait_event sleeps until the condition holds and a wake_up comes", () => {
    const m = machine();
    const wq = new WaitQueueHead("folio_waitqueue");
    let flag = false;
    let wokeAt = -1;
    m.createTask("waiter", 0, function* (k) {
      yield* wait_event(k, wq, () => flag);
      wokeAt = k.m.now;
    });
    m.createTask("waker", 1, function* (k) {
      yield 1 * MS;
      wake_up(k.m, wq); // spurious: condition still false, the waiter sleeps again
      yield 1 * MS;
      flag = true;
      wake_up(k.m, wq);
    });
    m.run(10 * MS);
    expect(wokeAt).toBeGreaterThanOrEqual(2 * MS);
    expect(wokeAt).toBeLessThan(2 * MS + 10 * US);
    expect(wq.active).toBe(false);
    m.finish();
    expect(m.findings).toEqual([]);
  });

  it("wake_up wakes one exclusive waiter, wake_up_all wakes them all", () => {
    const m = machine();
    const wq = new WaitQueueHead("q");
    let tokens = 0;
    const woke: string[] = [];
    for (let i = 0; i < 3; i++)
      m.createTask(`w${i}`, i, function* (k) {
        yield* wait_event(k, wq, () => tokens > 0, true);
        tokens--;
        woke.push(k.task.comm);
      });
    m.createTask("waker", 3, function* (k) {
      yield 1 * MS;
      tokens = 1;
      expect(wake_up(k.m, wq)).toBe(1);
      yield 1 * MS;
      expect(woke.length).toBe(1);
      tokens = 2;
      expect(wake_up_all(k.m, wq)).toBe(2);
    });
    m.run(10 * MS);
    expect(woke.length).toBe(3);
  });

  it("completions: wait before or after complete(), complete_all()", () => {
    const m = machine();
    const c = new Completion("done");
    const all = new Completion("all");
    const log: string[] = [];
    m.createTask("early", 0, function* (k) {
      yield* wait_for_completion(k, c);
      log.push(`early@${k.m.now}`);
    });
    m.createTask("completer", 1, function* (k) {
      yield 1 * MS;
      complete(k.m, c);
      complete(k.m, c);
      yield 1 * MS;
      complete_all(k.m, all);
    });
    m.createTask("late", 2, function* (k) {
      yield 1500 * US;
      expect(completion_done(c)).toBe(true);
      yield* wait_for_completion(k, c); // consumes the second complete() without sleeping
      log.push(`late@${k.m.now}`);
      expect(completion_done(c)).toBe(false);
    });
    for (const cpu of [0, 3])
      m.createTask(`all${cpu}`, cpu, function* (k) {
        yield* wait_for_completion(k, all);
        log.push(`all${cpu}`);
      });
    m.run(10 * MS);
    expect(log.slice(0, 2).map((l) => l.split("@")[0])).toEqual(["early", "late"]);
    expect(log.slice(2).sort()).toEqual(["all0", "all3"]);
  });

  it("lost wake-up: a sleeper whose condition became true but was never woken is reported at the end", () => {
    const m = machine();
    const wq = new WaitQueueHead("buggy_wq");
    let cond = false;
    const t = m.createTask("sleeper", 0, function* (k) {
      yield* wait_event(k, wq, () => cond);
    });
    m.createTask("forgetful", 1, function* () {
      yield 1 * MS;
      cond = true; // ... and no wake_up()
    });
    m.run(10 * MS);
    expect(t.state).not.toBe(TASK_RUNNING);
    m.finish();
    expect(m.findings.map((f) => f.kind)).toEqual(["lost_wakeup"]);
    expect(m.findings[0]!.message).toContain(`sleeper:${t.pid} sleeps on buggy_wq`);
  });
});

describe("lockdep", () => {
  it("reports an AB-BA inversion between two spinlocks (no actual deadlock needed) with both chains", () => {
    const m = machine();
    const a = new SpinLock("&mm->mmap_lock");
    const b = new SpinLock("&vma->vm_lock");
    m.createTask("t1", 0, function* (k) {
      yield* spin_lock(k, a, "f1:lock_a");
      yield* spin_lock(k, b, "f1:lock_b");
      yield* spin_unlock(k, b);
      yield* spin_unlock(k, a);
    });
    m.createTask("t2", 1, function* (k) {
      yield 1 * MS;
      yield* spin_lock(k, b, "f2:lock_b");
      yield* spin_lock(k, a, "f2:lock_a");
      yield* spin_unlock(k, a);
      yield* spin_unlock(k, b);
    });
    m.run(10 * MS);
    expect(m.findings.map((f) => f.kind)).toEqual(["lock_order_inversion"]);
    const f = m.findings[0]!;
    expect(f.details).toMatchObject({
      held: "&vma->vm_lock",
      want: "&mm->mmap_lock",
      held_site: "f2:lock_b",
      want_site: "f2:lock_a",
    });
    const lines = m.dmesg.map((l) => l.text);
    expect(lines).toContain("WARNING: possible circular locking dependency detected");
    expect(lines).toContain(" (&mm->mmap_lock){....}, at: f2:lock_a");
    expect(lines).toContain(" (&vma->vm_lock){....}, at: f2:lock_b");
    // the existing chain: t1 took vm_lock while holding mmap_lock
    const chainAt = lines.indexOf("the existing dependency chain (in reverse order) is:");
    const chain = lines.slice(chainAt);
    expect(chain.some((l) => l.includes("(&vma->vm_lock)"))).toBe(true);
    expect(chain.some((l) => l.includes("f1:lock_b") && l.includes("t1/"))).toBe(true);
    expect(lines).toContain(" *** DEADLOCK ***");
  });

  it("finds longer cycles, reports each inversion once, ignores trylocks and same-class nesting", () => {
    const m = machine({ cpus: 1 });
    const [a, b, c] = ["A", "B", "C"].map((n) => new SpinLock(n)) as [SpinLock, SpinLock, SpinLock];
    const pair = (x: SpinLock, y: SpinLock, site: string, tries = false) =>
      function* (k: Parameters<Parameters<Machine["createTask"]>[2]>[0]) {
        yield* spin_lock(k, x, `${site}:1`);
        if (tries) {
          const ok = yield* spin_trylock(k, y, `${site}:2`);
          if (ok) yield* spin_unlock(k, y);
        } else {
          yield* spin_lock(k, y, `${site}:2`);
          yield* spin_unlock(k, y);
        }
        yield* spin_unlock(k, x);
      };
    m.createTask("ab", 0, pair(a, b, "ab"));
    m.createTask("ba-try", 0, pair(b, a, "ba", true)); // trylock: no dependency recorded
    m.createTask("bc", 0, pair(b, c, "bc"));
    m.createTask("ca", 0, pair(c, a, "ca")); // closes A -> B -> C -> A
    m.createTask("ca2", 0, pair(c, a, "ca2")); // same inversion again: not reported twice
    m.run(10 * MS);
    expect(m.findings.map((f) => f.kind)).toEqual(["lock_order_inversion"]);
    expect(m.findings[0]!.details.chain).toBe("B -> C");
    expect(lockdep(m).enabled).toBe(true);
  });

  it("reports rwsem inversions too (mmap_lock vs i_rwsem)", () => {
    const m = machine();
    const mm = new RwSemaphore("&mm->mmap_lock");
    const inode = new RwSemaphore("&sb->s_type->i_mutex_key");
    m.createTask("fault", 0, function* (k) {
      yield* down_read(k, mm, "do_user_addr_fault");
      yield* down_read(k, inode, "filemap_fault");
      yield* up_read(k, inode);
      yield* up_read(k, mm);
    });
    m.createTask("write", 1, function* (k) {
      yield 1 * MS;
      yield* down_write(k, inode, "xfs_file_write_iter");
      yield* down_write(k, mm, "mmap_region");
      yield* up_write(k, mm);
      yield* up_write(k, inode);
    });
    m.run(10 * MS);
    expect(m.findings.map((f) => f.kind)).toEqual(["lock_order_inversion"]);
  });
});

describe("wake_up() exclusive accounting", () => {
  it("a waiter that is already running neither uses up the exclusive wake-up nor leaves the queue", () => {
    // __wake_up_common(): only successful wake-ups of exclusive waiters count, and
    // autoremove_wake_function() removes an entry only when it woke the task
    const m = machine({ cpus: 3 });
    const wq = new WaitQueueHead("shared_wq");
    let x = 0;
    let y = 0;
    const log: string[] = [];
    const a = m.createTask("a", 0, function* (k) {
      yield* wait_event(k, wq, () => x > 0, true);
      log.push("a");
    });
    m.createTask("b", 1, function* (k) {
      yield* wait_event(k, wq, () => y > 0, true);
      log.push("b");
    });
    m.createTask("waker", 2, function* (k) {
      yield 1 * MS;
      k.m.wakeUpProcess(a); // a spurious wake-up: a is runnable, its entry still queued
      y = 1;
      wake_up(k.m, wq); // must reach b
      yield 1 * MS;
      x = 1;
      wake_up(k.m, wq);
    });
    m.run(10 * MS);
    m.finish();
    expect(log.sort()).toEqual(["a", "b"]);
    expect(m.findings).toEqual([]);
  });
});
