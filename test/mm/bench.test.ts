// The mm benchmark lines keep their format (npm run bench parses name key=value ...).
import { describe, expect, it } from "vitest";
import { faultStorm1, faultStorm16, faultStorm64Mem, fork10k, mmBenchmarks } from "../../src/bench/mm.js";

describe("mm benchmarks", () => {
  it("faultstorm16 reports faults, events and faults per second", () => {
    const line = faultStorm16(true);
    expect(line).toMatch(/^faultstorm16 faults=262144 events=\d+ faults_per_s=\d+ faults_per_cpu_s=\d+ /);
    const events = Number(/events=(\d+)/.exec(line)![1]);
    // every fault runs do_user_addr_fault: the trap's time passes before lock_vma_under_rcu's trylock
    // and the fault's work before vma_end_read, so a fault is at least two timed steps
    expect(events).toBeGreaterThan(262144 * 2);
  });

  it("faultstorm1 runs the same faults on one CPU, its bursts passing without queue events", () => {
    const line = faultStorm1(true);
    expect(line).toMatch(
      /^faultstorm1 faults=65536 events=\d+ faults_per_s=\d+ faults_per_cpu_s=\d+ ns_per_fault=\d+$/,
    );
    // alone on its CPU a fault's bursts end before anything else is due: only ticks go through the queue
    expect(Number(/events=(\d+)/.exec(line)![1])).toBeLessThan(65536 / 100);
  });

  it("faultstorm64-mem reports the memory of a 64-thread storm", () => {
    const line = faultStorm64Mem(true);
    expect(line).toMatch(/^faultstorm64-mem faults=262144 rss_mib=\d+ /);
    expect(Number(/rss_mib=(\d+)/.exec(line)![1])).toBeLessThan(1024);
    expect(mmBenchmarks.map((b) => b.name)).toEqual([
      "faultstorm16",
      "faultstorm1",
      "faultstorm64-mem",
      "fork10k",
    ]);
  });

  it("fork10k forks a many-VMA process; the simulated fork grows with the VMA count", () => {
    const line = fork10k(true);
    expect(line).toMatch(/^fork10k vmas=2000 forks=5 wall_s=[\d.]+ sim_ms=[\d.]+ sim_fork_ms=[\d.]+$/);
    // dup_mmap charges vm_area_dup + tree store and anon_vma_fork + copy setup per VMA (calib/fork_vmas.c)
    expect(Number(/sim_fork_ms=([\d.]+)/.exec(line)![1])).toBeGreaterThan(2000 * 1.69e-3);
  });
});
