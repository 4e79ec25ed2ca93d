// Property test: random well-formed kernel programs (bursts, spinlocks in every flavour, rwsems,
// counting semaphores, sleeps, wake-ups, irqs and softirqs, preempt/irq/bh sections, cond_resched,
// might_sleep) on 1-8 CPUs, in every preemption model and in both drivers, never break the engine's own invariants.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BH_ENABLE,
  BLOCK_SOFTIRQ,
  type Ctx,
  condResched,
  IRQ_ENABLE,
  type KGen,
  type Machine,
  MemoryTrace,
  mightSleep,
  PREEMPT_ENABLE,
  PREEMPT_MODELS,
  type PreemptModel,
  Rng,
  type Task,
  TeeTrace,
  type TraceEvent,
  type TraceSink,
  type WorkStruct,
  yieldPoint,
} from "../../src/sim/index.js";
import {
  bootKernel,
  down,
  down_read,
  down_write,
  lockStats,
  RwSemaphore,
  rcu,
  Semaphore,
  SpinLock,
  spin_lock,
  spin_lock_bh,
  spin_lock_irq,
  spin_lock_irqsave,
  spin_unlock,
  spin_unlock_bh,
  spin_unlock_irq,
  spin_unlock_irqrestore,
  up,
  up_read,
  up_write,
  WaitQueueHead,
  wait_event,
  wake_up,
} from "../../src/sync/index.js";

const CR = condResched("test/prop.c", 1);
const MSLEEP = mightSleep("test/prop.c", 2);
const N_LOCKS = 3;
const N_SEMS = 2;

type Flavour = "plain" | "irqsave" | "irq" | "bh";
type Op =
  | { t: "burst"; ns: number }
  | { t: "spin"; lock: number; fl: Flavour; ns: number; nested: number | null }
  | { t: "rw"; sem: number; write: boolean; ns: number; inner: number | null }
  | { t: "sema"; ns: number }
  | { t: "sleep"; ns: number }
  | { t: "wait" }
  | { t: "post" }
  | { t: "cr" }
  | { t: "might_sleep" }
  | { t: "preempt"; ns: number }
  | { t: "irqoff"; ns: number }
  | { t: "bh"; ns: number }
  | { t: "yield" }
  | { t: "rcu_read"; ns: number }
  | { t: "synchronize_rcu" }
  | { t: "call_rcu" }
  | { t: "queue_work"; ns: number; sleep: boolean };

interface Irq {
  cpu: number;
  atUs: number;
  ns: number;
  softirq: boolean;
  post: boolean;
}

interface Program {
  cpus: number;
  preempt: PreemptModel;
  seed: number;
  tasks: { cpu: number; repeat: number; ops: Op[] }[];
  irqs: Irq[];
}

