// Footprint audit (issue 13): in the explore driver, compare the mm model's shared state before and
// after every step with the step's footprint, and fail on a change the footprint does not name. The
// partial-order reduction trusts footprints: a change it does not see makes two racing steps look
// independent, and an exhaustive "verified" wrong. Audited state: every mm's PTEs (pte:MM:VPN, or a
// sweep's ptp:MM:IDX), its VMA tree (tree:MM) and mm_lock_seq (seq:MM), every VMA's fields and lock
// word (vma:ID; the reader side of the VMA lock is recorded as a read, since readers commute) and its
// anon_vma (a write of vma:ID).
// anon_vma (a write of vma:ID); every frame's contents, refcount, mapcount and flags (frame:F, a
// write); every CPU's TLB entries (tlbmm:MM of the entry's mm).
// Not audited: the src/sync locks' own state.
import { describe, expect, it } from "vitest";
import { footprintKeys } from "../../src/check/exhaustive.js";
import { buildMmScenario, type MmScenarioConfig } from "../../src/check/mm.js";
import { RandomStrategy } from "../../src/check/strategy.js";
import type { MmSim } from "../../src/mm/index.js";
import type { MmStruct, Vma } from "../../src/mm/types.js";
import type { ExploreStrategy, FootprintSink, Machine } from "../../src/sim/machine.js";

/** Every access of one step, as "key" (read) and "key!" (write). */
class Recorder implements FootprintSink {
  readonly keys = new Map<string, boolean>();
  touch(key: string, write: boolean): void {
    this.keys.set(key, (this.keys.get(key) ?? false) || write);
  }
}

interface VmaState {
  vma: Vma;
  fields: string;
  anonVma: number;
  readers: string;
}

interface Snapshot {
  /** Frame contents, refcount, mapcount and flags (frame:F). */
  frames: { content: Int32Array; refcount: Int32Array; mapcount: Int32Array; flags: Uint8Array; top: number };
  /** Every CPU's TLB entries (tlbmm:MM of the entry's mm, before and after). */
  tlb: { mm: Int32Array; vpn: Int32Array; pte: Int32Array };
  ptes: Map<MmStruct, Int32Array>;
  trees: Map<MmStruct, Vma[]>;
  seqs: Map<MmStruct, number>;
  vmas: VmaState[];
}

function vmaFields(v: Vma): string {
  return [v.start, v.end, v.flags, v.vm_lock_seq, v.detached, v.state].join(",");
}

/** The VMA lock's state: 6.4's rwsem (readers, writer) and 6.15's vm_refcnt. */
function lockWords(v: Vma): string {
  return `${v.vm_lock.readers},${v.vm_lock.writer === null ? 0 : 1},${v.vm_refcnt}`;
}

function snapshot(sim: MmSim): Snapshot {
  const fr = sim.frames;
  const t = sim.tlbs;
  const s: Snapshot = {
    frames: {
      content: fr.content.slice(0, fr.top * fr.words),
      refcount: fr.refcount.slice(0, fr.top),
      mapcount: fr.mapcount.slice(0, fr.top),
      flags: fr.flags.slice(0, fr.top),
      top: fr.top,
    },
    tlb: { mm: t.mm.slice(), vpn: t.vpn.slice(), pte: t.pte.slice() },
    ptes: new Map(),
    trees: new Map(),
    seqs: new Map(),
    vmas: [],
  };
  const seen = new Set<Vma>();
  for (const mm of sim.mms) {
    s.ptes.set(mm, mm.pte.slice());
    s.trees.set(mm, mm.vmas);
    s.seqs.set(mm, mm.mm_lock_seq);
    for (const v of mm.vmas)
      if (!seen.has(v)) {
        seen.add(v);
        s.vmas.push({
          vma: v,
          fields: vmaFields(v),
          anonVma: v.anon_vma,
          readers: lockWords(v),
        });
      }
  }
  return s;
}

