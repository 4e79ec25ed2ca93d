// biome-ignore-all lint/suspicious/noExplicitAny: the cases edit parsed JSON documents (counterexamples, sweep rows) freely
// The bad-input corpus: every command and every file the tool reads (scenario files, --set, flags,
// counterexamples, sweep folders with their sweep.json and results.jsonl, merge inputs), each answered
// with exit status 2, a message naming the file, line and field or the flag (checked per case), no stack
// trace, nothing on stdout, and no file created, changed or left behind in the case's folder. Cases run
// in this process through the CLI's main() (built dist/, the code `faultline` runs) with stdout and
// stderr captured; a smaller set runs as real processes under a 256 MiB heap limit.

import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOnce, faultline, noStackTrace, ROOT, removeScratch, scratch } from "./helpers.js";

type Main = (argv: readonly string[]) => Promise<number>;
let main: Main;

beforeAll(async () => {
  buildOnce();
  main = ((await import(path.join(ROOT, "dist/cli/main.js"))) as { main: Main }).main;
}, 600_000);
afterAll(removeScratch);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs main(args) in `cwd` with stdout/stderr captured and `env` added to the environment. */
async function inProcess(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  const old = process.cwd();
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(env)) {
    saved[k] = process.env[k];
    process.env[k] = env[k];
  }
  process.stdout.write = ((s: string | Uint8Array) => out.push(String(s)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => err.push(String(s)) > 0) as typeof process.stderr.write;
  process.chdir(cwd);
  try {
    const code = await main(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.chdir(old);
    process.stdout.write = w1;
    process.stderr.write = w2;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Every file under dir with a hash of its contents (and every directory), to see that nothing changed. */
function snapshot(dir: string): string[] {
  const rows: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        rows.push(`${path.relative(dir, p)}/`);
        walk(p);
      } else if (e.isFile()) {
        const st = fs.statSync(p);
        const h =
          st.size > 2 ** 20
            ? `size ${st.size}`
            : crypto.createHash("sha1").update(fs.readFileSync(p)).digest("hex");
        rows.push(`${path.relative(dir, p)} ${h}`);
      } else rows.push(`${path.relative(dir, p)} (special)`);
    }
  };
  walk(dir);
  return rows;
}

// ---- inputs the cases start from ----------------------------------------------------------------

const SCENARIO = fs.readFileSync(path.join(ROOT, "scenarios/softlockup-demo.yaml"), "utf8");
const BAD = path.join(ROOT, "test/fixtures/bad");
/** A small sweep: 2 preemption models x 2 seeds, 1 s of simulated time each. */
const SWEEP = [
  "sweep",
  "softlockup-demo",
  "--param",
  "machine.preemption=none,full",
  "--seeds",
  "1..2",
  "--set",
  "stop.time=1s",
  "--jobs",
  "1",
  "-q",
];
const work = scratch("bad-input");
const templates = path.join(work, "templates");
let cxText = "";
let sweepFiles: Record<string, string> = {};

beforeAll(async () => {
  fs.mkdirSync(templates, { recursive: true });
  const cx = path.join(templates, "race.json");
  const r = await inProcess(
    ["check", "pervma-fork-race-mini", "--kind", "lost_update", "--out", cx],
    templates,
  );
  expect(r.code).toBe(1);
  cxText = fs.readFileSync(cx, "utf8");
  const s = await inProcess([...SWEEP, "--out", path.join(templates, "sweep")], templates);
  expect(s.code).toBe(0);
  sweepFiles = {};
  for (const f of ["sweep.json", "results.jsonl", "results.csv"])
    sweepFiles[f] = fs.readFileSync(path.join(templates, "sweep", f), "utf8");
}, 600_000);

/** The counterexample with one change. */
function cx(change: (d: Record<string, any>) => void): string {
  const d = JSON.parse(cxText);
  change(d);
  return JSON.stringify(d, null, 2);
}

/** The sweep folder's files with one change to results.jsonl (line n, 0-based) or sweep.json. */
function sweepWith(o: {
  row?: [number, (r: Record<string, any> | string) => unknown];
  rows?: (lines: string[]) => string[];
  manifest?: (m: Record<string, any>) => unknown;
}): Record<string, string> {
  let lines = sweepFiles["results.jsonl"]!.trimEnd().split("\n");
  if (o.row) {
    const [n, f] = o.row;
    const v = f(JSON.parse(lines[n]!));
    lines[n] = typeof v === "string" ? v : JSON.stringify(v);
  }
  if (o.rows) lines = o.rows(lines);
  let manifest = sweepFiles["sweep.json"]!;
  if (o.manifest) {
    const m = JSON.parse(manifest);
    const v = o.manifest(m);
    manifest = typeof v === "string" ? v : JSON.stringify(v ?? m, null, 2);
  }
  return {
    "sw/sweep.json": manifest,
    "sw/results.jsonl": `${lines.join("\n")}\n`,
    "sw/results.csv": sweepFiles["results.csv"]!,
  };
}

interface Case {
  name: string;
  args: string[];
  /** The message must match (it names the file/line/field or the flag, and what is allowed). */
  expect: RegExp;
  /** Files created in the case folder first (path relative to it -> contents, or a function). */
  files?: () => Record<string, string>;
  env?: Record<string, string>;
  /** Set up anything else in the case folder. */
  setup?: (dir: string) => void;
  /** Permissions do not stop root: the case is left out when the tests run as root. */
  needsNonRoot?: boolean;
}

const AS_ROOT = process.getuid?.() === 0;

const S = "s.yaml";
const withScenario = () => ({ [S]: SCENARIO });
const run = (...a: string[]): string[] => ["run", "softlockup-demo", ...a];
const set = (v: string): string[] => run("--set", v);
const check = (...a: string[]): string[] => ["check", "pervma-fork-race-mini", ...a];
const sweep = (...a: string[]): string[] => ["sweep", "softlockup-demo", ...a, "--out", "o"];
const replayOf = (text: () => string, ...a: string[]): Pick<Case, "args" | "files"> => ({
  args: ["replay", "cx.json", ...a],
  files: () => ({ "cx.json": text() }),
});

