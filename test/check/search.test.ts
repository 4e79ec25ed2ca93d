// The exhaustive search split into units of work (src/check/exhaustive.ts): whatever the grain, it
// reaches every final state that plain enumeration of all interleavings reaches (DPOR + sleep sets
// lose no behaviour), finds the same bugs, and the single-thread and split searches agree.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ExhaustiveSearch,
  exhaustive,
  exploreSubtree,
  FootprintKeys,
  independent,
  type SubtreeResult,
} from "../../src/check/exhaustive.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import type { CheckTarget } from "../../src/check/run.js";
import { buildMmScenario, type MmScenarioConfig } from "../../src/mm/scenario.js";
import type { Machine } from "../../src/sim/machine.js";
import { counterTarget, digestTarget, faultsAndFork, forkRaceMiniWithoutStartWrite } from "./targets.js";

describe("exhaustive search: reductions and units of work lose no behaviour", () => {
  const cfg = faultsAndFork;
  const full = digestTarget(cfg);
  const all = exhaustive(full.target, { dpor: false, sleepSets: false, maxSchedules: 1e6, maxMs: 600_000 });

  it("plain enumeration covers the configuration", () => {
    expect(all.complete).toBe(true);
    expect(all.schedules).toBeGreaterThan(100);
    // the fork write-protects one, both or neither page, depending on when the thread writes
    expect(full.states.size).toBe(3);
  });

  it("property: DPOR + sleep sets at any grain reach exactly the final states of plain enumeration", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (grain) => {
        const red = digestTarget(cfg);
        const r = exhaustive(red.target, { grain, maxSchedules: 1e6, maxMs: 600_000 });
        expect(r.complete).toBe(true);
        expect(r.schedules).toBeLessThan(all.schedules);
        expect([...red.states].sort()).toEqual([...full.states].sort());
      }),
      { numRuns: 12, seed: 7 },
    );
  });

  it("the grain changes how the work is cut, not what is explored (same schedules as one unit, or nearly)", () => {
    const t = mmCheckTarget(cfg, { maxSteps: 20_000 });
    const one = exhaustive(t, { grain: 1e9 });
    const cut = exhaustive(t, { grain: 3 });
    expect(one.units).toBe(1);
    expect(cut.units).toBeGreaterThan(5);
    expect(cut.rounds).toBeGreaterThan(1);
    expect(Math.abs(cut.schedules - one.schedules)).toBeLessThanOrEqual(Math.ceil(one.schedules * 0.05));
  });

  it("6.4.3 without dup_mmap:vma_start_write loses a write in the fork race at every grain", () => {
    for (const grain of [1, 4, 1000]) {
      const bad = forkRaceMiniWithoutStartWrite();
      const r = exhaustive(bad, { grain, maxSchedules: 100_000, maxMs: 1e12 });
      expect(r.counterexample?.finding?.kind).toBe("lost_update");
      expect(r.complete).toBe(false);
    }
  });

  it("explores the schedules where the fork's vma_start_write waits for a faulting reader", () => {
    // regression: vma_end_read was missing from the footprints, so a reader's unlock and the
    // writer's vma_start_write looked independent and the writer never waited in any schedule
    const small: MmScenarioConfig = {
      variant: "6.4.3",
      cpus: 3,
      seed: 1,
      workloads: [
        { type: "fault-loop", threads: 2, regionSize: 2 << 20, faultsPerThread: 2, access: "write" },
        { type: "fork", count: 1 },
      ],
    };
    const explore: MmScenarioConfig = { ...small, mode: "explore", latency: false };
    let runs = 0;
    let waited = 0;
    const base = mmCheckTarget(small, { maxSteps: 20_000 });
    const target: CheckTarget = {
      name: base.name,
      cpus: base.cpus,
      maxSteps: base.maxSteps,
      build: () => {
        const b = buildMmScenario(explore);
        b.m.hooks.end.push(() => {
          runs++;
          if (b.s.sim.vmaLockStatW.contentions > 0) waited++;
        });
        return b.m;
      },
    };
    const r = exhaustive(target, { maxMs: 1e12 });
    expect(r.complete).toBe(true);
    expect(r.counterexample).toBeNull();
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThan(runs);
  });

  it("units handed out in any order and merged in unit order give the same search (what worker threads do)", () => {
    const t = counterTarget(3, 2, true);
    const o = { grain: 2 };
    const seq = exhaustive(t, o);
    const s = new ExhaustiveSearch(o);
    for (;;) {
      const tasks = s.nextRound(0);
      if (tasks.length === 0) break;
      // explore the units back to front, as another thread might finish them
      const results: SubtreeResult[] = new Array(tasks.length);
      for (let i = tasks.length - 1; i >= 0; i--) results[i] = exploreSubtree(t, tasks[i]!, s.o);
      s.merge(tasks, results);
    }
    expect(s.complete).toBe(true);
    expect(s.schedules).toBe(seq.schedules);
    expect(s.units).toBe(seq.units);
    expect(s.rounds).toBe(seq.rounds);
  });
});

