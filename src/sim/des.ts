// Generic discrete-event processes on the engine's event queue, in the manner of SimPy: a process is
// a generator that yields a delay (a number, the cheap path) or an event to wait for. The kernel
// layer (machine.ts) drives its own coroutines on the same queue; this layer serves plain models,
// the SimPy reference benchmark, and anything that needs a process but no CPU.
import { EventQueue, type Handler } from "./queue.js";

/** Lane (tie-break priority) of process initialisation, as SimPy's URGENT. */
export const URGENT = 0;
/** Lane of everything else, as SimPy's NORMAL. */
export const NORMAL = 1;

export type ProcGen = Generator<number | SimEvent, unknown, unknown>;
type Callback = (ev: SimEvent) => void;

/**
 * An event that processes can wait for; callbacks run when it is popped from the queue. The first two
 * callbacks live in fields (the common case: a resource's trigger and the waiting process), so an
 * event allocates no array.
 */
export class SimEvent implements Handler {
  private cb0: Callback | null = null;
  private cb1: Callback | null = null;
  private more: Callback[] | null = null;
  processed = false;
  value: unknown = undefined;
  triggered = false;

  constructor(readonly env: Env) {}

  /** Run `cb` when the event is processed (it must not be processed yet). */
  addCallback(cb: Callback): void {
    if (this.processed) throw new Error("SimEvent.addCallback: event already processed");
    if (this.cb0 === null) this.cb0 = cb;
    else if (this.cb1 === null) this.cb1 = cb;
    else (this.more ??= []).push(cb);
  }

  /** Schedule this event to be processed now (after events already queued for this instant). */
  succeed(value?: unknown): this {
    if (this.triggered) throw new Error("SimEvent.succeed: event already triggered");
    this.triggered = true;
    this.value = value;
    this.env.queue.push(this.env.now, NORMAL, this, 0);
    return this;
  }

  fire(_arg: number): void {
    this.processed = true;
    const a = this.cb0;
    const b = this.cb1;
    const more = this.more;
    this.cb0 = this.cb1 = null;
    this.more = null;
    if (a !== null) a(this);
    if (b !== null) b(this);
    if (more !== null) for (let i = 0; i < more.length; i++) more[i]!(this);
  }
}

/** A running generator. It is itself an event that fires when the generator returns. */
export class Process extends SimEvent {
  private readonly resumeCb: Callback = (ev) => this.resume(ev.value);

  constructor(
    env: Env,
    private readonly gen: ProcGen,
  ) {
    super(env);
    env.queue.push(env.now, URGENT, this, 1);
  }

  override fire(arg: number): void {
    if (arg === 2) super.fire(arg);
    else this.resume(undefined);
  }

  private resume(value: unknown): void {
    const env = this.env;
    for (;;) {
      const r = this.gen.next(value);
      if (r.done) {
        this.triggered = true;
        this.value = r.value;
        env.queue.push(env.now, NORMAL, this, 2);
        return;
      }
      const y = r.value;
      if (typeof y === "number") {
        if (!(y >= 0)) throw new RangeError(`process yielded a negative or NaN delay: ${y}`);
        env.queue.push(env.now + y, NORMAL, this, 0);
        return;
      }
      if (!y.processed) {
        y.addCallback(this.resumeCb);
        return;
      }
      value = y.value;
    }
  }
}

const STOP: Handler = { fire() {} };

/** The environment: virtual time and the queue. */
export class Env {
  readonly queue = new EventQueue(1024);
  now = 0;
  private stopped = false;

  process(gen: ProcGen): Process {
    return new Process(this, gen);
  }

  /** An event that fires after `delay`; prefer yielding the number itself, which allocates nothing. */
  timeout(delay: number, value?: unknown): SimEvent {
    const ev = new SimEvent(this);
    ev.triggered = true;
    ev.value = value;
    this.queue.push(this.now + delay, NORMAL, ev, 0);
    return ev;
  }

  /** Events popped so far (SimPy's "processed events"). */
  get eventsProcessed(): number {
    return this.queue.popped;
  }

