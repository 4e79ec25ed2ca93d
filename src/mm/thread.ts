// A user thread of a modelled process: the task, its mm, and the CPU time its kernel path has used
// since the last yield point (charged, with jitter, at the next one).
import { type Effect, type KGen, yieldPoint } from "../sim/effects.js";
import type { Ctx } from "../sim/task.js";
import type { SpinLock } from "../sync/spinlock.js";
import type { MmSim } from "./sim.js";
import type { MmStruct, Vma } from "./types.js";

/** How a thread's current fault holds its locks (src/mm/fault.ts). */
export class FaultLock {
  /** VSR_LOCKED / VSR_SKIPPED under the VMA lock; -1 under mmap_lock or nothing. */
  vmaHow = -1;
  /** The locked VMA's generation and incarnation when it was locked (oracle, invariant 3). */
  gen = 0;
  incarnation = 0;
  /** mmap_lock is held for read (false: the site is switched off). */
  mmapHeld = false;
}

/**
 * Where do_user_addr_fault's generator-free form (src/mm/fault.ts faultFast) handed a fault over to
 * its generator (faultResume): the stage, and what the steps after it need.
 */
export class FaultResume {
  stage = 0;
  /** The VMA walked (before its lock) or read-locked. */
  v: Vma | null = null;
  /** The walk's incarnation of v, and whether the RCU read section is taken (its site on). */
  inc = 0;
  rcu = false;
  /** lvurLock's result when it was not a VMA (walk again, recycled). */
  r = 0;
  /** The fault flags (FAULT_FLAG_TRIED added after a retry). */
  flags = 0;
  /** The new anonymous page, and its page-table lock. */
  frame = 0;
  ptl: SpinLock | null = null;
  /** handle_mm_fault's result. */
  fault = 0;
}

/** The access ua() could not complete without a generator (src/mm/user.ts uaSlow). */
export class UaRequest {
  vpn = 0;
  word = 0;
  write = false;
  /** User time before the access (ns). */
  think = 0;
  /** The access's faults so far (user_access's tries), and the current fault's start time. */
  tries = 0;
  t0 = 0;
}

export class MmThread {
  /** CPU time (ns) consumed since the last yield point. */
  cost = 0;
  /** rcu_read_lock nesting. */
  rcuDepth = 0;
  /** Per-fault accounting flags (invariant 9). */
  faultCounted = 0;
  segv = 0;
  /** faultCounted at the entry of the current fault (invariant 9). */
  faultStartCount = 0;
  /** How the current fault holds its VMA and mmap_lock (one fault at a time per thread). */
  readonly fl = new FaultLock();
  /** The access ua() handed to uaSlow. */
  readonly uaReq = new UaRequest();
  /** Where faultFast handed the current fault over to faultResume. */
  readonly fr = new FaultResume();
  /** Timed driver (costs matter) or explore driver (yield points matter); see MmSim.timed. */
  timed: boolean;
  /** Record fault latencies of this thread. */
  measure = true;
  faults = 0;
  /** The thread's trace clock (src/mm/trace.ts): its latest event time. */
  traceClock = 0;
  readonly name: string;

  constructor(
    readonly sim: MmSim,
    readonly k: Ctx,
    public mm: MmStruct,
    name: string,
  ) {
    this.name = name;
    this.timed = sim.timed;
  }

  /** Take the accumulated CPU time for a yield (with the machine's jitter). */
  charge(): number {
    const c = this.cost;
    this.cost = 0;
    return this.sim.m.jit(c);
  }

  /**
   * The accumulated CPU time passes (with the machine's jitter) without a yield where the machine
   * can let it pass at once (Machine.passCost: nothing else can happen before it ends; fast paths on):
   * true. Otherwise false, and the caller yields `due`, as it would have yielded charge():
   * `if (th.cost > 0 && !th.pass()) yield th.due;`
   */
  pass(): boolean {
    const ns = this.charge();
    if (fastPath(this) && this.sim.m.passCost(this.k, ns)) return true;
    this.due = ns;
    return false;
  }
  /** The CPU time a failed pass() leaves for the caller to yield. */
  due = 0;

  get cpu(): number {
    return this.k.cpu.id;
  }

  get pid(): number {
    return this.k.task.pid;
  }
}

/**
 * May the caller use a step's generator-free form (MmSim.fastPaths)? Only in the timed driver, and
 * not while model trace slices are recorded (the generator forms emit them).
 */
export function fastPath(th: MmThread): boolean {
  const sim = th.sim;
  return sim.fastPaths && th.timed && !sim.m.modelTrace;
}

/** Is the explore driver recording footprints (so keys are worth building)? */
export function tracing(th: MmThread): boolean {
  return th.sim.m.footprint !== null;
}

/** The interned yield effect of a site (the engine's one intern table, yieldPoint). */
export const yp: (site: string) => Effect = yieldPoint;

/**
 * A yield point: charge the accumulated CPU time (timed driver), then let another CPU act
 * (explore driver). `e` is an interned yield effect (yp(site)).
 */
export function* yieldAt(th: MmThread, e: Effect): KGen<void> {
  if (th.cost > 0) {
    if (!th.sim.timed) {
      th.cost = 0;
      yield 0;
    } else if (!th.pass()) yield th.due;
  }
  if (!th.sim.timed) yield e;
}
