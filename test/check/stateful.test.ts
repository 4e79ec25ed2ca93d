// The stateful exhaustive search (src/check/state.ts, ExhaustiveOptions.stateful): a node whose
// state was explored before is pruned, and nothing reachable is lost. Budgets are schedules, never
// wall time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { check } from "../../src/check/checker.js";
import { replay } from "../../src/check/counterexample.js";
import { exhaustive } from "../../src/check/exhaustive.js";
import { mmCheckTarget } from "../../src/check/mm.js";
import { stateKey, unquiescent } from "../../src/check/state.js";
import { buildMmScenario, type MmScenarioConfig } from "../../src/mm/scenario.js";
import { digestTarget, faultLoops, faultsAndFork } from "./targets.js";

const BIG = { maxSchedules: 1e6, maxMs: 1e12 };

describe("stateful exhaustive search", () => {
  it("prunes revisited states of four faulters (two on one VMA) and reaches the same final states", () => {
    // with commutative updates and locks taken free within a step as reads (commute, the default),
    // DPOR leaves this configuration nothing to revisit (28 schedules, none matched): the matching
    // is exercised on the search without them (105 schedules)
    const cfg: MmScenarioConfig = { variant: "6.4.3", cpus: 4, seed: 1, workloads: faultLoops(2, 2, 2) };
    const a = digestTarget(cfg);
    const ra = exhaustive(a.target, { ...BIG, commute: false });
    const b = digestTarget(cfg);
    const rb = exhaustive(b.target, { ...BIG, stateful: true, commute: false });
    expect(ra.complete && rb.complete).toBe(true);
    expect(rb.matched).toBeGreaterThan(0);
    expect(rb.states).toBeLessThan(ra.states);
    expect(rb.storedStates).toBeGreaterThan(10);
    expect([...b.states].sort()).toEqual([...a.states].sort());
    expect(a.states.size).toBe(1);
    const c = digestTarget(cfg);
    const rc = exhaustive(c.target, { ...BIG, stateful: true });
    expect(rc.complete).toBe(true);
    expect(rc.schedules).toBeLessThan(rb.schedules);
    expect([...c.states].sort()).toEqual([...a.states].sort());
  });

  it("with DPOR and sleep sets: the same final states as plain enumeration", () => {
    const plain = digestTarget(faultsAndFork);
    exhaustive(plain.target, { ...BIG, dpor: false, sleepSets: false });
    const st = digestTarget(faultsAndFork);
    const r = exhaustive(st.target, { ...BIG, stateful: true });
    expect(r.complete).toBe(true);
    expect([...st.states].sort()).toEqual([...plain.states].sort());
  });

  it("property: on small fault-loop configurations it reaches the final states and findings of the stateless search", () => {
    let matched = 0;
    const searched = new Set<boolean>();
    const variant = fc.constantFrom("6.4.3", "6.4.0");
    // Only configurations whose stateless search completes within its 3,000 schedules compare
    // anything (an incomplete one used to be searched to the cap and asserted nothing). With DPOR
    // and sleep sets: two to four faulters (own VMA or a shared one) with one or two faults each (at
    // most 105 schedules). Plain enumeration: two faulters with one fault each (200-252 schedules;
    // with two faults each it takes 12,104).
    const withDpor = fc
      .record({
        own: fc.integer({ min: 0, max: 2 }),
        shared: fc.integer({ min: 0, max: 2 }),
        per: fc.integer({ min: 1, max: 2 }),
        variant,
        dpor: fc.constant(true),
      })
      .filter((c) => c.own + c.shared >= 2);
    const plainEnum = fc.record({
      own: fc.integer({ min: 0, max: 2 }),
      per: fc.constant(1),
      variant,
      dpor: fc.constant(false),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          { arbitrary: withDpor, weight: 3 },
          { arbitrary: plainEnum.map((c) => ({ ...c, shared: 2 - c.own })), weight: 1 },
        ),
        ({ own, shared, per, variant, dpor }) => {
          const cfg: MmScenarioConfig = {
            variant,
            cpus: own + shared,
            seed: 1,
            workloads: faultLoops(own, shared, per),
          };
          const a = digestTarget(cfg);
          // commute off: the configurations that revisit states do so without those reductions (above)
          const ra = exhaustive(a.target, {
            ...BIG,
            maxSchedules: 3000,
            dpor,
            sleepSets: dpor,
            commute: false,
          });
          expect(ra.complete).toBe(true);
          const b = digestTarget(cfg);
          const rb = exhaustive(b.target, {
            ...BIG,
            maxSchedules: 3000,
            dpor,
            sleepSets: dpor,
            stateful: true,
            commute: false,
          });
          expect(rb.complete).toBe(true);
          expect(rb.schedules).toBeLessThanOrEqual(ra.schedules);
          expect([...b.states].sort()).toEqual([...a.states].sort());
          matched += rb.matched;
          searched.add(dpor);
        },
      ),
      {
        numRuns: 10,
        seed: 13,
        // always among the runs: four faulters, two on a shared VMA, two faults each (the smallest
        // configuration here that revisits states), and a plain enumeration
        examples: [
          [{ own: 2, shared: 2, per: 2, variant: "6.4.3", dpor: true }],
          [{ own: 1, shared: 1, per: 1, variant: "6.4.0", dpor: false }],
        ],
      },
    );
    // some of these configurations revisit states: the matching itself was exercised
    expect(matched).toBeGreaterThan(0);
    // with and without DPOR and sleep sets
    expect([...searched].sort()).toEqual([false, true]);
  });

  it("finds the lost write of 6.4.3 without dup_mmap:vma_start_write, and its counterexample replays and shrinks", () => {
    const bad: MmScenarioConfig = {
      variant: "6.4.3",
      cpus: 3,
      seed: 1,
      disableLockSites: ["dup_mmap:vma_start_write"],
      workloads: [{ type: "fork-race-mini" }],
    };
    const t = mmCheckTarget(bad, { maxSteps: 20_000, kinds: ["lost_update"] });
    const r = check(t, { strategy: "exhaustive", budget: 100_000, timeS: 1e9, stateful: true });
    expect(r.verdict).toBe("violation");
    expect(r.counterexample!.finding.kind).toBe("lost_update");
    const plain = check(t, { strategy: "exhaustive", budget: 100_000, timeS: 1e9 });
    expect(plain.counterexample!.finding.kind).toBe("lost_update");
    expect(r.counterexample!.steps).toBeLessThanOrEqual(r.original!.steps);
    const rep = replay(t, r.counterexample!);
    expect(rep.reproduced).toBe(true);
    expect(rep.mismatches).toBe(0);
  });

  it("a complete stateful search says 'no violation found', never 'verified'", () => {
    const cfg: MmScenarioConfig = { variant: "6.4.3", cpus: 2, seed: 1, workloads: faultLoops(2, 0, 1) };
    const t = mmCheckTarget(cfg, { maxSteps: 20_000 });
    const plain = check(t, { strategy: "exhaustive", budget: 10_000, timeS: 1e9 });
    const st = check(t, { strategy: "exhaustive", budget: 10_000, timeS: 1e9, stateful: true });
    expect(plain.verdict).toBe("verified");
    expect(st.complete).toBe(true);
    expect(st.verdict).toBe("no violation found");
    expect(st.storedStates).toBeGreaterThan(0);
  });

  it("with a preemption bound there is no state matching: the verdict is the bounded stateless search's", () => {
    const cfg: MmScenarioConfig = { variant: "6.4.3", cpus: 2, seed: 1, workloads: faultLoops(2, 0, 1) };
    const t = mmCheckTarget(cfg, { maxSteps: 20_000 });
    const o = { strategy: "exhaustive", budget: 10_000, timeS: 1e9, preemptionBound: 1 } as const;
    const plain = check(t, o);
    const both = check(t, { ...o, stateful: true });
    expect(plain.verdict).toBe("verified");
    expect(both.verdict).toBe("verified");
    expect(both.storedStates).toBeUndefined();
    expect([both.schedules, both.states, both.complete]).toEqual([plain.schedules, plain.states, true]);
  });

  it("keys exist only at quiescent nodes; a declaration lasts until the task runs again", () => {
    const cfg: MmScenarioConfig = {
      variant: "6.4.3",
      cpus: 3,
      seed: 1,
      workloads: [...faultLoops(2, 0, 2), { type: "fork", count: 1 }],
    };
    const b = buildMmScenario({ ...cfg, mode: "explore", latency: false });
    const m = b.m;
    const init = m.tasks.length;
    let keyed = 0;
    let declared = 0;
    let i = 0;
    m.explore(
      {
        choose: (en, mm) => {
          for (const t of mm.tasks)
            if (t.quiescent !== null) {
              declared++;
              // suspended at user_access's first yield, where the fault loop declared its state
              expect(t.frame.site).toBe("user_access");
              expect(t.frame.gen).not.toBeNull();
            }
          const k = stateKey(mm, [b.s], init);
          expect(k === null).toBe(unquiescent(mm, init) !== null);
          if (k !== null) keyed++;
          // the last enabled CPU first: the forker (CPU 2) runs its fork to the end early
          return en[i++ % 3 === 0 ? 0 : en.length - 1]!;
        },
      },
      20_000,
    );
    expect(declared).toBeGreaterThan(0);
    expect(keyed).toBeGreaterThan(0);
    expect(
      m.tasks.every((t) => t.frame.gen === null || t.quiescent === null || t.frame.site === "user_access"),
    ).toBe(true);
  });

  it("equal states give equal keys, different states different keys", () => {
    const cfg: MmScenarioConfig = { variant: "6.4.3", cpus: 2, seed: 1, workloads: faultLoops(2, 0, 1) };
    /** The keys of a run that runs CPU `first` whenever it can (null: no key there). */
    const keys = (first: number): (string | null)[] => {
      const b = buildMmScenario({ ...cfg, mode: "explore", latency: false });
      const out: (string | null)[] = [];
      const init = b.m.tasks.length;
      b.m.explore(
        {
          choose: (en, mm) => {
            out.push(stateKey(mm, [b.s], init));
            return en.includes(first) ? first : en[0]!;
          },
        },
        20_000,
      );
      return out;
    };
    const a = keys(0);
    expect(keys(0)).toEqual(a);
    const c = keys(1);
    // both start in the same state; halfway one faulter has finished and the other has not started
    expect(c[0]).toBe(a[0]);
    const mid = (k: (string | null)[]) => k.filter((x, i) => i > 0 && x !== null);
    expect(mid(a).length).toBeGreaterThan(0);
    expect(mid(c).length).toBeGreaterThan(0);
    for (const x of mid(a)) expect(mid(c)).not.toContain(x);
    expect(mid(a)).not.toContain(a[0]);
  });
});
