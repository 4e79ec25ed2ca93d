// The cost of `--trace`: one built-in scenario run untraced and traced (the CLI's Chrome JSON trace
// written to a file, model level), alternating so both see the same load on the machine; medians of
// 5 pairs. The target: a traced run takes at most twice the untraced wall time. The process's CPU
// time (user + system, the file writes included) is printed beside the wall time: on a loaded
// machine it is the steadier of the two. One line each:
// `trace-NAME variant=V untraced_ms=U traced_ms=T ratio=R untraced_cpu_ms=.. traced_cpu_ms=.. cpu_ratio=.. trace_events=E trace_mb=M`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FileSink } from "../cli/io.js";
import { resolveScenario } from "../cli/scenarios.js";
import { ChromeTraceWriter } from "../report/trace.js";
import { loadScenario } from "../scenario/load.js";
import { catalog } from "../scenario/models.js";
import { runScenario } from "../scenario/run.js";
import type { Scenario } from "../scenario/schema.js";
import type { Benchmark } from "./kernel.js";
import { median } from "./stats.js";

function load(name: string, variant: string): Scenario {
  const src = resolveScenario(name);
  return loadScenario(src.text, {
    file: src.file,
    catalog: catalog(),
    sets: [{ path: "kernel.variant", value: variant }],
  });
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Timing {
  ms: number;
  cpu: number;
  events: number;
  bytes: number;
}

/** One traced run into a temporary file: wall and CPU ms, events written, bytes. */
function traced(s: Scenario, seed: number, file: string): Timing {
  const c0 = cpuMs();
  const t0 = performance.now();
  const w = new ChromeTraceWriter(new FileSink(file, "trace"), { scenario: s.name });
  runScenario(s, { seed, trace: w });
  w.finish();
  const ms = performance.now() - t0;
  const cpu = cpuMs() - c0;
  const bytes = fs.statSync(file).size;
  fs.unlinkSync(file);
  return { ms, cpu, events: w.written, bytes };
}

function untraced(s: Scenario, seed: number): Timing {
  const c0 = cpuMs();
  const t0 = performance.now();
  runScenario(s, { seed });
  return { ms: performance.now() - t0, cpu: cpuMs() - c0, events: 0, bytes: 0 };
}

function traceLine(name: string, variant: string, quick: boolean): string {
  const s = load(name, variant);
  const seed = s.seed ?? 1;
  const file = path.join(os.tmpdir(), `faultline-bench-trace-${process.pid}.json`);
  untraced(s, seed); // warm the JIT on both paths
  traced(s, seed, file);
  const repeat = quick ? 1 : 5;
  const plain: Timing[] = [];
  const withTrace: Timing[] = [];
  for (let i = 0; i < repeat; i++) {
    plain.push(untraced(s, seed));
    withTrace.push(traced(s, seed, file));
  }
  const last = withTrace[withTrace.length - 1]!;
  const u = median(plain.map((x) => x.ms));
  const t = median(withTrace.map((x) => x.ms));
  const uc = median(plain.map((x) => x.cpu));
  const tc = median(withTrace.map((x) => x.cpu));
  return (
    `trace-${name} variant=${variant} untraced_ms=${Math.round(u)} traced_ms=${Math.round(t)}` +
    ` ratio=${(t / u).toFixed(2)} untraced_cpu_ms=${Math.round(uc)} traced_cpu_ms=${Math.round(tc)}` +
    ` cpu_ratio=${(tc / uc).toFixed(2)} trace_events=${last.events} trace_mb=${(last.bytes / 2 ** 20).toFixed(1)}`
  );
}

/** `npm run bench -- trace`: the fork race (6.4.0) and S2's lockup (5.16), untraced vs traced. */
export const traceBenchmarks: Benchmark[] = [
  { name: "trace-pervma-fork-race", run: (quick) => traceLine("pervma-fork-race", "6.4.0", quick) },
  { name: "trace-iomap-s2", run: (quick) => traceLine("iomap-s2", "5.16", quick) },
];
