// Loading a scenario: YAML or JSON text -> typed Scenario, or a ScenarioError whose every problem has
// file:line:column, the field, what was found and what is allowed. Never throws anything else for any
// input text (a property test checks this).
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, parse as parseYaml } from "yaml";
import { toJSONSchema, type z } from "zod";
import { type Catalog, findVariant, MODEL_NAMES, variantNames, WORKLOAD_MODEL } from "./catalog.js";
import { describeFound, formatField, formatProblem, ScenarioError, type ScenarioProblem } from "./errors.js";
import { DURATION_MAX, Scenario, SIZE_MAX } from "./schema.js";

export interface SetOption {
  /** Dotted path, e.g. "machine.cpus" or "workloads[0].threads". */
  path: string;
  /** Value as typed on the command line; parsed as YAML ("4" is a number, "true" a boolean). */
  value: string;
  /** How errors name this override (default "--set PATH=VALUE"). */
  label?: string;
}

export interface LoadOptions {
  /** Name shown in errors. */
  file: string;
  /** Overrides applied before validation (--set, sweep parameters). */
  sets?: readonly SetOption[];
  /** When given, variant, switch, lock-site and cost names are checked against it. */
  catalog?: Catalog;
}

type Path = (string | number)[];
const MAX_ALIASES = 100;

/** Parses and validates scenario text. Throws ScenarioError, and nothing else, on bad input. */
export function loadScenario(text: string, opts: LoadOptions): Scenario {
  const lineCounter = new LineCounter();
  // duplicate keys are found below, with the field they repeat (the parser's error names neither)
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => {
        const pos = at(e.pos[0]);
        return {
          file: opts.file,
          line: pos.line,
          column: pos.col,
          field: "",
          found: `malformed YAML (${firstLine(e.message)})`,
          allowed: "a YAML or JSON mapping",
        };
      }),
    );
  }
  const duplicates = duplicateKeys(doc.contents);
  if (duplicates.length > 0) {
    throw new ScenarioError(
      duplicates.map((d) => {
        const pos = at(d.offset);
        return {
          file: opts.file,
          line: pos.line,
          column: pos.col,
          field: formatField(d.path),
          found: `the key ${JSON.stringify(String(d.path[d.path.length - 1]))} a second time in one mapping`,
          allowed: "each key once per mapping",
        };
      }),
    );
  }
  const setPaths = applySets(doc, opts.sets ?? []);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    throw ScenarioError.single({
      file: opts.file,
      line: 1,
      column: 1,
      field: "",
      found: `YAML that cannot be expanded (${firstLine(String((e as Error)?.message ?? e))})`,
      allowed: `a YAML or JSON mapping with at most ${MAX_ALIASES} alias uses`,
    });
  }
  const locate = (path: Path, key: boolean): ScenarioProblem =>
    locateIn(doc.contents, path, key, opts.file, setPaths, at);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw ScenarioError.single({
      ...locate([], false),
      found: data === null || data === undefined ? "an empty document" : describeFound(data),
      allowed: "a mapping with at least name, kernel and workloads",
    });
  }
  const parsed = Scenario.safeParse(data);
  if (!parsed.success) {
    throw new ScenarioError(sortProblems(parsed.error.issues.map((i) => issueProblem(i, data, locate))));
  }
  if (opts.catalog) {
    const problems = checkNames(parsed.data, opts.catalog, data, locate);
    if (problems.length > 0) throw new ScenarioError(sortProblems(problems));
  }
  return parsed.data;
}

/** Keys that appear twice in one mapping: the path of the second one and where it is. Walks the tree
 * with an explicit stack, each entry pointing at its parent (a deeply nested document must neither
 * overflow the call stack nor copy a path per node). */
