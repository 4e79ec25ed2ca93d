// Shared by the CLI tests: build dist/ unless it is current (a lock directory keeps parallel test files
// from building at the same time), run `node bin/faultline.js ...`, and make scratch directories.
import { execFileSync, type SpawnSyncReturns, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
const LOCK = path.join(ROOT, "test-artifacts", "build.lock");
const STAMP = path.join(ROOT, "test-artifacts", "build.stamp");

function newestSource(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function oldestFile(dir: string): number {
  let t = Number.POSITIVE_INFINITY;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.min(t, e.isDirectory() ? oldestFile(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Runs tsc -> dist/ unless dist/ is newer than src/ (once per test run, across files): every file of
 * dist/ newer than every file of src/ (as `npm ci` or `npm run build` leave it: CI builds before it
 * tests), or the stamp of an earlier build by this function newer than src/.
 */
export function buildOnce(): void {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      if (i > 1200) throw new Error("build lock held for 10 minutes");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    const src = newestSource(path.join(ROOT, "src"));
    const dist = path.join(ROOT, "dist");
    const fresh =
      (fs.existsSync(STAMP) && fs.statSync(STAMP).mtimeMs > src) ||
      (fs.existsSync(dist) && oldestFile(dist) > src);
    if (!fresh) {
      try {
        execFileSync(
          process.execPath,
          [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
          {
            cwd: ROOT,
            stdio: "pipe",
          },
        );
      } catch {
        // type errors elsewhere still emit JavaScript; the CLI tests below tell whether it works
      }
      fs.writeFileSync(STAMP, "");
    }
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function faultline(
  args: string[],
  opts: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Run {
  const r: SpawnSyncReturns<string> = spawnSync(
    process.execPath,
    [...(opts.nodeArgs ?? []), path.join(ROOT, "bin/faultline.js"), ...args],
    {
      cwd: opts.cwd ?? ROOT,
      encoding: "utf8",
      timeout: opts.timeout ?? 240_000,
      ...(opts.env ? { env: opts.env } : {}),
    },
  );
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const scratchDirs: string[] = [];

/** A temporary directory, removed when the test file ends (see removeScratch). */
export function scratch(name: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `faultline-${name}-`));
  scratchDirs.push(d);
  return d;
}

/** Removes every scratch directory of this test file (vitest's afterAll, registered by the file). */
export function removeScratch(): void {
  for (const d of scratchDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** No stack trace: bad input is reported in one or a few plain lines. */
export function noStackTrace(r: Run): void {
  if (/\n\s+at .+\(.+:\d+:\d+\)/.test(r.stderr) || r.stderr.includes("internal error"))
    throw new Error(`stack trace on stderr:\n${r.stderr}`);
}
