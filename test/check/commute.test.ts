// Commutative updates (Machine.touchUpdate) are independent in the exhaustive search's footprints:
// two steps that record an update of the same key must commute. For the steps that record one (an
// rw_semaphore reader that has to queue: src/sync/rwsem.ts), executing two of them in both orders
// from random states must leave states no later step can tell apart: the same choices then give the
// same steps, the same lock grants in the same order and the same final state.

import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exhaustive } from "../../src/check/exhaustive.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import type { CheckTarget } from "../../src/check/run.js";
import type { MmScenarioConfig } from "../../src/mm/scenario.js";
import { checkTargetFor } from "../../src/scenario/checktarget.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import type { Scenario } from "../../src/scenario/schema.js";
import { PREEMPT_ENABLE, yieldPoint } from "../../src/sim/effects.js";
import { Machine } from "../../src/sim/machine.js";
import { down_read, down_write, RwSemaphore, up_read, up_write } from "../../src/sync/rwsem.js";
import {
  SpinLock,
  spin_lock,
  spin_lock_fast,
  spin_lock_nopoint,
  spin_unlock,
  spin_unlock_fast,
} from "../../src/sync/spinlock.js";
import { digestTarget, faultLoops, forkRaceMiniWithoutStartWrite } from "./targets.js";

type Mode = "R" | "W";

interface Case {
  /** The lock's holders, which take it first: a writer, or readers (then a queued writer makes it busy). */
  holders: Mode[];
  /** Other tasks that take the lock, in any order before the two readers. */
  others: Mode[];
  /** Steps of the others before the two readers (indices into the enabled CPUs other than theirs). */
  before: number[];
  /** Choices after the two readers (indices into the enabled CPUs). */
  after: number[];
}

interface Outcome {
  log: string[];
  /** Choices and step labels from the two readers' steps on. */
  choices: number[];
  labels: string[];
  final: string;
  /** The footprint entries of the two readers' steps on the lock's key. */
  marks: string[];
  busy: boolean;
}

function run(c: Case, swap: boolean): Outcome {
  const tasks: Mode[] = [...c.holders, ...c.others, "R", "R"];
  const n = tasks.length;
  const a = n - 2;
  const b = n - 1;
  const m = new Machine({ cpus: n, mode: "explore", seed: 1 });
  const sem = new RwSemaphore("mmap_lock", "0");
  const log: string[] = [];
  const mine: { exited: boolean }[] = [];
  tasks.forEach((mode, cpu) => {
    const hold = yieldPoint(`t${cpu}:hold`);
    const t = m.createTask(`t${cpu}`, cpu, function* (k) {
      if (mode === "R") yield* down_read(k, sem, `t${cpu}:down_read`);
      else yield* down_write(k, sem, `t${cpu}:down_write`);
      log.push(`t${cpu}+`);
      yield hold;
      log.push(`t${cpu}-`);
      if (mode === "R") yield* up_read(k, sem);
      else yield* up_write(k, sem);
    });
    mine.push(t);
  });
  const marks: string[] = [];
  let busy = true;
  let i = 0;
  let swapAt = -1;
  const plan: number[] = [];
  m.explore(
    {
      choose: (en, mm) => {
        mm.footprint = null;
        const step = i++;
        const holders = c.holders.length;
        if (step < holders) return step; // the holders take the lock first
        if (step < holders + c.before.length) {
          const others = en.filter((x) => x !== a && x !== b);
          if (others.length > 0) return others[c.before[step - holders]! % others.length]!;
        }
        if (swapAt < 0) {
          // the two readers' acquisitions, in one order or the other, their footprints recorded
          swapAt = step;
          busy = sem.writer !== null || sem.waitList.length > 0;
          plan.push(...(swap ? [b, a] : [a, b]));
        }
        if (plan.length > 0) {
          const x = plan.shift()!;
          expect(en).toContain(x);
          mm.footprint = {
            touch: (key, write) => {
              if (key === sem.key) marks.push(write ? "write" : "read");
            },
            update: (key) => {
              if (key === sem.key) marks.push("update");
            },
          };
          return x;
        }
        return en[c.after[(step - swapAt - 2) % Math.max(1, c.after.length)]! % en.length]!;
      },
    },
    10_000,
  );
  return {
    log,
    choices: m.choices.slice(swapAt + 2),
    labels: m.stepLabels.slice(swapAt + 2),
    final: `${sem.readers} ${sem.writer === null ? "-" : sem.writer.comm} ${sem.waitList.length} ${mine.filter((t) => !t.exited).length} ${m.findings.map((f) => f.kind).join(",")}`,
    marks,
    busy,
  };
}

