// `faultline demo` (npm start): the three stories side by side, printed and written as one HTML report.
import { compareReport } from "../report/compare.js";
import type { HtmlSection } from "../report/html.js";
import type { RunResult } from "../report/result.js";
import { ModelUnavailableError } from "../scenario/adapters/types.js";
import type { SetOption } from "../scenario/load.js";
import { hasAdapter } from "../scenario/run.js";
import { loadArg, pickSeed, runWithTrace, writeReportDir } from "./common.js";

interface DemoPart {
  heading: string;
  intro: string;
  scenario: string;
  variants: string[];
  sets: SetOption[];
  /** Used when the part's model is not in this build. */
  fallback?: Omit<DemoPart, "fallback">;
}

const PARTS: DemoPart[] = [
  {
    heading: "The fork race: 6.4.0 against 6.4.3",
    intro:
      "A parent thread keeps storing through a writable TLB entry while another parent thread forks. 6.4.0's dup_mmap did not write-lock the parent's VMAs, so a page fault under the per-VMA lock could let a store land in a page the COW copy had already taken: the write is lost. 6.4.3 write-locks every VMA in the copy loop.",
    scenario: "pervma-fork-race",
    variants: ["6.4.0", "6.4.3"],
    sets: [],
  },
  {
    heading: "A fault storm with an mmap writer: 6.3 against 6.4.3",
    intro:
      "Threads fault on their own anonymous regions while one thread keeps calling mmap/munmap. On 6.3 every fault takes mmap_lock for read and queues behind the writer; with per-VMA locks (6.4.3) faults only contend per VMA.",
    scenario: "pervma-fault-storm",
    variants: ["6.3", "6.4.3"],
    sets: [{ path: "workloads[1].enabled", value: "true", label: "mmap writer on" }],
  },
  {
    heading: "The writeback soft lockup: 5.16 against 5.17",
    intro:
      "Trond's NFS server (S1): a huge sequential write completes in one merged ioend chain on a slow VM under PREEMPT_VOLUNTARY. 5.16 walks millions of pages without a reschedule and the soft-lockup watchdog fires; 5.17 (ebb7fb1557b1) bounds ioends at 4096 folios and yields in completion.",
    scenario: "iomap-s1",
    variants: ["5.16", "5.17"],
    sets: [],
    fallback: {
      heading: "A soft lockup (engine only): no cond_resched() against cond_resched() every 1 ms",
      intro:
        "The writeback model is not in this build, so this shows the watchdog on the engine alone: a kthread spinning 25 s under PREEMPT_NONE is reported; the same kthread calling cond_resched() every millisecond is not.",
      scenario: "softlockup-demo",
      variants: ["generic"],
      sets: [],
    },
  },
];

export async function runDemo(reportDir: string | undefined): Promise<number> {
  const sections: HtmlSection[] = [];
  for (const part of PARTS) {
    const p = part.fallback && !partAvailable(part) ? part.fallback : part;
    process.stdout.write(`\n=== ${p.heading} ===\n\n`);
    try {
      const results =
        p.scenario === "softlockup-demo" ? softlockupPair() : p.variants.map((v) => runPart(p, v));
      process.stdout.write(compareReport(results));
      sections.push({ heading: p.heading, intro: p.intro, results, plots: [] });
    } catch (e) {
      if (!(e instanceof ModelUnavailableError)) throw e;
      process.stdout.write(`skipped: ${e.message}\n`);
    }
  }
  if (reportDir !== undefined && sections.length > 0) {
    const index = await writeReportDir(reportDir, "faultline demonstration", sections);
    process.stdout.write(`\nHTML report: ${index}\n`);
  }
  return 0;
}

function partAvailable(p: DemoPart): boolean {
  try {
    return hasAdapter(loadArg(p.scenario, p.sets, p.variants[0]).scenario);
  } catch {
    return false;
  }
}

function runPart(p: Omit<DemoPart, "fallback">, variant: string): RunResult {
  const l = loadArg(p.scenario, p.sets, variant);
  return runWithTrace(l, pickSeed(l.scenario, undefined));
}

function softlockupPair(): RunResult[] {
  const plain = loadArg("softlockup-demo", []);
  const resched = loadArg("softlockup-demo", [{ path: "workloads[0].condReschedEvery", value: "1ms" }]);
  const a = runWithTrace(plain, 1);
  const b = runWithTrace(resched, 1);
  return [
    { ...a, kernel: { ...a.kernel, variant: "no cond_resched" } },
    { ...b, kernel: { ...b.kernel, variant: "cond_resched 1ms" } },
  ];
}
