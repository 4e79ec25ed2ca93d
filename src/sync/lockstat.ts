// Contention statistics in the shape of /proc/lock_stat (kernel/locking/lockdep_proc.c):
// per lock class, contentions, waittime and holdtime (min/max/total), acquisitions, con-bounces.
import type { Machine } from "../sim/machine.js";

export class LockClassStat {
  contentions = 0;
  conBounces = 0;
  acquisitions = 0;
  acqBounces = 0;
  waittimeMin = Number.POSITIVE_INFINITY;
  waittimeMax = 0;
  waittimeTotal = 0;
  holdtimeMin = Number.POSITIVE_INFINITY;
  holdtimeMax = 0;
  holdtimeTotal = 0;
  holdCount = 0;
  /** Contention points: acquisition sites that had to wait, with counts. */
  readonly contendedAt = new Map<string, number>();

  constructor(readonly name: string) {}

  contended(site: string, waitNs: number, bounce: boolean): void {
    this.contentions++;
    if (bounce) this.conBounces++;
    if (waitNs < this.waittimeMin) this.waittimeMin = waitNs;
    if (waitNs > this.waittimeMax) this.waittimeMax = waitNs;
    this.waittimeTotal += waitNs;
    this.contendedAt.set(site, (this.contendedAt.get(site) ?? 0) + 1);
  }

  acquired(bounce: boolean): void {
    this.acquisitions++;
    if (bounce) this.acqBounces++;
  }

  released(holdNs: number): void {
    this.holdCount++;
    if (holdNs < this.holdtimeMin) this.holdtimeMin = holdNs;
    if (holdNs > this.holdtimeMax) this.holdtimeMax = holdNs;
    this.holdtimeTotal += holdNs;
  }
}

export interface LockStatRow {
  class: string;
  "con-bounces": number;
  contentions: number;
  "waittime-min": number;
  "waittime-max": number;
  "waittime-total": number;
  "waittime-avg": number;
  "acq-bounces": number;
  acquisitions: number;
  "holdtime-min": number;
  "holdtime-max": number;
  "holdtime-total": number;
  "holdtime-avg": number;
}

export class LockStats {
  readonly classes = new Map<string, LockClassStat>();
  get(name: string): LockClassStat {
    let s = this.classes.get(name);
    if (s === undefined) {
      s = new LockClassStat(name);
      this.classes.set(name, s);
    }
    return s;
  }

  /** Rows sorted by contentions (desc) then name, times in ns (lock_stat prints µs with 2 decimals). */
  rows(): LockStatRow[] {
    const rows: LockStatRow[] = [];
    for (const s of this.classes.values()) {
      if (s.acquisitions === 0 && s.contentions === 0) continue;
      rows.push({
        class: s.name,
        "con-bounces": s.conBounces,
        contentions: s.contentions,
        "waittime-min": s.contentions ? s.waittimeMin : 0,
        "waittime-max": s.waittimeMax,
        "waittime-total": s.waittimeTotal,
        "waittime-avg": s.contentions ? Math.round(s.waittimeTotal / s.contentions) : 0,
        "acq-bounces": s.acqBounces,
        acquisitions: s.acquisitions,
        "holdtime-min": s.holdCount ? s.holdtimeMin : 0,
        "holdtime-max": s.holdtimeMax,
        "holdtime-total": s.holdtimeTotal,
        "holdtime-avg": s.holdCount ? Math.round(s.holdtimeTotal / s.holdCount) : 0,
      });
    }
    rows.sort(
      (a, b) => b.contentions - a.contentions || (a.class < b.class ? -1 : a.class > b.class ? 1 : 0),
    );
    return rows;
  }
}

/** The lock statistics of a machine. */
export function lockStats(m: Machine): LockStats {
  return m.extension("lockStats", () => new LockStats());
}

/** /proc/lock_stat text (times in µs with two decimals, as the kernel prints them). */
export function formatLockStat(rows: LockStatRow[]): string[] {
  const us = (ns: number) => (ns / 1000).toFixed(2);
  const head = [
    "class name",
    "con-bounces",
    "contentions",
    "waittime-min",
    "waittime-max",
    "waittime-total",
    "waittime-avg",
    "acq-bounces",
    "acquisitions",
    "holdtime-min",
    "holdtime-max",
    "holdtime-total",
    "holdtime-avg",
  ];
  const lines = [
    "lock_stat version 0.4",
    "-".repeat(200),
    `${head[0]!.padStart(40)} ${head
      .slice(1)
      .map((h) => h.padStart(14))
      .join(" ")}`,
    "",
  ];
  for (const r of rows) {
    const cols = [
      r["con-bounces"],
      r.contentions,
      us(r["waittime-min"]),
      us(r["waittime-max"]),
      us(r["waittime-total"]),
      us(r["waittime-avg"]),
      r["acq-bounces"],
      r.acquisitions,
      us(r["holdtime-min"]),
      us(r["holdtime-max"]),
      us(r["holdtime-total"]),
      us(r["holdtime-avg"]),
    ];
    lines.push(`${`${r.class}:`.padStart(40)} ${cols.map((c) => String(c).padStart(14)).join(" ")}`);
  }
  return lines;
}