const ns = fc.integer({ min: 1, max: 200_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("burst" as const), ns }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("spin" as const),
      lock: fc.integer({ min: 0, max: N_LOCKS - 1 }),
      fl: fc.constantFrom<Flavour>("plain", "irqsave", "irq", "bh"),
      ns: fc.integer({ min: 1, max: 50_000 }),
      nested: fc.option(fc.integer({ min: 0, max: N_LOCKS - 1 })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("rw" as const),
      sem: fc.integer({ min: 0, max: N_SEMS - 1 }),
      write: fc.boolean(),
      ns,
      inner: fc.option(fc.integer({ min: 0, max: N_LOCKS - 1 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("sema" as const), ns }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("sleep" as const), ns: fc.integer({ min: 1, max: 2_000_000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "wait" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "post" as const }) },
  { weight: 2, arbitrary: fc.constant({ t: "cr" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "might_sleep" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("preempt" as const), ns }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("irqoff" as const), ns: fc.integer({ min: 1, max: 50_000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("bh" as const), ns }) },
  { weight: 1, arbitrary: fc.constant({ t: "yield" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("rcu_read" as const), ns }) },
  { weight: 1, arbitrary: fc.constant({ t: "synchronize_rcu" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "call_rcu" as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("queue_work" as const), ns, sleep: fc.boolean() }),
  },
);

const programArb: fc.Arbitrary<Program> = fc
  .record({
    cpus: fc.integer({ min: 1, max: 8 }),
    preempt: fc.constantFrom(...PREEMPT_MODELS),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .chain((base) =>
    fc.record({
      cpus: fc.constant(base.cpus),
      preempt: fc.constant(base.preempt),
      seed: fc.constant(base.seed),
      tasks: fc.array(
        fc.record({
          cpu: fc.integer({ min: 0, max: base.cpus - 1 }),
          repeat: fc.integer({ min: 1, max: 8 }),
          ops: fc.array(opArb, { maxLength: 12 }),
        }),
        { minLength: 1, maxLength: Math.min(12, base.cpus * 2) },
      ),
      irqs: fc.array(
        fc.record({
          cpu: fc.integer({ min: 0, max: base.cpus - 1 }),
          atUs: fc.integer({ min: 0, max: 5_000 }),
          ns: fc.integer({ min: 1, max: 100_000 }),
          softirq: fc.boolean(),
          post: fc.boolean(),
        }),
        { maxLength: 10 },
      ),
    }),
  );

/** Checks the event stream as it is produced: time never goes back, no task is current on two CPUs. */
class InvariantSink implements TraceSink {
  lastT = 0;
  readonly running = new Map<number, number>();
  event(e: TraceEvent): void {
    if (e.t < this.lastT) throw new Error(`time went back: ${e.t} < ${this.lastT} (${e.kind})`);
    this.lastT = e.t;
    if (e.kind !== "sched_switch") return;
    this.running.set(e.cpu, e.b);
    if (e.b === 0) return;
    for (const [cpu, pid] of this.running)
      if (cpu !== e.cpu && pid === e.b) throw new Error(`pid ${pid} current on CPUs ${cpu} and ${e.cpu}`);
  }
}

/** Run-queue consistency, checked between events. */
function checkRunqueues(m: Machine): void {
  const seen = new Set<Task>();
  for (const c of m.cpus) {
    for (const q of [c.rqStop, c.rqFifo, c.rqFair])
      for (const t of q) {
        if (seen.has(t)) throw new Error(`${t.comm} queued twice`);
        seen.add(t);
        if (t === c.curr) throw new Error(`${t.comm} is current and queued on CPU ${c.id}`);
        if (!t.onRq) throw new Error(`${t.comm} queued without onRq`);
        if (t.cpu !== c) throw new Error(`${t.comm} queued on a foreign CPU`);
      }
    if (c.preemptCount < 0) throw new Error(`CPU ${c.id}: negative preempt_count`);
  }
  const currs = m.cpus.map((c) => c.curr).filter((t) => !t.isIdle);
  if (new Set(currs).size !== currs.length) throw new Error("a task is current on two CPUs");
}

function runProgram(
  p: Program,
  mode: "timed" | "explore",
  replay: readonly number[] | null = null,
  passSteps = true,
): { trace: string; choices: number[]; state: string } {
  const m = bootKernel(
    { cpus: p.cpus, preempt: p.preempt, seed: p.seed, mode, jitter: 0.05 },
    { rcuBackgroundNs: 20_000_000 },
  );
  m.passSteps = passSteps;
  const sink = new InvariantSink();
  const mem = new MemoryTrace();
  m.trace = new TeeTrace([sink, mem]);
  const locks = Array.from({ length: N_LOCKS }, (_, i) => new SpinLock(`lock${i}`));
  const sems = Array.from({ length: N_SEMS }, (_, i) => new RwSemaphore(`sem${i}`));
  const csem = new Semaphore("csem", 1);
  const wq = new WaitQueueHead("tokens");
  let tokens = 0;
  let waiters = 0;
  let finished = 0;
  let pendingWork = 0;
  let pendingCallbacks = 0;
  const events = m.wq.allocWorkqueue("events");
  const post = () => {
    tokens++;
    wake_up(m, wq);
  };

  /** A spinlock section of the plain, irqsave or bh flavour, optionally with a nested (higher) lock. */
  function* spinSection(k: Ctx, lock: number, fl: Flavour, burst: number, nested: number | null): KGen<void> {
    const l = locks[lock]!;
    const site = `s${lock}:${fl}`;
    let flags = false;
    if (fl === "irqsave") flags = yield* spin_lock_irqsave(k, l, site);
    else if (fl === "bh") yield* spin_lock_bh(k, l, site);
    else yield* spin_lock(k, l, site);
    yield burst;
    // nested locks only in increasing order (no ABBA by construction)
    if (nested !== null && nested > lock) yield* spinSection(k, nested, "plain", burst, null);
    if (fl === "irqsave") yield* spin_unlock_irqrestore(k, l, flags);
    else if (fl === "bh") yield* spin_unlock_bh(k, l);
    else yield* spin_unlock(k, l);
  }

  function* runOp(k: Ctx, op: Op): KGen<void> {
    switch (op.t) {
      case "burst":
        yield op.ns;
        return;
      case "spin":
        if (op.fl === "irq") {
          // spin_lock_irq/unlock_irq assume irqs were on: take this flavour only from task context with irqs on
          const l = locks[op.lock]!;
          yield* spin_lock_irq(k, l, `s${op.lock}:irq`);
          yield op.ns;
          if (op.nested !== null && op.nested > op.lock)
            yield* spinSection(k, op.nested, "plain", op.ns, null);
          yield* spin_unlock_irq(k, l);
          return;
        }
        yield* spinSection(k, op.lock, op.fl, op.ns, op.nested);
        return;
      case "rw": {
        const s = sems[op.sem]!;
        if (op.write) yield* down_write(k, s, `rw${op.sem}:w`);
        else yield* down_read(k, s, `rw${op.sem}:r`);
        yield op.ns;
        if (op.inner !== null) yield* spinSection(k, op.inner, "irqsave", op.ns, null);
        if (op.write) yield* up_write(k, s);
        else yield* up_read(k, s);
        return;
      }
      case "sema":
        yield* down(k, csem, "csem:down");
        yield op.ns;
        yield* up(k, csem, "csem:up");
        return;
      case "sleep":
        yield* k.m.sleepNs(k, op.ns);
        return;
      case "wait":
        waiters++;
        yield* wait_event(k, wq, () => tokens > 0);
        tokens--;
        waiters--;
        return;
      case "post":
        post();
        return;
      case "cr":
        yield CR;
        return;
      case "might_sleep":
        yield MSLEEP;
        return;
      case "preempt":
        k.preemptDisable();
        yield op.ns;
        yield PREEMPT_ENABLE;
        return;
      case "irqoff": {
        const was = k.localIrqSave();
        yield op.ns;
        if (!was) yield IRQ_ENABLE;
        return;
      }
      case "bh":
        k.localBhDisable();
        yield op.ns;
        yield BH_ENABLE;
        return;
      case "yield":
        yield yieldPoint("prop:yield");
        return;
      case "rcu_read": {
        const r = rcu(k.m);
        r.readLock(k);
        yield op.ns;
        yield* r.readUnlock(k);
        return;
      }
      case "synchronize_rcu":
        yield* rcu(k.m).synchronize(k);
        return;
      case "call_rcu":
        pendingCallbacks++;
        rcu(k.m).callRcu(k.cpu.id, "prop", () => {
          pendingCallbacks--;
        });
        return;
      case "queue_work": {
        pendingWork++;
        const work: WorkStruct = {
          func: "prop_work",
          pending: false,
          fn: function* (wk) {
            yield op.ns;
            if (op.sleep) yield* wk.m.sleepNs(wk, op.ns);
            pendingWork--;
          },
        };
        if (!k.m.wq.queueWork(k, events, work)) pendingWork--;
        return;
      }
    }
  }

  m.openSoftirq(BLOCK_SOFTIRQ, function* (k) {
    yield 5_000;
    yield* spinSection(k, 0, "plain", 1_000, null); // softirq-safe: every task user of lock0 is... see below
  });
  // lock0 is taken from softirq context: task users must disable bh or irqs around it
  for (const t of p.tasks)
    for (const op of t.ops) if (op.t === "spin" && op.lock === 0 && op.fl === "plain") op.fl = "bh";
  for (const t of p.tasks)
    for (const op of t.ops)
      if ((op.t === "spin" && op.nested === 0) || (op.t === "rw" && op.inner === 0)) {
        if (op.t === "spin") op.nested = null;
        else op.inner = null;
      }

  const workers: Task[] = [];
  p.tasks.forEach((t, i) => {
    workers.push(
      m.createTask(`w${i}`, t.cpu, function* (k) {
        for (let r = 0; r < t.repeat; r++) for (const op of t.ops) yield* runOp(k, op);
        finished++;
      }),
    );
  });
  // the token poster keeps every "wait" op live until all workers are done
  m.createTask("poster", 0, function* (k) {
    for (let i = 0; i < 100_000 && finished < workers.length; i++) {
      yield* k.m.sleepNs(k, 300_000);
      if (waiters > 0) post();
    }
  });
  for (const irq of p.irqs) {
    m.raiseIrq(
      irq.cpu,
      "dev",
      function* (k) {
        yield irq.ns;
        if (irq.softirq) k.m.raiseSoftirq(k.cpu.id, BLOCK_SOFTIRQ);
        if (irq.post) post();
      },
      irq.atUs * 1000,
    );
  }

  if (mode === "timed") {
    // run until every worker is done (bounded), checking the run queues every 20 µs meanwhile
    const check = () => {
      checkRunqueues(m);
      if (finished < workers.length && m.now < 3e9) m.at(m.now + 20_000, check);
    };
    m.at(20_000, check);
    for (let t = 10_000_000; t <= 3e9 && finished < workers.length; t += 10_000_000) m.run(t);
    m.run(m.now + 50_000_000); // let the poster and deferred work settle
  } else {
    const rng = new Rng(p.seed, "strategy");
    const choose =
      replay === null
        ? (en: readonly number[]) => en[rng.int(en.length)]!
        : (_en: readonly number[], mm: Machine) => replay[mm.steps]!;
    m.explore({ choose }, 200_000);
    checkRunqueues(m);
  }
  m.finish();

  const unfinished = workers.filter((t) => !t.exited).map((t) => t.comm);
  expect(unfinished).toEqual([]);
  expect(pendingWork).toBe(0);
  if (mode === "timed") expect(pendingCallbacks).toBe(0);
  expect(m.findings).toEqual([]);
  for (const l of locks) {
    expect(l.owner).toBe(null);
    expect(l.waiters.length).toBe(0);
  }
  expect(csem.count).toBe(1);
  expect(csem.waitList.length).toBe(0);
  for (const s of sems) {
    expect(s.locked).toBe(false);
    expect(s.waitList.length).toBe(0);
  }
  for (const c of m.cpus) {
    if (!c.curr.isIdle) continue;
    expect(c.preemptCount).toBe(0);
    expect(c.irqsOff).toBe(false);
    expect(c.frames.length).toBe(1);
  }
  // every task that ran left preempt_count at 0
  for (const t of workers) expect(t.savedPreemptCount).toBe(0);
  // what the trace does not show: lock_stat, the holdoff records, the queue and switch counts
  const state = JSON.stringify({
    now: m.now,
    events: m.queue.popped,
    lockStat: lockStats(m).rows(),
    cpus: m.cpus.map((c) => ({
      switches: c.nrSwitches,
      busy: c.busyNs,
      holdoff: c.holdoff.maxNs,
      hist: c.holdoff.hist.map((h) => (h === null ? null : [h.totalCount, h.mean, h.maxValue])),
    })),
  });
  return { trace: JSON.stringify(mem.events), choices: m.choices.slice(), state };
}

// PROP_RUNS / PROP_SEED widen the search locally (e.g. PROP_RUNS=3000); CI keeps the fixed seeds.
const RUNS = Number(process.env.PROP_RUNS ?? 80);
const SEED = process.env.PROP_SEED === undefined ? undefined : Number(process.env.PROP_SEED);

describe("random programs never break engine invariants", () => {
  it("timed driver", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        runProgram(p, "timed");
      }),
      { numRuns: RUNS, seed: SEED ?? 20261121 },
    );
  });

  it("explore driver: replaying the recorded choices gives the identical event stream", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const a = runProgram(structuredClone(p), "explore");
        const b = runProgram(structuredClone(p), "explore", a.choices);
        expect(b.choices).toEqual(a.choices);
        expect(b.trace).toBe(a.trace);
      }),
      { numRuns: Math.max(10, RUNS >> 2), seed: SEED ?? 777 },
    );
  });

  it("timed driver: the same program and seed give the identical event stream", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        const a = runProgram(structuredClone(p), "timed");
        const b = runProgram(structuredClone(p), "timed");
        expect(b.trace).toBe(a.trace);
      }),
      { numRuns: Math.max(10, RUNS >> 2), seed: SEED ?? 778 },
    );
  });

  it("timed driver: steps passed in place (Machine.passSteps) give the identical event stream and state", () => {
    let passed = 0;
    fc.assert(
      fc.property(programArb, (p) => {
        const on = runProgram(structuredClone(p), "timed");
        const off = runProgram(structuredClone(p), "timed", null, false);
        expect(on.trace).toBe(off.trace);
        expect(on.state).toBe(off.state);
        passed++;
      }),
      { numRuns: Math.max(10, RUNS >> 1), seed: SEED ?? 779 },
    );
    expect(passed).toBeGreaterThan(0);
  });

  it("explore driver", () => {
    fc.assert(
      fc.property(programArb, (p) => {
        runProgram(p, "explore");
      }),
      { numRuns: RUNS, seed: SEED ?? 424242 },
    );
  });
});
