// Human units in scenarios: durations ("25s", "10ms", "500us", or integer ns) and sizes ("20GiB", "4KiB",
// or integer bytes). Parsing is strict: anything else is reported as a scenario error by the schema.

const DURATION_UNITS_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  min: 60e9,
  h: 3600e9,
};

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  K: 1024,
  KB: 1000,
  KiB: 1024,
  M: 1024 ** 2,
  MB: 1e6,
  MiB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1e9,
  GiB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1e12,
  TiB: 1024 ** 4,
};

export const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|min|m|h)\s*$/;
export const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(B|KiB|KB|K|MiB|MB|M|GiB|GB|G|TiB|TB|T)\s*$/;

/** Parses "25s", "1.5ms", "500us" or a plain number of ns; undefined when malformed. */
export function parseDurationNs(v: string | number): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = DURATION_RE.exec(v);
  if (!m) return undefined;
  const ns = Math.round(Number(m[1]) * DURATION_UNITS_NS[m[2]!]!);
  return Number.isSafeInteger(ns) ? ns : undefined;
}

/** Parses "20GiB", "4KiB", "1MB" or a plain number of bytes; undefined when malformed. */
export function parseSizeBytes(v: string | number): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = SIZE_RE.exec(v);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2]!]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