describe("commutative updates: two rw_semaphore readers that queue commute", () => {
  it("property: both orders from random states lead to the same grants, steps and final state", () => {
    let meaningful = 0;
    fc.assert(
      fc.property(
        fc.record({
          holders: fc.oneof(
            fc.constant<Mode[]>(["W"]),
            fc.constant<Mode[]>(["R"]),
            fc.constant<Mode[]>(["R", "R"]),
          ),
          others: fc.array(fc.constantFrom<Mode>("R", "W"), { maxLength: 3 }),
          before: fc.array(fc.nat(7), { maxLength: 6 }),
          after: fc.array(fc.nat(7), { minLength: 1, maxLength: 12 }),
        }),
        (c) => {
          const x = run(c, false);
          const y = run(c, true);
          expect(y.busy).toBe(x.busy);
          if (!x.busy) return; // the readers get in at once: reads, covered by the rwsem's own tests
          meaningful++;
          // the two steps are marked as commutative updates, in both orders
          expect(x.marks).toEqual(["update", "update"]);
          expect(y.marks).toEqual(["update", "update"]);
          // and nothing later can tell the orders apart
          expect(y.choices).toEqual(x.choices);
          expect(y.labels).toEqual(x.labels);
          expect(y.log).toEqual(x.log);
          expect(y.final).toEqual(x.final);
          expect(x.final).toMatch(/^0 - 0 0 $/); // everyone got the lock and left
        },
      ),
      { numRuns: 300, seed: 13 },
    );
    expect(meaningful).toBeGreaterThan(100);
  });
});

/** A built-in scenario with one `--set`. */
function builtIn(name: string, field: string, value: string): Scenario {
  const file = path.join(import.meta.dirname, "../../scenarios", `${name}.yaml`);
  return loadScenario(fs.readFileSync(file, "utf8"), {
    file,
    sets: [{ path: field, value, label: `--set ${field}` }],
    catalog: catalog(),
  });
}