  /** Run until time `until`, until an event is processed, or until the queue is empty. */
  run(until?: number | SimEvent, maxEvents = Number.POSITIVE_INFINITY): void {
    const q = this.queue;
    this.stopped = false;
    if (typeof until === "number") {
      if (!(until > this.now)) throw new RangeError(`until (${until}) must be after now (${this.now})`);
      q.push(until, URGENT, STOP, 0);
    } else if (until !== undefined) {
      if (until.processed) return;
      until.addCallback(() => {
        this.stopped = true;
      });
    }
    let budget = maxEvents;
    while (!this.stopped && budget-- > 0 && q.pop()) {
      this.now = q.outTime;
      const h = q.outHandler!;
      if (h === STOP) return;
      h.fire(q.outArg);
    }
  }
}

/** A resource with `capacity` users, FIFO, with SimPy's put/get-queue semantics (Resource). */
export class Resource {
  readonly users: SimEvent[] = [];
  private readonly putQueue = new Fifo<SimEvent>();
  private readonly getQueue = new Fifo<ReleaseEvent>();
  private readonly triggerPut: Callback = () => this.doTriggerPut();
  private readonly triggerGet: Callback = () => this.doTriggerGet();

  constructor(
    readonly env: Env,
    readonly capacity = 1,
  ) {}

  request(): SimEvent {
    const ev = new SimEvent(this.env);
    this.putQueue.push(ev);
    ev.addCallback(this.triggerGet);
    this.doTriggerPut();
    return ev;
  }

  release(req: SimEvent): SimEvent {
    const ev = new ReleaseEvent(this.env, req);
    this.getQueue.push(ev);
    ev.addCallback(this.triggerPut);
    this.doTriggerGet();
    return ev;
  }

  private doTriggerPut(): void {
    while (this.putQueue.length > 0) {
      const put = this.putQueue.peek()!;
      if (this.users.length < this.capacity) {
        this.users.push(put);
        put.succeed();
      }
      if (!put.triggered) break;
      this.putQueue.shift();
      break; // Resource._do_put returns nothing: one grant per trigger, as in SimPy
    }
  }

  private doTriggerGet(): void {
    while (this.getQueue.length > 0) {
      const g = this.getQueue.peek()!;
      const i = this.users.indexOf(g.req);
      if (i >= 0) this.users.splice(i, 1);
      g.succeed();
      this.getQueue.shift();
      break;
    }
  }
}

/** A FIFO with O(1) removal at the head (Array.shift is O(n) on long queues). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/** A Resource release (SimPy's Release event): knows the request it ends. */
class ReleaseEvent extends SimEvent {
  constructor(
    env: Env,
    readonly req: SimEvent,
  ) {
    super(env);
  }
}

/** An unbounded FIFO store (SimPy's Store). */
export class Store<T> {
  readonly items: T[] = [];
  private readonly putQueue = new Fifo<{ ev: SimEvent; item: T }>();
  private readonly getQueue = new Fifo<SimEvent>();
  private readonly triggerPut: Callback = () => this.doTriggerPut();
  private readonly triggerGet: Callback = () => this.doTriggerGet();

  constructor(
    readonly env: Env,
    readonly capacity = Number.POSITIVE_INFINITY,
  ) {}

  put(item: T): SimEvent {
    const ev = new SimEvent(this.env);
    this.putQueue.push({ ev, item });
    ev.addCallback(this.triggerGet);
    this.doTriggerPut();
    return ev;
  }

  get(): SimEvent {
    const ev = new SimEvent(this.env);
    this.getQueue.push(ev);
    ev.addCallback(this.triggerPut);
    this.doTriggerGet();
    return ev;
  }

  private doTriggerPut(): void {
    if (this.putQueue.length === 0) return;
    const p = this.putQueue.peek()!;
    if (this.items.length < this.capacity) {
      this.items.push(p.item);
      p.ev.succeed();
      this.putQueue.shift();
    }
  }

  private doTriggerGet(): void {
    if (this.getQueue.length === 0) return;
    const g = this.getQueue.peek()!;
    if (this.items.length > 0) {
      g.succeed(this.items.shift());
      this.getQueue.shift();
    }
  }
}