/** A target that keeps every machine it builds (the search's runs and its footprint probes). */
function keeping(t: CheckTarget): { target: CheckTarget; machines: Machine[] } {
  const machines: Machine[] = [];
  const target: CheckTarget = {
    name: t.name,
    cpus: t.cpus,
    maxSteps: t.maxSteps,
    ...(t.kinds !== undefined ? { kinds: t.kinds } : {}),
    build: () => {
      const m = t.build();
      machines.push(m);
      return m;
    },
  };
  return { target, machines };
}

/** Distinct non-empty prefixes of the runs' schedules: the nodes of the tree the search walked. */
function treeNodes(machines: readonly Machine[]): number {
  const nodes = new Set<string>();
  for (const m of machines) {
    // footprint probes only replay a known prefix
    if (m.stopReason === "probed") continue;
    // a run cut by sleep sets takes one more step after the strategy stopped it: not a node
    const n = m.stopReason === "pruned" ? m.choices.length - 1 : m.choices.length;
    let key = "";
    for (let i = 0; i < n; i++) {
      key += `${m.choices[i]},`;
      nodes.add(key);
    }
  }
  return nodes.size;
}

describe("exhaustive search: footprint keys belong to one unit of work", () => {
  it("each table interns from 0, round-trips keys, and a unit's result does not depend on earlier units", () => {
    const a = new FootprintKeys();
    const b = new FootprintKeys();
    const fa = a.footprintOf(["vma:1", "pte:0:16!", "vma:1!"]);
    b.footprintOf(["tree:0"]);
    const fb = b.footprintOf(["vma:1", "pte:0:16!"]);
    expect(Array.from(fa)).toEqual([1, 5]); // (id << 2) | kind: vma:1 (id 0) written, pte:0:16 (id 1) written
    expect(Array.from(fb)).toEqual([4, 9]); // ids 1 and 2 in the other table, read and written
    expect(a.keysOf(fa)).toEqual(["vma:1!", "pte:0:16!"]);
    expect(b.keysOf(fb)).toEqual(["vma:1", "pte:0:16!"]);
    // a commutative update ("+") round-trips; with a read of the same key in one step it is a write
    expect(a.keysOf(a.footprintOf(["rwsem:x+", "vma:1"]))).toEqual(["rwsem:x+", "vma:1"]);
    expect(a.keysOf(a.footprintOf(["rwsem:x+", "rwsem:x"]))).toEqual(["rwsem:x!"]);
    // updates commute with updates only
    const u = a.footprintOf(["rwsem:x+"]);
    expect(independent(u, a.footprintOf(["rwsem:x+"]))).toBe(true);
    expect(independent(u, a.footprintOf(["rwsem:x"]))).toBe(false);
    expect(independent(u, a.footprintOf(["rwsem:x!"]))).toBe(false);
    expect(independent(a.footprintOf(["rwsem:x"]), a.footprintOf(["rwsem:x"]))).toBe(true);
    // the same unit explored first, and again after units of another target: the same result
    const t = counterTarget(3, 2, true);
    const other = counterTarget(2, 3, false);
    const task = { prefix: [], sleep: [], siblings: [] };
    const o = new ExhaustiveSearch({ grain: 5 }).o;
    const first = exploreSubtree(t, task, o);
    exploreSubtree(other, task, o);
    const again = exploreSubtree(t, task, o);
    delete first.outcome;
    delete again.outcome;
    expect(again).toEqual(first);
    expect(first.exported?.nodes.length).toBeGreaterThan(0);
  });
});

describe("exhaustive search: the figures it reports", () => {
  it("property: states are the nodes of the search tree, at any grain", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          counterTarget(2, 2, false),
          counterTarget(3, 1, false),
          counterTarget(2, 2, true),
          counterTarget(3, 1, true, 1),
        ),
        fc.integer({ min: 1, max: 30 }),
        (t, grain) => {
          const k = keeping(t);
          const r = exhaustive(k.target, { grain, maxSchedules: 1e6, maxMs: 600_000 });
          expect(r.complete || r.counterexample !== null).toBe(true);
          expect(r.states).toBe(treeNodes(k.machines));
          expect(r.states).toBeGreaterThanOrEqual(r.schedules);
          expect(r.states).toBeLessThanOrEqual(r.stepsExecuted);
        },
      ),
      { numRuns: 25, seed: 11 },
    );
  });

  it("the schedule budget holds in the first unit of work too (a grain larger than the budget)", () => {
    for (const budget of [1, 5, 17]) {
      const r = exhaustive(counterTarget(3, 2, true), { grain: 1e9, maxSchedules: budget });
      expect(r.schedules).toBe(budget);
      expect(r.complete).toBe(false);
    }
  });
});
