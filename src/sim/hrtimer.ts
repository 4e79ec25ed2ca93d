// The per-CPU hrtimer base of the timed driver (kernel/time/hrtimer.c): every hrtimer of a CPU (the
// sleeps of schedule_hrtimeout() / schedule_timeout(), the watchdog's timer, Machine.hrtimer()) sits
// in its CPU's hrtimer_cpu_base, a timerqueue ordered by expiry (ties: arm order, as the rbtree puts
// an equal key to the right); the clock event device is programmed for the earliest expiry, so one
// machine queue event per CPU stands for it, and one hardirq (hrtimer_interrupt()) runs every timer
// due, in expiry order, each charging its own cost, then re-reads the clock and loops for timers
// that expired while it ran.
import type { KGen, Step } from "./effects.js";
import type { Cpu, IrqHandler, IrqReq, Machine } from "./machine.js";
import type { Handler } from "./queue.js";
import type { Ctx } from "./task.js";

const KTIME_MAX = Number.POSITIVE_INFINITY;
/** hrtimer_interrupt(): "Give the CPU at least 100ms to catch up" after a hang (kernel/time/hrtimer.c). */
const HANG_MAX_DELAY_NS = 100_000_000;

const ITER_DONE: IteratorResult<Step, unknown> = Object.freeze({ done: true, value: undefined });

/**
 * struct hrtimer (include/linux/hrtimer.h): `handler` null is an hrtimer_sleeper, whose function is
 * hrtimer_wakeup() (the task to wake is the sleeper's: see SleepWait in machine.ts).
 */
export class Hrtimer {
  /** hrtimer_get_expires(): absolute virtual ns. */
  expires = 0;
  /** Its expiry's list in the base (null: not enqueued, HRTIMER_STATE_INACTIVE), and its neighbours there. */
  bucket: ExpiryList | null = null;
  prevT: Hrtimer | null = null;
  nextT: Hrtimer | null = null;
  /** HRTIMER_STATE_ENQUEUED */
  get enqueued(): boolean {
    return this.bucket !== null;
  }
  constructor(
    /** The CPU whose base holds the timer. */
    public cpu: Cpu,
    /** The timer's function, run in the hrtimer interrupt's hardirq frame; null: hrtimer_wakeup(). */
    readonly handler: IrqHandler | null,
  ) {}
  /** hrtimer_wakeup() of a sleeper (overridden by SleepWait). */
  wakeup(): void {}
}

/** The timers of one expiry on a base, in arm order (a run of equal keys in the kernel's rbtree). */
class ExpiryList {
  expires = 0;
  head: Hrtimer | null = null;
  tail: Hrtimer | null = null;
}

/**
 * struct hrtimer_cpu_base (include/linux/hrtimer_defs.h, v6.6) with its one clock base's timerqueue
 * and the clock event device's programmed expiry; it is the device's queue event too (`fire`). The
 * timerqueue (an rbtree ordered by expiry, equal keys in arm order) is kept as a min-heap of
 * distinct expiries (keys inline in a typed array), each with the list of its timers in arm order:
 * timers armed for the same instant (1000 sleepers at 100 instants) cost a map lookup and a list
 * append instead of a heap sift each. A cancelled timer is unlinked from its list; a list left empty
 * is dropped when it reaches the top.
 */
export class HrtimerCpuBase implements Handler {
  private hExp = new Float64Array(64);
  private readonly hL: (ExpiryList | null)[] = [];
  private n = 0;
  private readonly byExpiry = new Map<number, ExpiryList>();
  private readonly spare: ExpiryList[] = [];
  /** Timers enqueued. */
  size = 0;
  /** cpu_base->expires_next: what the clock event device is programmed for (KTIME_MAX: stopped). */
  expiresNext = KTIME_MAX;
  /** cpu_base->in_hrtirq: hrtimer_interrupt() is running (it reprograms at its end). */
  inHrtirq = false;
  /** The device fired and its interrupt waits to be taken (irqs off): it reprograms at its end too. */
  irqPending = false;
  /** cpu_base->hang_detected: the hang delay stays programmed until the next interrupt. */
  hangDetected = false;
  /** /proc/timer_list counters of the base (kernel/time/timer_list.c names). */
  nrEvents = 0;
  nrRetries = 0;
  nrHangs = 0;
  maxHangTime = 0;
  /** Token of the device's current queue event, 0: none (a reprogrammed device's old event pops as a no-op). */
  private token = 0;