/** The changes between two snapshots that the footprint does not name. */
function unnamed(before: Snapshot, after: Snapshot, fp: Map<string, boolean>): string[] {
  const out: string[] = [];
  const wrote = (k: string) => fp.get(k) === true;
  // frames: contents, refcount, mapcount, flags of frame F are written under frame:F
  const fb = before.frames;
  const fa = after.frames;
  const w = fa.content.length / Math.max(1, fa.top);
  for (let f = 1; f < fb.top; f++) {
    let changed =
      fb.refcount[f] !== fa.refcount[f] || fb.mapcount[f] !== fa.mapcount[f] || fb.flags[f] !== fa.flags[f];
    for (let i = 0; !changed && i < w; i++) changed = fb.content[f * w + i] !== fa.content[f * w + i];
    if (changed && !wrote(`frame:${f}`))
      out.push(
        `frame:${f} changed (ref ${fb.refcount[f]} -> ${fa.refcount[f]}, map ${fb.mapcount[f]} -> ${fa.mapcount[f]}, flags ${fb.flags[f]} -> ${fa.flags[f]})`,
      );
  }
  // a frame handed out in this step (alloc) is the step's own until it is published by a PTE
  // TLB entries: a change of an entry of mm M (fill, flush) is named by tlbmm:M (a fill on the
  // CPU's own entry as a read: fills on different CPUs commute, a flush writes)
  const tb = before.tlb;
  const ta = after.tlb;
  for (let i = 0; i < tb.mm.length; i++)
    if (tb.mm[i] !== ta.mm[i] || tb.vpn[i] !== ta.vpn[i] || tb.pte[i] !== ta.pte[i])
      for (const tag of new Set([tb.mm[i]!, ta.mm[i]!]))
        if (tag !== 0 && !fp.has(`tlbmm:${tag - 1}`))
          out.push(`tlb entry ${i} of mm ${tag - 1} changed (${tb.vpn[i]} -> ${ta.vpn[i]})`);
  for (const [mm, old] of before.ptes) {
    const now = mm.pte;
    for (let v = 0; v < old.length; v++)
      if (old[v] !== now[v] && !wrote(`pte:${mm.id}:${v}`) && !wrote(`ptp:${mm.id}:${v >> 9}`))
        out.push(`pte:${mm.id}:${v} changed ${old[v]} -> ${now[v]}`);
  }
  for (const [mm, old] of before.trees)
    if (old !== mm.vmas && !wrote(`tree:${mm.id}`)) out.push(`tree:${mm.id} republished`);
  for (const [mm, old] of before.seqs)
    if (old !== mm.mm_lock_seq && !wrote(`seq:${mm.id}`))
      out.push(`seq:${mm.id} mm_lock_seq ${old} -> ${mm.mm_lock_seq}`);
  for (const b of before.vmas) {
    const v = b.vma;
    const key = `vma:${v.id}`;
    if (vmaFields(v) !== b.fields && !wrote(key)) out.push(`${key} fields ${b.fields} -> ${vmaFields(v)}`);
    // vma->anon_vma: a write of the VMA (__anon_vma_prepare)
    if (v.anon_vma !== b.anonVma && !wrote(key)) out.push(`${key} anon_vma ${b.anonVma} -> ${v.anon_vma}`);
    // the VMA lock's words: src/sync records its own accesses (the rwsem's and the atomic's keys)
    if (lockWords(v) !== b.readers && !fp.has(key) && !fp.has(v.vm_lock.key) && !fp.has(v.refcnt.key))
      out.push(`${key} lock words ${b.readers} -> ${lockWords(v)}`);
  }
  return out;
}