function duplicateKeys(root: unknown): { path: Path; offset: number }[] {
  const found: { path: Path; offset: number }[] = [];
  interface Entry {
    node: unknown;
    parent: Entry | null;
    seg: string | number;
  }
  const pathOf = (e: Entry | null): Path => {
    const out: Path = [];
    for (let x = e; x !== null && x.parent !== null; x = x.parent) out.push(x.seg);
    return out.reverse();
  };
  const stack: Entry[] = [{ node: root, parent: null, seg: "" }];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (isMap(e.node)) {
      const seen = new Set<unknown>();
      for (const pair of e.node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const seg = typeof key === "number" ? String(key) : (key as string);
        if (seen.has(key))
          found.push({ path: [...pathOf(e), seg], offset: (pair.key as Node | null)?.range?.[0] ?? 0 });
        seen.add(key);
        stack.push({ node: pair.value, parent: e, seg });
      }
    } else if (isSeq(e.node)) {
      for (let i = 0; i < e.node.items.length; i++) stack.push({ node: e.node.items[i], parent: e, seg: i });
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** Parses "machine.cpus", "workloads[0].threads" or "workloads.0.threads" into path segments. */
export function parseSetPath(path: string): Path | undefined {
  if (path.length > MAX_SET_PATH || !/^[A-Za-z_$][\w$-]*(\.[\w$-]+|\[\d+\])*$/.test(path)) return undefined;
  const out: Path = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    const seg = m[2] ?? m[1]!;
    if (/^\d+$/.test(seg)) {
      // a list index: bounded before anything is allocated for it (lists hold at most MAX_SET_INDEX items)
      if (seg.length > 7 || Number(seg) >= MAX_SET_INDEX) return undefined;
      out.push(Number(seg));
    } else if (FORBIDDEN_KEYS.has(seg)) return undefined;
    else out.push(seg);
  }
  return out;
}

/** Longest --set path and highest list index a --set may name. */
const MAX_SET_PATH = 200;
const MAX_SET_INDEX = 1000;
/** Names that are properties of every JavaScript object, never scenario fields. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Splits "PATH=VALUE" as given to --set or --param. */
export function parseSetOption(arg: string): SetOption | undefined {
  const eq = arg.indexOf("=");
  if (eq <= 0) return undefined;
  return { path: arg.slice(0, eq).trim(), value: arg.slice(eq + 1) };
}

interface SetRecord {
  path: Path;
  label: string;
}

function applySets(doc: ReturnType<typeof parseDocument>, sets: readonly SetOption[]): SetRecord[] {
  const records: SetRecord[] = [];
  for (const s of sets) {
    const label = s.label ?? `--set ${s.path}=${s.value}`;
    const path = parseSetPath(s.path);
    const problem = (found: string, allowed: string) =>
      ScenarioError.single({ file: label, line: 0, column: 0, field: s.path, found, allowed });
    if (!path)
      throw problem(
        `the path ${JSON.stringify(s.path.length > 60 ? `${s.path.slice(0, 57)}...` : s.path)}`,
        `a field path such as machine.cpus or workloads[0].threads (at most ${MAX_SET_PATH} characters, list indexes below ${MAX_SET_INDEX})`,
      );
    let value: unknown;
    try {
      value = expectsString(path, doc)
        ? s.value
        : s.value.trim() === ""
          ? ""
          : parseYaml(s.value, { maxAliasCount: 0 });
    } catch (e) {
      throw problem(
        `malformed value (${firstLine(String((e as Error)?.message ?? e))})`,
        "a YAML scalar, list or mapping",
      );
    }
    // a list index may name an item or the next one (which adds it), never leave a gap of nulls
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      if (typeof seg !== "number") continue;
      const list = i === 0 ? doc.contents : doc.getIn(path.slice(0, i), true);
      const length = isSeq(list) ? list.items.length : 0;
      if (seg > length)
        throw ScenarioError.single({
          file: label,
          line: 0,
          column: 0,
          field: formatField(path.slice(0, i + 1)),
          found: `index ${seg} of a list of ${length} item${length === 1 ? "" : "s"}`,
          allowed: `an index from 0 to ${length} (${length} adds an item)`,
        });
    }
    // what the override creates (the first missing field or item on its path) is its own: a problem
    // there or below (an unknown field it adds, a list item it adds without a type) names the override
    let created = path;
    for (let i = 1; i < path.length; i++)
      if (!doc.hasIn(path.slice(0, i))) {
        created = path.slice(0, i);
        break;
      }
    try {
      if (doc.contents === null) doc.contents = doc.createNode({}) as never;
      doc.setIn(path, doc.createNode(value));
    } catch {
      throw problem(
        "a path through a value that is not a mapping or list",
        "a path through mappings and lists",
      );
    }
    records.push({ path: created, label });
  }
  return records;
}

