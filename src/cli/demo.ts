// `faultline demo` (npm start): the three stories side by side, printed and written as one HTML report.
import { compareReport } from "../report/compare.js";
import type { HtmlSection } from "../report/html.js";
import { loadArg, pickSeed, reportTimeline, runWithTrace, writeReportDir } from "./common.js";

interface DemoPart {
  heading: string;
  intro: string;
  scenario: string;
  variants: string[];
}

const PARTS: DemoPart[] = [
  {
    heading: "The fork race: 6.4.0 against 6.4.3",
    intro:
      "A parent thread keeps storing through a writable TLB entry while another parent thread forks. 6.4.0's dup_mmap did not write-lock the parent's VMAs, so a page fault under the per-VMA lock could let a store land in a page the COW copy had already taken: the write is lost. 6.4.3 write-locks every VMA in the copy loop.",
    scenario: "pervma-fork-race",
    variants: ["6.4.0", "6.4.3"],
  },
  {
    heading: "A fault storm with an mmap writer: 6.3 against 6.4.3",
    intro:
      "Threads fault on their own anonymous regions while one thread keeps calling mmap/munmap. On 6.3 every fault takes mmap_lock for read and queues behind the writer; with per-VMA locks (6.4.3) faults only contend per VMA.",
    scenario: "pervma-fault-storm",
    variants: ["6.3", "6.4.3"],
  },
  {
    heading: "The writeback soft lockup: 5.16 against 5.17",
    intro:
      "Trond's NFS server (S1): a 52 GB file written sequentially on a slow VM under PREEMPT_NONE. On 5.16 completions fall behind, merged ioend runs grow to millions of pages and xfs_end_io holds the CPU past the soft-lockup watchdog; 5.17 (ebb7fb1557b1) bounds ioends at 4096 folios and yields in completion.",
    scenario: "iomap-s1",
    variants: ["5.16", "5.17"],
  },
];

export async function runDemo(reportDir: string | undefined): Promise<number> {
  const sections: HtmlSection[] = [];
  for (const p of PARTS) {
    process.stdout.write(`\n=== ${p.heading} ===\n\n`);
    const loaded = p.variants.map((v) => loadArg(p.scenario, [], v));
    const seeds = loaded.map((l) => pickSeed(l.scenario, undefined));
    const results = loaded.map((l, i) => runWithTrace(l, seeds[i]!));
    process.stdout.write(compareReport(results));
    const timelines =
      reportDir !== undefined ? results.map((r, i) => reportTimeline(loaded[i]!, seeds[i]!, r)) : [];
    sections.push({ heading: p.heading, intro: p.intro, results, plots: [], timelines });
  }
  if (reportDir !== undefined) {
    const index = await writeReportDir(reportDir, "faultline demonstration", sections);
    process.stdout.write(`\nHTML report: ${index}\n`);
  }
  return 0;
}
