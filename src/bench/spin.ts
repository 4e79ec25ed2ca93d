// The SPIN anchor of the exhaustive search: the SPIN model of the 6.4 per-VMA-lock/fork protocol
// (shared/bench/spin/pervma_fork.pml, found in the working directory or one of its parents, or at
// $FAULTLINE_SPIN_MODEL) compiled with the flags of its reference run (shared/bench/spin/run.sh:
// `spin -a -DFIX -DNV=3 -DNF=4 -DITER=2`, `gcc -O2 -DSAFETY -DMEMLIM=8192`, `./pan -m1000000 -w26`)
// and checked in a child process, so that faultline's figures stand beside SPIN's measured at the
// same moment on the same machine. Needs Debian's `spin` and gcc; absent, the bench says so.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export interface SpinAnchor {
  /** "errors: N" of pan's report. */
  errors: number;
  /** "states, stored" and "states, matched". */
  statesStored: number;
  statesMatched: number;
  /** "total actual memory usage" (MB as pan prints it, 2^20 bytes). */
  memoryMiB: number;
  /** Wall time of pan's search (compilation excluded, as run.sh measures it). */
  wallS: number;
  version: string;
}

function findModel(): string | null {
  const env = process.env.FAULTLINE_SPIN_MODEL;
  if (env !== undefined && existsSync(env)) return env;
  for (let d = resolve(process.cwd()); ; d = dirname(d)) {
    const p = join(d, "shared", "bench", "spin", "pervma_fork.pml");
    if (existsSync(p)) return p;
    if (dirname(d) === d) return null;
  }
}

function num(out: string, re: RegExp): number {
  const m = re.exec(out);
  return m === null ? Number.NaN : Number(m[1]);
}

/**
 * SPIN's exhaustive check of the model with `faulters` faulting threads (3 VMAs, 2 faults each,
 * the fix on), or null when the model, spin or gcc is not there.
 */
export function runSpinAnchor(faulters: number): SpinAnchor | null {
  const model = findModel();
  if (model === null) return null;
  const dir = mkdtempSync(join(tmpdir(), "faultline-spin-"));
  try {
    copyFileSync(model, join(dir, "pervma_fork.pml"));
    const run = (cmd: string, args: string[]) =>
      execFileSync(cmd, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    let version: string;
    try {
      version = /Version ([\d.]+)/.exec(run("spin", ["-V"]))?.[1] ?? "unknown";
      run("spin", ["-a", "-DFIX", "-DNV=3", `-DNF=${faulters}`, "-DITER=2", "pervma_fork.pml"]);
      run("gcc", ["-O2", "-DSAFETY", "-DMEMLIM=8192", "-o", "pan", "pan.c"]);
    } catch {
      return null;
    }
    const t0 = performance.now();
    let out: string;
    try {
      out = run(join(dir, "pan"), ["-m1000000", "-w26"]);
    } catch (e) {
      // pan exits non-zero when it finds an error: its report is still on stdout
      out = String((e as { stdout?: string }).stdout ?? "");
    }
    const wallS = (performance.now() - t0) / 1000;
    if (!/states, stored/.test(out)) {
      throw new Error(`SPIN anchor: pan printed no state count: ${out.slice(0, 400)}`);
    }
    return {
      errors: num(out, /errors:\s*(\d+)/),
      statesStored: num(out, /([\d.e+]+) states, stored/),
      statesMatched: num(out, /([\d.e+]+) states, matched/),
      memoryMiB: num(out, /([\d.]+)\s+total actual memory usage/),
      wallS,
      version,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