/** Does the schema want a string at `path` (so "5.10" stays the string "5.10")? */
function expectsString(path: Path, doc: ReturnType<typeof parseDocument>): boolean {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch {
    return false;
  }
  const schema = schemaAt(Scenario, path, data);
  return schema !== undefined && def(unwrap(schema)).type === "string";
}

function locateIn(
  root: unknown,
  path: Path,
  key: boolean,
  file: string,
  sets: SetRecord[],
  at: (offset: number) => { line: number; col: number },
): ScenarioProblem {
  const field = formatField(path);
  for (let i = sets.length - 1; i >= 0; i--) {
    const s = sets[i]!;
    if (s.path.length <= path.length && s.path.every((seg, j) => seg === path[j]))
      return { file: s.label, line: 0, column: 0, field, found: "", allowed: "" };
  }
  let node = root as Node | null;
  let offset = node && (node as Node).range ? (node as Node).range![0] : 0;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      const target = last && key ? pair.key : (pair.value ?? pair.key);
      node = target as Node | null;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg] as Node | null;
    } else break;
    if (node?.range) offset = node.range[0];
  }
  const pos = at(offset);
  return { file, line: pos.line, column: pos.col, field, found: "", allowed: "" };
}

function issueProblem(
  issue: z.core.$ZodIssue,
  data: unknown,
  locate: (path: Path, key: boolean) => ScenarioProblem,
): ScenarioProblem {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const keyPath = [...path, issue.keys[0]!];
    const allowed = objectKeys(schemaAt(Scenario, path, data));
    return {
      ...locate(keyPath, true),
      found: `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`,
      allowed: allowed.length > 0 ? `the fields ${allowed.join(", ")}` : "no other fields",
    };
  }
  const found = valueAt(data, path);
  return {
    ...locate(path, false),
    found: found === undefined ? "nothing (the field is required)" : describeFound(found),
    allowed: allowedFor(issue, path, data),
  };
}

function allowedFor(issue: z.core.$ZodIssue, path: Path, data: unknown): string {
  const schema = schemaAt(Scenario, path, data);
  const [outer, inner] = schema ? descriptions(schema) : [undefined, undefined];
  const formatHelp = inner?.startsWith("a ") ? inner : undefined;
  switch (issue.code) {
    case "invalid_type":
      if (
        issue.expected === "number" &&
        schema &&
        jsonSchemaOf(pickOption(unwrap(schema), undefined)).type === "integer"
      )
        return fieldMeaning(outer, "int");
      if (
        issue.expected === "string" &&
        (typeof valueAt(data, path) === "number" || typeof valueAt(data, path) === "boolean")
      )
        return `a string (quote it: "${String(valueAt(data, path))}"; note YAML reads 5.10 as the number 5.1)`;
      return formatHelp ?? fieldMeaning(outer, issue.expected);
    case "too_small":
    case "too_big":
      // a duration or size written as a number: its bound in the field's own words
      if (formatHelp?.startsWith("a duration")) return issue.code === "too_big" ? DURATION_MAX : formatHelp;
      if (formatHelp?.startsWith("a size")) return issue.code === "too_big" ? SIZE_MAX : formatHelp;
      return boundsOf(schema, issue);
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union": {
      const opts = (issue as { options?: unknown[] }).options;
      if (opts) return `one of ${opts.map((v) => JSON.stringify(v)).join(", ")}`;
      return formatHelp ?? outer ?? "another kind of value";
    }
    case "invalid_format":
      return formatHelp ?? `a string matching ${(issue as { pattern?: string }).pattern ?? "the format"}`;
    case "not_multiple_of":
      return `a multiple of ${issue.divisor}`;
    default:
      return issue.message;
  }
}

