// End-to-end sweeps: worker threads, CSV + JSON lines, resuming after an interruption, and shards that
// `merge` puts back together into exactly the full sweep.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { buildOnce, faultline, noStackTrace, ROOT, removeScratch, scratch } from "./helpers.js";

beforeAll(() => buildOnce(), 600_000);
afterAll(removeScratch);

const SWEEP = [
  "sweep",
  "softlockup-demo",
  "--param",
  "workloads[0].condReschedEvery=1ms,100ms",
  "--param",
  "machine.preemption=none,full",
  "--seeds",
  "1..2",
  "--set",
  "stop.time=26s",
];

describe("sweep", () => {
  const dir = scratch("sweep");
  const full = path.join(dir, "full");
  const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), "utf8");

  it("runs the cross product in worker threads and writes CSV, JSON lines, a manifest and a report", () => {
    const r = faultline([...SWEEP, "--jobs", "2", "--out", full]);
    expect(r.code).toBe(0);
    noStackTrace(r);
    expect(r.stderr).toContain("sweep: 8/8 jobs done");
    const csv = read(full, "results.csv").trimEnd().split("\n");
    expect(csv).toHaveLength(9);
    expect(csv[0]).toMatch(
      /^index,workloads\[0\]\.condReschedEvery,machine\.preemption,seed,variant,stop_reason/,
    );
    expect(csv[1]).toMatch(/^0,1ms,none,1,generic,done,/);
    const rows = read(full, "results.jsonl")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows[7].params).toEqual({
      "workloads[0].condReschedEvery": "100ms",
      "machine.preemption": "full",
    });
    expect(rows[7].result.format).toBe("faultline-result");
    expect(fs.existsSync(path.join(full, "report.html"))).toBe(true);
  });

  it("resumes: a rerun skips done jobs and redoes a line cut short", () => {
    const jsonl = path.join(full, "results.jsonl");
    const before = read(full, "results.jsonl");
    const lines = before.trimEnd().split("\n");
    fs.writeFileSync(jsonl, `${lines.slice(0, 5).join("\n")}\n${lines[5]!.slice(0, 40)}`);
    const r = faultline([...SWEEP, "--jobs", "1", "--out", full]);
    expect(r.code).toBe(0);
    expect(read(full, "results.jsonl")).toBe(before);
  });

  it("refuses to mix a different sweep into the same directory", () => {
    const r = faultline(["sweep", "softlockup-demo", "--seeds", "1..3", "--out", full]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("holds a different sweep");
  });

  it("shards K/N cover the sweep and merge gives the full sweep's results", () => {
    const s1 = path.join(dir, "s1");
    const s2 = path.join(dir, "s2");
    const m = path.join(dir, "merged");
    expect(faultline([...SWEEP, "--shard", "1/2", "--jobs", "1", "--out", s1]).code).toBe(0);
    expect(faultline([...SWEEP, "--shard", "2/2", "--jobs", "1", "--out", s2]).code).toBe(0);
    expect(read(s1, "results.jsonl").trimEnd().split("\n")).toHaveLength(4);
    const partial = faultline(["merge", s1, "--out", path.join(dir, "partial")]);
    expect(partial.code).toBe(2);
    expect(partial.stderr).toContain("merge: 4/8 jobs; 4 missing (jobs 1, 3, 5, 7)");
    expect(fs.existsSync(path.join(dir, "partial"))).toBe(false);
    const allowed = faultline(["merge", s1, "--allow-missing", "--out", path.join(dir, "partial")]);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain("4 missing");
    const r = faultline(["merge", s1, s2, "--out", m]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("merge: 8/8 jobs");
    expect(read(m, "results.jsonl")).toBe(read(full, "results.jsonl"));
    expect(read(m, "results.csv")).toBe(read(full, "results.csv"));
  });

  it("merge refuses directories of different sweeps", () => {
    const other = path.join(dir, "other");
    expect(faultline(["sweep", "softlockup-demo", "--seeds", "1..1", "--out", other]).code).toBe(1);
    const r = faultline(["merge", path.join(dir, "s1"), other, "--out", path.join(dir, "m2")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("a different sweep than");
  });
});

describe("sweep --shard auto, as batch schedulers run it", () => {
  // A small sweep: 2 preemption models x 3 seeds = 6 jobs, 3 shards of 2.
  const SMALL = [
    "sweep",
    "softlockup-demo",
    "--param",
    "machine.preemption=none,full",
    "--seeds",
    "1..3",
    "--set",
    "stop.time=2s",
    "--set",
    "workloads[0].duration=1s",
    "--jobs",
    "1",
  ];
  const dir = scratch("shard-auto");
  const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), "utf8");
  const single = path.join(dir, "single");
  const base = { PATH: process.env.PATH ?? "" };

  it("one sweep in one place", () => {
    expect(faultline([...SMALL, "--out", single]).code).toBe(0);
  });

  it("SLURM job array (sbatch --array=1-3): SLURM_ARRAY_TASK_ID per process, merged byte-identically", () => {
    const outs: string[] = [];
    for (const id of [1, 2, 3]) {
      const out = path.join(dir, `slurm-${id}`);
      const env = {
        ...base,
        SLURM_ARRAY_TASK_ID: String(id),
        SLURM_ARRAY_TASK_MIN: "1",
        SLURM_ARRAY_TASK_MAX: "3",
        SLURM_ARRAY_TASK_COUNT: "3",
        SLURM_ARRAY_TASK_STEP: "1",
      };
      const r = faultline([...SMALL, "--shard", "auto", "--out", out], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`(shard ${id}/3 of 6)`);
      outs.push(out);
    }
    const m = path.join(dir, "slurm-merged");
    expect(faultline(["merge", ...outs, "--out", m]).code).toBe(0);
    for (const f of ["results.jsonl", "results.csv", "sweep.json", "report.html"])
      expect(read(m, f)).toBe(read(single, f));
  });

  it("Kubernetes indexed Job (completions 3): JOB_COMPLETION_INDEX 0..2 with --shards 3, merged byte-identically", () => {
    const outs: string[] = [];
    for (const index of [2, 0, 1]) {
      const out = path.join(dir, `k8s-${index}`);
      const r = faultline([...SMALL, "--shard", "auto", "--shards", "3", "--out", out], {
        env: { ...base, JOB_COMPLETION_INDEX: String(index) },
      });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`(shard ${index + 1}/3 of 6)`);
      outs.push(out);
    }
    const m = path.join(dir, "k8s-merged");
    expect(faultline(["merge", ...outs, "--out", m]).code).toBe(0);
    for (const f of ["results.jsonl", "results.csv", "sweep.json", "report.html"])
      expect(read(m, f)).toBe(read(single, f));
  });

  it("a SLURM array starting at 0 with a step (--array=0-4:2) maps to shards 1..3", () => {
    const out = path.join(dir, "slurm-step");
    const r = faultline([...SMALL, "--shard", "auto", "--out", out], {
      env: {
        ...base,
        SLURM_ARRAY_TASK_ID: "4",
        SLURM_ARRAY_TASK_MIN: "0",
        SLURM_ARRAY_TASK_COUNT: "3",
        SLURM_ARRAY_TASK_STEP: "2",
      },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("(shard 3/3 of 6)");
  });
});

describe("the shipped scheduler examples (deploy/)", () => {
  it("the Kubernetes indexed Job: Indexed, --shard auto with --shards equal to completions, one folder per index", () => {
    const job = parseYaml(fs.readFileSync(path.join(ROOT, "deploy/kubernetes-sweep-job.yaml"), "utf8"));
    expect(job.kind).toBe("Job");
    expect(job.spec.completionMode).toBe("Indexed");
    const c = job.spec.template.spec.containers[0];
    const args: string[] = c.args;
    expect(c.command.slice(-1)[0]).toBe("bin/faultline.js");
    expect(args[0]).toBe("sweep");
    expect(args[args.indexOf("--shard") + 1]).toBe("auto");
    expect(Number(args[args.indexOf("--shards") + 1])).toBe(job.spec.completions);
    expect(args[args.indexOf("--out") + 1]).toContain("$(JOB_COMPLETION_INDEX)");
  });

  it("the SLURM batch script: valid bash, an array, --shard auto and a folder per task", () => {
    const file = path.join(ROOT, "deploy/slurm-sweep.sbatch");
    const text = fs.readFileSync(file, "utf8");
    expect(spawnSync("bash", ["-n", file]).status).toBe(0);
    expect(text).toMatch(/^#SBATCH --array=1-4$/m);
    expect(text).toMatch(/--shard auto --out "results\/shard-\$\{SLURM_ARRAY_TASK_ID\}"/);
  });
});
