// The page: pick or load a scenario, set its main parameters, run it (or two variants side by side)
// in Web Workers, and read the results: findings, per-CPU timeline, text report, plots, exports.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { compareReport } from "../../src/report/compare.js";
import { fmtInt, fmtNs, PREEMPT_NAMES } from "../../src/report/format.js";
import type { RunResult } from "../../src/report/result.js";
import { catalog } from "../../src/scenario/models.js";
import { PREEMPTION_MODELS } from "../../src/scenario/schema.js";
import { RunError, SimWorker } from "./client.js";
import { CounterexamplePanel } from "./cx.js";
import { download } from "./download.js";
import { defaultForm, describeScenario, type FormState, setsFor } from "./form.js";
import type { Done } from "./protocol.js";
import { BUILTINS, builtin } from "./scenarios.js";
import { TimelineView, Viewport } from "./timeline-view.js";
import { readUrl, writeUrl } from "./url.js";

const CATALOG = catalog();
const DEFAULT_SCENARIO =
  ["pervma-fork-race", "softlockup-demo"].find((n) => builtin(n)) ?? BUILTINS[0]?.name ?? "";

/** Shareable links to the stories the page tells (shown when their scenarios are built in). */
const EXAMPLES = [
  {
    scenario: "pervma-fork-race",
    label: "the fork race: 6.4.0 vs 6.4.3",
    href: "?scenario=pervma-fork-race&variant=6.4.0&vs=6.4.3&run",
  },
  {
    scenario: "iomap-s1",
    label: "the writeback soft lockup: 5.16 vs 5.17",
    href: "?scenario=iomap-s1&variant=5.16&vs=5.17&run",
  },
  {
    scenario: "softlockup-demo",
    label: "a spinning kthread: PREEMPT_NONE vs PREEMPT",
    href: "?scenario=softlockup-demo&preempt=none&vs=generic&vsPreempt=full&run",
  },
];

interface Source {
  /** Built-in name, or the loaded file's name. */
  name: string;
  text: string;
  builtin: boolean;
}

interface Side {
  label: string;
  status: "idle" | "running" | "done" | "error" | "cancelled";
  fraction: number;
  simNs: number;
  events: number;
  done?: Done;
  error?: RunError;
}

const WORKERS = [new SimWorker(), new SimWorker()];

function initialSource(): Source {
  const u = readUrl(location.search);
  const b = builtin(u.scenario ?? "") ?? builtin(DEFAULT_SCENARIO);
  return b ? { name: b.name, text: b.text, builtin: true } : { name: "empty", text: "", builtin: false };
}

