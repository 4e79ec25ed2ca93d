// `npm run bench -- NAME`: a whole benchmark name selects that benchmark only, any other NAME every
// benchmark it starts, and a NAME that selects nothing is refused (exit status 2, the list of names).
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildOnce, ROOT } from "./helpers.js";

const BENCH = path.join(ROOT, "dist", "bench", "main.js");

function bench(...args: string[]) {
  return spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: "utf8" });
}

describe("bench arguments", () => {
  beforeAll(() => buildOnce());

  it("refuses a name that selects nothing, listing the benchmarks", () => {
    const r = bench("faultstrom16");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no benchmark is named faultstrom16 or starts with it");
    expect(r.stderr).toContain("faultstorm16");
    expect(r.stderr).toContain("kernel-lockstorm256");
    expect(r.stderr).not.toContain("    at "); // no stack trace
  });

  it("runs only the benchmark a whole name names, though others start with it", () => {
    const r = bench("faultstorm1", "--quick"); // faultstorm16 starts with it too
    expect(r.status).toBe(0);
    const names = r.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[0]);
    expect(names).toEqual(["faultstorm1"]);
  });
});
