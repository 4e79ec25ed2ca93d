// What a script or an unlucky moment does to the CLI: stdout closed early (the exit status must stay the
// one the command earned), SIGINT/SIGTERM during a long traced run (no temporary file left), a disk that
// fills up or fails during a run or a sweep (a clear message, exit 2, nothing corrupt, resumable), and the
// progress display (a terminal only, never with -q).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startProgress } from "../../src/cli/progress.js";
import { buildOnce, faultline, noStackTrace, ROOT, removeScratch, scratch } from "./helpers.js";

type Main = (argv: readonly string[]) => Promise<number>;
let main: Main;

// A full or failing disk: node:fs's writeSync (which every file the CLI writes goes through) replaced
// for this process and the ES module namespaces synced; undefined restores the real one.
const fsModule = createRequire(import.meta.url)("node:fs") as typeof fs;
const realWriteSync = fsModule.writeSync;
function setWriteFunction(fn: ((fd: number, data: string) => void) | undefined): void {
  fsModule.writeSync = (
    fn === undefined
      ? realWriteSync
      : (fd: number, data: string) => {
          fn(fd, data);
          return Buffer.byteLength(data);
        }
  ) as typeof fs.writeSync;
  syncBuiltinESMExports();
}

beforeAll(async () => {
  buildOnce();
  main = ((await import(path.join(ROOT, "dist/cli/main.js"))) as { main: Main }).main;
}, 600_000);
afterAll(removeScratch);

const BIN = path.join(ROOT, "bin/faultline.js");