const CASES: Case[] = [
  // ---- the command line itself (commander) ----
  { name: "unknown command", args: ["frobnicate"], expect: /unknown command 'frobnicate'/ },
  { name: "no scenario for run", args: ["run"], expect: /missing required argument 'scenario'/ },
  { name: "no scenario for compare", args: ["compare"], expect: /missing required argument 'scenario'/ },
  { name: "no scenario for check", args: ["check"], expect: /missing required argument 'scenario'/ },
  { name: "no file for replay", args: ["replay"], expect: /missing required argument 'file'/ },
  { name: "no --out for sweep", args: ["sweep", "softlockup-demo"], expect: /required option '--out <dir>'/ },
  { name: "no --out for merge", args: ["merge", "a"], expect: /required option '--out <dir>'/ },
  { name: "no dirs for merge", args: ["merge", "--out", "m"], expect: /missing required argument 'dirs'/ },
  { name: "unknown option (run)", args: run("--bogus"), expect: /unknown option '--bogus'/ },
  { name: "unknown option (check)", args: check("--bogus"), expect: /unknown option '--bogus'/ },
  { name: "unknown option (sweep)", args: sweep("--bogus"), expect: /unknown option '--bogus'/ },
  {
    name: "unknown option (merge)",
    args: ["merge", "a", "--out", "m", "--x"],
    expect: /unknown option '--x'/,
  },
  { name: "unknown option (demo)", args: ["demo", "--bogus"], expect: /unknown option '--bogus'/ },
  { name: "unknown option (serve)", args: ["serve", "--bogus"], expect: /unknown option '--bogus'/ },
  { name: "unknown option (bugs)", args: ["bugs", "--bogus"], expect: /unknown option '--bogus'/ },
  {
    name: "bugs --seeds 0 (checked without --verify too)",
    args: ["bugs", "--seeds", "0"],
    expect: /--seeds: expected an integer from 1 to 1000, got 0/,
  },
  {
    name: "bugs --seeds without --verify (would do nothing)",
    args: ["bugs", "--seeds", "3"],
    expect: /--seeds: only with --verify \(the catalog alone runs nothing\)/,
  },
  {
    name: "bugs --no-check without --verify",
    args: ["bugs", "--no-check"],
    expect: /--no-check: only with --verify/,
  },
  {
    name: "bugs --verify with --budget x",
    args: ["bugs", "--verify", "fork", "--budget", "x"],
    expect: /--budget: expected an integer from 1 to 10000000, got "x"/,
  },
  { name: "option without its value", args: run("--seed"), expect: /option '--seed <n>' argument missing/ },
  { name: "extra argument", args: ["list", "x"], expect: /too many arguments/ },
  {
    name: "schema of what",
    args: ["schema", "bogus"],
    expect: /value 'bogus' is invalid for argument 'which'. Allowed choices are scenario, result/,
  },
  {
    name: "check strategy",
    args: check("--strategy", "dfs"),
    expect:
      /option '-s, --strategy <name>' argument 'dfs' is invalid. Allowed choices are random, pct, exhaustive/,
  },
  {
    name: "explain unknown variant",
    args: ["explain", "6.4.2"],
    expect: /unknown variant "6\.4\.2"; known: generic, 6\.3/,
  },
  {
    name: "serve port not a number",
    args: ["serve", "--port", "http"],
    expect: /--port: expected a port number from 0 to 65535, got "http"/,
  },
  {
    name: "serve port too high",
    args: ["serve", "--port", "70000"],
    expect: /--port: expected a port number from 0 to 65535/,
  },
  { name: "serve port negative", args: ["serve", "--port", "-1"], expect: /--port: expected a port number/ },

  // ---- the SCENARIO argument and scenario files ----
  {
    name: "unknown built-in",
    args: ["run", "no-such-scenario"],
    expect: /unknown scenario "no-such-scenario": not a file and not a built-in; built-ins: iomap-s1/,
  },
  {
    name: "empty scenario name",
    args: ["run", ""],
    expect: /scenario: an empty name; allowed: a built-in name or a file/,
  },
  {
    name: "very long scenario name",
    args: ["run", "x".repeat(100_000)],
    expect: /unknown scenario "x{57}\.\.\."/,
  },
  {
    name: "missing file",
    args: ["run", "missing/x.yaml"],
    expect: /cannot read scenario missing\/x\.yaml: no such file/,
  },
  {
    name: "directory as scenario",
    args: ["run", "d.yaml"],
    setup: (d) => fs.mkdirSync(path.join(d, "d.yaml")),
    expect: /cannot read scenario d\.yaml: it is a directory/,
  },
  {
    name: "device as scenario",
    args: ["run", "/dev/zero"],
    expect: /cannot read scenario \/dev\/zero: not a regular file/,
  },
  {
    name: "FIFO as scenario",
    args: ["run", "p.yaml"],
    setup: (d) => execFileSync("mkfifo", [path.join(d, "p.yaml")]),
    expect: /cannot read scenario p\.yaml: not a regular file/,
  },
  {
    name: "unreadable scenario",
    args: ["run", "u.yaml"],
    setup: (d) => {
      fs.writeFileSync(path.join(d, "u.yaml"), SCENARIO);
      fs.chmodSync(path.join(d, "u.yaml"), 0);
    },
    needsNonRoot: true,
    expect: /cannot read scenario u\.yaml: permission denied/,
  },
  {
    name: "scenario larger than 64 MiB (size checked before reading)",
    args: ["run", "big.yaml"],
    setup: (d) => {
      const fd = fs.openSync(path.join(d, "big.yaml"), "w");
      fs.ftruncateSync(fd, 2 ** 36);
      fs.closeSync(fd);
    },
    expect: /cannot read scenario big\.yaml: 68,719,476,736 bytes; allowed: at most 67,108,864 bytes/,
  },
  {
    name: "empty file",
    args: ["run", "e.yaml"],
    files: () => ({ "e.yaml": "" }),
    expect:
      /e\.yaml:1:1: found an empty document; allowed: a mapping with at least name, kernel and workloads/,
  },
  {
    name: "binary junk",
    args: ["run", "j.yaml"],
    files: () => ({ "j.yaml": "\u0000\u0001\u0002\u00ff{[" }),
    expect: /j\.yaml:1:1: found "\\u0000\\u0001\\u0002.*"; allowed: a mapping/,
  },
  {
    name: "a list, not a mapping",
    args: ["run", "l.yaml"],
    files: () => ({ "l.yaml": "- 1\n- 2\n" }),
    expect: /l\.yaml:1:1: found a list of 2 items; allowed: a mapping/,
  },
  {
    name: "a bare string",
    args: ["run", "b.yaml"],
    files: () => ({ "b.yaml": "hello\n" }),
    expect: /b\.yaml:1:1: found "hello"; allowed: a mapping/,
  },
  {
    name: "YAML alias bomb",
    args: ["run", "bomb.yaml"],
    files: () => ({
      "bomb.yaml": `a: &a [x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join("\n")}\n`,
    }),
    expect:
      /bomb\.yaml:1:1: found YAML that cannot be expanded .*; allowed: a YAML or JSON mapping with at most 100 alias uses/,
  },
  {
    name: "deeply nested document",
    args: ["run", "deep.json"],
    files: () => ({ "deep.json": `${"[".repeat(5000)}${"]".repeat(5000)}` }),
    expect:
      /deep\.json:1:\d+: found malformed YAML \(Maximum call stack size exceeded\); allowed: a YAML or JSON mapping/,
  },
  {
    name: "__proto__ key in the file",
    args: ["run", "proto.yaml"],
    files: () => ({ "proto.yaml": SCENARIO.replace("machine:", "__proto__:\n  polluted: true\nmachine:") }),
    expect: /proto\.yaml:\d+:\d+: __proto__: found unknown field "__proto__"; allowed: the fields/,
  },
  {
    name: "constructor key in the file",
    args: ["run", "c.yaml"],
    files: () => ({ "c.yaml": SCENARIO.replace("  hz: 250", "  hz: 250\n  constructor: 1") }),
    expect: /c\.yaml:\d+:\d+: machine\.constructor: found unknown field "constructor"/,
  },
  {
    name: "cost named toString in the file",
    args: ["run", "t.yaml"],
    files: () => ({ "t.yaml": SCENARIO.replace("  hz: 250", "  hz: 250\n  costs: { toString: 1 }") }),
    expect:
      /t\.yaml:\d+:\d+: machine\.costs\.toString: found unknown cost "toString"; allowed: a cost of profile default/,
  },
  {
    name: "a 1 MB string value",
    args: ["run", "long.yaml"],
    files: () => ({ "long.yaml": SCENARIO.replace("comm: spinner", `comm: ${"y".repeat(2 ** 20)}`) }),
    expect: /long\.yaml:\d+:\d+: workloads\[0\]\.comm: found "y+\.\.\."; allowed/,
  },
  {
    name: "duration beyond 2^53 ns in the file",
    args: ["run", "dur.yaml"],
    files: () => ({ "dur.yaml": SCENARIO.replace("duration: 25s", "duration: 999999999999h") }),
    expect:
      /dur\.yaml:\d+:\d+: workloads\[0\]\.duration: found "999999999999h"; allowed: a duration of at most 9007199254740991 ns/,
  },
  {
    name: "integer duration beyond 2^53",
    args: ["run", "dur2.yaml"],
    files: () => ({ "dur2.yaml": SCENARIO.replace("duration: 25s", "duration: 1e300") }),
    expect: /dur2\.yaml:\d+:\d+: workloads\[0\]\.duration: found 1e\+300; allowed/,
  },
  {
    name: "integer duration beyond 2^53 (stop.time)",
    args: ["run", "st.yaml"],
    files: () => ({ "st.yaml": SCENARIO.replace("time: 30s", "time: 1e30") }),
    expect:
      /st\.yaml:\d+:\d+: stop\.time: found 1e\+30; allowed: a duration of at most 9007199254740991 ns \(about 104 days\)/,
  },
  {
    name: "integer beyond 2^53 and the field's maximum (one line, not two)",
    args: ["run", "wd.yaml"],
    files: () => ({ "wd.yaml": SCENARIO.replace("machine:\n", "machine:\n  watchdogThresh: 1e300\n") }),
    expect:
      /^faultline: invalid scenario:\n {2}wd\.yaml:\d+:\d+: machine\.watchdogThresh: found 1e\+300; allowed: an integer from 0 to 60\n$/,
  },
  {
    name: "empty seeds list",
    args: ["run", "se.yaml"],
    files: () => ({ "se.yaml": SCENARIO.replace("seed: 1", "seeds: []") }),
    expect: /se\.yaml:\d+:\d+: seeds: found a list of 0 items; allowed: at least 1 item/,
  },
  {
    name: "a key twice in a nested mapping",
    args: ["run", "dk.yaml"],
    files: () => ({ "dk.yaml": SCENARIO.replace("machine:\n", "machine:\n  cpus: 2\n  cpus: 4\n") }),
    expect:
      /dk\.yaml:\d+:3: machine\.cpus: found the key "cpus" a second time in one mapping; allowed: each key once per mapping/,
  },
  {
    name: "a key twice in a JSON file",
    args: ["run", "dk.json"],
    files: () => ({ "dk.json": '{"name": "a", "name": "b"}' }),
    expect: /dk\.json:1:15: name: found the key "name" a second time in one mapping/,
  },
  {
    name: "seed range of ten billion in the file",
    args: ["run", "seeds.yaml"],
    files: () => ({ "seeds.yaml": SCENARIO.replace("seed: 1", 'seeds: "1..10000000000"') }),
    expect:
      /seeds\.yaml:\d+:\d+: seeds: found "1\.\.10000000000"; allowed: a range "A\.\.B" with A <= B and at most 1000000 seeds/,
  },
  {
    name: "version 2",
    args: ["run", "v.yaml"],
    files: () => ({ "v.yaml": `version: 2\n${SCENARIO}` }),
    expect: /v\.yaml:1:\d+: version: found 2; allowed/,
  },
  {
    name: "fork-race with no think time (its TLB-hit loop would spin at one instant)",
    args: ["run", "pervma-fork-race", "--set", "workloads[0].think=0"],
    expect:
      /--set workloads\[0\]\.think=0: workloads\[0\]\.think: found 0; allowed: a duration of at least 1ns/,
  },
  {
    name: "fs.bandwidth 0 (was an internal error from the block device)",
    args: ["run", "iomap-s2", "--set", "fs.bandwidth=0"],
    expect:
      /--set fs\.bandwidth=0: fs\.bandwidth: found 0; allowed: a size of at least 1 byte \(bytes per second\)/,
  },
  {
    name: "fs.maxSectors below a page (was an internal error from the block device)",
    args: ["run", "iomap-s2", "--set", "fs.maxSectors=1KiB"],
    expect: /--set fs\.maxSectors=1KiB: fs\.maxSectors: found "1KiB"; allowed: a size of at least 4KiB/,
  },
  {
    name: "fs.dirtyWritebackInterval 0 (the flusher spun at one instant)",
    args: ["run", "iomap-s2", "--set", "fs.dirtyWritebackInterval=0"],
    expect:
      /fs\.dirtyWritebackInterval: found 0; allowed: a duration of at least 1ns \(0, the kernel's "no periodic writeback", is not modelled\)/,
  },
  {
    name: "an empty file (was an internal error in xfs_map_blocks)",
    args: ["run", "iomap-s2", "--set", "fs.files[0].size=0"],
    expect: /--set fs\.files\[0\]\.size=0: fs\.files\[0\]\.size: found 0; allowed: a size of at least 1 byte/,
  },
  {
    name: "a device whose interrupt CPU the machine lacks (was an internal error in raiseIrq)",
    args: ["run", "iomap-s7", "--set", "machine.cpus=1"],
    expect:
      /scenarios\/iomap-s7\.yaml:\d+:\d+: fs\.device: found "sata-ssd", whose completion interrupts go to CPU 1; allowed: machine\.cpus above 1, or fs\.irqCpu set to -1 or a CPU from 0 to 0/,
  },
  {
    name: "scenario with the wrong model's workload",
    args: ["run", "w.yaml"],
    files: () => ({ "w.yaml": SCENARIO.replace("variant: generic", 'variant: "6.4.3"') }),
    expect:
      /w\.yaml:\d+:\d+: workloads\[0\]\.type: found "kthread-spin"; allowed: a workload of the mm model \(fault-loop, mmap-writer, fork-race, fork-race-mini, stack-race, vma-merge-race, fork\)/,
  },

  // ---- --set and --kernel ----
  {
    name: "--set without =",
    args: set("machine.cpus"),
    expect: /--set machine\.cpus: expected PATH=VALUE, e\.g\. --set machine\.cpus=8/,
  },
  { name: "--set with an empty path", args: set("=3"), expect: /--set =3: expected PATH=VALUE/ },
  {
    name: "--set bad path syntax",
    args: set("machine..cpus=2"),
    expect:
      /--set machine\.\.cpus=2: machine\.\.cpus: found the path "machine\.\.cpus"; allowed: a field path/,
  },
  {
    name: "--set __proto__",
    args: set("__proto__.x=1"),
    expect: /--set __proto__\.x=1: __proto__\.x: found the path "__proto__\.x"; allowed: a field path/,
  },
  {
    name: "--set constructor.prototype",
    args: set("constructor.prototype.x=1"),
    expect: /found the path "constructor\.prototype\.x"; allowed: a field path/,
  },
  {
    name: "--set machine.__proto__",
    args: set("machine.__proto__.cpus=3"),
    expect: /found the path "machine\.__proto__\.cpus"/,
  },
  {
    name: "--set list index in the billions",
    args: set("workloads[999999999].duration=1s"),
    expect:
      /workloads\[999999999\]\.duration: found the path .*; allowed: a field path .*list indexes below 1000/,
  },
  {
    name: "--set list index 1000",
    args: set("workloads[1000].duration=1s"),
    expect: /list indexes below 1000/,
  },
  {
    name: "--set dotted list index in the billions",
    args: set("workloads.4294967296.duration=1s"),
    expect: /list indexes below 1000/,
  },
  {
    name: "--set path of 300 characters",
    args: set(`machine.${"a".repeat(300)}=1`),
    expect: /at most 200 characters/,
  },
  {
    name: "--set unknown field",
    args: set("machine.cpu=2"),
    expect:
      /--set machine\.cpu=2: machine\.cpu: found unknown field "cpu"; allowed: the fields cpus, preemption/,
  },
  {
    name: "--set unknown section (the override named, not the file)",
    args: set("nosuch.field=1"),
    expect: /--set nosuch\.field=1: nosuch: found unknown field "nosuch"; allowed: the fields /,
  },
  {
    name: "--set list index past the end (no gap of null items)",
    args: set("workloads[5].cpu=1"),
    expect:
      /--set workloads\[5\]\.cpu=1: workloads\[5\]: found index 5 of a list of 1 item; allowed: an index from 0 to 1 \(1 adds an item\)/,
  },
  {
    name: "--set adds a list item without a type",
    args: set("workloads[1].cpu=1"),
    expect:
      /--set workloads\[1\]\.cpu=1: workloads\[1\]\.type: found nothing \(the field is required\); allowed: one of/,
  },
  {
    name: "--set through a number",
    args: set("machine.cpus.x=2"),
    expect:
      /--set machine\.cpus\.x=2: machine\.cpus\.x: found a path through a value that is not a mapping or list/,
  },
  {
    name: "--set malformed YAML value",
    args: set("machine.cpus=[1,"),
    expect:
      /--set machine\.cpus=\[1,: machine\.cpus: found malformed value .*; allowed: a YAML scalar, list or mapping/,
  },
  {
    name: "--set YAML alias value",
    args: set("machine.cpus=*a"),
    expect: /--set machine\.cpus=\*a: machine\.cpus: found malformed value/,
  },
  {
    name: "--set cpus=0",
    args: set("machine.cpus=0"),
    expect: /machine\.cpus: found 0; allowed: an integer from 1 to 256/,
  },
  {
    name: "--set cpus=-1",
    args: set("machine.cpus=-1"),
    expect: /machine\.cpus: found -1; allowed: an integer from 1 to 256/,
  },
  {
    name: "--set cpus=257",
    args: set("machine.cpus=257"),
    expect: /machine\.cpus: found 257; allowed: an integer from 1 to 256/,
  },
  {
    name: "--set cpus=1.5",
    args: set("machine.cpus=1.5"),
    expect: /machine\.cpus: found 1\.5; allowed: an integer/,
  },
  { name: "--set cpus=abc", args: set("machine.cpus=abc"), expect: /machine\.cpus: found "abc"; allowed/ },
  {
    name: "--set cpus=2^64",
    args: set("machine.cpus=18446744073709551616"),
    expect: /machine\.cpus: found 18446744073709552000; allowed: an integer from 1 to 256/,
  },
  {
    name: "--set cpus=.inf",
    args: set("machine.cpus=.inf"),
    expect: /machine\.cpus: found Infinity; allowed/,
  },
  { name: "--set cpus=.nan", args: set("machine.cpus=.nan"), expect: /machine\.cpus: found NaN; allowed/ },
  { name: "--set cpus=null", args: set("machine.cpus=null"), expect: /machine\.cpus: found null; allowed/ },
  {
    name: "--set cpus=[]",
    args: set("machine.cpus=[]"),
    expect: /machine\.cpus: found a list of 0 items; allowed/,
  },
  {
    name: "--set hz=200",
    args: set("machine.hz=200"),
    expect: /machine\.hz: found 200; allowed: one of 100, 250, 300, 1000/,
  },
  {
    name: "--set preemption=rt",
    args: set("machine.preemption=rt"),
    expect: /machine\.preemption: found "rt"; allowed: one of "none", "voluntary", "full", "lazy"/,
  },
  {
    name: "--set costProfile unknown",
    args: set("machine.costProfile=fast"),
    expect: /machine\.costProfile: found "fast"; allowed: a cost profile: default/,
  },
  {
    name: "--set cost named toString",
    args: set("machine.costs.toString=1"),
    expect:
      /machine\.costs\.toString: found unknown cost "toString"; allowed: a cost of profile default: anonFaultAllocZeroNs/,
  },
  {
    name: "--set cost named hasOwnProperty",
    args: set("machine.costs.hasOwnProperty=1"),
    expect: /unknown cost "hasOwnProperty"/,
  },
  {
    name: "--set negative cost",
    args: set("machine.costs.faultBaseNs=-5"),
    expect: /machine\.costs\.faultBaseNs: found -5; allowed/,
  },
  {
    name: "--set watchdogThresh=61",
    args: set("machine.watchdogThresh=61"),
    expect: /machine\.watchdogThresh: found 61; allowed: an integer from 0 to 60/,
  },
  {
    name: "--set rcuStallTimeout=2",
    args: set("machine.rcuStallTimeout=2"),
    expect: /machine\.rcuStallTimeout: found 2; allowed: an integer from 3 to 300/,
  },
  {
    name: "--set jitter=0.9",
    args: set("machine.jitter=0.9"),
    expect: /machine\.jitter: found 0\.9; allowed: a number from 0 to 0\.5/,
  },
  {
    name: "--set memory beyond 2^53 bytes",
    args: set("machine.memory=9999999TiB"),
    expect: /machine\.memory: found "9999999TiB"; allowed: a size of at most 9007199254740991 bytes/,
  },
  {
    name: "--set memory negative",
    args: set("machine.memory=-1GiB"),
    expect: /machine\.memory: found "-1GiB"; allowed: a size such as/,
  },
  {
    name: "--set duration beyond 2^53 ns",
    args: set("workloads[0].duration=99999999999999h"),
    expect:
      /workloads\[0\]\.duration: found "99999999999999h"; allowed: a duration of at most 9007199254740991 ns/,
  },
  {
    name: "--set duration in weeks",
    args: set("workloads[0].duration=2w"),
    expect: /workloads\[0\]\.duration: found "2w"; allowed: a duration such as "25s"/,
  },
  {
    name: "--set duration negative",
    args: set("workloads[0].duration=-1"),
    expect: /workloads\[0\]\.duration: found -1; allowed/,
  },
  {
    name: "--set stop.time beyond 2^53 ns",
    args: set("stop.time=9007199254740993"),
    expect: /stop\.time: found 9007199254740992; allowed/,
  },
  {
    name: "--set stop.maxEvents=0",
    args: set("stop.maxEvents=0"),
    expect: /stop\.maxEvents: found 0; allowed: an integer from 1 to/,
  },
  {
    name: "--set stop.maxEvents=1e15",
    args: set("stop.maxEvents=1e15"),
    expect: /stop\.maxEvents: found 1000000000000000; allowed: an integer from 1 to 1000000000000/,
  },
  {
    name: "--set seeds range of ten billion",
    args: set("seeds=1..10000000000"),
    expect:
      /seeds: found "1\.\.10000000000"; allowed: a range "A\.\.B" with A <= B and at most 1000000 seeds/,
  },
  {
    name: "--set seeds range backwards",
    args: set("seeds=9..1"),
    expect: /seeds: found "9\.\.1"; allowed: a range "A\.\.B" with A <= B/,
  },
  { name: "--set seed negative", args: set("seed=-1"), expect: /seed: found -1; allowed/ },
  {
    name: "--set seed beyond 2^53",
    args: set("seed=9007199254740993"),
    expect: /seed: found 9007199254740992; allowed/,
  },
  {
    name: "--set workload type",
    args: set("workloads[0].type=spin"),
    expect: /workloads\[0\]\.type: found "spin"; allowed: one of/,
  },
  {
    name: "--set workloads empty",
    args: set("workloads=[]"),
    expect: /workloads: found a list of 0 items; allowed: from 1 to 64 items/,
  },
  {
    name: "--set workload cpu out of range",
    args: set("workloads[0].cpu=9"),
    expect: /workloads\[0\]\.cpu: found 9; allowed: a CPU from 0 to 1 \(machine\.cpus is 2\)/,
  },
  {
    name: "--set new workload without type",
    args: set("workloads[1].cpu=0"),
    expect: /workloads\[1\]\.type: found nothing \(the field is required\); allowed: one of "kthread-spin"/,
  },
  {
    name: "--set kernel.variant unknown",
    args: set("kernel.variant=6.4.2"),
    expect: /kernel\.variant: found "6\.4\.2"; allowed: a known variant: generic/,
  },
  {
    name: "--set switch on the engine-only variant",
    args: set("kernel.switches.perVmaLock=true"),
    expect:
      /kernel\.switches\.perVmaLock: found unknown switch "perVmaLock"; allowed: a switch of generic: none/,
  },
  {
    name: "--set unknown switch",
    args: ["run", "pervma-fork-race", "--set", "kernel.switches.fastPath=true"],
    expect:
      /kernel\.switches\.fastPath: found unknown switch "fastPath"; allowed: a switch of 6\.4\.0: perVmaLock/,
  },
  {
    name: "--set switch value",
    args: ["run", "pervma-fork-race", "--set", "kernel.switches.forkLockVmas=some"],
    expect: /kernel\.switches\.forkLockVmas: found "some"; allowed: one of none, per-vma, all-first/,
  },
  {
    name: "--set a dotted switch to a bad value (the value shown, not 'nothing')",
    args: ["run", "iomap-s2", "--set", "kernel.switches.ioendCap.kind=bogus"],
    expect:
      /--set kernel\.switches\.ioendCap\.kind=bogus: kernel\.switches\.ioendCap\.kind: found "bogus"; allowed: one of bytes, folios, none, pages, segments/,
  },
  {
    name: "a numeric switch below its range (pagevecSize 0: a batch of no folios)",
    args: ["run", "iomap-s2", "--set", "kernel.switches.pagevecSize=0"],
    expect: /kernel\.switches\.pagevecSize: found 0; allowed: an integer of at least 1/,
  },
  {
    name: "a numeric switch that is not a whole number",
    args: ["run", "iomap-s2", "--set", "kernel.switches.plugLimit=1.5"],
    expect: /kernel\.switches\.plugLimit: found 1\.5; allowed: an integer of at least 1/,
  },
  {
    name: "a negative numeric switch",
    args: ["run", "iomap-s2", "--set", "kernel.switches.ioendCap.limit=-1"],
    expect: /kernel\.switches\.ioendCap\.limit: found -1; allowed: an integer of at least 0/,
  },
  {
    name: "a dotted switch as a nested mapping in the file",
    args: ["run", "sw.yaml"],
    files: () => ({
      "sw.yaml": fs
        .readFileSync(path.join(ROOT, "scenarios/iomap-s2.yaml"), "utf8")
        .replace('variant: "5.16"', 'variant: "5.16"\n  switches:\n    ioendCap:\n      kind: bogus'),
    }),
    expect: /sw\.yaml:\d+:\d+: kernel\.switches\.ioendCap\.kind: found "bogus"; allowed: one of bytes/,
  },
  {
    name: "--set unknown lock site",
    args: ["run", "pervma-fork-race", "--set", "kernel.disableLockSites=[nope]"],
    expect: /kernel\.disableLockSites\[0\]: found "nope"; allowed: a lock site of 6\.4\.0/,
  },
  {
    name: "--set report percentile 101",
    args: set("report.percentiles=[101]"),
    expect: /report\.percentiles\[0\]: found 101; allowed: a number from 0 to 100/,
  },
  { name: "--set name with capitals", args: set("name=Bad Name"), expect: /name: found "Bad Name"; allowed/ },
  {
    name: "--kernel unknown",
    args: run("--kernel", "6.4.9"),
    expect: /--kernel 6\.4\.9: kernel\.variant: found "6\.4\.9"; allowed: a known variant/,
  },
  {
    name: "--kernel empty",
    args: run("--kernel", ""),
    expect: /--kernel : kernel\.variant: found ""; allowed/,
  },
  {
    name: "--kernel of the other model",
    args: ["run", "pervma-fork-race", "--kernel", "5.16"],
    expect: /--kernel 5\.16|workloads\[0\]\.type: found "fork-race"; allowed: a workload of the fs model/,
  },

  // ---- run: --seed and the outputs ----
  {
    name: "--seed abc",
    args: run("--seed", "abc"),
    expect: /--seed: expected an integer from \d+ to \d+, got "abc"/,
  },
  {
    name: "--seed -1",
    args: run("--seed=-1"),
    expect: /--seed: expected an integer from 0 to 9007199254740991, got "-1"/,
  },
  {
    name: "--seed 1e3",
    args: run("--seed", "1e3"),
    expect: /--seed: expected an integer from \d+ to \d+, got "1e3"/,
  },
  {
    name: "--seed beyond 2^53",
    args: run("--seed", "99999999999999999999"),
    expect: /--seed: expected an integer from 0 to 9007199254740991, got 100000000000000000000/,
  },
  {
    name: "--seed of 100,000 digits",
    args: run("--seed", "9".repeat(100_000)),
    expect: /--seed: expected an integer from 0 to 9007199254740991, got Infinity/,
  },
  {
    name: "--json onto the scenario",
    args: ["run", S, "--json", S],
    files: withScenario,
    expect: /--json s\.yaml: that is the scenario this command reads; allowed: a path that is not an input/,
  },
  {
    name: "--trace onto the scenario",
    args: ["run", S, "--trace", `./${S}`],
    files: withScenario,
    expect: /--trace \.\/s\.yaml: that is the scenario this command reads/,
  },
  {
    name: "--json onto the scenario through a symlink",
    args: ["run", S, "--json", "link.yaml"],
    files: withScenario,
    setup: (d) => fs.symlinkSync(path.join(d, S), path.join(d, "link.yaml")),
    expect: /--json link\.yaml: that is the scenario this command reads/,
  },
  {
    name: "--json onto the scenario through a hard link",
    args: ["run", S, "--json", "hard.yaml"],
    files: withScenario,
    setup: (d) => fs.linkSync(path.join(d, S), path.join(d, "hard.yaml")),
    expect: /--json hard\.yaml: that is the scenario this command reads/,
  },
  {
    name: "--json and --trace to the same file",
    args: run("--json", "x.json", "--trace", "x.json"),
    expect: /--trace x\.json: --json writes the same file; allowed: a different path for each output/,
  },
  {
    name: "--json and --trace to the same file by two names",
    args: run("--json", "x.json", "--trace", "./sub/../x.json"),
    setup: (d) => fs.mkdirSync(path.join(d, "sub")),
    expect: /--trace \.\/sub\/\.\.\/x\.json: --json writes the same file/,
  },
  {
    name: "--report over the scenario's folder would overwrite it",
    args: ["run", "index.html", "--report", "."],
    files: () => ({ "index.html": SCENARIO }),
    expect: /--report \.: it would overwrite the scenario index\.html; allowed: another directory/,
  },
  {
    name: "--json inside --report under a name the report writes",
    args: run("--report", "rep", "--json", "rep/index.html"),
    expect: /--json rep\/index\.html: --report rep writes a file of that name/,
  },
  {
    name: "--json into a missing folder",
    args: run("--json", "/nonexistent-dir/x.json"),
    expect: /cannot write JSON result \/nonexistent-dir\/x\.json: no such directory/,
  },
  {
    name: "--json is a folder",
    args: run("--json", "d"),
    setup: (d) => fs.mkdirSync(path.join(d, "d")),
    expect: /cannot write JSON result d: it is a directory/,
  },
  {
    name: "--trace under /proc",
    args: run("--trace", "/proc/x/t.json"),
    expect: /cannot write trace \/proc\/x\/t\.json/,
  },
  {
    name: "--trace in a read-only folder",
    args: run("--trace", "ro/t.json"),
    setup: (d) => {
      fs.mkdirSync(path.join(d, "ro"));
      fs.chmodSync(path.join(d, "ro"), 0o500);
    },
    needsNonRoot: true,
    expect: /cannot write trace ro\/t\.json: permission denied/,
  },
  {
    name: "--report under /proc",
    args: run("--report", "/proc/rep"),
    expect: /cannot write report directory \/proc\/rep/,
  },
  {
    name: "--report is a file",
    args: run("--report", "f"),
    files: () => ({ f: "x" }),
    expect:
      /cannot write report directory f: it is a file, not a directory; allowed: a directory or a new path/,
  },
  {
    name: "--report below a file",
    args: run("--report", "f/rep"),
    files: () => ({ f: "x" }),
    expect: /cannot write report directory f\/rep: a parent is not a directory/,
  },
  {
    name: "--trace - (not stdout: would be a file named -)",
    args: run("--trace", "-"),
    expect: /--trace -: the trace is not written to stdout; allowed: a file path/,
  },
  {
    name: "--report - (a folder named -)",
    args: run("--report", "-"),
    expect: /--report -: the report is a folder of files; allowed: a directory path/,
  },
  {
    name: "compare --report -",
    args: ["compare", "pervma-fork-race", "--report", "-"],
    expect: /--report -: the report is a folder of files/,
  },
  {
    name: "demo --report -",
    args: ["demo", "--report", "-"],
    expect: /--report -: the report is a folder of files/,
  },
  {
    name: "replay --trace -",
    ...replayOf(() => cxText, "--trace", "-"),
    expect: /--trace -: the trace is not written to stdout; allowed: a file path/,
  },
  {
    name: "--json onto a FIFO (renaming over it would replace the node)",
    args: run("--json", "p.json"),
    setup: (d) => execFileSync("mkfifo", [path.join(d, "p.json")]),
    expect:
      /cannot write JSON result p\.json: not a regular file \(a device, FIFO or socket\); allowed: a regular file or a new path/,
  },
  {
    name: "--trace onto a FIFO",
    args: run("--trace", "p.json"),
    setup: (d) => execFileSync("mkfifo", [path.join(d, "p.json")]),
    expect: /cannot write trace p\.json: not a regular file/,
  },
  {
    name: "check --out onto a FIFO",
    args: check("--out", "p.json"),
    setup: (d) => execFileSync("mkfifo", [path.join(d, "p.json")]),
    expect: /cannot write counterexample p\.json: not a regular file/,
  },
  {
    name: "--json path too long",
    args: run("--json", `${"n".repeat(300)}.json`),
    expect: /cannot write JSON result n+\.json|the name is too long/,
  },

  // ---- compare and demo ----
  {
    name: "compare --kernel empty list",
    args: ["compare", "pervma-fork-race", "--kernel", ",,"],
    expect: /--kernel: expected a comma-separated list, got ",,"/,
  },
  {
    name: "compare --kernel unknown",
    args: ["compare", "pervma-fork-race", "--kernel", "6.4.0,7.7"],
    expect: /--kernel 7\.7: kernel\.variant: found "7\.7"; allowed: a known variant/,
  },
  {
    name: "compare without a compare list",
    args: ["compare", "softlockup-demo"],
    expect: /compare softlockup-demo: give --kernel A,B,\.\.\. \(the scenario has no compare list\)/,
  },
  {
    name: "compare --json onto the scenario",
    args: ["compare", S, "--json", S],
    files: withScenario,
    expect: /--json s\.yaml: that is the scenario this command reads/,
  },
  {
    name: "compare --seed x",
    args: ["compare", "pervma-fork-race", "--seed", "x"],
    expect: /--seed: expected an integer from \d+ to \d+, got "x"/,
  },
  {
    name: "compare --report is a file",
    args: ["compare", "pervma-fork-race", "--report", "f"],
    files: () => ({ f: "x" }),
    expect:
      /cannot write report directory f: it is a file, not a directory; allowed: a directory or a new path/,
  },
  {
    name: "demo --report under /proc",
    args: ["demo", "--report", "/proc/x"],
    expect: /cannot write report directory \/proc\/x/,
  },
  {
    name: "demo --report is a file",
    args: ["demo", "--report", "f"],
    files: () => ({ f: "x" }),
    expect:
      /cannot write report directory f: it is a file, not a directory; allowed: a directory or a new path/,
  },

  // ---- check ----
  {
    name: "check --budget 0",
    args: check("--budget", "0"),
    expect: /--budget: expected an integer from 1 to 100000000, got 0/,
  },
  {
    name: "check --budget abc",
    args: check("--budget", "abc"),
    expect: /--budget: expected an integer from \d+ to \d+, got "abc"/,
  },
  {
    name: "check --budget 1e12",
    args: check("--budget", "1000000000000"),
    expect: /--budget: expected an integer from 1 to 100000000/,
  },
  {
    name: "check --time 0",
    args: check("--time", "0"),
    expect: /--time: expected a number from 0\.001 to 86400, got "0"/,
  },
  {
    name: "check --time -5",
    args: check("--time=-5"),
    expect: /--time: expected a number from 0\.001 to 86400/,
  },
  {
    name: "check --time NaN",
    args: check("--time", "NaN"),
    expect: /--time: expected a number from 0\.001 to 86400, got "NaN"/,
  },
  { name: "check --time Infinity", args: check("--time", "Infinity"), expect: /--time: expected a number/ },
  {
    name: "check --pct-depth 0",
    args: check("--pct-depth", "0"),
    expect: /--pct-depth: expected an integer from 1 to 100, got 0/,
  },
  {
    name: "check --preemption-bound x",
    args: check("--preemption-bound", "x"),
    expect: /--preemption-bound: expected an integer from \d+ to \d+, got "x"/,
  },
  {
    name: "check --max-steps 0",
    args: check("--max-steps", "0"),
    expect: /--max-steps: expected an integer from 1 to 10000000, got 0/,
  },
  {
    name: "check --jobs 0",
    args: check("--jobs", "0"),
    expect: /--jobs: expected an integer from 1 to 256, got 0/,
  },
  {
    name: "check --grain 0",
    args: check("--grain", "0"),
    expect: /--grain: expected an integer from 1 to 100000000, got 0/,
  },
  {
    name: "check --stateful with the random strategy (would be ignored)",
    args: check("--stateful"),
    expect:
      /--stateful: only with --strategy exhaustive \(this search is random\); allowed: --strategy exhaustive --stateful/,
  },
  {
    name: "check --jobs with PCT",
    args: check("--strategy", "pct", "--jobs", "2"),
    expect: /--jobs: only with --strategy exhaustive \(this search is pct\)/,
  },
  {
    name: "check --pct-depth with the exhaustive search",
    args: check("--strategy", "exhaustive", "--pct-depth", "4"),
    expect:
      /--pct-depth: only with --strategy pct \(this search is exhaustive\); allowed: --strategy pct --pct-depth N/,
  },
  {
    name: "check --preemption-bound with the random strategy",
    args: check("--preemption-bound", "2"),
    expect: /--preemption-bound: only with --strategy exhaustive/,
  },
  {
    name: "check --warm-start past the end of the run (nothing left to explore)",
    args: check("--warm-start", "99999s"),
    expect:
      /pervma-fork-race-mini: warm start at 99999000ms: the timed run ended \(workloads done\) at [\d.]+ms, before it; allowed: a time before the run ends, or an event/,
  },
  {
    name: "check --warm-start at an event the run never passes (the events it passes listed)",
    args: check("--warm-start", "nosuch"),
    expect:
      /warm start at nosuch: .* after 0 of 1 "nosuch" events; allowed: an event it passes \(.*dup_mmap.*\) or a time/,
  },
  {
    name: "check --seed -3",
    args: check("--seed=-3"),
    expect: /--seed: expected an integer from \d+ to \d+, got "-3"/,
  },
  {
    name: "check --disable-site unknown",
    args: check("--disable-site", "nope"),
    expect: /--disable-site nope: no such lock site in 6\.4\.0; allowed: do_user_addr_fault:mmap_read_lock/,
  },
  {
    name: "check --kind unknown (a mistyped kind would never match)",
    args: check("--kind", "lost_update", "--kind", "nosuch"),
    expect:
      /--kind nosuch: no such finding kind in the per-VMA-lock model; allowed: vma_mutual_exclusion, .*lost_update, .*deadlock, .*workqueue_lockup$/m,
  },
  {
    name: "check --kind of the other model (writeback scenario)",
    args: ["check", "iomap-s2", "--kind", "lost_update"],
    expect:
      /--kind lost_update: no such finding kind in the writeback model; allowed: fs:writeback_ownership, .*lost_wakeup/,
  },
  {
    name: "check an engine-only scenario",
    args: ["check", "softlockup-demo"],
    expect:
      /the race checker explores the per-VMA-lock and the writeback models; generic is a sim variant \(try 6\.4\.0, 6\.4\.3, 5\.16 or 5\.17\)/,
  },
  {
    name: "check --kernel of the other model",
    args: check("--kernel", "5.17"),
    expect: /--kernel 5\.17: workloads\[\d\]\.type|a workload of the fs model/,
  },
  {
    name: "check --out onto the scenario",
    args: ["check", S, "--out", S],
    files: withScenario,
    expect: /--out s\.yaml: that is the scenario this command reads/,
  },
  {
    name: "check --out is a folder",
    args: check("--out", "d"),
    setup: (d) => fs.mkdirSync(path.join(d, "d")),
    expect: /cannot write counterexample d: it is a directory/,
  },
  {
    name: "check --out in a missing folder",
    args: check("--out", "no/such/cx.json"),
    expect: /cannot write counterexample no\/such\/cx\.json: no such directory/,
  },

  // ---- replay and counterexample files ----
  {
    name: "replay a missing file",
    args: ["replay", "none.json"],
    expect: /cannot read counterexample none\.json: no such file/,
  },
  {
    name: "replay a folder",
    args: ["replay", "d"],
    setup: (d) => fs.mkdirSync(path.join(d, "d")),
    expect: /cannot read counterexample d: it is a directory/,
  },
  {
    name: "replay /dev/zero",
    args: ["replay", "/dev/zero"],
    expect: /cannot read counterexample \/dev\/zero: not a regular file/,
  },
  {
    name: "replay a counterexample over 64 MiB",
    args: ["replay", "big.json"],
    setup: (d) => {
      const fd = fs.openSync(path.join(d, "big.json"), "w");
      fs.ftruncateSync(fd, 2 ** 30);
      fs.closeSync(fd);
    },
    expect: /cannot read counterexample big\.json: 1,073,741,824 bytes; allowed: at most 67,108,864 bytes/,
  },
  {
    name: "replay: not JSON",
    ...replayOf(() => "{ nope"),
    expect: /cx\.json:1:3: not valid JSON .*; allowed: a counterexample written by faultline check --out/,
  },
  {
    name: "replay: a counterexample cut short (line and column of the end)",
    ...replayOf(() => cxText.slice(0, 200)),
    expect:
      /cx\.json:\d+:\d+: not valid JSON \(.*\); allowed: a counterexample written by faultline check --out/,
  },
  {
    name: "replay: steps disagree with the choices",
    ...replayOf(() =>
      cx((d) => {
        d.steps = 1e12;
      }),
    ),
    expect:
      /cx\.json: not a faultline counterexample: field "steps": found 1000000000000; allowed: \d+ \(the number of choices\)/,
  },
  {
    name: "replay: cpus disagree with the choices",
    ...replayOf(() =>
      cx((d) => {
        d.cpus = 0;
      }),
    ),
    expect: /field "cpus": found 0; allowed: \d+ \(the number of distinct choices\)/,
  },
  {
    name: "replay: switches disagree with the choices",
    ...replayOf(() =>
      cx((d) => {
        d.switches = -1;
      }),
    ),
    expect: /field "switches": found -1; allowed: \d+ \(the context switches in the choices\)/,
  },
  {
    name: "replay: choices cut short (steps no longer match)",
    ...replayOf(() =>
      cx((d) => {
        d.choices = d.choices.slice(0, 5);
      }),
    ),
    expect: /field "steps": found \d+; allowed: 5 \(the number of choices\)/,
  },
  {
    name: "replay: labels not one per choice",
    ...replayOf(() =>
      cx((d) => {
        d.labels = d.labels.slice(0, 3);
      }),
    ),
    expect: /field "labels": found .*; allowed: a list of \d+ step names \(one per choice\)/,
  },
  {
    name: "replay: null",
    ...replayOf(() => "null"),
    expect: /cx\.json: not a faultline counterexample: found null; allowed: a JSON object/,
  },
  {
    name: "replay: a list",
    ...replayOf(() => "[]"),
    expect: /cx\.json: not a faultline counterexample: found a list; allowed: a JSON object/,
  },
  {
    name: "replay: a result file instead",
    ...replayOf(() => '{"format":"faultline-result"}'),
    expect: /field "faultline": found undefined; allowed: "counterexample"/,
  },
  {
    name: "replay: version 2",
    ...replayOf(() =>
      cx((d) => {
        d.version = 2;
      }),
    ),
    expect: /field "version": found 2; allowed: 1/,
  },
  {
    name: "replay: unknown kernel",
    ...replayOf(() =>
      cx((d) => {
        d.describe.kernel = "9.9";
      }),
    ),
    expect:
      /field "describe\.kernel": found "9\.9"; allowed: a per-VMA-lock variant: 6\.3, 6\.4\.0, 6\.4\.3, /,
  },
  {
    name: "replay: a writeback kernel",
    ...replayOf(() =>
      cx((d) => {
        d.describe.kernel = "5.17";
      }),
    ),
    expect: /field "describe\.kernel": found "5\.17"; allowed: a per-VMA-lock variant/,
  },
  {
    name: "replay: unknown preemption model",
    ...replayOf(() =>
      cx((d) => {
        d.describe.preempt = "rt";
      }),
    ),
    expect: /field "describe\.preempt": found "rt"; allowed: one of "none", "voluntary", "full", "lazy"/,
  },
  {
    name: "replay: 0 CPUs",
    ...replayOf(() =>
      cx((d) => {
        d.describe.cpus = 0;
      }),
    ),
    expect: /field "describe\.cpus": found 0; allowed: an integer from 1 to 256/,
  },
  {
    name: "replay: a warm start at an event the scenario never passes (was an internal error)",
    ...replayOf(() =>
      cx((d) => {
        d.describe.warmStart = { event: "nosuch", count: 1 };
      }),
    ),
    expect:
      /cx\.json: not a counterexample this scenario can replay: field "describe\.warmStart": warm start at nosuch: .*; allowed: an event it passes/,
  },
  {
    name: "replay: a warm start past the end of the run",
    ...replayOf(() =>
      cx((d) => {
        d.describe.warmStart = { timeNs: 1e15 };
      }),
    ),
    expect:
      /cx\.json: not a counterexample this scenario can replay: field "describe\.warmStart": .*before it/,
  },
  {
    name: "replay: a billion CPUs",
    ...replayOf(() =>
      cx((d) => {
        d.describe.cpus = 1e9;
      }),
    ),
    expect: /field "describe\.cpus": found 1000000000; allowed: an integer from 1 to 256/,
  },
  {
    name: "replay: CPUs as a string",
    ...replayOf(() =>
      cx((d) => {
        d.describe.cpus = "3";
      }),
    ),
    expect: /field "describe\.cpus": found "3"; allowed: an integer from 1 to 256/,
  },
  {
    name: "replay: negative seed",
    ...replayOf(() =>
      cx((d) => {
        d.describe.seed = -1;
      }),
    ),
    expect: /field "describe\.seed": found -1; allowed: an integer from 0/,
  },
  {
    name: "replay: maxSteps of a trillion",
    ...replayOf(() =>
      cx((d) => {
        d.describe.maxSteps = 1e12;
      }),
    ),
    expect: /field "describe\.maxSteps": found 1000000000000; allowed: an integer from 1 to 10000000/,
  },
  {
    name: "replay: other model",
    ...replayOf(() =>
      cx((d) => {
        d.describe.model = "sim";
      }),
    ),
    expect: /field "describe\.model": found "sim"; allowed: "mm" or "fs"/,
  },
  {
    name: "replay: a writeback counterexample without its scenario",
    ...replayOf(() =>
      cx((d) => {
        d.describe.model = "fs";
      }),
    ),
    expect: /field "describe\.scenarioDoc": found undefined; allowed: the scenario as an object/,
  },
  {
    name: "replay: workloads not a list",
    ...replayOf(() =>
      cx((d) => {
        d.describe.workloads = {};
      }),
    ),
    expect: /field "describe\.workloads": found \{\}; allowed: a list of at most 64 workloads/,
  },
  {
    name: "replay: unknown workload type",
    ...replayOf(() =>
      cx((d) => {
        d.describe.workloads[0].type = "bogus";
      }),
    ),
    expect: /field "describe\.workloads\[0\]\.type": found "bogus"; allowed: one of/,
  },
  {
    name: "replay: a workload field out of range",
    ...replayOf(() =>
      cx((d) => {
        d.describe.workloads[0].start = -4;
      }),
    ),
    expect: /field "describe\.workloads\[0\]\.start": found -4; allowed: a duration such as "25s"/,
  },
  {
    name: "replay: unknown switch",
    ...replayOf(() =>
      cx((d) => {
        d.describe.switches.turbo = true;
      }),
    ),
    expect: /field "describe\.switches\.turbo": found unknown switch "turbo"; allowed: a switch of 6\.4\.0/,
  },
  {
    name: "replay: unknown lock site",
    ...replayOf(() =>
      cx((d) => {
        d.describe.disabledSites = ["nope"];
      }),
    ),
    expect: /field "describe\.disabledSites\[0\]": found "nope"; allowed: a lock site of 6\.4\.0/,
  },
  {
    name: "replay: cost named toString",
    ...replayOf(() =>
      cx((d) => {
        d.describe.costs.toString = 1;
      }),
    ),
    expect: /field "describe\.costs\.toString": found unknown cost "toString"/,
  },
  {
    name: "replay: choices not a list",
    ...replayOf(() =>
      cx((d) => {
        d.choices = "0,1";
      }),
    ),
    expect: /field "choices": found "0,1"; allowed: a list of at most 20000 CPU numbers/,
  },
  {
    name: "replay: a choice on a CPU that does not exist",
    ...replayOf(() =>
      cx((d) => {
        d.choices[3] = 7;
      }),
    ),
    expect: /field "choices\[3\]": found 7; allowed: a CPU number from 0 to 2/,
  },
  {
    name: "replay: a negative choice",
    ...replayOf(() =>
      cx((d) => {
        d.choices[0] = -1;
      }),
    ),
    expect: /field "choices\[0\]": found -1; allowed: a CPU number from 0 to 2/,
  },
  {
    name: "replay: more choices than steps allowed",
    ...replayOf(() =>
      cx((d) => {
        d.choices = new Array(20_001).fill(0);
      }),
    ),
    expect: /field "choices": found .*; allowed: a list of at most 20000 CPU numbers/,
  },
  {
    name: "replay: no finding",
    ...replayOf(() =>
      cx((d) => {
        delete d.finding;
      }),
    ),
    expect: /field "finding": found undefined; allowed: an object with kind and message/,
  },
  {
    name: "replay --trace onto the counterexample",
    ...replayOf(() => cxText, "--trace", "cx.json"),
    expect: /--trace cx\.json: that is the counterexample this command reads/,
  },
  {
    name: "replay --trace under /proc",
    ...replayOf(() => cxText, "--trace", "/proc/t.json"),
    expect: /cannot write trace \/proc\/t\.json/,
  },

  // ---- sweep: flags ----
  {
    name: "sweep --jobs 0 (no folder created)",
    args: sweep("--jobs", "0"),
    expect: /--jobs: expected an integer from 1 to 256, got 0/,
  },
  {
    name: "sweep --jobs 257",
    args: sweep("--jobs", "257"),
    expect: /--jobs: expected an integer from 1 to 256, got 257/,
  },
  {
    name: "sweep --jobs two",
    args: sweep("--jobs", "two"),
    expect: /--jobs: expected an integer from \d+ to \d+, got "two"/,
  },
  {
    name: "sweep --shard 3/2",
    args: sweep("--shard", "3/2"),
    expect: /--shard 3\/2: expected K\/N with 1 <= K <= N/,
  },
  {
    name: "sweep --shard 0/2",
    args: sweep("--shard", "0/2"),
    expect: /--shard 0\/2: expected K\/N with 1 <= K <= N/,
  },
  { name: "sweep --shard 1/0", args: sweep("--shard", "1/0"), expect: /--shard 1\/0: expected K\/N/ },
  {
    name: "sweep --shard half",
    args: sweep("--shard", "half"),
    expect: /--shard half: expected K\/N with 1 <= K <= N, e\.g\. --shard 1\/4, or auto/,
  },
  {
    name: "sweep --shard of 10 digits",
    args: sweep("--shard", "1/9999999999"),
    expect: /--shard 1\/9999999999: expected K\/N/,
  },
  {
    name: "sweep --shard auto without a scheduler",
    args: sweep("--shard", "auto"),
    expect:
      /--shard auto: neither SLURM_ARRAY_TASK_ID \(SLURM job array\) nor JOB_COMPLETION_INDEX \(Kubernetes indexed Job\) is set; give --shard K\/N/,
  },
  {
    name: "sweep --shard auto: Kubernetes without --shards",
    args: sweep("--shard", "auto"),
    env: { JOB_COMPLETION_INDEX: "0" },
    expect:
      /--shard auto: JOB_COMPLETION_INDEX is set \(Kubernetes indexed Job\); give --shards N, the Job's completions/,
  },
  {
    name: "sweep --shard auto: index beyond --shards",
    args: sweep("--shard", "auto", "--shards", "4"),
    env: { JOB_COMPLETION_INDEX: "4" },
    expect: /--shard auto: JOB_COMPLETION_INDEX=4; allowed: 0 to 3 with --shards 4/,
  },
  {
    name: "sweep --shard auto: index not a number",
    args: sweep("--shard", "auto", "--shards", "4"),
    env: { JOB_COMPLETION_INDEX: "one" },
    expect: /environment variable JOB_COMPLETION_INDEX="one"; allowed: an integer of at least 0/,
  },
  {
    name: "sweep --shard auto: SLURM without the count",
    args: sweep("--shard", "auto"),
    env: { SLURM_ARRAY_TASK_ID: "2" },
    expect: /environment variable SLURM_ARRAY_TASK_COUNT=""; allowed: an integer of at least 1/,
  },
  {
    name: "sweep --shard auto: SLURM task outside the array",
    args: sweep("--shard", "auto"),
    env: { SLURM_ARRAY_TASK_ID: "9", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "4" },
    expect: /SLURM_ARRAY_TASK_ID=9 is not one of the 4 tasks from 1 in steps of 1/,
  },
  {
    name: "sweep --shard auto: --shards disagrees with SLURM",
    args: sweep("--shard", "auto", "--shards", "3"),
    env: { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "4" },
    expect: /--shards 3: SLURM_ARRAY_TASK_COUNT says 4 shards/,
  },
  {
    name: "sweep --shards without auto",
    args: sweep("--shard", "1/2", "--shards", "2"),
    expect: /--shards: only with --shard auto/,
  },
  {
    name: "sweep --seeds backwards",
    args: sweep("--seeds", "5..1"),
    expect: /--seeds 5\.\.1: the range is empty \(B < A\)/,
  },
  {
    name: "sweep --seeds of two million",
    args: sweep("--seeds", "1..2000000"),
    expect: /--seeds 1\.\.2000000: at most 1,000,000 seeds/,
  },
  {
    name: "sweep --seeds beyond 2^53",
    args: sweep("--seeds", "1..99999999999999999999"),
    expect: /--seeds 1\.\.99999999999999999999: seeds are integers from 0 to 9007199254740991/,
  },
  {
    name: "sweep --seeds range of words",
    args: sweep("--seeds", "1..x"),
    expect:
      /--seeds 1\.\.x: expected a range A\.\.B of integers from 0 to 9007199254740991, or a list such as 1,5,9/,
  },
  {
    name: "sweep --seeds with an empty item",
    args: sweep("--seeds", "1,,2"),
    expect: /--seeds 1,,2: item 2 is empty; allowed: a comma-separated list without empty items/,
  },
  {
    name: "sweep --param with an empty value (not silently dropped)",
    args: sweep("--param", "machine.preemption=none,,full"),
    expect: /--param machine\.preemption none,,full: item 2 is empty; allowed: a comma-separated list/,
  },
  {
    name: "sweep --seeds words",
    args: sweep("--seeds", "a,b"),
    expect: /--seeds: expected an integer from \d+ to \d+, got "a"/,
  },
  {
    name: "sweep --seeds empty list",
    args: sweep("--seeds", ","),
    expect: /--seeds: expected a comma-separated list, got ","/,
  },
  {
    name: "sweep --param without =",
    args: sweep("--param", "machine.cpus"),
    expect: /--param machine\.cpus: expected PATH=VALUE, e\.g\. --param machine\.cpus=8/,
  },
  {
    name: "sweep --param with no values",
    args: sweep("--param", "machine.cpus=,"),
    expect: /--param machine\.cpus: expected a comma-separated list, got ","/,
  },
  {
    name: "sweep --param bad value",
    args: sweep("--param", "machine.cpus=2,zero"),
    expect: /--param machine\.cpus=zero: machine\.cpus: found "zero"; allowed/,
  },
  {
    name: "sweep --param swept twice",
    args: sweep("--param", "machine.cpus=1,2", "--param", "machine.cpus=4"),
    expect: /--param machine\.cpus: swept twice; allowed: each field once/,
  },
  {
    name: "sweep --param __proto__",
    args: sweep("--param", "__proto__.x=1,2"),
    expect: /--param __proto__\.x=1: __proto__\.x: found the path/,
  },
  {
    name: "sweep of more than a million jobs (counted before any job is built)",
    args: sweep(
      "--param",
      `machine.cpus=${Array.from({ length: 200 }, (_, i) => (i % 256) + 1).join(",")}`,
      "--seeds",
      "1..10000",
    ),
    expect: /sweep: 2,000,000 jobs; allowed: at most 1,000,000/,
  },
  {
    name: "sweep --kernel unknown",
    args: sweep("--kernel", "generic,7.0"),
    expect: /--param kernel\.variant=7\.0: kernel\.variant: found "7\.0"/,
  },
  {
    name: "sweep --out onto the scenario",
    args: ["sweep", S, "--out", S],
    files: withScenario,
    expect: /--out s\.yaml: that is the scenario this command reads; allowed: another directory/,
  },
  {
    name: "sweep --out is a file",
    args: ["sweep", "softlockup-demo", "--out", "f"],
    files: () => ({ f: "x" }),
    expect:
      /cannot write sweep directory f: it is a file, not a directory; allowed: a directory or a new path/,
  },
  {
    name: "sweep --out under /proc",
    args: ["sweep", "softlockup-demo", "--out", "/proc/sw"],
    expect: /cannot write sweep directory \/proc\/sw/,
  },
  {
    name: "sweep --out beside a scenario named results.csv",
    args: ["sweep", "results.csv", "--out", "."],
    files: () => ({ "results.csv": SCENARIO }),
    expect: /--out \.: it would overwrite the scenario results\.csv/,
  },

  // ---- sweep folders: sweep.json and results.jsonl, read as untrusted input (resume) ----
  {
    name: "resume: a different sweep in --out",
    args: [...SWEEP.slice(0, 5), "1..3", ...SWEEP.slice(6), "--out", "sw"],
    files: () => sweepWith({}),
    expect:
      /--out sw: holds a different sweep \(softlockup-demo: seeds 1, 2 there, 1, 2, 3 here\); allowed: the same sweep \(to resume\) or another --out directory/,
  },
  {
    name: "resume: sweep.json not JSON",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ manifest: () => "{" }),
    expect: /sw\/sweep\.json:1:2: not valid JSON .*; allowed: a sweep\.json written by faultline sweep/,
  },
  {
    name: "resume: sweep.json null",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ manifest: () => "null" }),
    expect: /sw\/sweep\.json: field \(the document\): .*; allowed: a sweep\.json written by faultline sweep/,
  },
  {
    name: "resume: sweep.json of another format",
    args: [...SWEEP, "--out", "sw"],
    files: () =>
      sweepWith({
        manifest: (m) => {
          m.format = "x";
        },
      }),
    expect: /sw\/sweep\.json: field format: .*allowed: a sweep\.json/,
  },
  {
    name: "resume: sweep.json totalJobs disagrees",
    args: [...SWEEP, "--out", "sw"],
    files: () =>
      sweepWith({
        manifest: (m) => {
          m.totalJobs = 3;
        },
      }),
    expect: /sw\/sweep\.json: field totalJobs: found 3, but params and seeds give 4 jobs/,
  },
  {
    name: "resume: sweep.json with a billion seeds claimed",
    args: [...SWEEP, "--out", "sw"],
    files: () =>
      sweepWith({
        manifest: (m) => {
          m.totalJobs = 1e9;
        },
      }),
    expect: /sw\/sweep\.json: field totalJobs: .*allowed: a sweep\.json/,
  },
  {
    name: "resume: sweep.json shard 5/2",
    args: [...SWEEP, "--out", "sw"],
    files: () =>
      sweepWith({
        manifest: (m) => {
          m.shard = [5, 2];
        },
      }),
    expect: /sw\/sweep\.json: field shard: found 5\/2; allowed: K\/N with 1 <= K <= N/,
  },
  {
    name: "resume: sweep.json unknown field",
    args: [...SWEEP, "--out", "sw"],
    files: () =>
      sweepWith({
        manifest: (m) => {
          m.extra = 1;
        },
      }),
    expect: /sw\/sweep\.json: field \(the document\): Unrecognized key: "extra"/,
  },
  {
    name: "resume: a null line",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [1, () => "null"] }),
    expect:
      /sw\/results\.jsonl:2: field \(the row\): .*; allowed: one job row per line as faultline sweep writes it/,
  },
  {
    name: "resume: a junk line in the middle",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [1, () => "junk"] }),
    expect: /sw\/results\.jsonl:2: found a line that is not JSON; allowed: one job row per line/,
  },
  {
    name: "resume: a row with an index out of range",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, index: 7 })] }),
    expect: /sw\/results\.jsonl:1: field index: found 7, the sweep has 4 jobs/,
  },
  {
    name: "resume: a row with a negative index",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, index: -1 })] }),
    expect: /sw\/results\.jsonl:1: field index: /,
  },
  {
    name: "resume: a job twice",
    args: [...SWEEP, "--out", "sw"],
    files: () =>
      sweepWith({
        row: [1, (r: any) => ({ ...r, index: 0, seed: 1, params: { "machine.preemption": "none" } })],
      }),
    expect: /sw\/results\.jsonl:2: field index: job 0 appears twice/,
  },
  {
    name: "resume: a row with the wrong seed",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, seed: 9 })] }),
    expect: /sw\/results\.jsonl:1: field seed: found 9, job 0 has seed 1/,
  },
  {
    name: "resume: a row with other parameters",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, params: { "machine.preemption": "lazy" } })] }),
    expect: /sw\/results\.jsonl:1: field params: found .*lazy.*, job 0 has/,
  },
  {
    name: "resume: a row with both result and error",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, error: "x" })] }),
    expect: /sw\/results\.jsonl:1: a row has either result or error/,
  },
  {
    name: "resume: a row with a broken result",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, result: { ...r.result, run: null } })] }),
    expect: /sw\/results\.jsonl:1: field result\.run: /,
  },
  {
    name: "resume: a row with an unknown field",
    args: [...SWEEP, "--out", "sw"],
    files: () => sweepWith({ row: [0, (r: any) => ({ ...r, extra: 1 })] }),
    expect: /sw\/results\.jsonl:1: field \(the row\): Unrecognized key: "extra"/,
  },

  // ---- merge ----
  {
    name: "merge a folder without sweep.json",
    args: ["merge", "d", "--out", "m"],
    setup: (d) => fs.mkdirSync(path.join(d, "d")),
    expect: /d: no sweep\.json; allowed: output directories of faultline sweep/,
  },
  {
    name: "merge a missing folder",
    args: ["merge", "nope", "--out", "m"],
    expect: /nope: no such directory; allowed: output directories of faultline sweep/,
  },
  {
    name: "merge the same shard twice",
    args: ["merge", "sw", "./sw", "--out", "m"],
    files: () => sweepWith({}),
    expect: /\.\/sw: given twice \(also as sw\); allowed: each shard directory once/,
  },
  {
    name: "merge into one of its inputs",
    args: ["merge", "sw", "--out", "sw"],
    files: () => sweepWith({}),
    expect: /--out sw: that is the sweep directory this command reads; allowed: another directory/,
  },
  {
    name: "merge a shard with jobs missing",
    args: ["merge", "sw", "--out", "m"],
    files: () => sweepWith({ rows: (l) => l.slice(0, 2) }),
    expect:
      /merge: 2\/4 jobs; 2 missing \(jobs 2, 3\): run the remaining shards and merge again, or give --allow-missing/,
  },
  {
    name: "merge a null line",
    args: ["merge", "sw", "--out", "m"],
    files: () => sweepWith({ row: [2, () => "null"] }),
    expect: /sw\/results\.jsonl:3: field \(the row\)/,
  },
  {
    name: "merge a junk line",
    args: ["merge", "sw", "--out", "m"],
    files: () => sweepWith({ row: [0, () => "{{"] }),
    expect: /sw\/results\.jsonl:1: found a line that is not JSON/,
  },
  {
    name: "merge a row counted twice",
    args: ["merge", "sw", "--out", "m"],
    files: () => sweepWith({ rows: (l) => [...l, l[0]!] }),
    expect: /sw\/results\.jsonl:5: field index: job 0 appears twice/,
  },
  {
    name: "merge a corrupt sweep.json",
    args: ["merge", "sw", "--out", "m"],
    files: () =>
      sweepWith({
        manifest: (m) => {
          m.seeds = "1..2";
        },
      }),
    expect: /sw\/sweep\.json: field seeds: /,
  },
  {
    name: "merge two different sweeps",
    args: ["merge", "sw", "sw2", "--out", "m"],
    files: () => {
      const a = sweepWith({});
      const b = sweepWith({
        manifest: (m) => {
          m.seeds = [1, 3];
        },
      });
      return { ...a, "sw2/sweep.json": b["sw/sweep.json"]!, "sw2/results.jsonl": "" };
    },
    expect: /sw2: a different sweep than sw \(seeds 1, 3 in sw2, 1, 2 in sw\); allowed: shards of one sweep/,
  },
  {
    name: "merge into a folder holding another sweep",
    args: ["merge", "sw", "--out", "m"],
    files: () => {
      const a = sweepWith({});
      const b = sweepWith({
        manifest: (m) => {
          m.seeds = [1, 3];
        },
      });
      return { ...a, "m/sweep.json": b["sw/sweep.json"]! };
    },
    expect:
      /--out m: holds another sweep \(softlockup-demo: seeds 1, 3 there, 1, 2 in the inputs\); allowed: an empty directory or an earlier merge of this sweep/,
  },
  {
    name: "merge --out under /proc",
    args: ["merge", "sw", "--out", "/proc/m"],
    files: () => sweepWith({}),
    expect: /cannot write merge output directory \/proc\/m/,
  },
];