const TYPE_WORDS: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  literal: "a fixed value",
};

function fieldMeaning(description: string | undefined, expected: string): string {
  const type = TYPE_WORDS[expected] ?? expected;
  if (!description) return type;
  return description.startsWith("a ") || description.startsWith("an ")
    ? description
    : `${type} (${description})`;
}

function boundsOf(schema: z.ZodType | undefined, issue: z.core.$ZodIssue): string {
  const i = issue as { origin?: string; minimum?: number | bigint; maximum?: number | bigint };
  const js = schema ? jsonSchemaOf(pickOption(unwrap(schema), undefined)) : {};
  const min =
    js.minimum ?? js.minItems ?? js.minLength ?? (issue.code === "too_small" ? Number(i.minimum) : undefined);
  const max =
    js.maximum ?? js.maxItems ?? js.maxLength ?? (issue.code === "too_big" ? Number(i.maximum) : undefined);
  const n = Number(max ?? min);
  const unit =
    i.origin === "array"
      ? n === 1
        ? " item"
        : " items"
      : i.origin === "string"
        ? n === 1
          ? " character"
          : " characters"
        : "";
  const what =
    js.type === "integer" || i.origin === "int"
      ? "an integer "
      : i.origin === "number"
        ? "a number "
        : i.origin === "string"
          ? "a string "
          : "";
  if (min !== undefined && max !== undefined) return `${what}from ${min} to ${max}${unit}`;
  const of = what === "" ? "" : "of ";
  if (min !== undefined) return `${what}${of}at least ${min}${unit}`;
  return `${what}${of}at most ${max}${unit}`;
}

type JsBounds = {
  type?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
};

function jsonSchemaOf(s: z.ZodType): JsBounds {
  try {
    const js = toJSONSchema(s, { io: "input", unrepresentable: "any" }) as JsBounds;
    if (js.maximum !== undefined && js.maximum >= Number.MAX_SAFE_INTEGER) delete js.maximum;
    if (js.minimum !== undefined && js.minimum <= Number.MIN_SAFE_INTEGER) delete js.minimum;
    return js;
  } catch {
    return {};
  }
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

type AnyDef = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  valueType?: z.ZodType;
};

function def(s: z.ZodType): AnyDef {
  return (s as unknown as { _zod: { def: AnyDef } })._zod.def;
}

/** Strips optional/default/pipe wrappers. */
function unwrap(s: z.ZodType): z.ZodType {
  for (let i = 0; i < 16; i++) {
    const d = def(s);
    if (
      (d.type === "optional" || d.type === "default" || d.type === "prefault" || d.type === "nullable") &&
      d.innerType
    )
      s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else break;
  }
  return s;
}

/** The outermost description (what the field means) and the innermost one (its format, e.g. a duration). */
function descriptions(s: z.ZodType): [string | undefined, string | undefined] {
  let outer: string | undefined;
  let inner: string | undefined;
  for (let i = 0; i < 16; i++) {
    if (s.description) {
      outer ??= s.description;
      inner = s.description;
    }
    const d = def(s);
    const next = d.innerType ?? (d.type === "pipe" ? d.in : undefined);
    if (!next) break;
    s = next;
  }
  return [outer, inner];
}

/** The schema that validates the value at `path` (choosing union options by the data's discriminator). */
function schemaAt(root: z.ZodType, path: Path, data: unknown): z.ZodType | undefined {
  let s: z.ZodType | undefined = root;
  let v: unknown = data;
  for (const seg of path) {
    if (!s) return undefined;
    s = pickOption(unwrap(s), v);
    const d = def(s);
    if (d.type === "object" && typeof seg === "string") s = d.shape?.[seg];
    else if (d.type === "array" && typeof seg === "number") s = d.element;
    else if (d.type === "record") s = d.valueType;
    else return undefined;
    v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[seg] : undefined;
  }
  return s;
}

