// File output for the CLI: every file appears complete or not at all (written to a temporary file in
// the same directory, then renamed), and an unwritable path is a usage error (exit 2), never a crash.
import * as fs from "node:fs";
import * as path from "node:path";
import type { TextSink } from "../report/sink.js";

/** Bad input from the user: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

let tmpCounter = 0;
const openTemps = new Set<string>();

function tempName(target: string): string {
  return path.join(
    path.dirname(target),
    `.faultline-tmp-${process.pid}-${tmpCounter++}-${path.basename(target)}`,
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

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: "no such directory",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EISDIR: "it is a directory",
    ENOTDIR: "a parent is not a directory",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
  };
  return (err?.code && why[err.code]) || err?.message || String(e);
}

/** Checks early (before a long run) that a file can be created at `target`. */
export function checkWritableFile(target: string, what: string): void {
  const dir = path.dirname(path.resolve(target));
  try {
    if (fs.existsSync(target) && fs.statSync(target).isDirectory())
      throw Object.assign(new Error(), { code: "EISDIR" });
    fs.accessSync(dir, fs.constants.W_OK);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
  } catch (e) {
    throw new UsageError(`cannot write ${what} ${target}: ${describeFsError(e)}`);
  }
}

/** Checks early (before a long run) that `dir` is, or can be created as, a writable directory. */
export function checkWritableDir(dir: string, what: string): void {
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  try {
    if (!fs.statSync(probe).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
    fs.accessSync(probe, fs.constants.W_OK);
  } catch (e) {
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
  private fd: number;
  private done = false;

  constructor(
    private readonly target: string,
    private readonly what = "file",
  ) {
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

/** Reads a text file, or throws a UsageError naming why it cannot be read. */
export function readTextFile(file: string, what = "file"): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${describeFsError(e)}`);
  }
}
