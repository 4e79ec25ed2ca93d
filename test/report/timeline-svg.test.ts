// The HTML report's static per-CPU timeline: the window around the first finding, drawn from the
// engine's trace of a second, identical run. On 6.4.0's fork race it shows wp_page_copy and the
// finding's CPUs; on 5.16 (S2, slow VM) the kworker holding the CPU through the soft lockup.
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { escapeHtml as escapeXml, htmlReport } from "../../src/report/html.js";
import { interestingWindow, timelineSvg, WindowTrace } from "../../src/report/timeline-svg.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";

const DIR = path.join(import.meta.dirname, "../../scenarios");
function load(name: string, sets: { path: string; value: string }[]) {
  return loadScenario(readFileSync(path.join(DIR, `${name}.yaml`), "utf8"), {
    file: name,
    catalog: catalog(),
    sets,
  });
}

function drawn(name: string, sets: { path: string; value: string }[]) {
  const s = load(name, sets);
  const r = runScenario(s, { seed: 1 });
  const w = interestingWindow(r);
  expect(w).toBeDefined();
  const t = new WindowTrace(w!);
  const again = runScenario(s, { seed: 1, trace: t });
  t.finish();
  expect(again.findings).toEqual(r.findings);
  const svg = timelineSvg(t, name);
  if (process.env.FAULTLINE_SVG_OUT) writeFileSync(`${process.env.FAULTLINE_SVG_OUT}/${name}.svg`, svg);
  return { r, w: w!, t, svg };
}

const titles = (svg: string) => [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!);

describe("report timeline", () => {
  it("shows wp_page_copy and the finding on 6.4.0's fork race", () => {
    const { r, w, svg } = drawn("pervma-fork-race", [{ path: "kernel.variant", value: "6.4.0" }]);
    const f = r.findings[0]!;
    expect(w.finding).toEqual(f);
    expect(w.fromNs).toBeLessThan(f.tNs);
    expect(w.toNs).toBeGreaterThan(f.tNs);
    expect(svg.startsWith("<svg")).toBe(true);
    for (let c = 0; c < r.machine.cpus; c++) expect(svg).toContain(`data-cpu="${c}"`);
    expect(svg).toContain(">CPU 0<");
    expect(svg).toContain(">kernel<");
    const tips = titles(svg);
    expect(tips.some((s) => s.startsWith("wp_page_copy "))).toBe(true);
    expect(tips.some((s) => /^writer-\d+:\d+ /.test(s))).toBe(true);
    // wp_page_copy runs on the CPU the finding names first, before the finding fires.
    expect(svg).toContain(`class="finding"`);
    expect(svg).toMatch(/class="finding-label"[^>]*>cow_premise \(CPU \d, \d\): wp_page_copy copies frame/);
    // The stores through the stale TLB entry on the other CPU the finding names are marked.
    expect(tips.some((s) => s.startsWith("store via stale TLB "))).toBe(true);
    // Axis ticks are times since the start in their own unit (µs below 1 ms, then ms: the window of
    // tens of µs lies 1-2 ms into the run with this seed), with as many decimals as the step needs.
    const unit = (ns: number) => (ns < 1e6 ? "µs" : ns < 1e9 ? "ms" : "s");
    expect(svg).toMatch(new RegExp(`class="tick"[^>]*>\\d+(\\.\\d+)? (${unit(w.fromNs)}|${unit(w.toNs)})<`));
  });

  it("shows the kworker holding the CPU through the 5.16 soft lockup", () => {
    // S2 on the slow-VM profile: 5.16 ends in a soft lockup (test/fs/lockup.test.ts)
    const { r, w, t, svg } = drawn("iomap-s2", [
      { path: "kernel.variant", value: "5.16" },
      { path: "machine.costProfile", value: "what-if-slow-vm" },
    ]);
    const f = r.findings[0]!;
    // the first finding is the stall (the RCU stall detector may fire before the soft-lockup watchdog)
    expect(["rcu_stall", "soft_lockup"]).toContain(f.kind);
    expect(r.findings.some((x) => x.kind === "soft_lockup")).toBe(true);
    const cpu = f.cpus[0]!;
    expect(w.stuckFromNs).toBeDefined();
    const held = t.spans.filter(
      (s) => s.cpu === cpu && s.lane === 0 && s.from <= w.stuckFromNs! && s.to >= f.tNs,
    );
    expect(held.map((s) => s.name)).toEqual([
      expect.stringMatching(new RegExp(`^kworker/${cpu}:\\d+:\\d+$`)),
    ]);
    expect(titles(svg).some((s) => new RegExp(`^kworker/${cpu}:\\d+:\\d+ `).test(s))).toBe(true);
    expect(svg).toContain(`class="finding-label"`);
    expect(svg).toContain(escapeXml(`${f.kind} (CPU ${f.cpus.join(", ")}): ${f.message}`));
    expect(svg).toContain("stall begins");
    // The timer irqs of the stall are thin: drawn as faint per-pixel occupancy, not as a solid bar.
    expect(svg).toMatch(/class="busy"[^>]*fill="#e15759" fill-opacity="0\.(1|2)\d*"/);
    expect(svg).toMatch(/class="tick"[^>]*>\d+ s</);
    // Merged same-named neighbours keep the picture small.
    expect(t.spans.length).toBeLessThan(50_000);
    const html = htmlReport("t", [{ heading: "h", results: [r], plots: [], timelines: [svg] }]);
    expect(html).toContain('<figure class="timeline"><svg');
  });
});
