// Scenario errors: every problem names where it is (file:line:column, or the --set option it came from),
// the field, what was found and what is allowed. The CLI prints them and exits with status 2.

export interface ScenarioProblem {
  /** File name as the user gave it, or "--set" for a command-line override. */
  file: string;
  /** 1-based; 0 when unknown (e.g. the whole file is unreadable). */
  line: number;
  column: number;
  /** Dotted path of the field, e.g. "workloads[1].threads"; "" for the document itself. */
  field: string;
  /** What the file holds there, as the user wrote it ("nothing" when missing). */
  found: string;
  /** What would have been accepted. */
  allowed: string;
}

export function formatProblem(p: ScenarioProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const field = p.field === "" ? "" : ` ${p.field}:`;
  return `${where}:${field} found ${p.found}; allowed: ${p.allowed}`;
}

/** A scenario that cannot be used. `message` holds one line per problem, in file order. */
export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join("\n"));
  }

  static single(p: ScenarioProblem): ScenarioError {
    return new ScenarioError([p]);
  }
}

/** Formats a path like ["workloads", 1, "threads"] as "workloads[1].threads". */
export function formatField(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** Shows a found value compactly, as it appears in YAML. */
export function describeFound(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? "" : "s"}`;
  if (typeof v === "object") return "a mapping";
  return typeof v;
}
