// Workqueues with per-CPU, concurrency-managed kworker pools (kernel/workqueue.c): queue_work_on(),
// worker_thread()/process_one_work() with the collision rule (a work item queued again while it
// runs goes to the worker running it, find_worker_executing_work), wq_worker_sleeping() waking
// another worker when a busy worker blocks, wq_worker_tick()'s CPU-intensive auto-detection (v6.5+,
// 616db8779b1e), and the stall watchdog wq_watchdog_timer_fn ("BUG: workqueue lockup", v4.5+
// 82607adcf9cd: checked every wq_watchdog_thresh, reported on every check while a pool is stuck).
import { condResched, type KGen, SCHEDULE } from "./effects.js";
import type { Machine } from "./machine.js";
import { type Ctx, TASK_INTERRUPTIBLE, type Task } from "./task.js";

export interface WorkStruct {
  /** Work function name, as the kernel symbol (e.g. "xfs_end_io"). */
  readonly func: string;
  readonly fn: (k: Ctx, w: WorkStruct) => KGen<unknown>;
  /** WORK_STRUCT_PENDING: queued and not yet started. */
  pending: boolean;
  /** CPU of the pool whose worker runs it now (get_work_pool + find_worker_executing_work), -1: none. */
  runningOn?: number;
  data?: unknown;
}

export interface Workqueue {
  readonly name: string;
  readonly cpuIntensive: boolean;
}

interface PoolItem {
  work: WorkStruct;
  wq: Workqueue;
  queuedAt: number;
  /** Trace flow from queue_work to the execution, 0: none. */
  flow: number;
}

interface WorkerState {
  pool: WorkerPool;
  currentFunc: string;
  currentWq: string;
  /** worker->current_work */
  currentWork: WorkStruct | null;
  /** worker->scheduled: collided instances of current_work, run by this worker next. */
  scheduled: PoolItem[];
  /** worker->current_at: sum_exec_runtime when the work started or last woke (CPU-intensive check). */
  currentAt: number;
  /** WORKER_CPU_INTENSIVE: not counted in nr_running. */
  cpuIntensive: boolean;
  sleeping: boolean;
  idle: boolean;
}

export class WorkerPool {
  readonly worklist: PoolItem[] = [];
  readonly idle: Task[] = [];
  readonly workers: Task[] = [];
  nrRunning = 0;
  /** Last forward progress (a work item started), for the stall watchdog. */
  watchdogTs = 0;
  stallReported = false;
  private nextId = 0;
  constructor(readonly cpu: number) {}
  newId(): number {
    return this.nextId++;
  }
}

/** max workers per pool before queue_work waits for one to free up (the kernel's is effectively unbounded) */
const MAX_WORKERS_PER_POOL = 64;
const PROCESS_ONE_WORK_RESCHED = condResched("kernel/workqueue.c", 0);

export class WorkqueueSystem {
  readonly pools: WorkerPool[];
  readonly workqueues: Workqueue[] = [];
  /** Work items executed, per workqueue name. */
  readonly executed = new Map<string, number>();
  /**
   * workqueue.cpu_intensive_thresh_us in ns (v6.5+: 10 ms), 0 before v6.5 (no auto-detection). Set
   * by the kernel model of the run (its version) before work is queued.
   */
  cpuIntensiveThreshNs = 0;
  /** Work items auto-marked CPU_INTENSIVE, per function ("hogged CPU" counts). */
  readonly cpuHogs = new Map<string, number>();

  constructor(private readonly m: Machine) {
    this.pools = m.cpus.map((c) => new WorkerPool(c.id));
    m.hooks.tick.push((k) => this.wqWorkerTick(k.cpu.curr));
  }

  /** alloc_workqueue() */
  allocWorkqueue(name: string, opts: { cpuIntensive?: boolean } = {}): Workqueue {
    const wq = { name, cpuIntensive: opts.cpuIntensive ?? false };
    this.workqueues.push(wq);
    return wq;
  }

  /** queue_work_on(): false if the work was already pending. */
  queueWorkOn(cpu: number, wq: Workqueue, work: WorkStruct): boolean {
    if (work.pending) return false;
    work.pending = true;
    let pool = this.pools[cpu]!;
    // __queue_work (kernel/workqueue.c, 2.6.36+; every workqueue non-reentrant since 3.7, commit
    // dbf2576e37da): a work item still running on another CPU's pool is queued there, so one item
    // never runs on two CPUs at once
    if (work.runningOn !== undefined && work.runningOn >= 0 && work.runningOn !== cpu)
      pool = this.pools[work.runningOn]!;
    if (pool.worklist.length === 0 && pool.nrRunning === 0) pool.watchdogTs = this.m.now;
    const from = this.m.currentCpu;
    const flow = from !== null && this.m.trace !== null ? this.m.flowStart(from.id, "queue_work") : 0;
    pool.worklist.push({ work, wq, queuedAt: this.m.now, flow });
    if (pool.nrRunning === 0) this.wakeUpWorker(pool);
    return true;
  }

  /** queue_work(): on the local CPU (the caller's), as per-CPU workqueues do. */
  queueWork(k: Ctx, wq: Workqueue, work: WorkStruct): boolean {
    return this.queueWorkOn(k.cpu.id, wq, work);
  }

  private wakeUpWorker(pool: WorkerPool): void {
    const t = pool.idle.pop();
    if (t !== undefined) {
      const w = t.worker as WorkerState;
      w.idle = false;
      pool.nrRunning++;
      this.m.wakeUpProcess(t);
      return;
    }
    if (pool.workers.length >= MAX_WORKERS_PER_POOL) return;
    this.createWorker(pool);
  }

