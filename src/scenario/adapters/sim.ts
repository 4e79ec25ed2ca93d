// Engine-only workloads (no kernel model): a kthread that spins, for the soft-lockup demonstration.
import { condResched } from "../../sim/effects.js";
import type { Ctx } from "../../sim/task.js";
import { bootKernel } from "../../sync/index.js";
import type { Workload } from "../schema.js";
import { drive } from "./drive.js";
import { type Adapter, ModelUnavailableError } from "./types.js";

type KthreadSpin = Extract<Workload, { type: "kthread-spin" }>;

const SPIN_CHUNK_NS = 1_000_000;
const SPIN_COND_RESCHED = condResched("faultline/kthread-spin", 1);

export const simAdapter: Adapter = ({ scenario, machine, trace, onProgress }) => {
  const m = bootKernel(machine);
  m.trace = trace;
  let running = 0;
  for (const w of scenario.workloads) {
    if (!w.enabled) continue;
    if (w.type !== "kthread-spin")
      throw new ModelUnavailableError(
        `workload type ${w.type} needs a kernel model; the engine-only variant runs kthread-spin`,
      );
    running++;
    const start = () => {
      m.createTask(w.comm, w.cpu, (k) => spin(k, w, () => running--), { kthread: true });
    };
    if (w.start > 0) m.at(w.start, start);
    else start();
  }
  const stopReason = drive(m, scenario, () => running === 0, onProgress);
  m.finish();
  let ctxt = 0;
  let intr = 0;
  let softirq = 0;
  for (const c of m.cpus) {
    ctxt += c.nrSwitches;
    intr += c.hardirqCount;
    softirq += c.softirqCount;
  }
  return {
    m,
    stopReason,
    output: { throughput: [], latency: [], vmstat: {}, counters: { ctxt, intr, softirq } },
  };
};

/** A kernel thread busy for `duration` (ns of virtual time), calling cond_resched() only if asked to. */
function* spin(k: Ctx, w: KthreadSpin, onExit: () => void) {
  const end = k.m.now + w.duration;
  const every = w.condReschedEvery ?? 0;
  let nextResched = k.m.now + every;
  while (k.m.now < end) {
    yield Math.min(SPIN_CHUNK_NS, end - k.m.now);
    if (every > 0 && k.m.now >= nextResched) {
      yield SPIN_COND_RESCHED;
      nextResched = k.m.now + every;
    }
  }
  onExit();
}