describe("commutative updates in the exhaustive search lose no behaviour", () => {
  /** Two faulting threads on VMAs of their own and a fork: their mmap_read_lock fallbacks queue behind the fork. */
  const twoAndFork = (variant: string, faults: number, off: string[] = []): MmScenarioConfig => ({
    variant,
    cpus: 3,
    seed: 1,
    disableLockSites: off,
    workloads: [...faultLoops(2, 0, faults), { type: "fork", count: 1 }],
  });

  it("reaches exactly the final states of the search that counts updates as writes, with fewer schedules", () => {
    for (const cfg of [twoAndFork("6.4.3", 1), twoAndFork("6.4.3", 2), twoAndFork("6.4.0", 1)]) {
      const plain = digestTarget(cfg);
      const red = digestTarget(cfg);
      const a = exhaustive(plain.target, { commute: false, grain: 1e9, maxSchedules: 1e6, maxMs: 1e12 });
      const b = exhaustive(red.target, { grain: 1e9, maxSchedules: 1e6, maxMs: 1e12 });
      expect(a.complete && b.complete).toBe(true);
      expect([...red.states].sort()).toEqual([...plain.states].sort());
      expect(b.schedules).toBeLessThanOrEqual(a.schedules);
    }
    // where two readers do queue behind the fork, the reduction cuts schedules
    const cfg = twoAndFork("6.4.3", 2);
    const t = mmCheckTarget(cfg, { maxSteps: 20_000 });
    const a = exhaustive(t, { commute: false, grain: 1e9, maxSchedules: 1e6, maxMs: 1e12 });
    const b = exhaustive(t, { grain: 1e9, maxSchedules: 1e6, maxMs: 1e12 });
    expect(b.schedules).toBeLessThan(a.schedules);
  });

  it("finds the known violations the unreduced search finds, of the same kind", () => {
    const targets: CheckTarget[] = [
      mmCheckTarget(
        { variant: "6.4.0", cpus: 3, seed: 1, workloads: [{ type: "fork-race-mini" }] },
        { maxSteps: 20_000 },
      ),
      forkRaceMiniWithoutStartWrite(),
      // bug d8ab9f7b644a: dup_anon_vma without the VMA lock
      checkTargetFor(
        builtIn("pervma-bug-dup-anon-vma-mini", "kernel.switches.lockVmaInDupAnonVma", "false"),
        { seed: 1 },
      ),
      // nothing to find: both verify, the same way
      mmCheckTarget(twoAndFork("6.4.3", 1, ["lock_mm_and_find_vma:mmap_read_lock"]), { maxSteps: 20_000 }),
    ];
    const kinds: string[] = [];
    for (const t of targets) {
      const a = exhaustive(t, { commute: false, grain: 1e9, maxSchedules: 20_000, maxMs: 1e12 });
      const b = exhaustive(t, { grain: 1e9, maxSchedules: 20_000, maxMs: 1e12 });
      expect(b.counterexample?.finding?.kind, t.name).toBe(a.counterexample?.finding?.kind);
      expect(b.complete).toBe(a.complete);
      kinds.push(a.counterexample?.finding?.kind ?? "none");
    }
    expect(kinds).toEqual(["cow_premise", "lost_update", "vma_mutual_exclusion", "none"]);
  });
});

/**
 * Spinlocks taken free and released within one step (the generator-free forms the fault path uses)
 * record a read of the lock's key: two such steps in both orders, from random states (others hold
 * the lock across steps, spin for it, or take it within a step too), lead to the same later steps.
 */
interface LockCase {
  /** Per other CPU: "hold" (spin_lock, a step, spin_unlock) or "quick" (lock and unlock within a step). */
  others: ("hold" | "quick")[];
  before: number[];
  after: number[];
}

