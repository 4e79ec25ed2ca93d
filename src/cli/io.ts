// File output for the CLI: every file appears complete or not at all (written to a temporary file in
// the same directory, then renamed), and an unwritable path is a usage error (exit 2), never a crash.
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { TextSink } from "../report/sink.js";

/** Bad input from the user: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const openTemps = new Set<string>();

const SIGNAL_STATUS: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/** Runs `work` (which awaits something long: a worker thread, a pool) with SIGINT, SIGTERM and SIGHUP
 * handled: temporary files are removed and the process exits with 128 + the signal's number. Outside
 * such waits no handler is installed, so a signal during synchronous work keeps its default action
 * (which at that point leaves no temporary file behind: files are written whole, at the end). */
export async function interruptible<T>(work: () => Promise<T>): Promise<T> {
  const handlers = Object.entries(SIGNAL_STATUS).map(([sig, status]) => {
    const h = () => {
      removeTempFiles();
      process.exit(status);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await work();
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** Temporary files not yet renamed into place (removed on exit, on errors and on SIGINT/SIGTERM). */
export function pendingTempFiles(): string[] {
  return [...openTemps];
}

function tempName(target: string): string {
  return path.join(
    path.dirname(target),
    `.faultline-tmp-${process.pid}-${randomUUID()}-${path.basename(target)}`,
  );
}

/** Removes temporary files of sinks that were never closed (called on exit and on signals). */
export function removeTempFiles(): void {
  for (const t of openTemps) {
    try {
      fs.rmSync(t, { force: true });
    } catch {
      // nothing more can be done on the way out
    }
  }
  openTemps.clear();
}

/** Why a file operation failed, in words; `reading`: a missing path is the file itself, not its folder. */
function describeFsError(e: unknown, reading = false): string {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: reading ? "no such file" : "no such directory",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EISDIR: "it is a directory",
    ENOTDIR: "a parent is not a directory",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
    EDQUOT: "disk quota exceeded",
    EFBIG: "file too large",
    EIO: "input/output error",
    ENAMETOOLONG: "the name is too long",
    ELOOP: "too many levels of symbolic links",
  };
  return (err?.code && why[err.code]) || err?.message || String(e);
}

/** Creates and removes a hidden file in `dir`: the one test of writability that root and read-only or
 * pseudo file systems (/proc) answer truthfully. */
function probeWritable(dir: string): void {
  const probe = path.join(dir, `.faultline-tmp-${process.pid}-probe-${randomUUID()}`);
  const fd = fs.openSync(probe, "wx");
  fs.closeSync(fd);
  fs.rmSync(probe, { force: true });
}

/** An output path that names a device, FIFO or socket: renaming a finished file there would replace the
 * node itself (/dev/null as root), so it is refused. */
function refuseSpecialFile(target: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    return; // does not exist (yet): created on close
  }
  if (!st.isFile() && !st.isDirectory())
    throw new UsageError(
      `cannot write ${what} ${target}: not a regular file (a device, FIFO or socket); allowed: a regular file or a new path`,
    );
}

/** Checks early (before a long run) that a file can be created at `target`. */
export function checkWritableFile(target: string, what: string): void {
  const dir = path.dirname(path.resolve(target));
  refuseSpecialFile(target, what);
  try {
    if (fs.existsSync(target) && fs.statSync(target).isDirectory())
      throw Object.assign(new Error(), { code: "EISDIR" });
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    probeWritable(dir);
  } catch (e) {
    throw new UsageError(`cannot write ${what} ${target}: ${describeFsError(e)}`);
  }
}

/** Checks early (before a long run) that `dir` is, or can be created as, a writable directory. */
export function checkWritableDir(dir: string, what: string): void {
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  try {
    if (!fs.statSync(probe).isDirectory()) {
      if (probe === path.resolve(dir))
        throw new UsageError(
          `cannot write ${what} ${dir}: it is a file, not a directory; allowed: a directory or a new path`,
        );
      throw Object.assign(new Error(), { code: "ENOTDIR" });
    }
    probeWritable(probe);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write ${what} ${dir}: ${describeFsError(e)}`);
  }
}

/** Creates `dir` (and parents) or throws a UsageError naming why not. */
export function ensureDir(dir: string, what: string): void {
  try {
    mkdirs(path.resolve(dir));
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new UsageError(`cannot write ${what} ${dir}: ${describeFsError(e)}`);
  }
}

/** mkdir -p, one level at a time (Node's recursive mkdirSync spins forever under /proc). */
function mkdirs(dir: string): void {
  if (fs.existsSync(dir)) return;
  const parent = path.dirname(dir);
  if (parent !== dir) mkdirs(parent);
  fs.mkdirSync(dir);
}

/** Writes a whole file atomically. */
export function writeFileAtomic(target: string, text: string, what = "file"): void {
  const sink = new FileSink(target, what);
  sink.write(text);
  sink.close();
}

/** A TextSink onto a file: buffered writes into a temporary file, renamed into place on close. */
export class FileSink implements TextSink {
  private readonly tmp: string;
  /** The temporary file's descriptor (a worker thread may write to it). */
  readonly fd: number;
  private done = false;

  constructor(
    private readonly target: string,
    private readonly what = "file",
  ) {
    refuseSpecialFile(target, what);
    this.tmp = tempName(target);
    try {
      this.fd = fs.openSync(this.tmp, "w");
    } catch (e) {
      throw new UsageError(`cannot write ${what} ${target}: ${describeFsError(e)}`);
    }
    openTemps.add(this.tmp);
  }

  write(chunk: string): void {
    try {
      fs.writeSync(this.fd, chunk);
    } catch (e) {
      this.abort();
      throw new UsageError(`cannot write ${this.what} ${this.target}: ${describeFsError(e)}`);
    }
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    try {
      fs.closeSync(this.fd);
      fs.renameSync(this.tmp, this.target);
      openTemps.delete(this.tmp);
    } catch (e) {
      this.cleanup();
      throw new UsageError(`cannot write ${this.what} ${this.target}: ${describeFsError(e)}`);
    }
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.cleanup();
  }

  private cleanup(): void {
    fs.rmSync(this.tmp, { force: true });
    openTemps.delete(this.tmp);
  }
}

/** The largest input file the CLI reads (scenarios, counterexamples, sweep results): 64 MiB. */
export const MAX_INPUT_BYTES = 64 * 2 ** 20;

/** Reads a regular text file of at most `maxBytes`, or throws a UsageError naming why it cannot be read.
 * The size is checked before anything is allocated for the contents. */
export function readTextFile(file: string, what = "file", maxBytes = MAX_INPUT_BYTES): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(), { code: "EISDIR" });
    if (!st.isFile()) throw new UsageError(`cannot read ${what} ${file}: not a regular file`);
    if (st.size > maxBytes)
      throw new UsageError(
        `cannot read ${what} ${file}: ${st.size.toLocaleString("en-US")} bytes; allowed: at most ${maxBytes.toLocaleString("en-US")} bytes`,
      );
    return fs.readFileSync(fd, "utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} ${file}: ${describeFsError(e, true)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Appends to a file; on failure the file is cut back to its old length (no partial line) and a
 * UsageError names the file and why. */
export function appendText(file: string, text: string, what = "file"): void {
  let fd: number | undefined;
  let size = 0;
  try {
    fd = fs.openSync(file, "a");
    size = fs.fstatSync(fd).size;
    fs.writeSync(fd, text);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.ftruncateSync(fd, size);
      } catch {
        // the old length could not be restored; a resumed sweep drops a line cut short
      }
    }
    throw new UsageError(`cannot write ${what} ${file}: ${describeFsError(e)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Parses a JSON file's text; a syntax error is a UsageError naming the file, the line and column when
 * JSON.parse gives a character position, and what is allowed. */
export function parseJsonFile(file: string, text: string, allowed: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = firstLineOf((e as Error).message);
    const m = /at position (\d+)/.exec(msg);
    let where = file;
    if (m) {
      const pos = Math.min(Number(m[1]), text.length);
      let line = 1;
      let lineStart = 0;
      for (let i = text.indexOf("\n"); i >= 0 && i < pos; i = text.indexOf("\n", i + 1)) {
        line++;
        lineStart = i + 1;
      }
      where = `${file}:${line}:${pos - lineStart + 1}`;
    } else if (/^Unexpected end of JSON input/.test(msg)) {
      const lines = text.split("\n");
      where = `${file}:${lines.length}:${lines[lines.length - 1]!.length + 1}`;
    }
    const why = msg
      .replace(/ in JSON at position \d+.*$/, "")
      .replace(/ at position \d+.*$/, "")
      .replace(/^Unexpected end of JSON input$/, "the text ends early");
    throw new UsageError(`${where}: not valid JSON (${shown(why, 80)}); allowed: ${allowed}`);
  }
}

function firstLineOf(s: string): string {
  return s.split("\n")[0]!;
}

/** Shows a user's value in a message, cut to a readable length. */
export function shown(v: string, max = 60): string {
  return v.length > max ? `${v.slice(0, max - 3)}...` : v;
}

/** Identity of a path for "is this the same file" checks: resolved, symlinks followed, with inode. */
function identity(p: string): { path: string; ino?: string } {
  const abs = path.resolve(p);
  try {
    const real = fs.realpathSync(abs);
    const st = fs.statSync(real);
    return { path: real, ino: `${st.dev}:${st.ino}` };
  } catch {
    // does not exist yet: its parent may be a symlink
    try {
      return { path: path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs)) };
    } catch {
      return { path: abs };
    }
  }
}

export function samePath(a: string, b: string): boolean {
  const x = identity(a);
  const y = identity(b);
  return x.path === y.path || (x.ino !== undefined && x.ino === y.ino);
}

/** What a command reads and writes, checked before anything runs: no output may be an input or another
 * output, and no output directory may hold an input under a name the command writes there. */
export interface PathPlan {
  inputs: { path: string; what: string }[];
  files: { path: string; what: string; flag: string }[];
  dirs: { path: string; what: string; flag: string; writes: (name: string) => boolean }[];
}

export function checkPathPlan(plan: PathPlan): void {
  const { inputs, files, dirs } = plan;
  for (const [i, f] of files.entries()) {
    for (const inp of inputs)
      if (samePath(f.path, inp.path))
        throw new UsageError(
          `${f.flag} ${f.path}: that is the ${inp.what} this command reads; allowed: a path that is not an input`,
        );
    for (const g of files.slice(0, i))
      if (samePath(f.path, g.path))
        throw new UsageError(
          `${f.flag} ${f.path}: ${g.flag} writes the same file; allowed: a different path for each output`,
        );
    for (const d of dirs)
      if (samePath(path.dirname(path.resolve(f.path)), d.path) && d.writes(path.basename(f.path)))
        throw new UsageError(
          `${f.flag} ${f.path}: ${d.flag} ${d.path} writes a file of that name; allowed: a path outside ${d.path} or another name`,
        );
  }
  for (const d of dirs) {
    for (const inp of inputs) {
      if (samePath(d.path, inp.path))
        throw new UsageError(
          `${d.flag} ${d.path}: that is the ${inp.what} this command reads; allowed: another directory`,
        );
      if (samePath(path.dirname(path.resolve(inp.path)), d.path) && d.writes(path.basename(inp.path)))
        throw new UsageError(
          `${d.flag} ${d.path}: it would overwrite the ${inp.what} ${inp.path}; allowed: another directory`,
        );
    }
  }
  for (const [i, d] of dirs.entries())
    for (const e of dirs.slice(0, i))
      if (samePath(d.path, e.path))
        throw new UsageError(`${d.flag} ${d.path}: ${e.flag} writes there too; allowed: another directory`);
}
