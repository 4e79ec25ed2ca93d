// The metrics of spec §6.6 are all in the result: holdoff histograms per CPU and context (with the
// 10 ms / 4 s / 20 s counts), lockups, RCU stalls, might_sleep, throughput, ioend statistics, latencies.
import { describe, expect, it } from "vitest";
import { run } from "./helpers.js";

describe("FsResult metrics (iomap-s2 on 5.16, slow VM)", () => {
  const r = run("iomap-s2", { variant: "5.16", costProfile: "what-if-slow-vm" });

  it("holdoff histogram of the completion CPU: p50/p99/max and threshold counts", () => {
    const h = r.holdoff.find((x) => x.cpu === 2 && x.context === "task")!;
    expect(h.count).toBeGreaterThan(0);
    expect(h.maxNs).toBeGreaterThan(20e9);
    expect(h.p99Ns).toBeGreaterThan(0);
    expect(h.over10ms).toBeGreaterThanOrEqual(1);
    expect(h.over4s).toBeGreaterThanOrEqual(1);
    expect(h.over20s).toBe(1);
  });

  it("watchdogs, throughput, device, CPU", () => {
    expect(r.softLockups).toBeGreaterThanOrEqual(1);
    expect(r.hardLockups).toBe(0);
    expect(r.rcuStalls).toBeGreaterThanOrEqual(1);
    expect(r.mightSleepViolations).toBe(0);
    expect(r.throughputMiBps).toBeGreaterThan(0);
    expect(r.deviceUtilisation).toBeGreaterThan(0);
    expect(r.cpuBusyNs[2]!.task).toBeGreaterThan(26e9);
  });

  it("ioend statistics and latencies", () => {
    expect(r.fs.ioendsBuilt).toBe(200);
    expect(r.fs.ioendPagesMax).toBe(26214);
    expect(r.fs.ioendBiosMax).toBeGreaterThanOrEqual(1);
    expect(r.fs.txnsPerEndIoMax).toBe(200);
    expect(r.fs.endIoOver10ms).toBe(1);
    expect(r.fs.deviceToClearNs.count).toBe(200);
    // the last ioend of the run waits for the whole 26 s loop
    expect(r.fs.deviceToClearNs.max).toBeGreaterThan(26e9);
    expect(r.fs.fsyncNs.count).toBe(1);
    expect(r.fs.probeWaitNs.max).toBeGreaterThan(20e9);
  });

  it("the dmesg carries the report lines in order", () => {
    const i = r.dmesg.findIndex((l) => l.includes("watchdog: BUG: soft lockup"));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(r.dmesg[i + 1]).toContain("Modules linked in:");
    expect(r.dmesg.some((l) => l.includes("rcu: INFO: rcu_sched self-detected stall on CPU"))).toBe(true);
  });
});
