// `npm run bench`: the engine's throughput on SimPy's reference workloads, plus the kernel-level
// benchmarks of each model. One line per benchmark: `name key=value ...`.

import { checkBenchmarks } from "./check.js";
import { fsBenchmarks } from "./fs.js";
import { kernelBenchmarks } from "./kernel.js";
import { mmBenchmarks } from "./mm.js";
import { type SimpyResult, wlPingpong, wlResource, wlTimeouts } from "./simpy.js";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeIt<T>(f: () => T): { r: T; s: number } {
  const t0 = performance.now();
  const r = f();
  return { r, s: (performance.now() - t0) / 1000 };
}

function simpyLine(f: () => SimpyResult, repeat: number): string {
  const rates: number[] = [];
  let last: SimpyResult | null = null;
  for (let i = 0; i < repeat; i++) {
    const { r, s } = timeIt(f);
    rates.push(r.events / s);
    last = r;
  }
  return `${last!.name} checksum=${last!.checksum >>> 0} events=${last!.events} events_per_s=${Math.round(median(rates))}`;
}

const args = new Set(process.argv.slice(2));
const only = [...args].filter((a) => !a.startsWith("-"));
const repeat = args.has("--quick") ? 1 : 5;
const want = (name: string) => only.length === 0 || only.some((o) => name.startsWith(o));

if (want("timeouts")) console.log(simpyLine(() => wlTimeouts(), repeat));
if (want("resource")) console.log(simpyLine(() => wlResource(), repeat));
if (want("pingpong")) console.log(simpyLine(() => wlPingpong(), repeat));
for (const b of [...kernelBenchmarks, ...mmBenchmarks, ...fsBenchmarks, ...checkBenchmarks]) {
  if (!want(b.name)) continue;
  console.log(await b.run(args.has("--quick")));
}
