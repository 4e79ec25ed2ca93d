// Read histories (src/check/history.ts) and the stateful search's keys in the middle of operations
// (state.ts historyKey): a node whose global state equals an explored one is pruned only when the
// code in the middle of something read the same values (by provenance) on the way, so a local that
// holds a value read earlier keeps two such nodes apart; and on small configurations the stateful
// search reaches exactly the final states and findings of the stateless one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exhaustive } from "../../src/check/exhaustive.js";
import { CpuHistories } from "../../src/check/history.js";
import type { CheckTarget } from "../../src/check/run.js";
import { historyKey, stateKey } from "../../src/check/state.js";
import type { MmScenarioConfig } from "../../src/mm/scenario.js";
import { yieldPoint } from "../../src/sim/effects.js";
import { Machine } from "../../src/sim/machine.js";
import { digestTarget, faultLoops, faultsAndFork } from "./targets.js";

const YP = yieldPoint("hist:step");

/**
 * CPU 0 reads x into a local, then (two steps later) stores the local into y; CPU 1 sets x to 1 and
 * back to 0. After all of CPU 1's steps and CPU 0's read the shared state is the same whether the
 * read saw 0 or 1 (and time too: the same number of steps); only CPU 0's local differs. The final
 * y is 1 only when the read came between CPU 1's two stores.
 */
function localTarget(finals: Set<string>): CheckTarget {
  return {
    name: "local",
    cpus: 2,
    maxSteps: 100,
    kinds: ["none"],
    build() {
      const m = new Machine({ cpus: 2, mode: "explore", seed: 1 });
      const shared = { x: 0, y: -1 };
      m.createTask("reader", 0, function* () {
        yield YP;
        m.touch("x", false);
        const v = shared.x;
        yield YP;
        yield YP;
        m.touch("y");
        shared.y = v;
      });
      m.createTask("flipper", 1, function* () {
        yield YP;
        m.touch("x");
        shared.x = 1;
        yield YP;
        m.touch("x");
        shared.x = 0;
      });
      m.hooks.end.push(() => finals.add(`x=${shared.x} y=${shared.y}`));
      (m as unknown as { shared: unknown }).shared = shared;
      return m;
    },
    stateRoots: (m) => [(m as unknown as { shared: unknown }).shared],
  };
}

const BIG = { maxSchedules: 1e6, maxMs: 1e12 };

describe("read histories", () => {
  it("keep apart two nodes whose shared state is equal but whose code read different values", () => {
    const plain = new Set<string>();
    exhaustive(localTarget(plain), { ...BIG, dpor: false, sleepSets: false });
    expect([...plain].sort()).toEqual(["x=0 y=0", "x=0 y=1"]);
    for (const dpor of [false, true]) {
      const st = new Set<string>();
      const r = exhaustive(localTarget(st), {
        ...BIG,
        dpor,
        sleepSets: dpor,
        stateful: true,
        stateKey: "history",
      });
      expect(r.complete).toBe(true);
      expect([...st].sort()).toEqual([...plain].sort());
      // nodes in the middle of operations have keys
      expect(r.keyedNodes).toBeGreaterThan(0);
    }
    // every interleaving, at every node: the generic state alone (no histories) puts the two
    // nodes together, the history key keeps them apart
    const byState = new Map<string, Set<string>>();
    const t = localTarget(new Set());
    const probe: CheckTarget = {
      ...t,
      build: () => {
        const m = t.build();
        const h = new CpuHistories(m);
        const explore = m.explore.bind(m);
        m.explore = (st, n) =>
          explore(
            {
              choose: (en, mm) => {
                h.end();
                const roots = t.stateRoots!(mm);
                const g = stateKey(mm, roots, 0, true)!;
                const s = byState.get(g) ?? new Set<string>();
                s.add(historyKey(mm, roots, h)!);
                byState.set(g, s);
                const c = st.choose(en, mm);
                mm.footprint = h.begin(c, mm.footprint);
                return c;
              },
            },
            n,
          );
        return m;
      },
    };
    exhaustive(probe, { ...BIG, dpor: false, sleepSets: false });
    expect([...byState.values()].some((s) => s.size >= 2)).toBe(true);
  });

  it("equal runs give equal keys; a CPU's chain resets when its tasks are between operations", () => {
    const keysOf = () => {
      const t = localTarget(new Set());
      const m = t.build();
      const h = new CpuHistories(m);
      const out: (string | null)[] = [];
      m.explore(
        {
          choose: (en, mm) => {
            h.end();
            out.push(historyKey(mm, t.stateRoots!(mm), h));
            const c = en[0]!;
            mm.footprint = h.begin(c, null);
            return c;
          },
        },
        100,
      );
      return out;
    };
    const a = keysOf();
    expect(keysOf()).toEqual(a);
    expect(new Set(a).size).toBe(a.length);
    expect(a.every((k) => k !== null)).toBe(true);
  });

  it("property: fault loops and a fork, stateful with history keys reaches the stateless final states", () => {
    const cfgs = fc.record({
      own: fc.integer({ min: 0, max: 2 }),
      shared: fc.integer({ min: 0, max: 2 }),
      per: fc.integer({ min: 1, max: 2 }),
      fork: fc.boolean(),
      variant: fc.constantFrom("6.4.3", "6.4.0"),
    });
    let keyed = 0;
    fc.assert(
      fc.property(
        cfgs.filter(
          (c) =>
            c.own + c.shared >= 1 &&
            c.own + c.shared + (c.fork ? 1 : 0) >= 2 &&
            c.own + c.shared + (c.fork ? 1 : 0) + c.per <= 4,
        ),
        ({ own, shared, per, fork, variant }) => {
          const workloads = faultLoops(own, shared, per);
          const cfg: MmScenarioConfig = fork
            ? {
                ...faultsAndFork,
                variant,
                cpus: own + shared + 1,
                workloads: [...workloads, ...faultsAndFork.workloads.filter((w) => w.type === "fork")],
              }
            : { variant, cpus: own + shared, seed: 1, workloads };
          const a = digestTarget(cfg);
          const ra = exhaustive(a.target, { ...BIG, maxSchedules: 2000 });
          if (!ra.complete) return;
          const b = digestTarget(cfg);
          const rb = exhaustive(b.target, {
            ...BIG,
            maxSchedules: 2000,
            stateful: true,
            stateKey: "history",
          });
          expect(rb.complete).toBe(true);
          expect(rb.schedules).toBeLessThanOrEqual(ra.schedules);
          expect([...b.states].sort()).toEqual([...a.states].sort());
          keyed += rb.keyedNodes;
        },
      ),
      { numRuns: 6, seed: 9 },
    );
    expect(keyed).toBeGreaterThan(0);
  }, 600_000);
});
