// Machine configuration and the engine's own cost table. Kernel models (mm, fs) keep their own cost
// tables; every entry names its unit and its source.

import { STEAL_PROFILE_NAMES } from "./hypervisor.js";

export type PreemptModel = "none" | "voluntary" | "full" | "lazy";
export const PREEMPT_MODELS: readonly PreemptModel[] = ["none", "voluntary", "full", "lazy"];

export type DriverMode = "timed" | "explore";

export interface EngineCosts {
  /** __schedule() + context switch, charged to the incoming task. [est: typical 1-2 µs on KVM guests] */
  contextSwitchNs: number;
  /** irq entry + exit bookkeeping. [est] */
  irqEntryNs: number;
  /** scheduler tick handler (update_process_times, scheduler_tick). [est] */
  tickNs: number;
  /** hrtimer interrupt handling a watchdog or sleep timer. [est] */
  hrtimerNs: number;
  /** IPI delivery latency, sender to target's handler entry. [est: KVM posted interrupts ~1-2 µs] */
  ipiLatencyNs: number;
  /** try_to_wake_up() cost charged to the waker. [est] */
  wakeupNs: number;
  /** softlockup_fn run by the stopper thread. [est] */
  softlockupFnNs: number;
  /** syscall entry + exit (getpid baseline). [measured here: 107 ns, calibration.md §4] */
  syscallNs: number;
}

export const DEFAULT_ENGINE_COSTS: EngineCosts = {
  contextSwitchNs: 1500,
  irqEntryNs: 250,
  tickNs: 1200,
  hrtimerNs: 400,
  ipiLatencyNs: 1500,
  wakeupNs: 300,
  softlockupFnNs: 300,
  syscallNs: 107,
};

export interface MachineConfig {
  /** Number of simulated CPUs, 1..1024. */
  cpus: number;
  /** Timer tick frequency (CONFIG_HZ). */
  hz: number;
  preempt: PreemptModel;
  seed: number;
  mode: DriverMode;
  /** kernel.watchdog_thresh in seconds (0 disables soft and hard lockup detectors). */
  watchdogThreshS: number;
  /**
   * Soft-lockup reporting: "repeat" (v5.13+: a report every threshold while stuck) or "once" (4.x,
   * RHEL 8: once per episode, re-armed when the CPU is touched again; soft_watchdog_warn).
   */
  watchdogStyle: "repeat" | "once";
  /** kernel.softlockup_panic */
  softlockupPanic: boolean;
  /** Hard-lockup (NMI) detector present (many VMs have none). */
  nmiWatchdog: boolean;
  /** CONFIG_RCU_CPU_STALL_TIMEOUT in seconds. */
  rcuStallTimeoutS: number;
  /** kernel.hung_task_timeout_secs (0 disables). */
  hungTaskTimeoutS: number;
  /** workqueue.watchdog_thresh in seconds (0 disables). */
  wqWatchdogThreshS: number;
  /** CONFIG_DEBUG_ATOMIC_SLEEP: might_sleep()/cond_resched() check the context. */
  debugAtomicSleep: boolean;
  /** Relative jitter applied by Machine.jit() to model costs (0 = exact). */
  jitter: number;
  /** Steal-time profile of the vCPUs (src/sim/hypervisor.ts STEAL_PROFILES; "none" = no hypervisor). */
  steal: string;
  costs: EngineCosts;
  /**
   * Kernel code passes steps in place when the CPU loop would only do them and resume it (Machine
   * passSteps; the results are the same either way: off runs every step through the loop).
   */
  passSteps: boolean;
  /** Names printed in watchdog splats. */
  hardwareName: string;
  kernelRelease: string;
}

export function defaultMachineConfig(over: Partial<MachineConfig> = {}): MachineConfig {
  return {
    cpus: 2,
    hz: 250,
    preempt: "none",
    seed: 1,
    mode: "timed",
    watchdogThreshS: 10,
    watchdogStyle: "repeat",
    softlockupPanic: false,
    nmiWatchdog: true,
    rcuStallTimeoutS: 21,
    hungTaskTimeoutS: 120,
    wqWatchdogThreshS: 30,
    debugAtomicSleep: true,
    jitter: 0.05,
    steal: "none",
    passSteps: true,
    hardwareName: "faultline simulated machine",
    kernelRelease: "faultline",
    ...over,
    costs: { ...DEFAULT_ENGINE_COSTS, ...(over.costs ?? {}) },
  };
}

export function validateMachineConfig(c: MachineConfig): void {
  const bad = (f: string, v: unknown, allowed: string) => {
    throw new RangeError(`machine.${f}: got ${JSON.stringify(v)}, allowed ${allowed}`);
  };
  if (!Number.isInteger(c.cpus) || c.cpus < 1 || c.cpus > 1024) bad("cpus", c.cpus, "an integer 1..1024");
  if (![100, 250, 300, 1000].includes(c.hz)) bad("hz", c.hz, "100, 250, 300 or 1000");
  if (!(["none", "voluntary", "full", "lazy"] as string[]).includes(c.preempt))
    bad("preempt", c.preempt, "none, voluntary, full or lazy");
  if (!Number.isInteger(c.watchdogThreshS) || c.watchdogThreshS < 0 || c.watchdogThreshS > 60)
    bad("watchdogThreshS", c.watchdogThreshS, "an integer 0..60");
  if (c.watchdogStyle !== "repeat" && c.watchdogStyle !== "once")
    bad("watchdogStyle", c.watchdogStyle, "repeat or once");
  if (!(c.rcuStallTimeoutS >= 3 && c.rcuStallTimeoutS <= 300))
    bad("rcuStallTimeoutS", c.rcuStallTimeoutS, "3..300");
  if (!(c.jitter >= 0 && c.jitter < 1)) bad("jitter", c.jitter, "0 <= jitter < 1");
  if (!STEAL_PROFILE_NAMES.includes(c.steal)) bad("steal", c.steal, STEAL_PROFILE_NAMES.join(", "));
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff)
    bad("seed", c.seed, "an integer 0..2^32-1");
}
