// Footprint audit (issue 13): in the explore driver, compare the mm model's shared state before and
// after every step with the step's footprint, and fail on a change the footprint does not name. The
// partial-order reduction trusts footprints: a change it does not see makes two racing steps look
// independent, and an exhaustive "verified" wrong. The model's shared state records its own accesses
// (tracked accessors, src/sim/tracked.ts and the Frames/Tlbs/MmStruct accessors; src/sync primitives
// record theirs), so this test checks the accessors and the primitives, not hand-placed calls.
// Audited state: every mm's PTEs (pte:MM:VPN, or a sweep's ptp:MM:IDX), its page-table presence
// (ptp:MM:IDX, pmd:MM:IDX), its VMA tree (tree:MM, element by element), mm_lock_seq (seq:MM),
// vma_writer_wait and freedBy (mm:MM); every VMA object's range (vmarange:ID) and its other fields,
// gen and anon_vma_chain (vma:ID); every frame's contents, refcount, mapcount and flags (frame:F);
// every CPU's TLB entries (tlb:CPU:MM); anon_vma and mempolicy tables (anonvma:ID, mpol:ID); the per-CPU RCU read-side state (rcu:CPU);
// and the state of every src/sync primitive reachable from the model (spinlocks, rw_semaphores,
// atomics and refcounts, wait queues and completions, seqcounts, semaphores): its key must be in the
// footprint (a read suffices there, as primitives record commuting updates, readers getting in or
// counter updates without an excluding writer, as reads).
// Not audited: lock_stat and lockdep bookkeeping, the cache-line model (costs only) and the
// machine's runqueues and task states (the engine's rq:CPU keys).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FootprintKeys } from "../../src/check/exhaustive.js";
import { RandomStrategy } from "../../src/check/strategy.js";
import type { MmSim } from "../../src/mm/index.js";
import { buildMmScenario, type MmScenarioConfig } from "../../src/mm/scenario.js";
import type { MmStruct, Vma } from "../../src/mm/types.js";
import { checkTargetFor } from "../../src/scenario/checktarget.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import type { ExploreStrategy, FootprintSink, Machine } from "../../src/sim/machine.js";
import { Atomic } from "../../src/sync/atomic.js";
import { RwSemaphore } from "../../src/sync/rwsem.js";
import { Semaphore } from "../../src/sync/semaphore.js";
import { SeqCount } from "../../src/sync/seqcount.js";
import { SpinLock } from "../../src/sync/spinlock.js";
import { Completion, WaitQueueHead } from "../../src/sync/waitqueue.js";

/** Every access of one step, as "key" (read) and "key!" (write). */
class Recorder implements FootprintSink {
  readonly keys = new Map<string, boolean>();
  touch(key: string, write: boolean): void {
    this.keys.set(key, (this.keys.get(key) ?? false) || write);
  }
}

interface VmaState {
  vma: Vma;
  range: string;
  fields: string;
  readers: string;
}

interface Snapshot {
  /** Frame contents, refcount, mapcount and flags (frame:F). */
  frames: { content: Int32Array; refcount: Int32Array; mapcount: Int32Array; flags: Uint8Array; top: number };
  /** Every CPU's TLB entries (tlb:CPU:MM of the entry's CPU and mm, before and after). */
  tlb: { mm: Int32Array; vpn: Int32Array; pte: Int32Array };
  /** The CPU of each TLB entry of the snapshot. */
  tlbCpu: Int32Array;
  ptes: Map<MmStruct, Int32Array>;
  tables: Map<MmStruct, { pte: Uint8Array; pmd: Uint8Array }>;
  trees: Map<MmStruct, Vma[]>;
  seqs: Map<MmStruct, number>;
  mmFields: Map<MmStruct, string>;
  vmas: VmaState[];
  anonVmas: string[];
  mpols: string[];
  rcu: string[];
  /** Every src/sync primitive reachable from the model: its footprint key and its state. */
  sync: Map<object, { key: string; state: string }>;
}

/** vm_start and vm_end (vmarange:ID). */
function vmaRange(v: Vma): string {
  return `${v.start},${v.end}`;
}