function pickOption(s: z.ZodType, v: unknown): z.ZodType {
  const d = def(s);
  if (d.type !== "union" || !d.discriminator || v === null || typeof v !== "object") return s;
  const tag = (v as Record<string, unknown>)[d.discriminator];
  return d.options?.find((o) => objectLiteral(o, d.discriminator!) === tag) ?? s;
}

function objectLiteral(s: z.ZodType, key: string): unknown {
  const field = def(unwrap(s)).shape?.[key];
  return field ? (def(field) as { values?: unknown[] }).values?.[0] : undefined;
}

function objectKeys(s: z.ZodType | undefined): string[] {
  if (!s) return [];
  return Object.keys(def(unwrap(s)).shape ?? {});
}

function checkNames(
  s: Scenario,
  catalog: Catalog,
  data: unknown,
  locate: (path: Path, key: boolean) => ScenarioProblem,
): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const bad = (path: Path, allowed: string, key = false) =>
    problems.push({ ...locate(path, key), found: describeFound(valueAt(data, path)), allowed });
  const list = (names: readonly string[]) =>
    names.length === 0 ? "none (this variant has none)" : names.join(", ");
  const variant = findVariant(catalog, s.kernel.variant);
  if (!variant) bad(["kernel", "variant"], `a known variant: ${list(variantNames(catalog))}`);
  (s.compare ?? []).forEach((name, i) => {
    if (!findVariant(catalog, name)) bad(["compare", i], `a known variant: ${list(variantNames(catalog))}`);
  });
  const profile = catalog.costProfiles.find((p) => p.name === s.machine.costProfile);
  if (!profile)
    bad(["machine", "costProfile"], `a cost profile: ${list(catalog.costProfiles.map((p) => p.name))}`);
  else {
    const names = Object.keys(profile.costs);
    for (const k of Object.keys(s.machine.costs)) {
      if (!Object.hasOwn(profile.costs, k)) {
        problems.push({
          ...locate(["machine", "costs", k], true),
          found: `unknown cost ${JSON.stringify(k)}`,
          allowed: `a cost of profile ${profile.name}: ${list(names)}`,
        });
      }
    }
  }
  if (variant) {
    for (const [k, v] of Object.entries(s.kernel.switches)) {
      const sw = variant.switches.find((x) => x.name === k);
      // a dotted switch (ioendCap.kind) is a nested mapping in the file or --set, unless quoted as one key
      const flat: Path = ["kernel", "switches", k];
      const at = valueAt(data, flat) !== undefined ? flat : ["kernel", "switches", ...k.split(".")];
      if (!sw) {
        problems.push({
          ...locate(at, true),
          found: `unknown switch ${JSON.stringify(k)}`,
          allowed: `a switch of ${variant.name}: ${list(variant.switches.map((x) => x.name))}`,
        });
      } else if (typeof v !== sw.type || (sw.values && !sw.values.includes(String(v)))) {
        bad(at, sw.values ? `one of ${sw.values.join(", ")}` : `a ${sw.type}`);
      } else if (typeof v === "number" && (!Number.isSafeInteger(v) || v < (sw.min ?? 0))) {
        bad(at, `an integer of at least ${sw.min ?? 0}`);
      }
    }
    s.kernel.disableLockSites.forEach((site, i) => {
      if (!variant.lockSites.includes(site))
        bad(["kernel", "disableLockSites", i], `a lock site of ${variant.name}: ${list(variant.lockSites)}`);
    });
  }
  const cpuRange = `a CPU from 0 to ${s.machine.cpus - 1} (machine.cpus is ${s.machine.cpus})`;
  const fileNames = (s.fs?.files ?? []).map((f) => f.name);
  s.workloads.forEach((w, i) => {
    if ("cpu" in w && w.cpu >= s.machine.cpus) bad(["workloads", i, "cpu"], cpuRange);
    const model = WORKLOAD_MODEL[w.type];
    if (variant && model && model !== variant.model)
      bad(
        ["workloads", i, "type"],
        `a workload of the ${variant.model} model (${Object.keys(WORKLOAD_MODEL)
          .filter((t) => WORKLOAD_MODEL[t] === variant.model)
          .join(", ")}), since kernel.variant ${variant.name} is ${MODEL_NAMES[variant.model]}`,
      );
    // fork-race's writers and faulters loop on TLB hits, which cost only the think time: with none the
    // simulated clock never moves and the run would spin for a billion iterations at one instant
    if (w.type === "fork-race" && w.think === 0)
      bad(
        ["workloads", i, "think"],
        "a duration of at least 1ns (fork-race's threads loop on TLB hits, which take only this time; the default is 20ns)",
      );
    if (w.type === "writer")
      w.jobs.forEach((j, n) => {
        if (!fileNames.includes(j.file))
          bad(["workloads", i, "jobs", n, "file"], `a file of fs.files: ${list(fileNames)}`);
      });
    if ((w.type === "fsync" || w.type === "committer" || w.type === "nfsd") && !fileNames.includes(w.file))
      bad(["workloads", i, "file"], `a file of fs.files: ${list(fileNames)}`);
  });
  if (variant?.model === "fs" && !s.fs)
    problems.push({
      ...locate(["fs"], false),
      found: "nothing (the field is required)",
      allowed: `an fs section: ${variant.name} is ${MODEL_NAMES.fs}`,
    });
  if (s.fs) {
    if (catalog.devices && !catalog.devices.includes(s.fs.device))
      bad(["fs", "device"], `a device profile: ${list(catalog.devices)}`);
    // the block device's own limits (BlockDevice): a request must move at least a page, and take time
    if (s.fs.bandwidth !== undefined && s.fs.bandwidth < 1)
      bad(["fs", "bandwidth"], "a size of at least 1 byte (bytes per second)");
    if (s.fs.maxSectors !== undefined && s.fs.maxSectors < 4096)
      bad(["fs", "maxSectors"], "a size of at least 4KiB (4096 bytes: one page per request)");
    // vm.dirty_writeback_centisecs = 0 turns periodic writeback off in the kernel; the flusher here
    // has no such mode and would write back at one instant for ever
    if (s.fs.dirtyWritebackInterval === 0)
      bad(
        ["fs", "dirtyWritebackInterval"],
        'a duration of at least 1ns (0, the kernel\'s "no periodic writeback", is not modelled)',
      );
    s.fs.files.forEach((file, n) => {
      if (file.size === 0) bad(["fs", "files", n, "size"], "a size of at least 1 byte");
    });
    const f = s.fs.folioSize;
    if (f < 4096 || (f & (f - 1)) !== 0) bad(["fs", "folioSize"], "a power of two from 4KiB (4096 bytes)");
    if (s.fs.flusherCpu >= s.machine.cpus) bad(["fs", "flusherCpu"], cpuRange);
    if (s.fs.irqCpu !== undefined && s.fs.irqCpu >= s.machine.cpus)
      bad(["fs", "irqCpu"], `-1 or ${cpuRange}`);
    // without fs.irqCpu the device profile's interrupt CPU is used: it must exist too
    const deviceIrq = s.fs.irqCpu === undefined ? catalog.deviceIrqCpus?.[s.fs.device] : undefined;
    if (deviceIrq !== undefined && deviceIrq >= s.machine.cpus)
      problems.push({
        ...locate(["fs", "device"], false),
        found: `${JSON.stringify(s.fs.device)}, whose completion interrupts go to CPU ${deviceIrq}`,
        allowed: `machine.cpus above ${deviceIrq}, or fs.irqCpu set to -1 or ${cpuRange}`,
      });
  }
  return problems;
}

/** In file order, each distinct problem once (zod can report one value twice, e.g. past 2^53 and past
 * the field's own maximum). */
function sortProblems(ps: ScenarioProblem[]): ScenarioProblem[] {
  const seen = new Set<string>();
  return ps
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .filter((p) => {
      const k = formatProblem(p);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
}