  /** create_worker() */
  private createWorker(pool: WorkerPool): Task {
    const id = pool.newId();
    const m = this.m;
    const t = m.createTask(`kworker/${pool.cpu}:${id}`, pool.cpu, (k) => this.workerThread(k, pool), {
      stack: ["ret_from_fork", "kthread", "worker_thread"],
      start: false,
    });
    const ws: WorkerState = {
      pool,
      currentFunc: "",
      currentWq: "",
      currentWork: null,
      scheduled: [],
      currentAt: 0,
      cpuIntensive: false,
      sleeping: false,
      idle: false,
    };
    t.worker = ws;
    pool.workers.push(t);
    pool.nrRunning++;
    m.wakeUpProcess(t);
    return t;
  }

  /** worker_thread() + process_one_work() */
  private *workerThread(k: Ctx, pool: WorkerPool): KGen<void> {
    const t = k.task;
    const w = t.worker as WorkerState;
    const m = this.m;
    for (;;) {
      let item = w.scheduled.shift();
      if (item === undefined) {
        item = pool.worklist.shift();
        // find_worker_executing_work(): the same work item running on another worker of the pool
        // is not run concurrently; the instance goes to that worker's scheduled list
        if (item !== undefined) {
          const busy = this.executingWorker(pool, item.work);
          if (busy !== null) {
            item.work.pending = false;
            busy.scheduled.push(item);
            continue;
          }
        }
      }
      if (item === undefined) {
        w.idle = true;
        pool.nrRunning--;
        pool.idle.push(t);
        t.state = TASK_INTERRUPTIBLE;
        yield SCHEDULE;
        continue;
      }
      item.work.pending = false;
      pool.watchdogTs = m.now;
      pool.stallReported = false;
      w.currentFunc = item.work.func;
      w.currentWq = item.wq.name;
      w.currentWork = item.work;
      item.work.runningOn = pool.cpu;
      w.currentAt = t.sumExecNs;
      m.emit("workqueue_execute_start", pool.cpu, item.work.func, item.wq.name);
      if (item.flow !== 0) m.flowEnd(pool.cpu, "queue_work", item.flow);
      yield* k.call("process_one_work", k.call(item.work.func, item.work.fn(k, item.work)));
      m.emit("workqueue_execute_end", pool.cpu, item.work.func, item.wq.name);
      this.executed.set(item.wq.name, (this.executed.get(item.wq.name) ?? 0) + 1);
      w.currentFunc = "";
      w.currentWq = "";
      item.work.runningOn = -1;
      w.currentWork = null;
      if (w.cpuIntensive) {
        // worker_clr_flags(WORKER_CPU_INTENSIVE): counted in nr_running again
        w.cpuIntensive = false;
        pool.nrRunning++;
      }
      yield PROCESS_ONE_WORK_RESCHED;
    }
  }

  private executingWorker(pool: WorkerPool, work: WorkStruct): WorkerState | null {
    for (const t of pool.workers) {
      const w = t.worker as WorkerState;
      if (w.currentWork === work) return w;
    }
    return null;
  }

  /** wq_worker_sleeping(): a busy worker blocks; keep the pool going with another worker. */
  workerSleeping(t: Task): void {
    const w = t.worker as WorkerState;
    if (w.idle || w.sleeping) return;
    w.sleeping = true;
    if (!w.cpuIntensive) w.pool.nrRunning--;
    if (w.pool.nrRunning === 0 && w.pool.worklist.length > 0) this.wakeUpWorker(w.pool);
  }

  /** wq_worker_running(): also restarts the CPU-intensive window (current_at). */
  workerWaking(t: Task): void {
    const w = t.worker as WorkerState;
    if (!w.sleeping) return;
    w.sleeping = false;
    w.currentAt = t.sumExecNs;
    if (!w.cpuIntensive) w.pool.nrRunning++;
  }

  /**
   * wq_worker_tick() (kernel/workqueue.c v6.5+, 616db8779b1e): a per-CPU work item that has run for
   * cpu_intensive_thresh_us without sleeping is marked CPU_INTENSIVE; it leaves nr_running and the
   * pool starts another worker for its pending work (kick_pool).
   */
  private wqWorkerTick(t: Task): void {
    if (this.cpuIntensiveThreshNs <= 0 || t.worker === null) return;
    const w = t.worker as WorkerState;
    if (w.currentWork === null || w.cpuIntensive || w.sleeping) return;
    if (t.sumExecNs - w.currentAt < this.cpuIntensiveThreshNs) return;
    w.cpuIntensive = true;
    w.pool.nrRunning--;
    this.cpuHogs.set(w.currentFunc, (this.cpuHogs.get(w.currentFunc) ?? 0) + 1);
    if (w.pool.nrRunning === 0 && w.pool.worklist.length > 0) this.wakeUpWorker(w.pool);
  }

  /**
   * wq_watchdog_timer_fn() (kernel/workqueue.c v4.5+): every wq_watchdog_thresh, each pool with
   * pending work and no progress (pool->watchdog_ts, or a touch) for longer than the threshold is
   * reported, on every check while it stays stuck.
   */
  checkStalls(threshNs: number): void {
    const m = this.m;
    for (const pool of this.pools) {
      if (pool.worklist.length === 0) continue;
      const stuck = m.now - pool.watchdogTs;
      if (stuck <= threshNs) continue;
      pool.stallReported = true;
      const msg = `BUG: workqueue lockup - pool cpus=${pool.cpu} node=0 flags=0x0 nice=0 stuck for ${Math.floor(stuck / 1e9)}s!`;
      m.printk(pool.cpu, msg);
      m.report({
        kind: "workqueue_lockup",
        cpus: [pool.cpu],
        message: msg,
        details: { pending: pool.worklist.length, stuck_ns: stuck },
      });
    }
  }
}