function vmaFields(v: Vma): string {
  return [
    v.flags,
    v.vm_lock_seq,
    v.detached,
    v.state,
    v.anon_vma,
    v.vm_policy,
    v.pgoff,
    v.file?.id ?? -1,
    v.vm_mm?.id ?? -1,
    v.gen,
    [...v.anon_vma_chain].join("+"),
  ].join(",");
}

/** The VMA lock's state: 6.4's rwsem (readers, writer) and 6.15's vm_refcnt. */
function lockWords(v: Vma): string {
  return `${v.vm_lock.readers},${v.vm_lock.writer === null ? 0 : 1},${v.vm_refcnt}`;
}

/** A stable small number per object (lock owners, waiters). */
class Ids {
  private readonly ids = new WeakMap<object, number>();
  private next = 1;
  of(o: object | null): number {
    if (o === null) return 0;
    let i = this.ids.get(o);
    if (i === undefined) this.ids.set(o, (i = this.next++));
    return i;
  }
}

/** Objects the walk for primitives does not enter: the engine, tasks, statistics, cost models. */
const OPAQUE = new Set([
  "Machine",
  "Task",
  "Cpu",
  "Ctx",
  "LockClassStat",
  "LockStats",
  "Lockdep",
  "CacheLine",
]);

/** The footprint key and the behavioural state of a src/sync primitive (null: not a primitive). */
function syncState(o: object, ids: Ids): { key: string; state: string } | null {
  if (o instanceof SpinLock)
    return {
      key: o.key,
      state: `owner ${ids.of(o.owner)} waiters ${o.waiters.map((w) => ids.of(w)).join("+")} skips ${o.skips.length}`,
    };
  if (o instanceof RwSemaphore)
    return {
      key: o.key,
      state: `readers ${o.readers} writer ${ids.of(o.writer)} waiters ${o.waitList
        .map((w) => `${ids.of(w.task)}${w.write ? "w" : "r"}${w.granted ? "g" : ""}`)
        .join("+")} skips ${o.skips.length}`,
    };
  if (o instanceof Atomic) return { key: o.key, state: `${o.value}` };
  if (o instanceof WaitQueueHead)
    return {
      key: o.key,
      state: o.entries.map((e) => `${ids.of(e.task)}${e.exclusive ? "x" : ""}`).join("+"),
    };
  if (o instanceof Completion) return { key: o.wait.key, state: `done ${o.done}` };
  if (o instanceof SeqCount) return { key: o.key, state: `${o.sequence}` };
  if (o instanceof Semaphore)
    return {
      key: o.lock.key,
      state: `count ${o.count} waiters ${o
        .waiters()
        .map((w) => ids.of(w.task))
        .join("+")}`,
    };
  return null;
}

/** Every src/sync primitive reachable from `root` through object fields and arrays (closures are not walked). */
function syncPrimitives(root: object, ids: Ids): Map<object, { key: string; state: string }> {
  const out = new Map<object, { key: string; state: string }>();
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    if (ArrayBuffer.isView(o) || typeof o === "function") continue;
    const st = syncState(o, ids);
    if (st !== null) out.set(o, st);
    if (OPAQUE.has(o.constructor?.name ?? "")) continue;
    const values = o instanceof Map ? [...o.values()] : o instanceof Set ? [...o] : Object.values(o);
    for (const v of values) if (v !== null && typeof v === "object") stack.push(v);
  }
  return out;
}

/** The CPU of each TLB entry, in the order of Tlbs.snapshot() (fixed for a machine: computed once). */
function tlbCpus(sim: MmSim): Int32Array {
  const t = sim.tlbs;
  return Int32Array.from(
    t.geometry.levels.flatMap((l) =>
      Array.from({ length: t.ncpu * l.entries }, (_, i) => Math.floor(i / l.entries)),
    ),
  );
}

