// End-to-end: `node bin/faultline.js` after `npm run build`: help everywhere, listings, runs, outputs,
// exit codes (0 ok, 1 finding, 2 bad input), no stack traces, no half-written files.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunResult } from "../../src/report/result.js";
import { buildOnce, faultline, noStackTrace, ROOT, removeScratch, scratch } from "./helpers.js";

beforeAll(() => buildOnce(), 600_000);
afterAll(removeScratch);

const COMMANDS = [
  "run",
  "compare",
  "sweep",
  "merge",
  "list",
  "variants",
  "explain",
  "demo",
  "schema",
  "serve",
];

describe("help", () => {
  it("faultline --help lists every command", () => {
    const r = faultline(["--help"]);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(c);
  });
  for (const c of COMMANDS)
    it(`faultline ${c} --help`, () => {
      const r = faultline([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: faultline /);
    });
});

describe("listings", () => {
  it("list: one line per built-in scenario", () => {
    const r = faultline(["list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    const files = fs.readdirSync(path.join(ROOT, "scenarios")).filter((f) => f.endsWith(".yaml"));
    expect(lines).toHaveLength(files.length);
    for (const n of [
      "pervma-fork-race",
      "pervma-fault-storm",
      "pervma-zero-page",
      "iomap-s1",
      "iomap-s8",
      "softlockup-demo",
    ])
      expect(lines.some((l) => l.startsWith(`${n} `))).toBe(true);
  });
  it("variants and explain", () => {
    const v = faultline(["variants"]);
    expect(v.code).toBe(0);
    for (const n of ["6.4.0", "6.4.3", "5.16", "5.17", "generic"])
      expect(v.stdout).toMatch(new RegExp(`^${n.replace(".", "\\.")}\\s`, "m"));
    const e = faultline(["explain", "6.4.0"]);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain("forkLockVmas");
    expect(e.stdout).toContain("dup_mmap:vma_start_write");
    const bad = faultline(["explain", "6.4.2"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown variant "6.4.2"');
  });
  it("schema prints JSON Schema identical to the published files", () => {
    for (const which of ["scenario", "result"]) {
      const r = faultline(["schema", which]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(fs.readFileSync(path.join(ROOT, "schema", `${which}.schema.json`), "utf8"));
    }
  });
});

describe("run", () => {
  it("prints the soft lockup exactly as dmesg does and exits 1 (a finding)", () => {
    const r = faultline(["run", "softlockup-demo"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^ {2}\[ {3}24\.000000\] watchdog: BUG: soft lockup - CPU#1 stuck for 2\ds! \[spinner:\d+\]$/m,
    );
  });
  it("exits 0 when the run finds nothing (--set)", () => {
    const r = faultline(["run", "softlockup-demo", "--set", "workloads[0].condReschedEvery=1ms"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No findings.");
  });
  it("--json is byte-identical for the same seed and valid against the schema; --trace opens as JSON", () => {
    const dir = scratch("run");
    const a = faultline([
      "run",
      "pervma-fork-race",
      "--json",
      path.join(dir, "a.json"),
      "--trace",
      path.join(dir, "t.json"),
      "-q",
    ]);
    const b = faultline(["run", "pervma-fork-race", "--json", path.join(dir, "b.json"), "-q"]);
    expect(a.code).toBe(1);
    expect(b.code).toBe(1);
    const ja = fs.readFileSync(path.join(dir, "a.json"), "utf8");
    expect(ja).toBe(fs.readFileSync(path.join(dir, "b.json"), "utf8"));
    expect(RunResult.safeParse(JSON.parse(ja)).success).toBe(true);
    const trace = JSON.parse(fs.readFileSync(path.join(dir, "t.json"), "utf8"));
    expect(trace.traceEvents.length).toBeGreaterThan(100);
    expect(fs.readdirSync(dir).sort()).toEqual(["a.json", "b.json", "t.json"]);
  });
  it("--trace on the 6.4.0 fork race holds the fault path, fork, flows and counters", () => {
    const dir = scratch("trace");
    const file = path.join(dir, "t.json");
    const r = faultline(["run", "pervma-fork-race", "--kernel", "6.4.0", "--trace", file, "-q"]);
    expect(r.code).toBe(1);
    const evs = JSON.parse(fs.readFileSync(file, "utf8")).traceEvents as {
      ph: string;
      name?: string;
      pid: number;
      tid: number;
      id?: number;
      ts?: number;
      dur?: number;
      args?: Record<string, unknown>;
    }[];
    const slices = new Set(evs.filter((e) => e.ph === "X").map((e) => e.name));
    for (const n of [
      "do_user_addr_fault",
      "lock_vma_under_rcu",
      "handle_mm_fault",
      "wp_page_copy",
      "dup_mmap",
      "copy_page_range",
      "flush_tlb_mm",
    ])
      expect(slices).toContain(n);
    // slices of one task nest: wp_page_copy lies inside a do_user_addr_fault of the same track
    const copy = evs.find((e) => e.ph === "X" && e.name === "wp_page_copy")!;
    const fault = evs.find(
      (e) =>
        e.ph === "X" &&
        e.name === "do_user_addr_fault" &&
        e.tid === copy.tid &&
        e.ts! <= copy.ts! &&
        e.ts! + e.dur! >= copy.ts! + copy.dur!,
    );
    expect(fault).toBeDefined();
    // the task's process is named by command
    const pname = evs.find((e) => e.ph === "M" && e.name === "process_name" && e.pid === copy.pid);
    expect(pname?.args?.name).toMatch(/^(writer|faulter|forker)[-\w]* \d+$/);
    const s = evs.filter((e) => e.ph === "s");
    const f = evs.filter((e) => e.ph === "f");
    expect(s.length).toBeGreaterThan(0);
    expect(f.length).toBeGreaterThan(0);
    const ids = new Set(s.map((e) => e.id));
    for (const e of f) expect(ids.has(e.id)).toBe(true);
    expect(evs.some((e) => e.ph === "C" && /^need_resched CPU \d$/.test(e.name!))).toBe(true);
    expect(evs.some((e) => e.ph === "i" && e.name === "store via stale TLB")).toBe(true);
    expect(evs.some((e) => e.ph === "i" && e.name === "finding:lost_update")).toBe(true);
  });
  it("--trace-level sched records no kernel-function slices", () => {
    const dir = scratch("trace-sched");
    const file = path.join(dir, "t.json");
    const r = faultline(["run", "pervma-fork-race", "--trace", file, "--trace-level", "sched", "-q"]);
    expect(r.code).toBe(1);
    const evs = JSON.parse(fs.readFileSync(file, "utf8")).traceEvents as { ph: string }[];
    expect(evs.some((e) => e.ph === "X")).toBe(false);
    expect(evs.some((e) => e.ph === "B")).toBe(true);
  });
  it("--json - prints JSON on stdout; --kernel and --seed choose variant and seed", () => {
    const r = faultline(["run", "pervma-fork-race", "--kernel", "6.4.3", "--seed", "3", "--json", "-"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.kernel.variant).toBe("6.4.3");
    expect(j.scenario.seed).toBe(3);
    expect(j.scenario.sets).toEqual(["kernel.variant=6.4.3"]);
  });
  it("--no-fast-paths gives the byte-identical JSON, with and without a sched-level trace", () => {
    const dir = scratch("nofast");
    const out = (name: string, extra: string[]) => {
      const f = path.join(dir, name);
      const r = faultline(["run", "pervma-fork-race", "--kernel", "6.4.0", "--json", f, "-q", ...extra]);
      expect(r.code).toBe(1); // 6.4.0 loses a write
      return fs.readFileSync(f, "utf8");
    };
    const fast = out("fast.json", []);
    expect(out("slow.json", ["--no-fast-paths"])).toBe(fast);
    const t = path.join(dir, "t.json");
    expect(out("slow-traced.json", ["--no-fast-paths", "--trace", t, "--trace-level", "sched"])).toBe(fast);
    expect(faultline(["run", "--help"]).stdout).toMatch(/--no-fast-paths/);
  });
  it("--report writes a self-contained HTML report with SVG plots", () => {
    const dir = scratch("report");
    const r = faultline(["run", "softlockup-demo", "--report", path.join(dir, "rep")]);
    expect(r.code).toBe(1);
    const html = fs.readFileSync(path.join(dir, "rep", "index.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|src="http/);
    expect(fs.readdirSync(path.join(dir, "rep")).some((f) => f.endsWith(".svg"))).toBe(true);
  });
  it("a stack-race hot set larger than its growth fits the address space (was an internal error)", () => {
    // startStackRace premaps grows + 2 pages of gap and hotPages + 4 of stack: 16 + 2048 pages here,
    // more than the 2 * grows + 64 the address space used to be sized for
    const r = faultline([
      "run",
      "pervma-bug-stack-expand",
      "--set",
      "workloads[0].hotPages=2048",
      "--set",
      "stop.time=1ms",
      "-q",
    ]);
    noStackTrace(r);
    expect(r.stderr).toBe("");
    expect([0, 1]).toContain(r.code);
  });
});

describe("compare", () => {
  it("puts 6.4.0 and 6.4.3 side by side in one table", () => {
    const r = faultline(["compare", "pervma-fork-race", "--kernel", "6.4.0,6.4.3"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\s+6\.4\.0\s+6\.4\.3$/m);
    expect(r.stdout).toMatch(/^\s+findings\s+\d+\s+0$/m);
    expect(r.stdout).toContain("lost_update");
  });
});

describe("bad input: exit 2, a clear message, no stack trace, no output file", () => {
  const dir = scratch("bad");
  const cases: [string, string[], RegExp][] = [
    ["unknown scenario", ["run", "no-such-scenario"], /unknown scenario "no-such-scenario"/],
    ["missing file", ["run", "missing/x.yaml"], /cannot read scenario missing\/x\.yaml: no such file/],
    ["directory as scenario", ["run", "scenarios"], /it is a directory/],
    [
      "malformed YAML",
      ["run", path.join(ROOT, "test/fixtures/bad/malformed-yaml.yaml")],
      /malformed-yaml\.yaml:3:1: found malformed YAML/,
    ],
    [
      "unknown field",
      ["run", path.join(ROOT, "test/fixtures/bad/unknown-field.yaml")],
      /kernel\.varient: found unknown field/,
    ],
    [
      "unknown variant",
      ["run", "pervma-fork-race", "--kernel", "6.4.2"],
      /--kernel 6\.4\.2: kernel\.variant: found "6\.4\.2"; allowed: a known variant/,
    ],
    [
      "bad --set",
      ["run", "softlockup-demo", "--set", "machine.cpus=-1"],
      /--set machine\.cpus=-1: machine\.cpus: found -1; allowed: an integer from 1 to 256/,
    ],
    ["--set without =", ["run", "softlockup-demo", "--set", "machine.cpus"], /expected PATH=VALUE/],
    ["bad --seed", ["run", "softlockup-demo", "--seed", "abc"], /--seed: expected an integer/],
    ["unknown option", ["run", "softlockup-demo", "--bogus"], /unknown option '--bogus'/],
    ["missing argument", ["run"], /missing required argument 'scenario'/],
    ["unknown command", ["frobnicate"], /unknown command 'frobnicate'/],
    [
      "unwritable --json",
      ["run", "softlockup-demo", "--json", "/nonexistent-dir/x.json"],
      /cannot write JSON result \/nonexistent-dir\/x\.json: no such directory/,
    ],
    ["--json is a directory", ["run", "softlockup-demo", "--json", dir], /it is a directory/],
    ["unwritable --trace", ["run", "softlockup-demo", "--trace", "/proc/x/t.json"], /cannot write trace/],
    [
      "bad --trace-level",
      ["run", "softlockup-demo", "--trace", path.join(dir, "t.json"), "--trace-level", "verbose"],
      /--trace-level verbose: expected one of sched, model, all/,
    ],
    [
      "unwritable --report",
      ["run", "softlockup-demo", "--report", "/proc/rep"],
      /cannot write report directory \/proc\/rep/,
    ],
    [
      "bad --shard",
      ["sweep", "softlockup-demo", "--shard", "3/2", "--out", path.join(dir, "s")],
      /--shard 3\/2: expected K\/N/,
    ],
    [
      "bad --param value",
      ["sweep", "softlockup-demo", "--param", "machine.cpus=2,zero", "--out", path.join(dir, "s2")],
      /--param machine\.cpus=zero: machine\.cpus: found "zero"/,
    ],
  ];
  for (const [name, args, re] of cases)
    it(name, () => {
      const r = faultline(args, { cwd: ROOT });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      noStackTrace(r);
    });
  it("leaves no files behind", () => {
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("demo (npm start)", () => {
  it("compares the three stories, prints them and writes the HTML report", () => {
    const dir = scratch("demo");
    const r = faultline(["demo"], { cwd: dir, timeout: 600_000 });
    expect(r.code).toBe(0);
    noStackTrace(r);
    expect(r.stdout).toContain("=== The fork race: 6.4.0 against 6.4.3 ===");
    expect(r.stdout).toContain("=== A fault storm with an mmap writer: 6.3 against 6.4.3 ===");
    expect(r.stdout).toMatch(/=== (The writeback soft lockup: 5\.16 against 5\.17|A soft lockup)/);
    expect(r.stdout).toContain("lost_update");
    expect(r.stdout).toMatch(/watchdog: BUG: soft lockup - CPU#\d+ stuck for \d+s!/);
    const html = fs.readFileSync(path.join(dir, "faultline-report", "index.html"), "utf8");
    expect(html.match(/<h2 /g)).toHaveLength(3);
  }, 600_000);
});
