// The SimPy anchor: SimPy's own benchmark script (shared/bench/simpy_bench.py, found in the working
// directory or one of its parents, or at $FAULTLINE_SIMPY_BENCH) run in a child Python process on
// the same workload, so that Machine's figures stand beside SimPy's measured at the same moment.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface SimpyAnchor {
  events: number;
  eventsPerS: number;
  checksum: number;
  version: string;
}

function findScript(): string | null {
  const env = process.env.FAULTLINE_SIMPY_BENCH;
  if (env !== undefined && existsSync(env)) return env;
  for (let d = resolve(process.cwd()); ; d = dirname(d)) {
    const p = join(d, "shared", "bench", "simpy_bench.py");
    if (existsSync(p)) return p;
    if (dirname(d) === d) return null;
  }
}

// Debian's python3-simpy3 installs into the system Python; a python3 earlier on PATH may lack it
const PYTHONS = ["/usr/bin/python3", "python3"];

/** One run of SimPy's script on `workload`, or null when the script or SimPy is not there. */
export function runSimpyAnchor(workload: string): SimpyAnchor | null {
  const script = findScript();
  if (script === null) return null;
  for (const py of PYTHONS) {
    try {
      const out = execFileSync(py, [script, "--workload", workload, "--repeat", "1", "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      const j = JSON.parse(out) as {
        simpy: string;
        results: Record<
          string,
          { events: number; events_per_s_median: number; info: Record<string, number> }
        >;
      };
      const r = j.results[workload]!;
      const checksum = workload === "pingpong" ? r.info.round_trips! : r.info.checksum!;
      return { events: r.events, eventsPerS: r.events_per_s_median, checksum, version: j.simpy };
    } catch {
      // try the next interpreter
    }
  }
  return null;
}
