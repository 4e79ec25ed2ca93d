// A census of the exhaustive search's dependences (a measurement, off unless ExhaustiveOptions.census
// is given): for every backtrack point DPOR adds, the footprint keys by which the racing steps
// conflict, grouped by kind (a key without its numeric parts: `pte:0:16` is `pte`,
// `rwsem:mmap_lock:0` is `rwsem:mmap_lock`) and access (`ww`: both steps write the key, `rw`: the
// earlier step reads it and the later writes, `wr`: the earlier writes and the later reads; `u` a
// commutative update); and for
// every alternative the search explores (each run after a unit's first starts at one), the reasons
// it was added for. With that: which dependences make the schedules, and how many alternatives would
// have no reason left if the steps of one kind were independent (to first order: the race analysis
// would then pick other, earlier conflicting steps, which this does not replay).
import { conflicting, type FootprintKeys } from "./exhaustive.js";

/** One backtrack point (node, CPU): the reasons it was added for, and when it was explored. */
interface Alternative {
  /** Reasons (conflict signatures, e.g. "rwsem:mmap_lock/ww+tree/rw"), each once, first first. */
  reasons: string[];
  /** The step labels of the first race that added it (earlier step, later step). */
  labels: string;
  /** The search took it (a run began there). */
  explored: boolean;
  /** Schedules counted when its run began (its subtree's size = the count when the node moves on). */
  start: number;
  subtree: number;
}

/** The kind of a footprint key: its non-numeric parts. */
export function keyKind(key: string): string {
  const parts = key.split(":");
  const out: string[] = [];
  for (const p of parts) if (!/^\d+$/.test(p)) out.push(p);
  return out.join(":");
}

export class RaceCensus {
  private readonly alts = new WeakMap<object, Map<number, Alternative>>();
  private readonly all: Alternative[] = [];
  private readonly labels = new WeakMap<object, string>();
  /** Races found (candidate pairs that made a backtrack point, new or not). */
  races = 0;
  /** Races whose backtrack point was new. */
  newPoints = 0;
  schedules = 0;
  /** Races per conflict kind (every race counts once for each kind among its conflicts). */
  readonly raceKinds = new Map<string, number>();

  /** The step labels of the nodes of a run (m.stepLabels, one per step). */
  run(stack: readonly object[], labels: readonly string[]): void {
    this.schedules++;
    for (let d = 0; d < stack.length && d < labels.length; d++) this.labels.set(stack[d]!, labels[d]!);
  }

  /**
   * DPOR found a race: step `later` (CPU `cpu`, footprint `fi`) against the earlier step `node`
   * (footprint `fj`); `add` are the CPUs made backtrack points there (`fresh`: not there before).
   */
  race(
    node: object,
    fj: Int32Array,
    later: object,
    fi: Int32Array,
    add: readonly number[],
    fresh: readonly boolean[],
    keys: FootprintKeys,
  ): void {
    this.races++;
    const sig = this.signature(fj, fi, keys);
    for (const k of new Set(sig.map((s) => s.split("/")[0]!)))
      this.raceKinds.set(k, (this.raceKinds.get(k) ?? 0) + 1);
    this.reason(node, this.label(this.labels.get(later)), sig.join("+"), add, fresh);
  }

  /**
   * A CPU (or the time step) still enabled when a run ended: its next step never ran, so it is
   * taken to conflict with the earlier step `node` (reason "pending"); `add` and `fresh` as in race().
   */
  pending(node: object, add: readonly number[], fresh: readonly boolean[]): void {
    this.races++;
    this.raceKinds.set("pending", (this.raceKinds.get("pending") ?? 0) + 1);
    this.reason(node, "(pending)", "pending", add, fresh);
  }

