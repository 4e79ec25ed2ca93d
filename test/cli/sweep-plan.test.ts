// Sweep planning without running anything: seed ranges, shards, and the job order merge relies on.
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/io.js";
import { expandJobs, parseSeeds, parseShard } from "../../src/cli/sweep.js";

describe("sweep planning", () => {
  it("parses seed ranges and lists", () => {
    expect(parseSeeds("1..4")).toEqual([1, 2, 3, 4]);
    expect(parseSeeds("7,3,9")).toEqual([7, 3, 9]);
    expect(() => parseSeeds("4..1")).toThrow(UsageError);
    expect(() => parseSeeds("a..b")).toThrow(UsageError);
  });
  it("parses shards K/N, 1-based", () => {
    expect(parseShard("1/4")).toEqual([1, 4]);
    for (const bad of ["0/4", "5/4", "1/0", "x", "1-4"]) expect(() => parseShard(bad)).toThrow(UsageError);
  });
  it("orders jobs by parameters (first outermost) then seeds; shards partition them", () => {
    const jobs = expandJobs(
      [
        { path: "kernel.variant", values: ["6.3", "6.4.3"] },
        { path: "machine.cpus", values: ["2", "4"] },
      ],
      [1, 2],
    );
    expect(jobs).toHaveLength(8);
    expect(jobs[0]).toMatchObject({
      index: 0,
      seed: 1,
      params: { "kernel.variant": "6.3", "machine.cpus": "2" },
    });
    expect(jobs[3]).toMatchObject({
      index: 3,
      seed: 2,
      params: { "kernel.variant": "6.3", "machine.cpus": "4" },
    });
    expect(jobs[7]).toMatchObject({
      index: 7,
      seed: 2,
      params: { "kernel.variant": "6.4.3", "machine.cpus": "4" },
    });
    expect(jobs[5]!.sets).toEqual([
      { path: "kernel.variant", value: "6.4.3", label: "--param kernel.variant=6.4.3" },
      { path: "machine.cpus", value: "2", label: "--param machine.cpus=2" },
    ]);
    const n = 3;
    const shards = [0, 1, 2].map((k) => jobs.filter((j) => j.index % n === k).map((j) => j.index));
    expect(shards.flat().sort((a, b) => a - b)).toEqual(jobs.map((j) => j.index));
  });
});