function snapshot(m: Machine, sim: MmSim, ids: Ids, tlbCpu: Int32Array): Snapshot {
  // the snapshot's own reads must not land in the step's footprint
  const fp = m.footprint;
  m.footprint = null;
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
    tlb: t.snapshot(),
    tlbCpu,
    ptes: new Map(),
    tables: new Map(),
    trees: new Map(),
    seqs: new Map(),
    mmFields: new Map(),
    vmas: [],
    anonVmas: sim.rmap.refs.map((r, i) => `${r},${sim.rmap.freedBy[i]}`),
    mpols: sim.mpol.refs.map((r, i) => `${r},${sim.mpol.mode[i]},${sim.mpol.freedBy[i]}`),
    rcu: Array.from(sim.rcuDepth, (d, c) => `${d},${sim.rcuEpoch[c]}`),
    sync: syncPrimitives(sim, ids),
  };
  for (const mm of sim.mms) {
    s.ptes.set(mm, mm.pte.slice());
    s.tables.set(mm, { pte: mm.pgtables.pte.slice(), pmd: mm.pgtables.pmd.slice() });
    s.trees.set(mm, [...mm.vmas]);
    s.seqs.set(mm, mm.mm_lock_seq);
    s.mmFields.set(mm, `${ids.of(mm.vma_writer_wait)},${mm.freedBy}`);
  }
  for (const v of sim.slab.all)
    s.vmas.push({ vma: v, range: vmaRange(v), fields: vmaFields(v), readers: lockWords(v) });
  m.footprint = fp;
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
  // TLB entries: a change of an entry of mm M on CPU C (fill, flush) is named by tlb:C:M (a fill of
  // the CPU's own entry as a read: only that CPU's steps use it; a flush writes)
  const tb = before.tlb;
  const ta = after.tlb;
  for (let i = 0; i < tb.mm.length; i++)
    if (tb.mm[i] !== ta.mm[i] || tb.vpn[i] !== ta.vpn[i] || tb.pte[i] !== ta.pte[i])
      for (const tag of new Set([tb.mm[i]!, ta.mm[i]!]))
        if (tag !== 0 && !fp.has(`tlb:${before.tlbCpu[i]}:${tag - 1}`))
          out.push(
            `tlb entry ${i} of mm ${tag - 1} on CPU ${before.tlbCpu[i]} changed (${tb.vpn[i]} -> ${ta.vpn[i]})`,
          );
  for (const [mm, old] of before.ptes) {
    const now = after.ptes.get(mm);
    if (now === undefined) continue;
    for (let v = 0; v < old.length; v++)
      if (old[v] !== now[v] && !wrote(`pte:${mm.id}:${v}`) && !wrote(`ptp:${mm.id}:${v >> 9}`))
        out.push(`pte:${mm.id}:${v} changed ${old[v]} -> ${now[v]}`);
  }
  for (const [mm, old] of before.tables) {
    const now = after.tables.get(mm);
    if (now === undefined) continue;
    for (let i = 0; i < old.pte.length; i++)
      if (old.pte[i] !== now.pte[i] && !wrote(`ptp:${mm.id}:${i}`))
        out.push(`ptp:${mm.id}:${i} table presence changed`);
    for (let i = 0; i < old.pmd.length; i++)
      if (old.pmd[i] !== now.pmd[i] && !wrote(`pmd:${mm.id}:${i}`))
        out.push(`pmd:${mm.id}:${i} table presence changed`);
  }
  // an mm that left the model's list in the step (exit_mmap of an unchecked child) is compared no more
  for (const [mm, old] of before.trees) {
    const now = after.trees.get(mm);
    if (now === undefined) continue;
    if ((old.length !== now.length || old.some((v, i) => now[i] !== v)) && !wrote(`tree:${mm.id}`))
      out.push(`tree:${mm.id} changed`);
  }
  for (const [mm, old] of before.seqs)
    if (after.seqs.has(mm) && old !== after.seqs.get(mm) && !wrote(`seq:${mm.id}`))
      out.push(`seq:${mm.id} mm_lock_seq ${old} -> ${after.seqs.get(mm)}`);
  for (const [mm, old] of before.mmFields)
    if (after.mmFields.has(mm) && old !== after.mmFields.get(mm) && !wrote(`mm:${mm.id}`))
      out.push(`mm:${mm.id} vma_writer_wait/freedBy ${old} -> ${after.mmFields.get(mm)}`);
  const va = new Map(after.vmas.map((s) => [s.vma, s]));
  for (const b of before.vmas) {
    const v = b.vma;
    const a = va.get(v)!;
    const key = `vma:${v.id}`;
    if (a.fields !== b.fields && !wrote(key)) out.push(`${key} fields ${b.fields} -> ${a.fields}`);
    if (a.range !== b.range && !wrote(`vmarange:${v.id}`))
      out.push(`vmarange:${v.id} ${b.range} -> ${a.range}`);
    // the VMA lock's words: src/sync records its own accesses (the rwsem's and the atomic's keys)
    if (a.readers !== b.readers && !fp.has(v.vm_lock.key) && !fp.has(v.refcnt.key))
      out.push(`${key} lock words ${b.readers} -> ${a.readers}`);
  }
  const tables: [string, string[], string[]][] = [
    ["anonvma", before.anonVmas, after.anonVmas],
    ["mpol", before.mpols, after.mpols],
  ];
  for (const [prefix, b, a] of tables)
    for (let i = 0; i < b.length; i++)
      if (b[i] !== a[i] && !wrote(`${prefix}:${i}`)) out.push(`${prefix}:${i} changed ${b[i]} -> ${a[i]}`);
  for (let c = 0; c < before.rcu.length; c++)
    if (before.rcu[c] !== after.rcu[c] && !wrote(`rcu:${c}`))
      out.push(`rcu:${c} read-side state ${before.rcu[c]} -> ${after.rcu[c]}`);
  // src/sync primitives: a change of a primitive's state needs its key in the footprint
  for (const [o, b] of before.sync) {
    const a = after.sync.get(o);
    if (a !== undefined && a.state !== b.state && !fp.has(b.key))
      out.push(`${b.key} (${o.constructor.name}) ${b.state} -> ${a.state}`);
  }
  return out;
}

