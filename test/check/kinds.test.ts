// The finding-kind lists `faultline check --kind` accepts (findingKindsOf) are complete: every kind
// the bug catalog names and every kind reported in src/ (a literal at Machine.report, MmSim.finding or
// FsOracle.violation) is in its model's list. The types already make a report of an unlisted kind a
// compile error (FindingKind, InvariantKind, FsInvariantKind); this also catches a list shortened by
// hand and a report that bypasses the types.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FS_CHECK_KINDS } from "../../src/check/iomap.js";
import { FS_INVARIANTS } from "../../src/fs/oracle.js";
import { MM_BUGS } from "../../src/kernels/mm-bugs.js";
import { INVARIANTS, MM_FINDING_KINDS } from "../../src/mm/oracle.js";
import { findingKindsOf } from "../../src/scenario/checktarget.js";
import { ENGINE_FINDING_KINDS } from "../../src/sim/machine.js";

const SRC = path.join(import.meta.dirname, "../../src");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Kind literals reported in src/, by where: report({ kind: "..." }), finding("..."), violation("..."). */
function reportedLiterals(): { engine: Set<string>; mm: Set<string>; fs: Set<string> } {
  const r = { engine: new Set<string>(), mm: new Set<string>(), fs: new Set<string>() };
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(file, "utf8");
    const rel = path.relative(SRC, file);
    for (const m of text.matchAll(/\breport\(\{\s*kind:\s*"([^"]+)"/g))
      (rel.startsWith("fs/") ? r.fs : r.engine).add(m[1]!);
    for (const m of text.matchAll(/\.finding\(\s*"([^"]+)"/g)) r.mm.add(m[1]!);
    for (const m of text.matchAll(/\.violation\(\s*"([^"]+)"/g)) r.fs.add(`fs:${m[1]!}`);
  }
  return r;
}

describe("finding kinds accepted by check --kind", () => {
  const mm = findingKindsOf("mm");
  const wb = findingKindsOf("fs");

  it("each model's list is its own kinds and the engine's, each once", () => {
    expect(mm).toEqual([...new Set([...MM_FINDING_KINDS, ...ENGINE_FINDING_KINDS])]);
    expect(wb).toEqual([...FS_INVARIANTS.map((k) => `fs:${k}`), ...ENGINE_FINDING_KINDS]);
    expect(MM_FINDING_KINDS).toEqual(expect.arrayContaining(Object.values(INVARIANTS)));
    expect(new Set(mm).size).toBe(mm.length);
    expect(new Set(wb).size).toBe(wb.length);
  });

  it("every kind of the bug catalog is accepted", () => {
    for (const bug of MM_BUGS) expect(mm, bug.id).toEqual(expect.arrayContaining([...bug.kinds]));
  });

  it("the writeback check's default kinds are accepted", () => {
    expect(wb).toEqual(expect.arrayContaining([...FS_CHECK_KINDS]));
  });

  it("every kind reported in src/ is in its list, and every listed kind is reported", () => {
    const r = reportedLiterals();
    // the patterns still match the code (a rename would make this test vacuous)
    expect(r.engine.size).toBeGreaterThanOrEqual(10);
    expect(r.mm.size).toBeGreaterThanOrEqual(10);
    expect(r.fs.size).toBeGreaterThanOrEqual(10);
    expect([...ENGINE_FINDING_KINDS]).toEqual(expect.arrayContaining([...r.engine]));
    expect([...MM_FINDING_KINDS]).toEqual(expect.arrayContaining([...r.mm]));
    expect(wb).toEqual(expect.arrayContaining([...r.fs]));
    // and no list holds a kind nothing reports
    expect([...r.engine].sort()).toEqual([...ENGINE_FINDING_KINDS].sort());
    expect([...r.mm].sort()).toEqual([...new Set(MM_FINDING_KINDS)].sort());
    expect([...r.fs].filter((k) => k.startsWith("fs:")).sort()).toEqual(
      FS_INVARIANTS.map((k) => `fs:${k}`).sort(),
    );
  });
});
