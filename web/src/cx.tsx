// Counterexamples: find one with the race checker (src/check) in a worker, or load a counterexample
// file from `faultline check`, then step through its schedule forwards and backwards with the step
// table and the timeline (time axis: steps) in sync.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Counterexample, StepState } from "../../src/check/counterexample.js";
import { findVariant } from "../../src/scenario/catalog.js";
import { catalog } from "../../src/scenario/models.js";
import { RunError, SimWorker } from "./client.js";
import { download } from "./download.js";
import { describeScenario } from "./form.js";
import type { Replayed } from "./protocol.js";
import { BUILTINS } from "./scenarios.js";
import { TimelineView, Viewport } from "./timeline-view.js";

const CATALOG = catalog();
const WORKER = new SimWorker();

/** Built-in scenarios of the per-VMA-lock model (the checker explores it). */
const MM_SCENARIOS = BUILTINS.filter((b) => describeScenario(b.text, b.name, CATALOG).model === "mm");
const MM_VARIANTS = CATALOG.variants.filter((v) => v.model === "mm");

/** Link parameters of the tab: ?tab=cx&scenario=&variant=&seed=&strategy=&budget=&kinds=&find */
function cxUrl(): URLSearchParams {
  return new URLSearchParams(location.search);
}

export function CounterexamplePanel() {
  const q = cxUrl();
  const pick = <T extends string>(k: string, allowed: readonly T[], dflt: T): T =>
    allowed.includes(q.get(k) as T) ? (q.get(k) as T) : dflt;
  const [scenario, setScenario] = useState(
    pick(
      "scenario",
      MM_SCENARIOS.map((b) => b.name),
      MM_SCENARIOS.find((b) => b.name === "pervma-fork-race-mini")?.name ??
        MM_SCENARIOS.find((b) => b.name === "pervma-fork-race")?.name ??
        MM_SCENARIOS[0]?.name ??
        "",
    ),
  );
  const [variant, setVariant] = useState(
    pick(
      "variant",
      MM_VARIANTS.map((v) => v.name),
      "6.4.0",
    ),
  );
  const [seed, setSeed] = useState(/^\d+$/.test(q.get("seed") ?? "") ? q.get("seed")! : "1");
  const [strategy, setStrategy] = useState(
    pick("strategy", ["random", "pct", "exhaustive"] as const, "random"),
  );
  const [budget, setBudget] = useState(/^\d+$/.test(q.get("budget") ?? "") ? q.get("budget")! : "2000");
  const [timeS, setTimeS] = useState("30");
  // by default the search looks for the lost write itself, not its premise (cow_premise comes first)
  const [kinds, setKinds] = useState(q.get("kinds") ?? "lost_update");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [rep, setRep] = useState<Replayed | null>(null);
  const [step, setStep] = useState(1);

  async function find() {
    const b = MM_SCENARIOS.find((x) => x.name === scenario);
    if (!b) return;
    const link = new URLSearchParams({ tab: "cx", scenario, variant, seed, strategy, budget });
    link.set("kinds", kinds.trim());
    history.replaceState(null, "", `${location.pathname}?${link.toString()}&find`);
    setError("");
    setRep(null);
    setBusy("searching: 0 schedules");
    try {
      const r = await WORKER.check(
        {
          text: b.text,
          file: `scenarios/${b.name}.yaml`,
          sets: [{ path: "kernel.variant", value: variant }],
          seed: /^\d+$/.test(seed) ? Number(seed) : null,
          strategy,
          budget: Math.max(1, Number(budget) || 1),
          timeS: Math.max(1, Number(timeS) || 1),
          kinds: kinds
            .split(",")
            .map((k) => k.trim())
            .filter((k) => k !== ""),
        },
        (n) => setBusy(`searching: ${n} schedules`),
      );
      show(r);
    } catch (e) {
      if (!(e instanceof RunError && e.kind === "cancelled")) setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  }

  async function load(f: File) {
    setError("");
    setRep(null);
    try {
      const d = JSON.parse(await f.text()) as Counterexample;
      if (d?.faultline !== "counterexample" || !Array.isArray(d.choices))
        throw new Error("not a faultline counterexample file (faultline: counterexample)");
      setBusy("replaying");
      show(await WORKER.replay(d));
    } catch (e) {
      setError(`${f.name}: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  }

  // A shared search link runs at once.
  useEffect(() => {
    if (cxUrl().has("find")) void find();
  }, []);

  function show(r: Replayed) {
    setRep(r);
    setStep(r.rows.length > 0 ? r.rows.length : 1);
  }

  return (
    <div>
      <section class="controls">
        <h3>Find a counterexample with the race checker</h3>
        <div class="form">
          <label>
            Scenario{" "}
            <select value={scenario} onChange={(e) => setScenario((e.target as HTMLSelectElement).value)}>
              {MM_SCENARIOS.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Kernel variant{" "}
            <select
              data-testid="cx-variant"
              value={variant}
              onChange={(e) => setVariant((e.target as HTMLSelectElement).value)}
            >
              {MM_VARIANTS.map((v) => (
                <option key={v.name} value={v.name} title={v.summary}>
                  {v.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Strategy{" "}
            <select
              value={strategy}
              onChange={(e) => setStrategy((e.target as HTMLSelectElement).value as typeof strategy)}
            >
              <option value="random">random</option>
              <option value="pct">PCT</option>
              <option value="exhaustive">exhaustive (bounded)</option>
            </select>
          </label>
          <label>
            Seed{" "}
            <input
              type="number"
              value={seed}
              onInput={(e) => setSeed((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Budget (schedules){" "}
            <input
              type="number"
              value={budget}
              onInput={(e) => setBudget((e.target as HTMLInputElement).value)}
            />
          </label>
          <label title="finding kinds that count as a violation, comma-separated (e.g. lost_update); empty: any finding">
            Violations{" "}
            <input
              type="text"
              size={14}
              placeholder="any finding"
              value={kinds}
              onInput={(e) => setKinds((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Time limit (s){" "}
            <input
              type="number"
              value={timeS}
              onInput={(e) => setTimeS((e.target as HTMLInputElement).value)}
            />
          </label>
        </div>
        <div class="actions">
          <button
            type="button"
            class="primary"
            data-testid="cx-find"
            disabled={busy !== null || scenario === ""}
            onClick={() => void find()}
          >
            Find a counterexample
          </button>
          <button type="button" disabled={busy === null} onClick={() => WORKER.cancel()}>
            Cancel
          </button>
          <label class="file">
            or load a counterexample file{" "}
            <input
              type="file"
              accept=".json"
              data-testid="cx-file"
              onChange={(e) => {
                const f = (e.target as HTMLInputElement).files?.[0];
                if (f) void load(f);
              }}
            />
          </label>
          {busy && <span class="hint">{busy}</span>}
        </div>
      </section>
      {error && (
        <pre class="problems" data-testid="cx-error">
          {error}
        </pre>
      )}
      {rep && <ReplayView rep={rep} step={step} setStep={setStep} />}
    </div>
  );
}

function ReplayView({
  rep,
  step,
  setStep,
}: {
  rep: Replayed;
  step: number;
  setStep: (s: number | ((prev: number) => number)) => void;
}) {
  const n = rep.rows.length;
  const cx = rep.counterexample;
  const viewport = useMemo(() => new Viewport(), []);
  const host = useRef<HTMLDivElement>(null);
  const table = useRef<HTMLDivElement>(null);
  const clamp = (s: number) => Math.min(Math.max(1, s), Math.max(1, n));
  const go = (s: number) => setStep(clamp(s));
  /** Relative moves read the current step at update time (a key can arrive before effects re-run). */
  const move = (d: number) => setStep((s: number) => clamp(s + d));

  useEffect(() => {
    if (!rep.timeline || !host.current) return;
    const v = new TimelineView(host.current, rep.timeline, viewport);
    v.fit();
    v.onPick = (t) => go(Math.ceil(t));
    return () => v.destroy();
  }, [rep]);

  useEffect(() => {
    viewport.setCursor(step);
    // keep the current step in view
    const w = (host.current?.clientWidth ?? 800) - 96;
    const t1 = viewport.t0 + w * viewport.nsPerPx;
    if (step - 1 < viewport.t0 || step > t1)
      viewport.set(step - (w * viewport.nsPerPx) / 2, viewport.nsPerPx);
    table.current?.querySelector(`tr[data-step="${step}"]`)?.scrollIntoView({ block: "nearest" });
  }, [step, rep]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement)?.tagName === "INPUT" || (e.target as HTMLElement)?.tagName === "SELECT")
        return;
      if (e.key === "ArrowRight" || e.key === "j") move(1);
      else if (e.key === "ArrowLeft" || e.key === "k") move(-1);
      else if (e.key === "Home") go(1);
      else if (e.key === "End") go(n);
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [n]);

  const cpus = [...new Set(rep.rows.map((r) => r.cpu))].sort((a, b) => a - b);
  const cur = rep.rows[step - 1];
  /** The step that breaks the invariant (the run stops there). */
  const breaks = rep.finding?.step ?? -1;
  const withState = rep.rows.some((r) => r.state !== undefined);
  const page = cx ? /0x[0-9a-f]+/.exec(cx.finding.message)?.[0] : undefined;
  /** A state cell, marked when it differs from the step before. */
  const stateCell = (i: number, get: (st: StepState) => string, key: string) => {
    const st = rep.rows[i]?.state;
    const prev = i > 0 ? rep.rows[i - 1]?.state : undefined;
    const v = st ? get(st) : "";
    const changed = st !== undefined && prev !== undefined && get(prev) !== v;
    return (
      <td key={key} class={changed ? "state changed" : "state"}>
        {v}
      </td>
    );
  };
  const variant = cx ? String((cx.describe as { kernel?: string }).kernel ?? "") : "";
  const model = findVariant(CATALOG, variant);

  return (
    <section class="results" data-testid="cx-result">
      {/* red for a finding, and for a counterexample whose replay does not reproduce it */}
      <div class={cardClass(rep, cx)}>
        <h2>
          {cx ? cx.target : "no counterexample"}
          {model && <span class="seed"> {model.summary}</span>}
        </h2>
        {rep.check && (
          <p data-testid="cx-verdict" class="verdict">
            {verdictText(rep.check)}: {rep.check.schedules} schedules ({rep.check.strategy}) in{" "}
            {(rep.check.elapsedMs / 1000).toFixed(1)} s
            {rep.check.originalSteps !== null && cx
              ? `; shrunk from ${rep.check.originalSteps} to ${cx.steps} steps`
              : ""}
          </p>
        )}
        {cx && (
          <p class="finding" data-testid="cx-finding">
            <b>{cx.finding.kind}</b>: {cx.finding.message}
            {rep.reproduced ? " (replay reproduces it)" : " (replay did NOT reproduce it)"}
          </p>
        )}
        {cx && (
          <div class="exports">
            <button
              type="button"
              onClick={() =>
                download(
                  `${cx.target.replace(/[^\w.-]+/g, "_")}.counterexample.json`,
                  `${JSON.stringify(cx, null, 2)}\n`,
                )
              }
            >
              Counterexample file
            </button>
            <button
              type="button"
              onClick={async () =>
                download(`${cx.target.replace(/[^\w.-]+/g, "_")}.trace.json`, await WORKER.exportTrace())
              }
            >
              Perfetto trace (time = step)
            </button>
          </div>
        )}
      </div>
      {n > 0 && (
        <>
          <div class="actions stepper">
            <button type="button" onClick={() => go(1)} title="first step (Home)">
              |◀ First
            </button>
            <button type="button" data-testid="cx-back" onClick={() => move(-1)} title="back (←)">
              ◀ Back
            </button>
            <button type="button" data-testid="cx-forward" onClick={() => move(1)} title="forward (→)">
              Forward ▶
            </button>
            <button type="button" onClick={() => go(n)} title="last step (End)">
              Last ▶|
            </button>
            <input
              type="range"
              min={1}
              max={n}
              value={step}
              onInput={(e) => go(Number((e.target as HTMLInputElement).value))}
            />
            <span data-testid="cx-step">
              step {step} of {n}
            </span>
            {cur && (
              <span class="hint">
                CPU {cur.cpu}: {cur.what.join("; ") || "(runs)"}
              </span>
            )}
          </div>
          <div class="timeline-block">
            <div class="timeline" ref={host} data-testid="cx-timeline" />
          </div>
          <div class="block step-table" ref={table}>
            <table class="steps" data-testid="cx-steps">
              <thead>
                <tr>
                  <th>step</th>
                  {cpus.map((c) => (
                    <th key={c}>CPU {c}</th>
                  ))}
                  {withState && <th class="state">PTE {page}</th>}
                  {withState &&
                    cpus.map((c) => (
                      <th key={`tlb${c}`} class="state">
                        TLB CPU {c}
                      </th>
                    ))}
                  {withState && <th class="state">VMA and its lock</th>}
                </tr>
              </thead>
              <tbody>
                {rep.rows.map((r, i) => (
                  <tr
                    key={r.step}
                    data-step={r.step}
                    class={`${r.step === step ? "on" : r.step > step ? "future" : ""}${r.step === breaks ? " breaks" : ""}`}
                    title={
                      r.step === breaks
                        ? `step ${r.step} breaks the invariant: ${rep.finding?.kind}`
                        : undefined
                    }
                    onClick={() => go(r.step)}
                  >
                    <td>{r.step}</td>
                    {cpus.map((c) => (
                      <td key={c}>{c === r.cpu ? r.what.join("\n") || "(runs)" : ""}</td>
                    ))}
                    {withState && stateCell(i, (st) => st.pte, "pte")}
                    {withState && cpus.map((c) => stateCell(i, (st) => st.tlb[c] ?? "-", `tlb${c}`))}
                    {withState && stateCell(i, (st) => st.vma, "vma")}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/**
 * A search that found nothing is green only when it covered its space (verified); otherwise it is
 * incomplete, as `faultline check` says (and exits 3).
 */
function cardClass(
  rep: { finding: unknown; reproduced: boolean; check?: { verdict: string } | null },
  cx: unknown,
): string {
  if (rep.finding || (cx && !rep.reproduced)) return "card bad";
  return rep.check && rep.check.verdict !== "verified" ? "card incomplete" : "card good";
}

function verdictText(c: { verdict: string; complete: boolean }): string {
  if (c.verdict === "no violation found") return "incomplete: no violation found within the budget";
  return c.verdict === "verified"
    ? "verified: no violation, the bounded space covered completely"
    : c.verdict;
}