async function inProcess(args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => err.push(String(s)) > 0) as typeof process.stderr.write;
  try {
    return { code: await main(args), stderr: err.join("") };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe("stdout closed early: the exit status stays the one earned", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell command, as a user types it
  it("`faultline check pervma-fork-race-mini --kind lost_update | head -1; echo ${PIPESTATUS[0]}` prints 1, 20 times out of 20", async () => {
    const once = () =>
      new Promise<string>((resolve) => {
        const p = spawn(
          "bash",
          [
            "-c",
            `node ${BIN} check pervma-fork-race-mini --kind lost_update | head -1; echo "\${PIPESTATUS[0]}"`,
          ],
          { cwd: ROOT },
        );
        let out = "";
        p.stdout.on("data", (d) => {
          out += d;
        });
        p.on("close", () => resolve(out));
      });
    const outs: string[] = [];
    for (let batch = 0; batch < 5; batch++)
      outs.push(...(await Promise.all([once(), once(), once(), once()])));
    expect(outs).toHaveLength(20);
    for (const o of outs) {
      const lines = o.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^faultline check: pervma-fork-race-mini on 6\.4\.0/);
      expect(lines[1]).toBe("1");
    }
  }, 600_000);

  it("`| grep -q VIOLATION` and `| true` keep 1 as well; a check that found nothing keeps 3 (incomplete)", () => {
    const sh = (cmd: string) => spawnSync("bash", ["-c", cmd], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    expect(
      sh(
        `node ${BIN} check pervma-fork-race-mini --kind lost_update | grep -q VIOLATION; echo "\${PIPESTATUS[0]}"`,
      ),
    ).toBe("1");
    expect(
      sh(`node ${BIN} check pervma-fork-race-mini --kind lost_update | true; echo "\${PIPESTATUS[0]}"`),
    ).toBe("1");
    expect(
      sh(
        `node ${BIN} check pervma-fork-race-mini --kernel 6.4.3 --budget 50 | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      ),
    ).toBe("3");
  }, 300_000);
});

describe("SIGINT and SIGTERM during a long traced run", () => {
  for (const [sig, status] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${sig}: exit ${status}, the temporary trace file removed, nothing else written`, async () => {
      const dir = scratch(`signal-${sig}`);
      const p = spawn(
        process.execPath,
        [BIN, "run", "iomap-s1", "--trace", "t.json", "--json", "r.json", "-q"],
        {
          cwd: dir,
        },
      );
      let stderr = "";
      p.stderr.on("data", (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
      // wait until the trace is being written into its temporary file
      for (let i = 0; i < 600; i++) {
        const tmp = fs.readdirSync(dir).find((f) => f.startsWith(".faultline-tmp-"));
        if (tmp && fs.statSync(path.join(dir, tmp)).size > 100_000) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(fs.readdirSync(dir).some((f) => f.startsWith(".faultline-tmp-"))).toBe(true);
      p.kill(sig);
      expect(await exited).toBe(status);
      noStackTrace({ code: status, stdout: "", stderr });
      expect(fs.readdirSync(dir)).toEqual([]);
    }, 120_000);
  }
});

describe("SIGINT during an untraced run keeps its default action", () => {
  it("the run stops at once (killed by SIGINT), and no file is left", async () => {
    const dir = scratch("signal-plain");
    const p = spawn(process.execPath, [BIN, "run", "iomap-s1", "--json", "r.json", "-q"], { cwd: dir });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      p.on("exit", (_code, signal) => resolve(signal)),
    );
    await new Promise((r) => setTimeout(r, 1500));
    p.kill("SIGINT");
    expect(await exited).toBe("SIGINT");
    expect(fs.readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe("a disk that fills up or fails", () => {
  afterEach(() => setWriteFunction(undefined));
  const enospc = (afterBytes: number) => {
    let written = 0;
    return (fd: number, data: string) => {
      written += Buffer.byteLength(data);
      if (written > afterBytes)
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      realWriteSync(fd, data);
    };
  };

  it("run --json on a full disk: exit 2, the file named, no output and no temporary file", async () => {
    const dir = scratch("full-run");
    setWriteFunction(enospc(100));
    const r = await inProcess([
      "run",
      "softlockup-demo",
      "--set",
      "stop.time=2s",
      "--json",
      path.join(dir, "r.json"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `faultline: cannot write JSON result ${path.join(dir, "r.json")}: no space left on device\n`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("run --report on a disk failing with EIO: exit 2, no half-written file", async () => {
    const dir = scratch("eio-report");
    setWriteFunction(() => {
      throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" });
    });
    const r = await inProcess([
      "run",
      "softlockup-demo",
      "--set",
      "stop.time=2s",
      "--report",
      path.join(dir, "rep"),
      "-q",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^faultline: cannot write (plot|result|report) .*: input\/output error\n$/);
    const left = fs.existsSync(path.join(dir, "rep")) ? fs.readdirSync(path.join(dir, "rep")) : [];
    expect(left.filter((f) => f.startsWith(".faultline-tmp-"))).toEqual([]);
  });

  it("a sweep whose disk fills up: exit 2, only complete rows kept, a rerun resumes to the clean sweep's files", async () => {
    const dir = scratch("full-sweep");
    const SWEEP = [
      "sweep",
      "softlockup-demo",
      "--param",
      "machine.preemption=none,full",
      "--seeds",
      "1..3",
      "--set",
      "stop.time=1s",
      "--jobs",
      "1",
      "-q",
    ];
    const clean = path.join(dir, "clean");
    expect((await inProcess([...SWEEP, "--out", clean])).code).toBe(0);
    const out = path.join(dir, "full");
    // room for the manifest, the first rewrite and about two rows
    const rowBytes = fs.readFileSync(path.join(clean, "results.jsonl"), "utf8").split("\n")[0]!.length;
    setWriteFunction(enospc(2000 + 2.5 * rowBytes));
    const r = await inProcess([...SWEEP, "--out", out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^faultline: cannot write (results|sweep manifest) .*: no space left on device\n$/,
    );
    expect(fs.readdirSync(out).filter((f) => f.startsWith(".faultline-tmp-"))).toEqual([]);
    const partial = fs.readFileSync(path.join(out, "results.jsonl"), "utf8");
    expect(partial.endsWith("\n") || partial === "").toBe(true);
    for (const line of partial.split("\n").filter((l) => l !== ""))
      expect(() => JSON.parse(line)).not.toThrow();
    setWriteFunction(undefined);
    expect((await inProcess([...SWEEP, "--out", out])).code).toBe(0);
    for (const f of ["results.jsonl", "results.csv", "sweep.json"])
      expect(fs.readFileSync(path.join(out, f), "utf8")).toBe(fs.readFileSync(path.join(clean, f), "utf8"));
  }, 300_000);
});

describe("a traced run (worker thread) gives the same result as an untraced one", () => {
  it("run --json with and without --trace: byte-identical", () => {
    const dir = scratch("traced");
    const a = faultline(["run", "pervma-fork-race", "--json", "a.json", "-q"], { cwd: dir });
    const b = faultline(["run", "pervma-fork-race", "--json", "b.json", "--trace", "t.json", "-q"], {
      cwd: dir,
    });
    expect(a.code).toBe(1);
    expect(b.code).toBe(1);
    expect(fs.readFileSync(path.join(dir, "b.json"), "utf8")).toBe(
      fs.readFileSync(path.join(dir, "a.json"), "utf8"),
    );
    expect(JSON.parse(fs.readFileSync(path.join(dir, "t.json"), "utf8")).traceEvents.length).toBeGreaterThan(
      100,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(["a.json", "b.json", "t.json"]);
  }, 300_000);
});

describe("progress", () => {
  const tty = () => {
    const s = new PassThrough() as PassThrough & Record<string, unknown>;
    let text = "";
    s.on("data", (d) => {
      text += d;
    });
    Object.assign(s, {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    return { stream: s as unknown as NodeJS.WritableStream & { isTTY: boolean }, text: () => text };
  };

  it("on a terminal: label, bar, percentage, amount, rate and ETA", () => {
    const t = tty();
    const p = startProgress({ label: "sweep", total: 8, unit: "jobs", stream: t.stream });
    p.update(2);
    p.increment();
    p.stop();
    expect(t.text()).toMatch(/sweep \[[^\]]+\] \d+% \| \d\/8 jobs \| [\d.-]+ jobs\/s \| ETA /);
  });

  it("simulated time: the amount in seconds, the rate in simulated s per s", () => {
    const t = tty();
    const p = startProgress({
      label: "iomap-s1 on 5.16",
      total: 140e9,
      unit: (ns) => `${ns / 1e9}s`,
      rateUnit: "simulated s/s",
      rateScale: 1e-9,
      stream: t.stream,
    });
    p.update(70e9);
    p.stop();
    expect(t.text()).toMatch(
      /iomap-s1 on 5\.16 \[[^\]]+\] 50% \| 70s\/140s \| [\d.,-]+ simulated s\/s \| ETA/,
    );
  });

  it("nothing when quiet or when the stream is not a terminal", () => {
    const t = tty();
    startProgress({ label: "x", total: 10, unit: "jobs", stream: t.stream, quiet: true }).update(5);
    const pipe = new PassThrough();
    let piped = "";
    pipe.on("data", (d) => {
      piped += d;
    });
    const p = startProgress({ label: "x", total: 10, unit: "jobs", stream: pipe });
    p.update(5);
    p.stop();
    expect(t.text()).toBe("");
    expect(piped).toBe("");
  });

  it("the CLI prints no progress when stderr is not a terminal", () => {
    const r = faultline(["run", "softlockup-demo", "--set", "stop.time=2s"]);
    expect(r.stderr).toBe("");
  });
});
