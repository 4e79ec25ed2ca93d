// One self-contained HTML report: inline CSS and SVG, no scripts, no external resources.
import { compareRows } from "./compare.js";
import type { Plot } from "./plots.js";
import type { RunResult } from "./result.js";
import { dmesgLines, textReport } from "./text.js";

export interface HtmlSection {
  heading: string;
  /** Prose shown under the heading. */
  intro?: string;
  results: readonly RunResult[];
  plots: readonly Plot[];
  /** Per result (same order), the SVG of its interesting window (timeline-svg.ts), if drawn. */
  timelines?: readonly (string | undefined)[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font:13px ui-monospace,monospace}
td,th{padding:2px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:12px}
.dmesg{background:#111;color:#eee}.finding{color:#b00}.ok{color:#070}
figure{margin:1em 0}figure.timeline{overflow-x:auto}figcaption{font-size:.9em;color:#555}
details summary{cursor:pointer;color:#036}
`;

export function htmlReport(title: string, sections: readonly HtmlSection[]): string {
  const body = sections.map(sectionHtml).join("\n");
  const toc = sections.map((s, i) => `<li><a href="#s${i}">${escapeHtml(s.heading)}</a></li>`).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><h1>${escapeHtml(title)}</h1><ul>${toc}</ul>
${body}
</body></html>
`;
}

function sectionHtml(s: HtmlSection, i: number): string {
  const parts: string[] = [`<h2 id="s${i}">${escapeHtml(s.heading)}</h2>`];
  if (s.intro) parts.push(`<p>${escapeHtml(s.intro)}</p>`);
  for (const [ri, r] of s.results.entries()) {
    const cls = r.findings.length > 0 ? "finding" : "ok";
    const verdict = r.findings.length > 0 ? `${r.findings.length} finding(s)` : "no findings";
    parts.push(`<p><b>${escapeHtml(r.kernel.variant)}</b>: <span class="${cls}">${verdict}</span></p>`);
    const firsts = new Map<string, string>();
    for (const f of r.findings) if (!firsts.has(f.kind)) firsts.set(f.kind, f.message.split("\n")[0]!);
    if (firsts.size > 0)
      parts.push(
        `<ul>${[...firsts].map(([k, msg]) => `<li class="finding"><code>${escapeHtml(k)}</code>: ${escapeHtml(msg)}</li>`).join("")}</ul>`,
      );
    const dmesg = dmesgLines(r);
    if (dmesg.length > 0) parts.push(`<pre class="dmesg">${escapeHtml(dmesg.join("\n"))}</pre>`);
    const tl = s.timelines?.[ri];
    if (tl !== undefined)
      parts.push(
        `<figure class="timeline">${tl}<figcaption>Per-CPU timeline of the interesting window: ${escapeHtml(r.kernel.variant)} (hover a slice for its times)</figcaption></figure>`,
      );
  }
  if (s.results.length > 1) parts.push(tableHtml(compareRows(s.results)));
  for (const p of s.plots)
    parts.push(`<figure>${p.svg}<figcaption>${escapeHtml(p.title)}</figcaption></figure>`);
  for (const r of s.results)
    parts.push(
      `<details><summary>Full text report: ${escapeHtml(r.kernel.variant)}</summary><pre>${escapeHtml(textReport(r))}</pre></details>`,
    );
  return parts.join("\n");
}

function tableHtml(rows: string[][]): string {
  const [head, ...rest] = rows;
  const th = head!.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const trs = rest.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}