  constructor(
    readonly m: Machine,
    readonly c: Cpu,
    /** The interrupt the device raises (the CPU's pending-irq entry for hrtimer_interrupt()). */
    readonly irq: IrqReq,
  ) {}

  /** timerqueue_getnext(): the earliest enqueued timer (the first armed of the earliest expiry), or null. */
  first(): Hrtimer | null {
    while (this.n > 0) {
      const l = this.hL[0]!;
      if (l.head !== null) return l.head;
      this.dropTop();
    }
    return null;
  }

  /**
   * hrtimer_start_range_ns() -> enqueue_hrtimer() (timerqueue_add: after the timers of equal expiry),
   * then hrtimer_reprogram() if it is the new first timer. expires_next is the first timer's expiry
   * whenever reprogramming is allowed, so an earlier expiry is the new first.
   */
  start(t: Hrtimer, expires: number): void {
    if (t.bucket !== null) this.cancel(t);
    t.expires = expires;
    let l = this.byExpiry.get(expires);
    if (l === undefined) l = this.newList(expires);
    t.bucket = l;
    t.nextT = null;
    const tail = l.tail;
    t.prevT = tail;
    if (tail === null) l.head = t;
    else tail.nextT = t;
    l.tail = t;
    this.size++;
    // hrtimer_reprogram(): not while the interrupt runs (or waits to run): it reprograms at its end
    if (expires < this.expiresNext) this.reprogram(expires);
  }

  /**
   * __remove_hrtimer() of a timer cancelled before it expired (hrtimer_cancel() of a sleep that ended
   * early); cancelling the first timer reprograms the device (hrtimer_force_reprogram()).
   */
  cancel(t: Hrtimer): void {
    const l = t.bucket;
    if (l === null) return;
    const wasFirst = this.hL[0] === l && l.head === t;
    this.unlink(t, l);
    if (wasFirst) {
      const f = this.first();
      const next = f === null ? KTIME_MAX : f.expires;
      if (next !== this.expiresNext) this.reprogram(next);
    }
  }

  /** __run_hrtimer()'s __remove_hrtimer() of the first timer `t` (from first()). */
  removeFirst(t: Hrtimer): void {
    this.unlink(t, t.bucket!);
  }

  private unlink(t: Hrtimer, l: ExpiryList): void {
    const p = t.prevT;
    const n = t.nextT;
    if (p === null) l.head = n;
    else p.nextT = n;
    if (n === null) l.tail = p;
    else n.prevT = p;
    t.bucket = null;
    t.prevT = null;
    t.nextT = null;
    this.size--;
  }

  private newList(expires: number): ExpiryList {
    const l = this.spare.pop() ?? new ExpiryList();
    l.expires = expires;
    this.byExpiry.set(expires, l);
    if (this.n === this.hExp.length) {
      const e = new Float64Array(this.hExp.length * 2);
      e.set(this.hExp);
      this.hExp = e;
    }
    const hExp = this.hExp;
    const hL = this.hL;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = hExp[p]!;
      if (pe < expires) break;
      hExp[i] = pe;
      hL[i] = hL[p]!;
      i = p;
    }
    hExp[i] = expires;
    hL[i] = l;
    return l;
  }

  /** The earliest expiry's list is empty: out of the heap and the map, kept for reuse. */
  private dropTop(): void {
    const hExp = this.hExp;
    const hL = this.hL;
    const top = hL[0]!;
    this.byExpiry.delete(top.expires);
    this.spare.push(top);
    const n = --this.n;
    if (n === 0) {
      hL[0] = null;
      return;
    }
    const e = hExp[n]!;
    const l = hL[n]!;
    hL[n] = null;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ce = hExp[c]!;
      const r = c + 1;
      if (r < n && hExp[r]! < ce) {
        c = r;
        ce = hExp[r]!;
      }
      if (e < ce) break;
      hExp[i] = ce;
      hL[i] = hL[c]!;
      i = c;
    }
    hExp[i] = e;
    hL[i] = l;
  }

  /** tick_program_event(): program the device for `at` (KTIME_MAX: stop it). */
  private reprogram(at: number): void {
    if (this.inHrtirq || this.irqPending || this.hangDetected) return;
    this.program(at);
  }

  /**
   * clockevents_program_event(): the device's queue event (an expiry in the past fires now). The
   * queue cannot take an event back: an event still queued for the same time (from an earlier
   * programming, e.g. the watchdog's expiry before a sleep's earlier one) is made current again
   * instead of pushing another.
   */
  program(at: number): void {
    const m = this.m;
    this.expiresNext = at;
    if (at === KTIME_MAX) {
      this.token = 0;
      return;
    }
    const c = this.c;
    if (c.inDrive && at <= m.now) {
      this.token = 0;
      this.irqPending = true;
      m.deliverIrq(c, this.irq);
      return;
    }
    const when = at > m.now ? at : m.now;
    const queued = this.queued.get(when);
    if (queued !== undefined) {
      this.token = queued;
      return;
    }
    this.token = ++this.lastToken;
    this.queued.set(when, this.token);
    m.queue.push(when, c.id, this, this.token);
  }
  /** Tokens of the device's events in the machine queue, by time (at most one per time). */
  private readonly queued = new Map<number, number>();
  private lastToken = 0;

  /** The device fires: the local timer interrupt is raised on the CPU. */
  fire(token: number): void {
    this.queued.delete(this.m.queue.outTime);
    if (token !== this.token) return;
    this.token = 0;
    this.irqPending = true;
    this.m.deliverIrq(this.c, this.irq);
  }
}