/** Random schedules with a snapshot around every step; collects the unnamed changes. */
function audit(
  cfg: MmScenarioConfig,
  seeds: number,
  maxSteps: number,
): { steps: number; problems: string[]; primitives: Set<string> } {
  const problems: string[] = [];
  const primitives = new Set<string>();
  let steps = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const b = buildMmScenario({ ...cfg, seed, mode: "explore", latency: false });
    const m: Machine = b.m;
    const sim = b.s.sim;
    const inner = new RandomStrategy(seed);
    const ids = new Ids();
    const tlbCpu = tlbCpus(sim);
    let rec: Recorder | null = null;
    let before: Snapshot | null = null;
    let label = "";
    const close = () => {
      if (rec === null || before === null) return;
      for (const p of before.sync.values()) primitives.add(p.key.replace(/:.*/, ""));
      for (const p of unnamed(before, snapshot(m, sim, ids, tlbCpu), rec.keys))
        if (problems.length < 20) problems.push(`seed ${seed} step ${m.steps} (${label}): ${p}`);
    };
    const strat: ExploreStrategy = {
      choose(en, mm) {
        close();
        const c = inner.choose(en);
        rec = new Recorder();
        mm.footprint = rec;
        before = snapshot(mm, sim, ids, tlbCpu);
        label = `${c}:${c === mm.timeChoice ? "timer" : (mm.cpus[c]!.top.site ?? "run")}`;
        return c;
      },
    };
    m.explore(strat, maxSteps);
    close();
    m.footprint = null;
    steps += m.steps;
  }
  return { steps, problems, primitives };
}

const DIR = path.join(import.meta.dirname, "../../scenarios");

/**
 * The built-in mm check targets: the scenarios made for the race checker (the -mini ones and
 * pervma-check-small), on every variant they compare, as `faultline check` builds them (without
 * their warm starts: the audit explores from the beginning).
 */
