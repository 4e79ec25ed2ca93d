// Benchmarks of the writeback model: S2 (20 GiB dirty range, 5.24 M pages, one 5.2 M-page merged
// completion on 5.16) and the 52 GB case of S1, end to end. Targets: S2 < 3 s wall and < 1 GiB,
// S1 52 GB < 10 s. One line each: `iomap-s2 pages=P events=E wall_ms=W rss_mb=M`.
import { builtinFsScenario } from "../cli/scenarios.js";
import { runFsScenario } from "../scenario/iomap.js";

export interface FsBenchmark {
  name: string;
  run(quick: boolean): string;
}

/** Peak resident set of the process so far (MiB), or the current RSS where the peak is unknown. */
function rssMb(): number {
  const p = (
    globalThis as {
      process?: { memoryUsage?: () => { rss: number }; resourceUsage?: () => { maxRSS: number } };
    }
  ).process;
  const peakKb = p?.resourceUsage?.().maxRSS;
  if (peakKb !== undefined) return Math.round(peakKb / 1024);
  const u = p?.memoryUsage?.();
  return u === undefined ? -1 : Math.round(u.rss / 2 ** 20);
}

function benchScenario(name: string, variant: string): string {
  const cfg = builtinFsScenario(name, { variant });
  const t0 = performance.now();
  const r = runFsScenario(cfg);
  const wall = performance.now() - t0;
  const pages = Math.round(r.fs.bytesSubmitted / 4096);
  return (
    `${name} pages=${pages} events=${r.events} wall_ms=${Math.round(wall)} rss_mb=${rssMb()}` +
    ` variant=${variant} sim_s=${(r.simNs / 1e9).toFixed(1)} soft_lockups=${r.softLockups}` +
    ` holdoff_max_ms=${Math.round(r.holdoffMaxNs.task / 1e6)}`
  );
}

/** S2 on 5.16 (the lockup) and the 52 GB S1 case, timed end to end. */
export const fsBenchmarks: FsBenchmark[] = [
  { name: "iomap-s2", run: () => benchScenario("iomap-s2", "5.16") },
  { name: "iomap-s1", run: () => benchScenario("iomap-s1", "5.16") },
];

/** Run both and return their lines (for `npm run bench` wiring). */
export function benchFs(): string[] {
  return fsBenchmarks.map((b) => b.run(false));
}