/**
 * hrtimer_interrupt() (kernel/time/hrtimer.c, v6.6) as the CPU loop resumes it in the CPU's hrtimer
 * hardirq frame (reused: one such interrupt at a time per CPU). Each resume finishes the timer whose
 * cost was charged (hrtimer_wakeup() of a sleeper) and takes the next expired one.
 */
export class HrtimerInterrupt {
  /** A sleeper whose cost is being charged: woken at the next resume. */
  private running: Hrtimer | null = null;
  /** The generator of a timer function with its own code (the watchdog's), run to its end. */
  private sub: KGen<unknown> | null = null;
  private started = false;
  private basenow = 0;
  private entryTime = 0;
  private retries = 0;

  constructor(
    readonly base: HrtimerCpuBase,
    readonly frame: Ctx,
  ) {}

  begin(): this {
    this.started = false;
    this.running = null;
    this.sub = null;
    return this;
  }

  next(v: unknown): IteratorResult<Step, unknown> {
    const base = this.base;
    const m = base.m;
    if (this.sub !== null) {
      const r = this.sub.next(v);
      if (!r.done) return r;
      this.sub = null;
    } else if (this.running !== null) {
      const t = this.running;
      this.running = null;
      t.wakeup();
    } else if (!this.started) {
      // entry_time = now = hrtimer_update_base(cpu_base)
      this.started = true;
      base.irqPending = false;
      base.nrEvents++;
      this.entryTime = this.basenow = m.now;
      this.retries = 0;
      base.inHrtirq = true;
      base.expiresNext = KTIME_MAX;
    }
    for (;;) {
      // __hrtimer_run_queues(): every timer whose expiry is <= basenow, earliest first
      const t = base.first();
      if (t !== null && t.expires <= this.basenow) {
        // __run_hrtimer(): __remove_hrtimer(), then the timer's function
        base.removeFirst(t);
        if (t.handler === null) {
          // the timer's cost, then hrtimer_wakeup() (in place when the CPU loop would resume us at once)
          if (m.passCost(this.frame, m.cfg.costs.hrtimerNs)) {
            t.wakeup();
            continue;
          }
          this.running = t;
          return m.hrtimerStep;
        }
        const g = t.handler(this.frame);
        const r = g.next(undefined);
        if (!r.done) {
          this.sub = g;
          return r;
        }
        continue;
      }
      // hrtimer_update_next_event(), then tick_program_event(expires_next, 0): -ETIME if expired
      base.inHrtirq = false;
      const now = m.now;
      const next = t === null ? KTIME_MAX : t.expires;
      if (next > now) {
        base.hangDetected = false;
        base.program(next);
        return ITER_DONE;
      }
      base.nrRetries++;
      if (++this.retries < 3) {
        // goto retry: the clock re-read
        base.inHrtirq = true;
        this.basenow = now;
        continue;
      }
      // three attempts: the next event is as far away as the interrupt took (at most 100 ms)
      base.nrHangs++;
      base.hangDetected = true;
      const delta = now - this.entryTime;
      if (delta > base.maxHangTime) base.maxHangTime = delta;
      base.program(now + Math.min(delta, HANG_MAX_DELAY_NS));
      m.hrtimerHang(base.c, delta);
      return ITER_DONE;
    }
  }
}