  private reason(
    node: object,
    later: string,
    reason: string,
    add: readonly number[],
    fresh: readonly boolean[],
  ): void {
    let m = this.alts.get(node);
    if (m === undefined) this.alts.set(node, (m = new Map()));
    for (let x = 0; x < add.length; x++) {
      const a = add[x]!;
      let alt = m.get(a);
      if (alt === undefined) {
        if (!fresh[x]) continue; // the node's own first choice, or added before this census saw it
        this.newPoints++;
        alt = {
          reasons: [],
          labels: `${this.label(this.labels.get(node))} x ${later}`,
          explored: false,
          start: 0,
          subtree: 0,
        };
        m.set(a, alt);
        this.all.push(alt);
      }
      if (!alt.reasons.includes(reason)) alt.reasons.push(reason);
    }
  }

  /** The search moved a node to alternative `cpu` (its run begins now). */
  explore(node: object, cpu: number): void {
    const alt = this.alts.get(node)?.get(cpu);
    if (alt === undefined) return;
    alt.explored = true;
    alt.start = this.schedules;
  }

  /** The node's current alternative is done (the node moves on or is popped). */
  leave(node: object, cpu: number): void {
    const alt = this.alts.get(node)?.get(cpu);
    if (alt?.explored) alt.subtree = this.schedules - alt.start;
  }

  private label(l: string | undefined): string {
    return l === undefined ? "?" : l.replace(/^\d+:/, "");
  }

  private signature(fj: Int32Array, fi: Int32Array, keys: FootprintKeys): string[] {
    const out = new Set<string>();
    const kind = (e: number) => "rwu"[e & 3];
    for (const x of fj)
      for (const y of fi) {
        if (!conflicting(x, y)) continue;
        out.add(`${keyKind(keys.keyOf(x))}/${kind(x)}${kind(y)}`);
      }
    return [...out].sort();
  }

  /** The census as text: tables by kind, by reason and by step-label pair. */
  report(top = 25): string {
    const explored = this.all.filter((a) => a.explored);
    const lines: string[] = [];
    lines.push(
      `races=${this.races} new_backtrack_points=${this.newPoints} explored_alternatives=${explored.length} schedules=${this.schedules}`,
    );
    // by kind: alternatives with the kind in their first reason, with it in every reason (they would
    // go if that kind were independent and nothing else conflicted), and their subtrees
    const kinds = new Map<string, { first: number; only: number; onlySub: number; any: number }>();
    const kindsOf = (r: string) => new Set(r.split("+").map((s) => s.split("/")[0]!));
    for (const a of explored) {
      const firstKinds = kindsOf(a.reasons[0]!);
      const every = new Set<string>();
      for (const r of a.reasons) for (const k of kindsOf(r)) every.add(k);
      for (const k of every) {
        const e = kinds.get(k) ?? { first: 0, only: 0, onlySub: 0, any: 0 };
        e.any++;
        if (firstKinds.has(k)) e.first++;
        // removable: every reason's conflicts are of this kind only
        if (a.reasons.every((r) => kindsOf(r).size === 1 && kindsOf(r).has(k))) {
          e.only++;
          e.onlySub += a.subtree;
        }
        kinds.set(k, e);
      }
    }
    lines.push(
      "by kind (explored alternatives): kind first_reason any_reason only_this_kind only_subtree_schedules races",
    );
    for (const [k, e] of [...kinds].sort((a, b) => b[1].first - a[1].first))
      lines.push(`  ${k} ${e.first} ${e.any} ${e.only} ${e.onlySub} ${this.raceKinds.get(k) ?? 0}`);
    const reasons = new Map<string, number>();
    for (const a of explored) reasons.set(a.reasons[0]!, (reasons.get(a.reasons[0]!) ?? 0) + 1);
    lines.push("by first reason (explored alternatives):");
    for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${n} ${r}`);
    const pairs = new Map<string, number>();
    for (const a of explored) pairs.set(a.labels, (pairs.get(a.labels) ?? 0) + 1);
    lines.push("by step pair of the first race (explored alternatives):");
    for (const [r, n] of [...pairs].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${n} ${r}`);
    return lines.join("\n");
  }
}