export function App() {
  const [source, setSource] = useState<Source>(initialSource);
  const info = useMemo(
    () =>
      describeScenario(source.text, source.builtin ? `scenarios/${source.name}.yaml` : source.name, CATALOG),
    [source],
  );
  const [form, setForm] = useState<FormState>(() => {
    const f = defaultForm(info);
    const u = readUrl(location.search);
    if (u.scenario === source.name) {
      if (u.variant) f.variant = u.variant;
      if (u.seed !== undefined) f.seed = String(u.seed);
      if (u.cpus !== undefined) f.cpus = String(u.cpus);
      if (u.preempt) f.preemption = u.preempt;
      f.compare = u.vs !== undefined || u.vsPreempt !== undefined;
      if (u.vs) f.variantB = u.vs;
      else f.variantB = f.variant;
      f.preemptionB = u.vsPreempt ?? f.preemption;
      for (const s of u.sets) f.fields[s.path] = s.value;
    }
    return f;
  });
  const [unknownScenario, setUnknownScenario] = useState(() => {
    const u = readUrl(location.search);
    return u.scenario !== undefined && !builtin(u.scenario) ? u.scenario : "";
  });
  const [sides, setSides] = useState<Side[]>([]);
  const [plots, setPlots] = useState<{ name: string; title: string; svg: string }[] | null>(null);
  const [tab, setTab] = useState<"run" | "cx">(() =>
    new URLSearchParams(location.search).get("tab") === "cx" ? "cx" : "run",
  );
  const viewport = useMemo(() => new Viewport(), []);
  const runToken = useRef(0);

  const variants = CATALOG.variants.filter((v) => info.model === "" || v.model === info.model);
  const running = sides.some((s) => s.status === "running");

  function pickBuiltin(name: string) {
    const b = builtin(name);
    if (!b) return;
    const src = { name: b.name, text: b.text, builtin: true };
    setUnknownScenario("");
    setSource(src);
    setForm(defaultForm(describeScenario(b.text, `scenarios/${b.name}.yaml`, CATALOG)));
    setSides([]);
    setPlots(null);
  }

  function editText(text: string) {
    const name = source.builtin
      ? `${source.name}.yaml (edited)`
      : source.name.endsWith(" (edited)")
        ? source.name
        : `${source.name} (edited)`;
    setSource({ name, text, builtin: false });
    setForm(defaultForm(describeScenario(text, name, CATALOG)));
    setUnknownScenario("");
  }

  async function loadFile(file: File) {
    const text = await file.text();
    setSource({ name: file.name, text, builtin: false });
    setForm(defaultForm(describeScenario(text, file.name, CATALOG)));
    setSides([]);
    setPlots(null);
  }

  function shareState() {
    const base = source.builtin ? source.name : undefined;
    const seed = /^\d+$/.test(form.seed) ? Number(form.seed) : undefined;
    return writeUrl({
      scenario: base,
      variant: form.variant !== info.variant ? form.variant : undefined,
      seed,
      cpus: form.cpus !== String(info.cpus) && /^\d+$/.test(form.cpus) ? Number(form.cpus) : undefined,
      preempt: form.preemption !== info.preemption ? form.preemption : undefined,
      vs: form.compare ? form.variantB : undefined,
      vsPreempt: form.compare && form.preemptionB !== form.preemption ? form.preemptionB : undefined,
      sets: Object.entries(form.fields)
        .filter(([p, v]) => info.fields.find((f) => f.path === p)?.value !== v)
        .map(([path, value]) => ({ path, value })),
      // a loaded or edited file is not in the link, so the link must not start a run of something else
      run: base !== undefined,
    });
  }

  async function run() {
    const token = ++runToken.current;
    const seed = /^\d+$/.test(form.seed.trim()) ? Number(form.seed.trim()) : null;
    const file = source.builtin ? `scenarios/${source.name}.yaml` : source.name;
    const reqs = [
      {
        label: labelFor(form.variant, form.preemption, form.compare && form.preemptionB !== form.preemption),
        sets: setsFor(info, form, "a"),
      },
    ];
    if (form.compare)
      reqs.push({
        label: labelFor(form.variantB, form.preemptionB, form.preemptionB !== form.preemption),
        sets: setsFor(info, form, "b"),
      });
    history.replaceState(null, "", `${location.pathname}${shareState()}`);
    viewport.setCursor(null);
    setPlots(null);
    setSides(reqs.map((r) => ({ label: r.label, status: "running", fraction: 0, simNs: 0, events: 0 })));
    const update = (i: number, patch: Partial<Side>) => {
      if (token !== runToken.current) return;
      setSides((prev) => prev.map((s, j) => (j === i ? { ...s, ...patch } : s)));
    };
    const results = await Promise.all(
      reqs.map(async (r, i) => {
        try {
          const done = await WORKERS[i]!.run(
            { text: source.text, file, sets: r.sets, seed },
            (fraction, simNs, events) => update(i, { fraction, simNs, events }),
          );
          update(i, { status: "done", fraction: 1, done });
          return done;
        } catch (e) {
          const err = e instanceof RunError ? e : new RunError("internal", String(e));
          update(i, { status: err.kind === "cancelled" ? "cancelled" : "error", error: err });
          return undefined;
        }
      }),
    );
    if (token !== runToken.current) return;
    const ok = results.filter((d): d is Done => d !== undefined);
    if (ok.length === results.length) {
      try {
        const labels = reqs.map((r) => r.label);
        const p = await WORKERS[0]!.plots(ok.map((d, i) => labelled(d.result, labels[i]!)));
        if (token === runToken.current) setPlots(p.plots);
      } catch {
        if (token === runToken.current) setPlots([]);
      }
    }
  }

  function cancel() {
    runToken.current++;
    for (const w of WORKERS) w.cancel();
    setSides((prev) => prev.map((s) => (s.status === "running" ? { ...s, status: "cancelled" } : s)));
  }

  // A shared link runs at once.
  useEffect(() => {
    if (readUrl(location.search).run && info.ok && unknownScenario === "") void run();
  }, []);

  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const done = sides.map((s) => s.done).filter((d): d is Done => d !== undefined);

  return (
    <div class="page">
      <header>
        <h1>faultline</h1>
        <span class="tagline">
          page faults under per-VMA locks and iomap writeback completion, simulated in your browser
        </span>
        <nav>
          <button type="button" class={tab === "run" ? "tab on" : "tab"} onClick={() => setTab("run")}>
            Run and compare
          </button>
          <button
            type="button"
            class={tab === "cx" ? "tab on" : "tab"}
            onClick={() => setTab("cx")}
            data-testid="tab-cx"
          >
            Counterexamples
          </button>
        </nav>
      </header>
      {tab === "cx" ? (
        <CounterexamplePanel />
      ) : (
        <>
          <p class="examples">
            Try:{" "}
            {EXAMPLES.filter((e) => builtin(e.scenario)).map((e) => (
              <a key={e.href} href={e.href}>
                {e.label}
              </a>
            ))}
          </p>
          <section class="controls">
            <div class="scenario-pick">
              <label>
                Scenario{" "}
                <select
                  data-testid="scenario"
                  value={source.builtin ? source.name : ""}
                  onChange={(e) => pickBuiltin((e.target as HTMLSelectElement).value)}
                >
                  {!source.builtin && <option value="">{source.name} (file)</option>}
                  {BUILTINS.map((b) => (
                    <option value={b.name} key={b.name}>
                      {b.name}
                    </option>
                  ))}
                </select>
              </label>
              <label class="file">
                or load a YAML/JSON file{" "}
                <input
                  type="file"
                  accept=".yaml,.yml,.json"
                  data-testid="scenario-file"
                  onChange={(e) => {
                    const f = (e.target as HTMLInputElement).files?.[0];
                    if (f) void loadFile(f);
                  }}
                />
              </label>
            </div>
            {unknownScenario && (
              <pre class="problems" data-testid="unknown-scenario">
                The link names scenario "{unknownScenario}", which this build does not have; built-ins:{" "}
                {BUILTINS.map((b) => b.name).join(", ")}
              </pre>
            )}
            {info.title && <p class="title">{info.title}</p>}
            {info.description && <p class="description">{info.description}</p>}
            <details class="source">
              <summary>Scenario file{source.builtin ? "" : ` (${source.name})`}: view or edit</summary>
              <textarea
                data-testid="scenario-text"
                spellcheck={false}
                rows={Math.min(30, source.text.split("\n").length + 1)}
                value={source.text}
                onInput={(e) => editText((e.target as HTMLTextAreaElement).value)}
              />
              <p class="hint">
                Editing resets the form to the file's values; an edited scenario is not part of the link
                (download it to share).{" "}
                <button
                  type="button"
                  class="link"
                  onClick={() =>
                    download(
                      source.builtin ? `${source.name}.yaml` : source.name.replace(/ \(edited\)$/, ""),
                      source.text,
                      "text/yaml",
                    )
                  }
                >
                  download
                </button>
              </p>
            </details>
            {info.problems.length > 0 && (
              <pre class="problems" data-testid="problems">
                {info.problems.join("\n")}
              </pre>
            )}
            <div class="form">
              <label>
                Kernel variant{" "}
                <select
                  data-testid="variant"
                  value={form.variant}
                  onChange={(e) => set({ variant: (e.target as HTMLSelectElement).value })}
                >
                  {variants.map((v) => (
                    <option value={v.name} key={v.name} title={v.summary}>
                      {v.name}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                CPUs{" "}
                <input
                  data-testid="cpus"
                  type="number"
                  min={1}
                  max={256}
                  value={form.cpus}
                  onInput={(e) => set({ cpus: (e.target as HTMLInputElement).value })}
                />
              </label>
              <PreemptionField
                label="Preemption"
                testid="preemption"
                value={form.preemption}
                onChange={(preemption) => set({ preemption })}
              />
              <label>
                Seed{" "}
                <input
                  data-testid="seed"
                  type="number"
                  min={0}
                  value={form.seed}
                  onInput={(e) => set({ seed: (e.target as HTMLInputElement).value })}
                />
              </label>
            </div>
            {info.fields.length > 0 && (
              <details class="fields" open={info.fields.length <= 8}>
                <summary>Workload parameters ({info.fields.length})</summary>
                <div class="form">
                  {info.fields.map((f) => (
                    // biome-ignore lint/a11y/noLabelWithoutControl: the input is inside, a checkbox or a text field
                    <label key={f.path} title={f.path}>
                      {f.label}{" "}
                      {f.kind === "boolean" ? (
                        <input
                          type="checkbox"
                          data-testid={`field-${f.path}`}
                          checked={(form.fields[f.path] ?? f.value) === "true"}
                          onChange={(e) =>
                            set({
                              fields: {
                                ...form.fields,
                                [f.path]: String((e.target as HTMLInputElement).checked),
                              },
                            })
                          }
                        />
                      ) : (
                        <input
                          type="text"
                          size={8}
                          data-testid={`field-${f.path}`}
                          value={form.fields[f.path] ?? f.value}
                          onInput={(e) =>
                            set({
                              fields: { ...form.fields, [f.path]: (e.target as HTMLInputElement).value },
                            })
                          }
                        />
                      )}
                    </label>
                  ))}
                </div>
              </details>
            )}
            {extraSets(info, form).length > 0 && (
              <p class="hint" data-testid="extra-sets">
                Other overrides (from the link): {extraSets(info, form).join(", ")}{" "}
                <button
                  type="button"
                  onClick={() =>
                    set({
                      fields: Object.fromEntries(
                        Object.entries(form.fields).filter(([p]) => info.fields.some((f) => f.path === p)),
                      ),
                    })
                  }
                >
                  clear
                </button>
              </p>
            )}
            <div class="form compare-row">
              <label>
                <input
                  type="checkbox"
                  data-testid="compare"
                  checked={form.compare}
                  onChange={(e) => set({ compare: (e.target as HTMLInputElement).checked })}
                />{" "}
                Compare side by side with
              </label>
              <label>
                variant{" "}
                <select
                  data-testid="variant-b"
                  disabled={!form.compare}
                  value={form.variantB}
                  onChange={(e) => set({ variantB: (e.target as HTMLSelectElement).value })}
                >
                  {variants.map((v) => (
                    <option value={v.name} key={v.name}>
                      {v.name}
                    </option>
                  ))}
                </select>
              </label>
              <PreemptionField
                label="preemption"
                testid="preemption-b"
                disabled={!form.compare}
                value={form.preemptionB}
                onChange={(preemptionB) => set({ preemptionB })}
              />
              <span class="hint">same scenario, same seed</span>
            </div>
            <div class="actions">
              <button
                type="button"
                class="primary"
                data-testid="run"
                disabled={!info.ok || running}
                onClick={() => void run()}
              >
                Run
              </button>
              <button type="button" data-testid="cancel" disabled={!running} onClick={cancel}>
                Cancel
              </button>
              {sides.map((s, i) => (
                <span class="progress" key={i}>
                  {s.label}: <progress data-testid={`progress-${i}`} max={1} value={s.fraction} />{" "}
                  {statusText(s)}
                </span>
              ))}
            </div>
          </section>
          {sides.some((s) => s.error && s.error.kind !== "cancelled") && (
            <pre class="problems" data-testid="run-error">
              {sides
                .filter((s) => s.error && s.error.kind !== "cancelled")
                .map((s) => `${s.label}: ${s.error!.message}`)
                .join("\n")}
            </pre>
          )}
          {done.length > 0 && <Results sides={sides} viewport={viewport} plots={plots} />}
        </>
      )}
      <footer>
        Deterministic: the same scenario, variant and seed give the same result here and in{" "}
        <code>faultline run</code>. Timeline: wheel to zoom, drag (or shift+wheel) to pan, double-click to
        fit.
      </footer>
    </div>
  );
}

/** A labelled choice of preemption model (the scenario's, or the compared side's). */
function PreemptionField(p: {
  label: string;
  testid: string;
  value: string;
  disabled?: boolean;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {p.label}{" "}
      <select
        data-testid={p.testid}
        disabled={p.disabled ?? false}
        value={p.value}
        onChange={(e) => p.onChange((e.target as HTMLSelectElement).value)}
      >
        {PREEMPTION_MODELS.map((m) => (
          <option value={m} key={m}>
            {PREEMPT_NAMES[m]}
          </option>
        ))}
      </select>
    </label>
  );
}

function extraSets(info: ReturnType<typeof describeScenario>, form: FormState): string[] {
  return Object.entries(form.fields)
    .filter(([p]) => !info.fields.some((f) => f.path === p))
    .map(([p, v]) => `${p}=${v}`);
}

function labelFor(variant: string, preemption: string, withPreempt: boolean): string {
  return withPreempt ? `${variant} ${PREEMPT_NAMES[preemption] ?? preemption}` : variant;
}

function statusText(s: Side): string {
  if (s.status === "running")
    return s.simNs > 0 ? `${fmtNs(s.simNs)} simulated, ${fmtInt(s.events)} events` : "starting";
  if (s.status === "done" && s.done)
    return `done in ${(s.done.wallMs / 1000).toFixed(1)} s (${fmtInt(s.done.traceEvents)} trace events)`;
  if (s.status === "error") return "failed";
  return s.status;
}

/** A result under its side's label (so that two runs of one variant with different preemption differ). */
function labelled(r: RunResult, label: string): RunResult {
  return label === r.kernel.variant ? r : { ...r, kernel: { ...r.kernel, variant: label } };
}

function Results({
  sides,
  viewport,
  plots,
}: {
  sides: Side[];
  viewport: Viewport;
  plots: { name: string; title: string; svg: string }[] | null;
}) {
  const done = sides.filter((s) => s.done);
  const results = done.map((s) => labelled(s.done!.result, s.label));
  const spanNs = Math.max(...done.map((s) => s.done!.timeline.endNs));
  return (
    <section class="results" data-testid="results">
      <div class={done.length > 1 ? "cards two" : "cards"}>
        {done.map((s, i) => (
          <Card
            key={i}
            side={s}
            index={i}
            onFocus={(t) => {
              // a finding with an annotation: the window from its causes to it; else 2 % of the run
              // around the moment; and the timeline scrolled into view
              const note = s.done!.timeline.notes.find((n) => Math.abs(n.t - t) < 1);
              const from = note ? Math.min(t, ...note.targets.map((x) => x.t)) : t;
              if (note && from < t) viewport.focusRange(from, t, t);
              else viewport.focus(t, Math.max(1000, spanNs * 0.02));
              document.querySelector(`[data-testid="timeline-${i}"]`)?.scrollIntoView({ block: "center" });
            }}
          />
        ))}
      </div>
      {done.map((s, i) => (
        <div class="timeline-block" key={`tl${i}`}>
          {s.done!.droppedEvents > 0 && (
            <p class="hint">
              The run emitted more trace events than the page keeps: the timeline and the Perfetto trace end
              after {fmtInt(s.done!.timeline.events)} events ({fmtInt(s.done!.droppedEvents)} later ones not
              kept); the report covers the whole run.
            </p>
          )}
          <h3>
            Timeline: {s.label}
            {done.length > 1 && <span class="hint"> (zoom and pan move both timelines)</span>}
          </h3>
          <Timeline done={s.done!} viewport={viewport} spanNs={spanNs} testid={`timeline-${i}`} />
        </div>
      ))}
      {results.length > 1 && (
        <div class="block">
          <h3>Side by side</h3>
          <pre class="report" data-testid="compare-report">
            {compareReport(results)}
          </pre>
        </div>
      )}
      <div class="block">
        <h3>Plots</h3>
        {plots === null ? (
          <p class="hint">drawing plots...</p>
        ) : (
          <div class="plots" data-testid="plots">
            {plots.map((p) => (
              <figure key={p.name} title={p.title} dangerouslySetInnerHTML={{ __html: p.svg }} />
            ))}
          </div>
        )}
      </div>
      <div class={done.length > 1 ? "cards two" : "cards"}>
        {done.map((s, i) => (
          <details class="block" key={`rep${i}`} open={done.length === 1}>
            <summary>Text report: {s.label}</summary>
            <pre class="report" data-testid={`report-${i}`}>
              {s.done!.text}
            </pre>
          </details>
        ))}
      </div>
    </section>
  );
}

function Card({ side, index, onFocus }: { side: Side; index: number; onFocus: (tNs: number) => void }) {
  const d = side.done!;
  const r = d.result;
  const bad = r.findings.length > 0;
  const bugs = r.dmesg.filter((x) => /BUG|WARNING|INFO:/.test(x.line)).slice(0, 4);
  const maxHold = r.holdoff.perCpu.reduce(
    (m, h) => (h.maxNs > m.maxNs ? h : m),
    r.holdoff.perCpu[0] ?? { maxNs: 0, cpu: 0, context: "task" as const },
  );
  return (
    <div class={bad ? "card bad" : "card good"} data-testid={`card-${index}`}>
      <h2>
        {side.label} <span class="seed">seed {r.scenario.seed}</span>
      </h2>
      <p class="verdict" data-testid={`verdict-${index}`}>
        {bad ? findingsLine(r) : "No findings."}
      </p>
      {firstOfEachKind(r.findings, 4).map((f, i) => (
        <p class="finding" key={i}>
          <b>{f.kind}</b> at{" "}
          <button type="button" class="link" title="show on the timeline" onClick={() => onFocus(f.tNs)}>
            {fmtNs(f.tNs)}
          </button>
          {f.cpus.length > 0 ? ` on CPU${f.cpus.join(",")}` : ""}: {f.message}
        </p>
      ))}
      <table class="kv">
        <tbody>
          <tr>
            <th>stopped</th>
            <td>
              {r.run.stopReason} at {fmtNs(r.run.simTimeNs)}
            </td>
          </tr>
          <tr>
            <th>holdoff max</th>
            <td>
              {fmtNs(maxHold.maxNs)} (CPU{maxHold.cpu} {maxHold.context})
            </td>
          </tr>
          {r.throughput.map((t) => (
            <tr key={t.name}>
              <th>{t.name}</th>
              <td>
                {t.value.toPrecision(4)} {t.unit}
              </td>
            </tr>
          ))}
          {Object.entries(r.counters)
            .slice(0, 12)
            .map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td>{fmtInt(v)}</td>
              </tr>
            ))}
        </tbody>
      </table>
      {bugs.length > 0 && (
        <pre class="dmesg" data-testid={`dmesg-${index}`}>
          {bugs.map((b) => `[${(b.tNs / 1e9).toFixed(6).padStart(12)}] ${b.line}`).join("\n")}
        </pre>
      )}
      <div class="exports">
        <button
          type="button"
          data-testid={`export-json-${index}`}
          onClick={() =>
            download(
              `${r.scenario.name}-${r.kernel.variant}-seed${r.scenario.seed}.json`,
              d.json,
              "application/json",
            )
          }
        >
          JSON result
        </button>
        <button
          type="button"
          data-testid={`export-trace-${index}`}
          onClick={async () =>
            download(
              `${r.scenario.name}-${r.kernel.variant}-seed${r.scenario.seed}.trace.json`,
              await WORKERS[index]!.exportTrace(),
              "application/json",
            )
          }
        >
          Perfetto trace
        </button>
        <button
          type="button"
          onClick={() =>
            download(
              `${r.scenario.name}-${r.kernel.variant}-seed${r.scenario.seed}.txt`,
              d.text,
              "text/plain",
            )
          }
        >
          Text report
        </button>
        <button
          type="button"
          data-testid={`open-perfetto-${index}`}
          title="opens ui.perfetto.dev in a new window and hands it this run's trace"
          onClick={async () => {
            // open the window first, in the click's user gesture, so pop-up blockers let it through
            const win = window.open(PERFETTO_URL);
            if (win === null) return;
            const parts = await WORKERS[index]!.exportTrace();
            openInPerfetto(
              win,
              new TextEncoder().encode(parts.join("")).buffer,
              `${r.scenario.name} ${r.kernel.variant}`,
            );
          }}
        >
          Open in Perfetto
        </button>
        <button
          type="button"
          data-testid={`copy-command-${index}`}
          onClick={() => void navigator.clipboard?.writeText(cliCommand(r)).catch(() => {})}
        >
          Copy command
        </button>
      </div>
      <p class="hint">
        The same run from the command line (same JSON bytes):{" "}
        <code data-testid={`cli-command-${index}`}>{cliCommand(r)}</code>
      </p>
    </div>
  );
}

/** The first finding of each kind, in time order, at most `max` (three cow_premise must not hide the lost_update). */
function firstOfEachKind<F extends { kind: string }>(fs: readonly F[], max: number): F[] {
  const seen = new Set<string>();
  const out: F[] = [];
  for (const f of fs) {
    if (seen.has(f.kind)) continue;
    seen.add(f.kind);
    out.push(f);
    if (out.length === max) break;
  }
  return out;
}

const PERFETTO_URL = "https://ui.perfetto.dev";

/**
 * Perfetto's documented way to open a trace from another page (docs: "Opening the trace in the UI
 * from another web page", postMessage): PING the window it opened until it answers PONG, then post
 * { perfetto: { buffer, title } }.
 */
function openInPerfetto(win: Window, buffer: ArrayBuffer, title: string): void {
  let done = false;
  const onMessage = (e: MessageEvent) => {
    if (e.origin !== PERFETTO_URL || e.data !== "PONG" || done) return;
    done = true;
    window.clearInterval(timer);
    window.removeEventListener("message", onMessage);
    win.postMessage(
      { perfetto: { buffer, title, fileName: `${title.replace(/\W+/g, "-")}.json` } },
      PERFETTO_URL,
    );
  };
  window.addEventListener("message", onMessage);
  let tries = 0;
  const timer = window.setInterval(() => {
    if (done || tries++ > 100 || win.closed) {
      window.clearInterval(timer);
      window.removeEventListener("message", onMessage);
      return;
    }
    win.postMessage("PING", PERFETTO_URL);
  }, 100);
}

/** The `faultline run` command that gives this result's JSON bytes (scenario, seed, every override). */
export function cliCommand(r: RunResult): string {
  const q = (s: string) => (/^[\w.,:=/+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  const sets = r.scenario.sets.map((s) => `--set ${q(s)}`);
  return [
    "faultline run",
    q(r.scenario.name),
    `--seed ${r.scenario.seed}`,
    ...sets,
    "--json result.json",
  ].join(" ");
}

function findingsLine(r: RunResult): string {
  const counts = new Map<string, number>();
  for (const f of r.findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  return `Findings: ${[...counts].map(([k, n]) => (n > 1 ? `${n} x ${k}` : k)).join(", ")}`;
}

export function Timeline({
  done,
  viewport,
  spanNs,
  testid,
}: {
  done: Done;
  viewport: Viewport;
  spanNs: number;
  testid: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<TimelineView | null>(null);
  useEffect(() => {
    const v = new TimelineView(host.current!, done.timeline, viewport);
    v.fitEndNs = spanNs;
    view.current = v;
    v.fit();
    return () => v.destroy();
  }, [done, spanNs]);
  return (
    <div>
      <div class="timeline-tools">
        <button type="button" onClick={() => view.current?.fit()}>
          Fit
        </button>
        <button type="button" onClick={() => view.current?.zoomCentre(0.5)}>
          Zoom in
        </button>
        <button type="button" onClick={() => view.current?.zoomCentre(2)}>
          Zoom out
        </button>
        <span class="legend">
          <i class="sw task" /> task <i class="sw hardirq" /> hardirq <i class="sw softirq" /> softirq{" "}
          <i class="sw work" /> work item <i class="sw lock" /> lock wait <i class="sw fn" /> kernel function{" "}
          <i class="sw holdoff" /> need_resched pending <i class="sw over" /> past the watchdog threshold{" "}
          <i class="sw flow" /> wake-up/IPI/work flow <i class="sw dmesg" /> dmesg <i class="sw stale" />{" "}
          stale-TLB store <i class="sw finding" /> finding
        </span>
        <span class="hint stats">
          {fmtInt(done.timeline.events)} events, {fmtInt(done.timeline.lanes.reduce((n, l) => n + l.n, 0))}{" "}
          intervals, {fmtInt(done.timeline.marks.n)} marks
        </span>
      </div>
      <div class="timeline" ref={host} data-testid={testid} data-events={done.timeline.events} />
    </div>
  );
}