function runLocks(c: LockCase, swap: boolean) {
  const kinds = [...c.others, "quick" as const, "quick" as const];
  const n = kinds.length;
  const a = n - 2;
  const b = n - 1;
  const m = new Machine({ cpus: n, mode: "explore", seed: 1 });
  const lock = new SpinLock("ptl", "0");
  const log: string[] = [];
  const shared = { x: 0 };
  kinds.forEach((kind, cpu) => {
    const start = yieldPoint(`t${cpu}:start`);
    const end = yieldPoint(`t${cpu}:end`);
    m.createTask(`t${cpu}`, cpu, function* (k) {
      for (let i = 0; i < 2; i++) {
        yield start;
        if (kind === "hold") {
          yield* spin_lock(k, lock, `t${cpu}:lock`);
          log.push(`t${cpu}+${shared.x++}`);
          yield* spin_unlock(k, lock);
        } else {
          const acc = { cost: 0 };
          if (!spin_lock_fast(k, lock, `t${cpu}:lock`, acc))
            yield* spin_lock_nopoint(k, lock, `t${cpu}:lock`);
          log.push(`t${cpu}+${shared.x++}`);
          if (spin_unlock_fast(k, lock, acc)) yield PREEMPT_ENABLE;
        }
        yield end;
      }
    });
  });
  const marks: string[] = [];
  let i = 0;
  let swapAt = -1;
  let ready = false;
  const plan: number[] = [];
  m.explore(
    {
      choose: (en, mm) => {
        mm.footprint = null;
        const step = i++;
        if (step < c.before.length) {
          const others = en.filter((x) => x !== a && x !== b);
          if (others.length > 0) return others[c.before[step]! % others.length]!;
        }
        if (swapAt < 0) {
          // a and b are at their first start point: their next steps take the lock and release it
          swapAt = step;
          ready = en.includes(a) && en.includes(b);
          plan.push(...(swap ? [b, a] : [a, b]));
        }
        while (plan.length > 0) {
          const x = plan.shift()!;
          if (!en.includes(x)) continue;
          mm.footprint = {
            touch: (key, write) => {
              if (key === lock.key) marks.push(write ? "write" : "read");
            },
            heldRead: (key) => {
              if (key === lock.key) marks.push("read");
            },
          };
          return x;
        }
        return en[c.after[step % c.after.length]! % en.length]!;
      },
    },
    10_000,
  );
  return {
    log: log.filter((l) => !l.startsWith(`t${a}+`) && !l.startsWith(`t${b}+`)),
    ab: log.filter((l) => l.startsWith(`t${a}+`) || l.startsWith(`t${b}+`)).length,
    labels: m.stepLabels.slice(swapAt + 2),
    choices: m.choices.slice(swapAt + 2),
    final: `${lock.owner === null ? "-" : "held"} ${lock.waiters.length} ${shared.x} ${m.findings.map((f) => f.kind).join(",")}`,
    marks,
    ready,
  };
}

describe("spinlocks taken and released within one step commute", () => {
  it("property: both orders from random states lead to the same later steps and final state", () => {
    let meaningful = 0;
    fc.assert(
      fc.property(
        fc.record({
          others: fc.array(fc.constantFrom<"hold" | "quick">("hold", "quick"), { maxLength: 3 }),
          before: fc.array(fc.nat(7), { maxLength: 8 }),
          after: fc.array(fc.nat(7), { minLength: 1, maxLength: 12 }),
        }),
        (c) => {
          const x = runLocks(c, false);
          const y = runLocks(c, true);
          if (!x.ready || !x.marks.every((k) => k === "read") || x.marks.length !== 4) return;
          meaningful++;
          // both orders: each step took the lock free and released it, a read
          expect(y.marks).toEqual(["read", "read", "read", "read"]);
          expect(y.choices).toEqual(x.choices);
          expect(y.labels).toEqual(x.labels);
          expect(y.log).toEqual(x.log);
          expect(y.ab).toBe(x.ab);
          expect(y.final).toEqual(x.final);
          expect(x.final).toMatch(/^- 0 /);
        },
      ),
      { numRuns: 300, seed: 21 },
    );
    expect(meaningful).toBeGreaterThan(50);
  });

  it("a step that ends with the lock held, or releases one taken earlier, writes its key", () => {
    const m = new Machine({ cpus: 1, mode: "explore", seed: 1 });
    const lock = new SpinLock("ptl", "0");
    const p = yieldPoint("between");
    m.createTask("t", 0, function* (k) {
      yield p;
      yield* spin_lock(k, lock, "t:lock");
      yield p;
      yield* spin_unlock(k, lock);
    });
    const steps: string[][] = [];
    m.explore(
      {
        choose: (en, mm) => {
          const cur: string[] = [];
          steps.push(cur);
          mm.footprint = {
            touch: (key, write) => cur.push(`${key}${write ? "!" : ""}`),
            heldRead: (key) => cur.push(key),
          };
          return en[0]!;
        },
      },
      100,
    );
    const lockSteps = steps.map((s) => s.filter((k) => k.startsWith(lock.key)));
    // taking it (read, then a write at the step's end as it is still held); releasing it later: a write
    expect(lockSteps.filter((s) => s.length > 0)).toEqual([[lock.key, `${lock.key}!`], [`${lock.key}!`]]);
  });
});