for (const f of fs
  .readdirSync(BAD)
  .filter((x) => /\.(ya?ml|json)$/.test(x))
  .sort()) {
  const expected = fs
    .readFileSync(path.join(BAD, f.replace(/\.(ya?ml|json)$/, ".expected")), "utf8")
    .trimEnd();
  CASES.push({
    name: `scenario file test/fixtures/bad/${f}`,
    args: ["run", f],
    files: () => ({ [f]: fs.readFileSync(path.join(BAD, f), "utf8") }),
    expect: new RegExp(expected.split("\n")[0]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
  });
}

for (let i = CASES.length - 1; i >= 0; i--) if (AS_ROOT && CASES[i]!.needsNonRoot) CASES.splice(i, 1);

/** Creates a case's folder with its files and returns it. */
function prepare(c: Case, i: number): string {
  const dir = path.join(work, `case-${i}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(c.files?.() ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  c.setup?.(dir);
  return dir;
}

function expectRefused(c: Case, r: Outcome, before: string[], dir: string): void {
  const why = `${c.name}: faultline ${c.args.join(" ").slice(0, 200)}\nstderr: ${r.stderr.slice(0, 2000)}`;
  expect(r.code, why).toBe(2);
  expect(r.stderr, why).toMatch(c.expect);
  expect(r.stderr, why).toMatch(/^(faultline: |error: )/);
  noStackTrace(r);
  expect(r.stdout, why).toBe("");
  expect(snapshot(dir), `${why}\nfiles changed`).toEqual(before);
}

describe("the bad-input corpus: exit 2, the file/line/field or flag named, nothing written", () => {
  it(`has at least 150 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });
  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const dir = prepare(c, i);
      const before = snapshot(dir);
      const heap = process.memoryUsage().heapUsed;
      const r = await inProcess(c.args, dir, c.env);
      expectRefused(c, r, before, dir);
      // bounded memory: a refused input never costs more than a small fraction of what it claims
      expect(process.memoryUsage().heapUsed - heap).toBeLessThan(512 * 2 ** 20);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 30_000);
  });
});

describe("the same, as real processes (bin/faultline.js under a 256 MiB heap)", () => {
  const picks = [
    "unknown command",
    "FIFO as scenario",
    "scenario larger than 64 MiB (size checked before reading)",
    "YAML alias bomb",
    "--set list index in the billions",
    "--set seeds range of ten billion",
    "--seed of 100,000 digits",
    "--json onto the scenario",
    "--json and --trace to the same file",
    "replay: a billion CPUs",
    "replay: unknown kernel",
    "sweep --jobs 0 (no folder created)",
    "sweep of more than a million jobs (counted before any job is built)",
    "resume: a null line",
    "merge a shard with jobs missing",
    "sweep --shard auto: Kubernetes without --shards",
    "serve port too high",
  ];
  for (const name of picks) {
    it(name, () => {
      const i = CASES.findIndex((c) => c.name === name);
      expect(i).toBeGreaterThanOrEqual(0);
      const c = CASES[i]!;
      const dir = prepare(c, 10_000 + i);
      const before = snapshot(dir);
      const r = faultline(c.args, {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", ...(c.env ?? {}) },
        timeout: 60_000,
        nodeArgs: ["--max-old-space-size=256"],
      });
      expectRefused(c, r, before, dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 90_000);
  }
});
