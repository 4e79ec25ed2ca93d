// Small formatting helpers shared by the text, compare and HTML reports.

/** The dmesg timestamp prefix: "[   24.123456] " (printk's "[%5lu.%06lu] "). */
export function dmesgStamp(tNs: number): string {
  const us = Math.floor(tNs / 1000);
  const sec = Math.floor(us / 1e6);
  const frac = String(us % 1e6).padStart(6, "0");
  return `[${String(sec).padStart(5, " ")}.${frac}] `;
}

/** ns in the most readable unit: 830ns, 12.3us, 4.56ms, 22.1s. */
export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${round(ns / 1e9)}s`;
  if (ns >= 1e6) return `${round(ns / 1e6)}ms`;
  if (ns >= 1e3) return `${round(ns / 1e3)}us`;
  return `${Math.round(ns)}ns`;
}

/**
 * A time with as many decimals as `resolutionNs` needs, in the unit of its magnitude: at a 50 ns
 * resolution 1.22005 ms, at 1 ms 22.137 s. For axis ticks (resolution: the tick step) and tooltips
 * (resolution: a pixel).
 */
export function fmtTime(ns: number, resolutionNs: number): string {
  const res = Math.max(1e-3, resolutionNs);
  const a = Math.max(Math.abs(ns), res);
  const [u, name] = a >= 1e9 ? [1e9, "s"] : a >= 1e6 ? [1e6, "ms"] : a >= 1e3 ? [1e3, "µs"] : [1, "ns"];
  const dec = Math.max(0, Math.min(9, Math.ceil(-Math.log10(res / u) - 1e-9)));
  return `${(ns / u).toFixed(dec)} ${name}`;
}

function round(v: number): string {
  return String(Number(v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)));
}

/** Integer with thousands separators: 1,234,567. */
export function fmtInt(v: number): string {
  const s = Math.round(Math.abs(v))
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return v < 0 ? `-${s}` : s;
}

/** A rate or other float, 3 significant digits, with separators for large values. */
export function fmtNum(v: number): string {
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return fmtInt(v);
  return Number(v.toPrecision(3)).toString();
}

/** "p99.9" for 99.9, "max" for 100. */
export function pctLabel(p: number): string {
  return p === 100 ? "max" : `p${p}`;
}

/** Lays out rows as columns; `align` per column, "l" or "r" (default: first l, rest r). */
export function table(rows: string[][], align?: ("l" | "r")[], gap = 2): string[] {
  const widths: number[] = [];
  for (const r of rows)
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  return rows.map((r) =>
    r
      .map((c, i) => {
        const a = align?.[i] ?? (i === 0 ? "l" : "r");
        const w = widths[i]!;
        return a === "l" ? c.padEnd(w) : c.padStart(w);
      })
      .join(" ".repeat(gap))
      .trimEnd(),
  );
}

export const PREEMPT_NAMES: Record<string, string> = {
  none: "PREEMPT_NONE",
  voluntary: "PREEMPT_VOLUNTARY",
  full: "PREEMPT",
  lazy: "PREEMPT_LAZY",
};
