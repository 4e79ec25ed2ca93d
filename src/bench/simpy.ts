// The three SimPy reference workloads of ../shared/bench/simpy_bench.py, ported onto the engine's own
// processes (src/sim/des.ts). They must print the checksums the Python script prints.
import { Env, Resource, type SimEvent, Store } from "../sim/des.js";
import { mulberry32 } from "../sim/prng.js";

const SEED = 0x5eed;

export interface SimpyResult {
  name: string;
  checksum: number;
  events: number;
  now: number;
  extra: Record<string, number>;
}

export function wlTimeouts(n = 1000, T = 20000): SimpyResult {
  const env = new Env();
  let acc = 0;
  function* proc(pid: number) {
    const rnd = mulberry32(SEED + pid);
    for (;;) {
      yield 1 + (rnd() % 10);
      acc = (Math.imul(acc, 31) + pid) >>> 0;
    }
  }
  for (let i = 0; i < n; i++) env.process(proc(i));
  env.run(T);
  return { name: "timeouts", checksum: acc, events: env.eventsProcessed, now: env.now, extra: {} };
}

export function wlResource(cpus = 64, T = 400000): SimpyResult {
  const env = new Env();
  const lock = new Resource(env, 1);
  let acquired = 0;
  let waitSum = 0;
  let checksum = 0;
  function* cpu(cid: number) {
    const rnd = mulberry32((SEED ^ (Number((BigInt(cid) * 2654435761n) & 0xffffffffn) >>> 0)) >>> 0);
    for (;;) {
      yield 1 + (rnd() % 20);
      const req = lock.request();
      const tReq = env.now;
      yield req;
      acquired++;
      waitSum += env.now - tReq;
      checksum = (Math.imul(checksum, 131) + cid) >>> 0;
      yield 1 + (rnd() % 3);
      lock.release(req);
    }
  }
  for (let c = 0; c < cpus; c++) env.process(cpu(c));
  env.run(T);
  return {
    name: "resource",
    checksum: checksum >>> 0,
    events: env.eventsProcessed,
    now: env.now,
    extra: { acquired, wait_sum: waitSum },
  };
}

export function wlPingpong(M = 200000): SimpyResult {
  const env = new Env();
  const s1 = new Store<number>(env);
  const s2 = new Store<number>(env);
  let rt = 0;
  function* a() {
    for (let i = 0; i < M; i++) {
      yield s1.put(i);
      yield s2.get();
      rt++;
    }
  }
  function* b(): Generator<number | SimEvent, void, unknown> {
    for (;;) {
      const v = (yield s1.get()) as number;
      yield 1;
      yield s2.put(v);
    }
  }
  const pa = env.process(a());
  env.process(b());
  env.run(pa);
  return { name: "pingpong", checksum: rt, events: env.eventsProcessed, now: env.now, extra: {} };
}
