// State keys for the stateful exhaustive search (src/check/exhaustive.ts, `--stateful`): a node of
// the search may be pruned when the machine's whole state there equals the state at a node already
// explored. JavaScript cannot read a generator's locals, so a key exists only at *quiescent* nodes:
// every task either has finished, has never run (and was created with the machine), or is suspended
// right after declaring its future (Task.quiescent: the workload loop's state between two operations);
// no interrupt frame is live, no interrupt or softirq is pending and no timer is queued. The rest of
// the state is read generically: every object reachable from the machine and the model's roots,
// field by field in insertion order (objects numbered by first visit), except the fields listed in
// SKIP, which record what happened (traces, statistics, the schedule) and are never read back by a
// step. Functions are not readable either: the ones reachable are the handlers and hooks the build
// installed, the same in every run.
import { type Machine, taskNotStarted } from "../sim/machine.js";
import type { CpuHistories } from "./history.js";

/** Fields that only record (never read by a step), by the class that owns them. */
const SKIP: Record<string, ReadonlySet<string>> = {
  Machine: new Set([
    "cfg",
    "queue", // empty at a quiescent node (checked)
    "dmesg",
    "findings",
    "hooks",
    "traceSink",
    "choices",
    "stepLabels",
    "strategy",
    "labelCache",
    "holdoffEvents",
    "footprint",
    "fastForwards",
    "steps",
    "resumptions",
    "heldReads", // empty between steps
  ]),
  Cpu: new Set(["m", "holdoff", "busyNs", "reschedBusyNs", "nrSwitches", "hardirqCount", "softirqCount"]),
  // the footprint bookkeeping of a tracked VMA: the step of its last recorded read and write of
  // each key, compared only with the running step's number (src/mm/types.ts), so every value left
  // at a node acts alike (the next step's number is larger than all of them)
  TrackedVma: new Set(["readStep", "writeStep", "rangeReadStep", "rangeWriteStep"]),
  // the same for a spinlock: the step that took it free (src/sync/spinlock.ts lockTouch), compared
  // only with the running step's number at its release
  SpinLock: new Set(["readAt"]),
  MmSim: new Set([
    "m",
    "costs",
    "ring",
    "lockStats",
    "vmaLockStatR",
    "vmaLockStatW",
    "faultLat",
    "onNote",
    "pooled",
  ]),
};

/**
 * Time-valued fields (virtual time, the scheduler's clocks, the times a wait or a hold began, a
 * request's start, a thread's cost): left out only by the measurement `timeFree` (npm run bench --
 * check-states), never by the search, which keeps them (nothing shows they reach statistics only).
 */
const TIME: Record<string, ReadonlySet<string>> = {
  Machine: new Set(["now"]),
  Task: new Set(["vruntime", "execStart", "sliceExec", "sumExecNs", "lastSwitchTime"]),
  Cpu: new Set(["minVruntime", "idleSince", "clock"]),
  RwSemaphore: new Set(["writeSince"]),
  SpinLock: new Set(["heldSince"]),
  UaRequest: new Set(["t0"]),
  MmThread: new Set(["cost"]),
};

/**
 * Objects of these classes are not read at all: lock_stat's per-class counters (src/sync/lockstat.ts:
 * written by the primitives, read only by reports) and the cache-line cost model (src/sync/cacheline.ts:
 * it computes costs, and the explore driver drops a cost's magnitude, Machine.drive).
 */
const SKIP_CLASS: ReadonlySet<string> = new Set(["LockClassStat", "CacheLine"]);

/**
 * A 53-bit string hash (cyrb53, public domain: two 32-bit multiply-xorshift lanes mixed at the end);
 * a key is two of them with different seeds and the text's length, about 106 bits (not
 * cryptographic: a collision would prune a state never explored). Runs in the browser too (no
 * node:crypto: the web page runs the same search).
 */
