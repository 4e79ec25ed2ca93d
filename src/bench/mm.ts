// Benchmarks of the mm model, one line each (`npm run bench`):
// - faultstorm16: 16 CPUs, 16 threads first-touching private anonymous regions (6.4.3), simulated
//   faults per wall-clock second (target: at least one million);
// - faultstorm1: the same faults on one CPU, where no fault waits for the event queue: the model's own
//   cost per fault;
// - faultstorm64-mem: 64 threads, one million faults in all, and the memory the run needed;
// - fork10k: wall time of 5 forks of a process with 10,000 one-page VMAs (6.4.3; target under 10 s),
//   with the simulated time of one fork.
import { runMmScenario } from "../mm/scenario.js";
import type { Benchmark } from "./kernel.js";

/** Resident memory of the process when the host offers it (Node), else -1 (browsers). */
function rssBytes(): number {
  const p = (globalThis as { process?: { memoryUsage?: () => { rss: number } } }).process;
  return p?.memoryUsage ? p.memoryUsage().rss : -1;
}

/** CPU time (user + system) of the process in seconds when the host offers it (Node), else -1. */
function cpuSeconds(): number {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!p?.cpuUsage) return -1;
  const u = p.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function storm(threads: number, faultsPerThread: number, variant = "6.4.3") {
  return runMmScenario({
    variant,
    cpus: threads,
    seed: 1,
    workloads: [{ type: "fault-loop", threads, regionSize: 4096 * faultsPerThread, faultsPerThread }],
  });
}

/**
 * A storm of `threads` x `per` faults after a JIT warm-up of two storms of `threads` x `warm`: the
 * result, its wall seconds, and its CPU seconds (-1 where the host has none). Two, because much of
 * the code optimized during a process's first run is thrown away at the next run's start ("wrong
 * map": the next run's objects have other hidden classes; the cause is not found) and compiled again
 * (measured: 31 deoptimizations and 61 compilations in the run after a single warm-up,
 * 5,130 ns per fault there against 1,864 in the run after it). Only the runs after the second are
 * the model's steady state, as a sweep's worker processes see it.
 */
function timedStorm(threads: number, per: number, warm: number) {
  storm(threads, warm); // warm the JIT
  storm(threads, warm); // and again with the objects' final shapes
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const r = storm(threads, per);
  const s = (performance.now() - t0) / 1000;
  return { r, s, cpu: c0 < 0 ? -1 : cpuSeconds() - c0 };
}

/** 16-CPU fault storm: `faultstorm16 faults=F events=E faults_per_s=R`. */
export function faultStorm16(quick = false): string {
  const { r, s, cpu } = timedStorm(16, quick ? 16384 : 65536, 4096);
  const sim = r.simNs / 1e9;
  // faults_per_s is per wall second; faults_per_cpu_s does not depend on other load on the machine
  const perCpu = cpu > 0 ? ` faults_per_cpu_s=${Math.round(r.faults / cpu)}` : "";
  return `faultstorm16 faults=${r.faults} events=${r.events} faults_per_s=${Math.round(r.faults / s)}${perCpu} sim_faults_per_s=${Math.round(r.faults / sim)} p99_ns=${r.faultLatency.p99}`;
}

/**
 * The same faults on one CPU (one thread, 1/4 of faultstorm16's faults): nothing else runs, so every
 * burst ends before the next queued event and passes without a queue round trip. What a fault costs
 * in the model's own code, beside faultstorm16's cost with 16 CPUs interleaving through the queue:
 * `faultstorm1 faults=F events=E faults_per_cpu_s=R ns_per_fault=N`.
 */
export function faultStorm1(quick = false): string {
  const { r, s, cpu } = timedStorm(1, quick ? 65536 : 262144, 16384);
  const perCpu =
    cpu > 0
      ? ` faults_per_cpu_s=${Math.round(r.faults / cpu)} ns_per_fault=${Math.round((cpu * 1e9) / r.faults)}`
      : "";
  return `faultstorm1 faults=${r.faults} events=${r.events} faults_per_s=${Math.round(r.faults / s)}${perCpu}`;
}

/** 64 threads, one million faults: `faultstorm64-mem faults=F rss_mib=M heap_model_mib=H`. */
export function faultStorm64Mem(quick = false): string {
  const per = quick ? 4096 : 15625;
  const before = rssBytes();
  const t0 = performance.now();
  const r = storm(64, per);
  const s = (performance.now() - t0) / 1000;
  const after = rssBytes();
  const model =
    r.sim.frames.bytes() +
    r.sim.mms.reduce((a, mm) => a + mm.pte.byteLength + (mm.expected?.byteLength ?? 0) * 1.5, 0);
  const rss = after < 0 ? "n/a" : String(Math.round(after / 2 ** 20));
  const grew = after < 0 || before < 0 ? "n/a" : String(Math.round((after - before) / 2 ** 20));
  return `faultstorm64-mem faults=${r.faults} rss_mib=${rss} rss_growth_mib=${grew} model_arrays_mib=${Math.round(model / 2 ** 20)} faults_per_s=${Math.round(r.faults / s)}`;
}

/** 5 forks of a 10,000-VMA process: `fork10k vmas=10000 forks=5 wall_s=W sim_fork_ms=M`. */
export function fork10k(quick = false): string {
  const vmas = quick ? 2000 : 10_000;
  const forks = 5;
  const t0 = performance.now();
  const r = runMmScenario({
    variant: "6.4.3",
    cpus: 2,
    seed: 1,
    workloads: [{ type: "fork", count: forks, vmas }],
  });
  const s = (performance.now() - t0) / 1000;
  if (r.vmstat.model_fork !== forks || !r.completed)
    throw new Error(`fork10k: ${r.vmstat.model_fork} forks completed`);
  return `fork10k vmas=${vmas} forks=${forks} wall_s=${s.toFixed(2)} sim_ms=${(r.simNs / 1e6).toFixed(1)} sim_fork_ms=${(r.simNs / 1e6 / forks).toFixed(1)}`;
}

export const mmBenchmarks: Benchmark[] = [
  { name: "faultstorm16", run: faultStorm16 },
  { name: "faultstorm1", run: faultStorm1 },
  { name: "faultstorm64-mem", run: faultStorm64Mem },
  { name: "fork10k", run: fork10k },
];