function builtinTargets(): [string, MmScenarioConfig][] {
  const out: [string, MmScenarioConfig][] = [];
  for (const f of fs.readdirSync(DIR).sort()) {
    const name = f.replace(/\.yaml$/, "");
    if (!name.startsWith("pervma-") || !(name.endsWith("-mini") || name === "pervma-check-small")) continue;
    const file = path.join(DIR, f);
    const text = fs.readFileSync(file, "utf8");
    const s0 = loadScenario(text, { file, sets: [], catalog: catalog() });
    for (const variant of s0.compare ?? [s0.kernel.variant]) {
      const s = loadScenario(text, {
        file,
        sets: [{ path: "kernel.variant", value: variant, label: `--kernel ${variant}` }],
        catalog: catalog(),
      });
      const cfg = checkTargetFor(s, { seed: 1 }).spec?.config as unknown as MmScenarioConfig;
      out.push([`${name} on ${variant}`, cfg]);
    }
  }
  return out;
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
  it("recorder sanity: a change without its key is reported; accessors and primitives name their own", () => {
    const b = buildMmScenario({ ...FORK_MINI, tlb: "direct64", seed: 1, mode: "explore", latency: false });
    const m = b.m;
    const sim = b.s.sim;
    const ids = new Ids();
    const tlbCpu = tlbCpus(sim);
    const snap = () => snapshot(m, sim, ids, tlbCpu);
    const before = snap();
    const mm = sim.mms[0]!;
    mm.pte[20] = mm.pte[20]! + 1;
    expect(unnamed(before, snap(), new Map())).toEqual([`pte:${mm.id}:20 changed 0 -> 1`]);
    expect(unnamed(before, snap(), new Map([[`pte:${mm.id}:20`, true]]))).toEqual([]);
    expect(new FootprintKeys().keysOf(new Int32Array(0))).toEqual([]);
    // frames and TLB entries: a change without its key is reported
    const f = sim.frames.alloc();
    const b2 = snap();
    sim.frames.content[f * sim.frames.words] = 7;
    sim.tlbs.fill(1, mm.id, 5, 8);
    expect(unnamed(b2, snap(), new Map())).toEqual([
      `frame:${f} changed (ref 1 -> 1, map 0 -> 0, flags 0 -> 0)`,
      `tlb entry ${64 + 5} of mm ${mm.id} on CPU 1 changed (0 -> 5)`,
    ]);
    // src/sync primitives: a lock word changed behind the primitive's back is reported
    const lock = mm.mmap_lock;
    const b3 = snap();
    lock.readers++;
    expect(unnamed(b3, snap(), new Map())).toEqual([
      `${lock.key} (RwSemaphore) readers 0 writer 0 waiters  skips 0 -> readers 1 writer 0 waiters  skips 0`,
    ]);
    lock.readers--;
    // the accessors record their own accesses: PTEs, VMA fields, the tree, TLB, frames, atomics
    const v = mm.vmas[0]!;
    const rec = new Recorder();
    m.footprint = rec;
    sim.frames.store(f, 1, 9);
    mm.pteSet(21, mm.pteGet(21));
    v.flags = v.flags | 0;
    mm.vmas = [...mm.vmas];
    sim.tlbs.flushOne(0, mm.id, 5);
    v.vm_refcnt = v.vm_refcnt + 0;
    m.footprint = null;
    expect([...rec.keys]).toEqual([
      [`frame:${f}`, true],
      [`pte:${mm.id}:21`, true],
      [`ptp:${mm.id}:0`, false],
      [`vma:${v.id}`, true],
      [`tree:${mm.id}`, true],
      [`tlb:0:${mm.id}`, true],
      [v.refcnt.key, true],
    ]);
    // a timed build keeps plain fields: nothing to record, nothing recorded
    const t = buildMmScenario({ ...FORK_MINI, seed: 1, mode: "timed", latency: false });
    const tv = t.s.sim.mms[0]!.vmas[0]!;
    expect(Object.getOwnPropertyDescriptor(tv, "start")?.get).toBeUndefined();
    expect(t.s.sim.mms[0]!.host).toBeNull();
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

  const builtins = builtinTargets();
  it("covers the built-in mm check targets", () => {
    expect(builtins.map(([n]) => n)).toEqual(
      expect.arrayContaining(["pervma-check-small on 6.4.3", "pervma-bug-recycled-vma-mini on 6.15"]),
    );
  });
  for (const [name, cfg] of builtins)
    it(`built-in target ${name}`, () => {
      const r = audit(cfg, 6, 3000);
      expect(r.steps).toBeGreaterThan(6 * 10);
      // the walk finds the model's primitives: mmap_lock and the VMA locks, page-table locks, atomics
      expect([...r.primitives].sort()).toEqual(expect.arrayContaining(["atomic", "rwsem", "spinlock"]));
      expect(r.problems).toEqual([]);
    }, 300_000);
});