export function hash53(str: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Why a node has no key (counted by the search), or null. */
export function unquiescent(m: Machine, initialTasks: number): string | null {
  if (m.queue.size > 0) return "timer";
  for (const c of m.cpus) {
    if (c.frames.length > 1) return "irq";
    if (c.pendingHead < c.pendingTail || c.softirqPending !== 0) return "irq";
  }
  const tasks = m.tasks;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    if (t.frame.gen === null || t.quiescent !== null) continue;
    // a task created with the machine that has not run yet: its code is where every run starts it
    if (i < initialTasks && taskNotStarted(t)) continue;
    return `task:${t.comm}`;
  }
  return null;
}

/**
 * The key of the machine's state (a hash of its serialization, see hash53), or null when the node is not
 * quiescent (see unquiescent). `roots` are the model's objects (e.g. the mm simulation).
 */
export function stateKey(
  m: Machine,
  roots: readonly unknown[],
  initialTasks: number,
  force = false,
  raw = false,
  timeFree = false,
): string | null {
  if (!force && unquiescent(m, initialTasks) !== null) return null;
  const fp = m.footprint;
  m.footprint = null; // reading tracked fields must not record accesses
  try {
    const out: string[] = [];
    const ids = new Map<object, number>();
    const walk = (v: unknown): void => {
      switch (typeof v) {
        case "number":
          out.push(`${v}`);
          return;
        case "string":
          out.push(JSON.stringify(v));
          return;
        case "boolean":
          out.push(v ? "T" : "F");
          return;
        case "undefined":
          out.push("u");
          return;
        case "bigint":
          out.push(`${v}n`);
          return;
        case "function":
        case "symbol":
          out.push("f");
          return;
      }
      if (v === null) {
        out.push("n");
        return;
      }
      const o = v as object;
      const seen = ids.get(o);
      if (seen !== undefined) {
        out.push(`@${seen}`);
        return;
      }
      ids.set(o, ids.size);
      if (ArrayBuffer.isView(o)) {
        out.push(`[${Array.prototype.join.call(o as unknown as ArrayLike<number>, ",")}]`);
        return;
      }
      if (Array.isArray(o)) {
        out.push("[");
        for (let i = 0; i < o.length; i++) walk(o[i]);
        out.push("]");
        return;
      }
      if (o instanceof Map) {
        out.push("M{");
        for (const [k, x] of o) {
          walk(k);
          walk(x);
        }
        out.push("}");
        return;
      }
      if (o instanceof Set) {
        out.push("S{");
        for (const x of o) walk(x);
        out.push("}");
        return;
      }
      const name = o.constructor?.name ?? "";
      if (SKIP_CLASS.has(name)) {
        out.push(`${name}{}`);
        return;
      }
      const skip = SKIP[name];
      const time = timeFree ? TIME[name] : undefined;
      out.push(`${name}{`);
      for (const k of Object.keys(o)) {
        if (skip?.has(k) || time?.has(k)) continue;
        out.push(k);
        walk((o as Record<string, unknown>)[k]);
      }
      out.push("}");
    };
    walk(m);
    for (const r of roots) walk(r);
    const text = out.join(" ");
    if (raw) return text;
    return `${hash53(text, 0).toString(36)}.${hash53(text, 0x9e3779b9).toString(36)}.${text.length}`;
  } finally {
    m.footprint = fp;
  }
}

/**
 * The key of a node in the middle of operations: the generic state (stateKey, forced) and the read
 * histories of the CPUs whose code is inside something (src/check/history.ts), which name their
 * generators' locals. Null when a timer is queued or an interrupt is pending (their handlers and
 * arguments are closures the walk cannot read) or when the histories cannot name the locals (a task
 * moved between CPUs).
 */
export function historyKey(m: Machine, roots: readonly unknown[], hist: CpuHistories): string | null {
  if (m.queue.size > 0) return null;
  for (const c of m.cpus) if (c.pendingHead < c.pendingTail || c.softirqPending !== 0) return null;
  const h = hist.key();
  if (h === null) return null;
  return `${stateKey(m, roots, 0, true)}/${h}`;
}
