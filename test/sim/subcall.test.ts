// Ctx.subcall: a sub-generator the CPU loop resumes directly must give exactly what `yield* g` gives
// (the same steps at the same times, the same return values), in both drivers, whatever the nesting,
// with interrupts, sleeps, preemption points and spinlocks inside the callees; so must
// Ctx.subcallFrom, the same with the callee started by its caller (and no yield when it ends at once).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type KGen, type Machine, type Rng, yieldPoint } from "../../src/sim/index.js";
import type { Ctx } from "../../src/sim/task.js";
import { bootKernel, SpinLock, spin_lock, spin_unlock } from "../../src/sync/index.js";

/** A call tree: each node spends `cost`, may pass a yield point, sleep or take a lock, then calls its children. */
interface Node {
  cost: number;
  yieldPoint: boolean;
  sleepNs: number;
  lock: boolean;
  children: Node[];
}

/** Trees up to `depth` levels below the root. */
function nodeArb(depth: number): fc.Arbitrary<Node> {
  return fc.record({
    cost: fc.integer({ min: 0, max: 5000 }),
    yieldPoint: fc.boolean(),
    sleepNs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 })),
    lock: fc.boolean(),
    children: depth === 0 ? fc.constant([]) : fc.array(nodeArb(depth - 1), { maxLength: 3 }),
  });
}
const treesArb = fc.array(nodeArb(3), { minLength: 1, maxLength: 3 });

/** How a call is made: `yield*`, `yield k.subcall(g)`, or g started here and `yield k.subcallFrom(g, r)` if it yields. */
type Form = "yield*" | "subcall" | "from";

function* callIn(k: Ctx, g: KGen<number>, form: Form): KGen<number> {
  if (form === "yield*") return yield* g;
  if (form === "subcall") return (yield k.subcall(g)) as number;
  const r = g.next();
  return (r.done ? r.value : yield k.subcallFrom(g, r)) as number;
}

function* body(k: Ctx, n: Node, lock: SpinLock, sub: Form, log: string[], depth: number): KGen<number> {
  let sum = n.cost;
  if (n.cost > 0) yield n.cost;
  if (n.yieldPoint) yield yieldPoint(`node:${depth}`);
  if (n.sleepNs > 0) yield* k.m.sleepNs(k, n.sleepNs);
  if (n.lock) {
    yield* spin_lock(k, lock, "node:lock");
    yield 100;
    yield* spin_unlock(k, lock);
  }
  for (const c of n.children) {
    const g = body(k, c, lock, sub, log, depth + 1);
    // the forms under test (callIn's own level is a yield* in each: the same for all of them)
    const r = yield* callIn(k, g, sub);
    log.push(`${k.task.comm}@${k.m.now}:${depth}:${r}`);
    sum += r;
  }
  return sum;
}

function runTree(trees: Node[], sub: Form, mode: "timed" | "explore", seed: number): string[] {
  const m: Machine = bootKernel({ cpus: 2, seed, hz: 1000, mode, hungTaskTimeoutS: 0 });
  const lock = new SpinLock("tree_lock");
  const log: string[] = [];
  for (const [i, t] of trees.entries())
    m.createTask(`t${i}`, i % 2, function* (k) {
      for (let rep = 0; rep < 2; rep++) {
        const r = yield* callIn(k, body(k, t, lock, sub, log, 0), sub);
        log.push(`${k.task.comm}@${k.m.now}:top:${r}`);
      }
    });
  if (mode === "timed") m.run(10e9);
  else {
    const rng: Rng = m.rng("choices");
    m.explore({ choose: (enabled) => enabled[rng.int(enabled.length)]! }, 20_000);
  }
  m.finish();
  log.push(`end@${m.now} steps=${m.steps} switches=${m.cpus.map((c) => c.nrSwitches).join(",")}`);
  return log;
}

describe("Ctx.subcall", () => {
  it("timed driver: the same log, times and return values as yield* (subcall and subcallFrom)", () => {
    fc.assert(
      fc.property(treesArb, fc.integer({ min: 1, max: 1000 }), (trees, seed) => {
        const want = runTree(trees, "yield*", "timed", seed);
        expect(runTree(trees, "subcall", "timed", seed)).toEqual(want);
        expect(runTree(trees, "from", "timed", seed)).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it("explore driver: the same steps as yield* under the same choices", () => {
    fc.assert(
      fc.property(treesArb, fc.integer({ min: 1, max: 1000 }), (trees, seed) => {
        const want = runTree(trees, "yield*", "explore", seed);
        expect(runTree(trees, "subcall", "explore", seed)).toEqual(want);
        expect(runTree(trees, "from", "explore", seed)).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it("subcallFrom of a callee whose first resume made a subcall itself (levels in between kept in order)", () => {
    // the shrunk counterexample that found it: the root's first resume starts its child (which
    // sleeps at once), so the top's subcallFrom gets the root's CALL, not a step
    const sleeper: Node = { cost: 0, yieldPoint: false, sleepNs: 1, lock: false, children: [] };
    const root: Node = { cost: 0, yieldPoint: false, sleepNs: 0, lock: false, children: [sleeper] };
    const three: Node = { cost: 0, yieldPoint: false, sleepNs: 0, lock: false, children: [root, sleeper] };
    for (const mode of ["timed", "explore"] as const)
      for (const trees of [[root], [three], [three, root]])
        for (const seed of [1, 2, 3]) {
          const want = runTree(trees, "yield*", mode, seed);
          expect(want.filter((l) => l.includes(":top:")).length).toBe(2 * trees.length);
          expect(runTree(trees, "from", mode, seed)).toEqual(want);
          expect(runTree(trees, "subcall", mode, seed)).toEqual(want);
        }
  });

  it("a nested subcall returns through every level (the return value reaches the outermost caller)", () => {
    const leaf: Node = { cost: 10, yieldPoint: false, sleepNs: 0, lock: false, children: [] };
    let t: Node = leaf;
    for (let i = 0; i < 6; i++)
      t = { cost: 1, yieldPoint: false, sleepNs: 0, lock: false, children: [t, leaf] };
    const log = runTree([t], "subcall", "timed", 1);
    // 6 levels of 1 + two leaves of 10 at each level below the top: 6 + 7 * 10
    const tops = log
      .filter((l) => l.includes(":top:"))
      .map((l) => /@(\d+):top:(\d+)$/.exec(l)!.slice(1).map(Number));
    expect(tops.map((x) => x[1])).toEqual([76, 76]);
    // the second call starts when the first returns: 76 ns of cost apart
    expect(tops[1]![0]! - tops[0]![0]!).toBe(76);
  });
});