/** Random schedules with a snapshot around every step; collects the unnamed changes. */
function audit(
  cfg: MmScenarioConfig,
  seeds: number,
  maxSteps: number,
): { steps: number; problems: string[] } {
  const problems: string[] = [];
  let steps = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const b = buildMmScenario({ ...cfg, seed, mode: "explore", latency: false });
    const m: Machine = b.m;
    const sim = b.s.sim;
    const inner = new RandomStrategy(seed);
    let rec: Recorder | null = null;
    let before: Snapshot | null = null;
    let label = "";
    const close = () => {
      if (rec === null || before === null) return;
      for (const p of unnamed(before, snapshot(sim), rec.keys))
        if (problems.length < 20) problems.push(`seed ${seed} step ${m.steps} (${label}): ${p}`);
    };
    const strat: ExploreStrategy = {
      choose(en, mm) {
        close();
        const c = inner.choose(en);
        rec = new Recorder();
        mm.footprint = rec;
        before = snapshot(sim);
        label = `${c}:${c === mm.timeChoice ? "timer" : (mm.cpus[c]!.top.site ?? "run")}`;
        return c;
      },
    };
    m.explore(strat, maxSteps);
    close();
    m.footprint = null;
    steps += m.steps;
  }
  return { steps, problems };
}

const FORK_MINI: MmScenarioConfig = { variant: "6.4.0", cpus: 3, workloads: [{ type: "fork-race-mini" }] };

const SMALL: MmScenarioConfig = {
  variant: "6.4.3",
  cpus: 5,
  workloads: [
    { type: "fault-loop", threads: 2, regionSize: 2 << 20, faultsPerThread: 2, access: "write" },
    {
      type: "fault-loop",
      threads: 1,
      regionSize: 2 << 20,
      faultsPerThread: 2,
      access: "write",
      sharedVma: true,
    },
    { type: "fork", count: 1 },
  ],
};

/** Faulters against an mmap/munmap writer and an mprotect writer on their region. */
function writers(variant: string): MmScenarioConfig {
  return {
    variant,
    cpus: 4,
    workloads: [
      {
        type: "fault-loop",
        threads: 2,
        regionSize: 8 * 4096,
        faultsPerThread: 8,
        access: "write",
        sharedVma: true,
      },
      { type: "mmap-writer", op: "mmap-munmap", target: "faulters", size: 4 * 4096 },
      { type: "mmap-writer", op: "mprotect", size: 4 * 4096 },
    ],
  };
}

describe("footprint audit: every change of shared mm state is named by its step's footprint", () => {
  it("recorder sanity: a change without a touch is reported", () => {
    const b = buildMmScenario({ ...FORK_MINI, seed: 1, mode: "explore", latency: false });
    const sim = b.s.sim;
    const before = snapshot(sim);
    const mm = sim.mms[0]!;
    mm.pte[20] = mm.pte[20]! + 1;
    expect(unnamed(before, snapshot(sim), new Map())).toEqual([`pte:${mm.id}:20 changed 0 -> 1`]);
    expect(unnamed(before, snapshot(sim), new Map([[`pte:${mm.id}:20`, true]]))).toEqual([]);
    expect(footprintKeys(new Int32Array(0))).toEqual([]);
    // frames and TLB entries: a change without its key is reported, a tracked accessor names its own
    const f = sim.frames.alloc();
    const b2 = snapshot(sim);
    sim.frames.content[f * sim.frames.words] = 7;
    sim.tlbs.fill(1, mm.id, 5, 8);
    expect(unnamed(b2, snapshot(sim), new Map())).toEqual([
      `frame:${f} changed (ref 1 -> 1, map 0 -> 0, flags 0 -> 0)`,
      `tlb entry ${64 + 5} of mm ${mm.id} changed (0 -> 5)`,
    ]);
    const rec = new Recorder();
    b.m.footprint = rec;
    sim.frames.store(f, 1, 9);
    b.m.footprint = null;
    expect([...rec.keys]).toEqual([[`frame:${f}`, true]]);
  });

  for (const [name, cfg, seeds] of [
    ["fork-race-mini on 6.4.0", FORK_MINI, 30],
    ["fork-race-mini on 6.4.3", { ...FORK_MINI, variant: "6.4.3" }, 30],
    ["pervma-check-small on 6.4.3", SMALL, 20],
    ["munmap and mprotect writers on 6.4.3", writers("6.4.3"), 10],
    ["munmap and mprotect writers on 6.15", writers("6.15"), 10],
  ] as const)
    it(name, () => {
      const r = audit(cfg, seeds, 4000);
      expect(r.steps).toBeGreaterThan(seeds * 10);
      expect(r.problems).toEqual([]);
    }, 300_000);
});
