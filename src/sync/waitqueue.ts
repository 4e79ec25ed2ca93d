// Wait queues and completions (kernel/sched/wait.c, kernel/sched/completion.c). wait_event() keeps
// its condition so that a lost wake-up (a sleeper whose condition is already true, with nobody left
// to wake it) can be reported at the end of a run.
import { type Effect, type KGen, mightSleep, SCHEDULE, yieldPoint } from "../sim/effects.js";
import type { Machine } from "../sim/machine.js";
import { type Ctx, TASK_RUNNING, TASK_UNINTERRUPTIBLE, type Task } from "../sim/task.js";
import { removeAt } from "./list.js";

interface WaitEntry {
  task: Task;
  exclusive: boolean;
  cond: (() => boolean) | null;
  since: number;
}

const WAIT_MIGHT_SLEEP = mightSleep("include/linux/wait.h", 0);

export class WaitQueueHead {
  readonly entries: WaitEntry[] = [];
  wakeups = 0;
  /** Footprint key and yield points (built once per queue, not per wait). */
  readonly key: string;
  readonly waitPoint: Effect;
  readonly wokenPoint: Effect;
  /** The machine whose registry (below) holds this queue already (a wait then skips the Set's add). */
  registeredIn: Machine | null = null;
  constructor(readonly name: string) {
    this.key = `wq:${name}`;
    this.waitPoint = yieldPoint(`${name}:wait_event`);
    this.wokenPoint = yieldPoint(`${name}:woken`);
  }
  get active(): boolean {
    return this.entries.length > 0;
  }
}

/** All wait queues of a machine that have sleepers with conditions (for lost-wake-up checks). */
function registry(m: Machine): Set<WaitQueueHead> {
  let r = m.ext.waitqueues as Set<WaitQueueHead> | undefined;
  if (r === undefined) {
    r = new Set();
    m.ext.waitqueues = r;
    m.hooks.end.push(() => checkLostWakeups(m, r!));
  }
  return r;
}

/** wake_up() / __wake_up_common(): wakes every non-exclusive waiter and up to nrExclusive exclusive ones. */
export function wake_up(m: Machine, wq: WaitQueueHead, nrExclusive = 1): number {
  m.touch(wq.key);
  let woken = 0;
  let excl = nrExclusive;
  for (let i = 0; i < wq.entries.length; ) {
    const e = wq.entries[i]!;
    // autoremove_wake_function: the entry leaves the queue only when it woke the task, and only
    // successful wake-ups of exclusive waiters count against nr_exclusive (__wake_up_common)
    if (!m.wakeUpProcess(e.task)) {
      i++;
      continue;
    }
    woken++;
    removeAt(wq.entries, i);
    if (e.exclusive && --excl === 0) break;
  }
  wq.wakeups++;
  return woken;
}

/** wake_up_all() */
export function wake_up_all(m: Machine, wq: WaitQueueHead): number {
  return wake_up(m, wq, Number.POSITIVE_INFINITY);
}

/** wait_event(): sleep (TASK_UNINTERRUPTIBLE) until cond() is true. */
export function wait_event(k: Ctx, wq: WaitQueueHead, cond: () => boolean, exclusive = false): KGen<void> {
  return __wait_event(k, wq, cond, exclusive, null);
}

/**
 * The wait of wait_event() and wait_for_completion() as one generator (one yield* level per resume);
 * `done` is the completion whose count the wait consumes at its end (wait_for_completion()).
 */
function* __wait_event(
  k: Ctx,
  wq: WaitQueueHead,
  cond: () => boolean,
  exclusive: boolean,
  done: Completion | null,
): KGen<void> {
  const m = k.m;
  if (!m.passMightSleep(k)) yield WAIT_MIGHT_SLEEP;
  if (!m.passPoint(k, wq.waitPoint)) yield wq.waitPoint;
  m.touch(wq.key);
  if (!cond()) {
    if (wq.registeredIn !== m) {
      registry(m).add(wq);
      wq.registeredIn = m;
    }
    const entry: WaitEntry = { task: k.task, exclusive, cond, since: k.m.now };
    // prepare_to_wait(): queue and set the state before testing the condition (no lost wake-up);
    // the entry is new at the first pass, and at a later one a wake-up may have taken it off
    wq.entries.push(entry);
    for (;;) {
      k.task.state = TASK_UNINTERRUPTIBLE;
      if (cond()) break;
      yield SCHEDULE;
      if (!m.passPoint(k, wq.wokenPoint)) yield wq.wokenPoint;
      m.touch(wq.key);
      if (!wq.entries.includes(entry)) wq.entries.push(entry);
    }
    // finish_wait()
    k.task.state = TASK_RUNNING;
    const i = wq.entries.indexOf(entry);
    if (i >= 0) removeAt(wq.entries, i);
  }
  if (done !== null && done.done !== Number.MAX_SAFE_INTEGER) done.done--;
}

function checkLostWakeups(m: Machine, wqs: Set<WaitQueueHead>): void {
  for (const wq of wqs) {
    for (const e of wq.entries) {
      if (e.cond === null || e.task.state === TASK_RUNNING || !e.cond()) continue;
      m.report({
        kind: "lost_wakeup",
        cpus: [e.task.cpu.id],
        message: `lost wake-up: ${e.task.comm}:${e.task.pid} sleeps on ${wq.name} although its condition is true`,
        details: { pid: e.task.pid, waitqueue: wq.name, since_ns: e.since },
      });
    }
  }
}

/** struct completion */
export class Completion {
  done = 0;
  readonly wait: WaitQueueHead;
  /** The wait's condition (built once per completion, not per wait). */
  readonly isDone = (): boolean => this.done > 0;
  constructor(readonly name: string) {
    this.wait = new WaitQueueHead(name);
  }
}

/** complete() */
export function complete(m: Machine, c: Completion): void {
  c.done++;
  wake_up(m, c.wait, 1);
}

/** complete_all() */
export function complete_all(m: Machine, c: Completion): void {
  c.done = Number.MAX_SAFE_INTEGER;
  wake_up_all(m, c.wait);
}

/** wait_for_completion() */
export function wait_for_completion(k: Ctx, c: Completion): KGen<void> {
  return __wait_event(k, c.wait, c.isDone, true, c);
}

/** completion_done() */
export function completion_done(c: Completion): boolean {
  return c.done > 0;
}
