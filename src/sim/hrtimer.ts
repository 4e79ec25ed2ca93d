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
  /** The next list in the same slot of the base's expiry index (see HrtimerCpuBase.slotOf). */
  chain: ExpiryList | null = null;
}

/** 2^32, to take the high word of an integer time held in a double. */
const TWO_32 = 4294967296;

/**
 * struct hrtimer_cpu_base (include/linux/hrtimer_defs.h, v6.6) with its one clock base's timerqueue
 * and the clock event device's programmed expiry; it is the device's queue event too (`fire`). The
 * timerqueue (an rbtree ordered by expiry, equal keys in arm order) is kept as a min-heap of
 * distinct expiries (keys inline in a typed array), each with the list of its timers in arm order:
 * timers armed for the same instant (1000 sleepers at 100 instants) cost a lookup and a list
 * append instead of a heap sift each. A cancelled timer is unlinked from its list; a list left empty
 * is dropped when it reaches the top. The lookup (expiry -> its list) is a hash index chained through
 * the lists themselves (`slots`, `chain`), not a Map keyed by a double: times past 2^31 ns are heap
 * numbers, which a Map hashes and compares slowly (the Map's get was 6.8 % of `timeouts`); the index
 * only finds lists, it decides no order.
 */
export class HrtimerCpuBase implements Handler {
  private hExp = new Float64Array(64);
  private readonly hL: (ExpiryList | null)[] = [];
  private n = 0;
  /** The expiry index: slot -> lists chained by `chain` (power-of-two size, at most one list per slot on average). */
  private slots: (ExpiryList | null)[] = new Array(64).fill(null);
  private slotShift = 32 - 6;
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
    let l = this.slots[this.slotOf(expires)] as ExpiryList | null;
    while (l !== null && l.expires !== expires) l = l.chain;
    if (l === null) l = this.newList(expires);
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

  /**
   * The index slot of an expiry: a multiplicative hash of its low and high 32-bit words (expiries are
   * often multiples of a round number of ns, whose low bits are all 0), top bits of the product.
   */
  private slotOf(expires: number): number {
    const lo = expires | 0;
    const hi = (expires / TWO_32) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.slotShift;
  }

  private newList(expires: number): ExpiryList {
    const l = this.spare.pop() ?? new ExpiryList();
    l.expires = expires;
    if (this.n >= this.slots.length) this.growSlots();
    const si = this.slotOf(expires);
    l.chain = this.slots[si] as ExpiryList | null;
    this.slots[si] = l;
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

  /** Twice the index's slots (the lists in the heap are the lists in the index). */
  private growSlots(): void {
    const size = this.slots.length * 2;
    this.slots = new Array(size).fill(null);
    this.slotShift--;
    for (let i = 0; i < this.n; i++) {
      const l = this.hL[i]!;
      const si = this.slotOf(l.expires);
      l.chain = this.slots[si] as ExpiryList | null;
      this.slots[si] = l;
    }
  }

  /** The earliest expiry's list is empty: out of the heap and the index, kept for reuse. */
  private dropTop(): void {
    const hExp = this.hExp;
    const hL = this.hL;
    const top = hL[0]!;
    const si = this.slotOf(top.expires);
    let p = this.slots[si]!;
    if (p === top) this.slots[si] = top.chain;
    else {
      while (p.chain !== top) p = p.chain!;
      p.chain = top.chain;
    }
    top.chain = null;
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
   * clockevents_program_event(): the device's queue event (an expiry in the past fires now). An
   * event still queued for the same time (from an earlier programming, e.g. the watchdog's expiry
   * before a sleep's earlier one) is made current again instead of pushing another; one queued for
   * another time stays queued and pops as a no-op (its token is stale). EventQueue.remove could take
   * it back, but none pops in the SimPy workloads (counted), so the device keeps no slots.
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
    // the device's events still queued, in time order: is one queued for `when`?
    const qt = this.qTime;
    let i = this.qTail;
    while (i > this.qHead && qt[i - 1]! > when) i--;
    if (i > this.qHead && qt[i - 1] === when) {
      this.token = this.qTok[i - 1]!;
      return;
    }
    this.token = ++this.lastToken;
    this.queuedInsert(i, when, this.token);
    m.queue.push(when, c.id, this, this.token);
  }
  /**
   * Times and tokens of the device's events in the machine queue (at most one per time), in time
   * order in slots [qHead, qTail): they pop in that order (one CPU's lane), so the one that fires is
   * the first. A few entries at most (a sleep's expiry and the watchdog's), so a sorted array
   * scanned from its end costs less than a Map keyed by a double.
   */
  private qTime = new Float64Array(8);
  private qTok = new Float64Array(8);
  private qHead = 0;
  private qTail = 0;
  private lastToken = 0;

  /** Insert (`when`, `token`) at slot `i` of the queued events, keeping their time order. */
  private queuedInsert(i: number, when: number, token: number): void {
    let qt = this.qTime;
    let qk = this.qTok;
    if (i === this.qHead && i > 0) {
      // before every queued event (a sleep's expiry before the watchdog's): in the free slot ahead
      this.qHead = --i;
      qt[i] = when;
      qk[i] = token;
      return;
    }
    if (this.qTail === qt.length) {
      // move the live entries to the front, in place or into arrays twice as long
      const n = this.qTail - this.qHead;
      if (n * 2 > qt.length) {
        const t = new Float64Array(qt.length * 2);
        const k = new Float64Array(qt.length * 2);
        t.set(qt.subarray(this.qHead, this.qTail));
        k.set(qk.subarray(this.qHead, this.qTail));
        this.qTime = qt = t;
        this.qTok = qk = k;
      } else {
        qt.copyWithin(0, this.qHead, this.qTail);
        qk.copyWithin(0, this.qHead, this.qTail);
      }
      i -= this.qHead;
      this.qHead = 0;
      this.qTail = n;
    }
    for (let j = this.qTail; j > i; j--) {
      qt[j] = qt[j - 1]!;
      qk[j] = qk[j - 1]!;
    }
    qt[i] = when;
    qk[i] = token;
    this.qTail++;
  }

  /** The device's event at `when` popped: out of the queued events (the first, being the earliest). */
  private queuedRemove(when: number): void {
    const qt = this.qTime;
    const qk = this.qTok;
    let i = this.qHead;
    while (i < this.qTail && qt[i] !== when) i++;
    if (i === this.qTail) return;
    if (i === this.qHead) this.qHead++;
    else {
      for (let j = i; j < this.qTail - 1; j++) {
        qt[j] = qt[j + 1]!;
        qk[j] = qk[j + 1]!;
      }
      this.qTail--;
    }
    if (this.qHead === this.qTail) this.qHead = this.qTail = 0;
  }

  /** The device fires: the local timer interrupt is raised on the CPU. */
  fire(token: number): void {
    this.queuedRemove(this.m.queue.outTime);
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
