// End-to-end: `faultline bugs` lists the catalog, --json describes it, --verify runs it (issue 12).
import { beforeAll, describe, expect, it } from "vitest";
import { MM_BUGS } from "../../src/kernels/mm-bugs.js";
import { buildOnce, faultline, noStackTrace } from "./helpers.js";

beforeAll(() => buildOnce(), 600_000);

describe("faultline bugs", () => {
  it("lists one line per catalog entry: commit, subject, variants, fix, scenario", () => {
    const r = faultline(["bugs"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBe(MM_BUGS.length);
    for (const b of MM_BUGS) {
      const line = lines.find((l) => l.startsWith(b.id))!;
      expect(line).toContain(b.subject);
      expect(line).toContain(b.scenario);
      expect(line).toContain(`${b.introduced} -> ${b.fixedIn}`);
    }
  });

  it("--json - prints the catalog as JSON", () => {
    const r = faultline(["bugs", "--json", "-"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.faultline).toBe("bugs");
    expect(doc.bugs.map((b: { id: string }) => b.id)).toEqual(MM_BUGS.map((b) => b.id));
  });

  it("--verify COMMIT runs that entry: exit 0 when it reproduces, verdict in JSON", () => {
    const r = faultline([
      "bugs",
      "--verify",
      "c137381f71ae",
      "--seeds",
      "2",
      "--budget",
      "300",
      "--json",
      "-",
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.reproduced).toBe(1);
    expect(doc.total).toBe(1);
    const v = doc.bugs[0].verify;
    expect(v.ok).toBe(true);
    expect(v.timed.offSeedsFound).toBeGreaterThan(0);
    expect(v.timed.onFindings).toBe(0);
    expect(v.check.offFinding.kind).toBe("vma_mutual_exclusion");
  });

  it("--verify with a short name prints the verdict lines and the summary", () => {
    const r = faultline(["bugs", "--verify", "stack-expand", "--seeds", "1", "--no-check"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("c137381f71ae  mm: lock a vma before stack expansion  [reproduces]");
    expect(r.stdout).toContain("1/1 reproduce");
  });

  it("an unknown commit is bad input: exit 2, the known entries named, no stack trace", () => {
    const r = faultline(["bugs", "--verify", "deadbeef0000"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--verify deadbeef0000: not in the catalog");
    expect(r.stderr).toContain("fb49c455323f");
    noStackTrace(r);
  });
});
