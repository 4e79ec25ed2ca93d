// The race checker's view of the mm model: an mm scenario (src/mm/scenario.ts) as a CheckTarget,
// built in the explore driver (or warmed up in the timed one), with the counterexample view's state.
import { ArrayPool, type MmSim } from "../mm/index.js";
import { buildMmScenario, type MmScenarioConfig } from "../mm/scenario.js";
import { Machine } from "../sim/machine.js";
import { mmStepState } from "./counterexample.js";
import type { CheckTarget } from "./run.js";
import { type WarmStart, warmUp } from "./warm.js";

/** A race-checker target (src/check/run.ts CheckTarget) for an mm scenario in explore mode. */
export function mmCheckTarget(
  cfg: MmScenarioConfig,
  opts: { name?: string; maxSteps?: number; kinds?: readonly string[]; warmStart?: WarmStart } = {},
): CheckTarget {
  const explore: MmScenarioConfig = { ...cfg, mode: "explore", latency: false };
  // runs the checker is done with give their address-space arrays to the next build
  const pool = new ArrayPool();
  const sims = new WeakMap<Machine, MmSim>();
  const scenarios = new WeakMap<Machine, unknown>();
  const releases = new WeakMap<Machine, () => void>();
  const warm = opts.warmStart;
  return {
    name: opts.name ?? `mm:${cfg.variant}`,
    build: () => {
      if (warm === undefined) {
        const b = buildMmScenario(explore, undefined, pool);
        sims.set(b.m, b.s.sim);
        scenarios.set(b.m, b.s);
        releases.set(b.m, b.release);
        return b.m;
      }
      // warm start: the timed driver (watchdogs off: they would fire as timers) up to the event
      const m = new Machine({
        cpus: cfg.cpus,
        seed: cfg.seed ?? 1,
        mode: "timed",
        preempt: cfg.preempt ?? "none",
        jitter: cfg.jitter ?? 0.05,
        watchdogThreshS: 0,
        nmiWatchdog: false,
        hungTaskTimeoutS: 0,
        wqWatchdogThreshS: 0,
      });
      const b = buildMmScenario({ ...cfg, latency: false }, m, pool);
      const sim = b.s.sim;
      warmUp(m, warm, (f) => {
        sim.onNote = f;
      });
      sims.set(m, sim);
      scenarios.set(m, b.s);
      releases.set(m, b.release);
      return m;
    },
    stateRoots: (m) => [scenarios.get(m)],
    counters: (m) => {
      const s = sims.get(m)!;
      // user.ts: `const val = sim.nextValue++` (every store a fresh value)
      return () => `${s.nextValue}`;
    },
    inspect: (m, vpn) => {
      const s = sims.get(m);
      return s ? mmStepState(s, vpn) : { pte: "", tlb: [], vma: "" };
    },
    recycle: (m) => {
      sims.get(m)?.recycle();
      releases.get(m)?.();
      sims.delete(m);
      scenarios.delete(m);
      releases.delete(m);
    },
    maxSteps: opts.maxSteps ?? cfg.stop?.maxSteps ?? 200_000,
    cpus: cfg.cpus,
    ...(opts.kinds !== undefined ? { kinds: opts.kinds } : {}),
    spec: {
      model: "mm",
      config: { ...cfg, trace: undefined } as unknown as Record<string, unknown>,
      options: {
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps } : {}),
        ...(opts.kinds !== undefined ? { kinds: [...opts.kinds] } : {}),
        ...(warm !== undefined ? { warmStart: warm } : {}),
      },
    },
    describe: {
      model: "mm",
      kernel: cfg.variant,
      seed: cfg.seed ?? 1,
      disabledSites: [...(cfg.disableLockSites ?? [])],
      switches: cfg.switches ?? {},
      workloads: cfg.workloads,
      ...(warm !== undefined ? { warmStart: warm } : {}),
    },
  };
}
