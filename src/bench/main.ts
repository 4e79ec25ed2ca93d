// `npm run bench`: SimPy's reference workloads on Machine with SimPy itself run side by side as the
// anchor, the limit of the machine (bare queue and generator costs), and the kernel-level benchmarks
// of each model. One line per benchmark: `name key=value ...`.

import { runSimpyAnchor, type SimpyAnchor } from "./anchor.js";
import { checkBenchmarks } from "./check.js";
import { fsBenchmarks } from "./fs.js";
import { kernelBenchmarks, WARMUP_RUNS } from "./kernel.js";
import { limitBenchmarks } from "./limit.js";
import { mmBenchmarks } from "./mm.js";
import { pageBenchmarks } from "./page.js";
import { type SimpyResult, wlPingpong, wlResource, wlTimeouts } from "./simpy.js";
import { cpuSeconds, median } from "./stats.js";
import { traceBenchmarks } from "./trace.js";

/**
 * One SimPy workload on Machine: WARMUP_RUNS runs that warm the JIT (not measured; the first one's
 * CPU time is printed as first_run_cpu_s), then `repeat` measured runs, each right after SimPy ran
 * the same workload (so both see the same load on the machine); the line gives the medians.
 * `x_simpy` is SimPy's median wall time over Machine's for the same workload (same checksum):
 * SimPy's events per second as Machine processes them, divided by SimPy's own. The SimPy side needs
 * no warm-up: each anchor is a fresh CPython process (no JIT; its specializing interpreter adapts
 * within the first few executions of each instruction), whose first run is its steady state (five
 * runs in one process, CPU s: resource 1.37 then 1.44 1.78 1.41 1.50, pingpong 1.52 then 1.70
 * 1.92 1.50 1.62, timeouts 8.29 then 7.86 8.47 7.93 7.73: the first is within the spread).
 */
function simpyLine(name: string, f: () => SimpyResult, repeat: number): string {
  let firstCpu = 0;
  for (let i = 0; i < WARMUP_RUNS; i++) {
    const c0 = cpuSeconds();
    f();
    if (i === 0) firstCpu = cpuSeconds() - c0;
  }
  const walls: number[] = [];
  const cpus: number[] = [];
  const anchors: SimpyAnchor[] = [];
  let last: SimpyResult | null = null;
  for (let i = 0; i < repeat; i++) {
    const a = runSimpyAnchor(name);
    if (a !== null) anchors.push(a);
    const c0 = cpuSeconds();
    const t0 = performance.now();
    last = f();
    walls.push((performance.now() - t0) / 1000);
    cpus.push(cpuSeconds() - c0);
  }
  const r = last!;
  const wall = median(walls);
  let line =
    `${name} checksum=${r.checksum >>> 0} events=${r.events} events_per_s=${Math.round(r.events / wall)}` +
    ` resumptions=${r.resumptions} switches=${r.switches} wall_s=${wall.toFixed(3)} cpu_s=${median(cpus).toFixed(3)}` +
    ` first_run_cpu_s=${firstCpu.toFixed(3)} warmup_runs=${WARMUP_RUNS} measured_runs=${repeat}`;
  if (anchors.length > 0) {
    const simpyRate = median(anchors.map((a) => a.eventsPerS));
    const a = anchors[anchors.length - 1]!;
    const simpyWall = a.events / simpyRate;
    line +=
      ` simpy_checksum=${a.checksum} simpy_events=${a.events} simpy_events_per_s=${Math.round(simpyRate)}` +
      ` simpy_events_per_s_on_machine=${Math.round(a.events / wall)} x_simpy=${(simpyWall / wall).toFixed(1)}` +
      ` checksum_match=${a.checksum === r.checksum >>> 0 ? "yes" : "NO"} simpy=${a.version}`;
  } else line += " simpy=not_found";
  return `${line} engine=machine`;
}

const args = new Set(process.argv.slice(2));
const only = [...args].filter((a) => !a.startsWith("-"));
const quick = args.has("--quick");
const repeat = quick ? 1 : 3;
const benchmarks = [
  ...limitBenchmarks,
  ...kernelBenchmarks,
  ...mmBenchmarks,
  ...fsBenchmarks,
  ...checkBenchmarks,
  ...traceBenchmarks,
];
const allNames = [
  "timeouts",
  "resource",
  "pingpong",
  ...benchmarks.map((b) => b.name),
  ...pageBenchmarks.map((b) => b.name),
];
/** A NAME that is a benchmark's whole name selects that one; any other NAME every benchmark it starts. */
const selects = (o: string, name: string) => (allNames.includes(o) ? name === o : name.startsWith(o));
for (const o of only)
  if (!allNames.some((n) => selects(o, n))) {
    console.error(
      `bench: no benchmark is named ${o} or starts with it; the benchmarks: ${allNames.join(", ")}`,
    );
    process.exit(2);
  }
const want = (name: string) => only.length === 0 || only.some((o) => selects(o, name));

if (want("timeouts")) console.log(simpyLine("timeouts", () => wlTimeouts(), repeat));
if (want("resource")) console.log(simpyLine("resource", () => wlResource(), repeat));
if (want("pingpong")) console.log(simpyLine("pingpong", () => wlPingpong(), repeat));
for (const b of benchmarks) {
  if (!want(b.name)) continue;
  console.log(await b.run(quick));
}
// the page benchmark builds the page and starts Chromium: only when named (`npm run bench -- page`)
for (const b of pageBenchmarks) if (only.length > 0 && want(b.name)) console.log(await b.run(quick));
