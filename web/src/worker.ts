/// <reference lib="webworker" />
// The simulation worker: loads a scenario, runs it with the same code as the CLI (src/scenario/run.ts),
// and sends back the result, its text report, the timeline arrays and, later, the plots.
// Cancelling a run terminates this worker (the page starts a new one).

import { check } from "../../src/check/checker.js";
import { type Counterexample, replay } from "../../src/check/counterexample.js";
import type { CheckTarget } from "../../src/check/run.js";
import { type RunResult, resultJson } from "../../src/report/result.js";
import { textReport } from "../../src/report/text.js";
import { ChromeTraceWriter } from "../../src/report/trace.js";
import { ModelUnavailableError } from "../../src/scenario/adapters/types.js";
import {
  checkTargetFor,
  counterexampleProblem,
  targetFromCounterexample,
} from "../../src/scenario/checktarget.js";
import { ScenarioError } from "../../src/scenario/errors.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { runScenario } from "../../src/scenario/run.js";
import { scenarioSeeds } from "../../src/scenario/schema.js";
import type { Machine } from "../../src/sim/machine.js";
import type { TraceEvent } from "../../src/sim/trace.js";
import type { CheckRequest, CheckSummary, FromWorker, RunRequest, ToWorker } from "./protocol.js";
import { buildStepTimeline, buildTimeline, EventStore, timelineBuffers } from "./timeline-data.js";

/** Progress is measured against the scenario's time limit (or 10 minutes of virtual time). */
const DEFAULT_TIME_LIMIT_NS = 600e9;

declare const self: DedicatedWorkerGlobalScope;

/** The last run's events, for the Perfetto export; `nsPerUnit` scales step-numbered replays. */
let last: { store: EventStore; meta: Record<string, string>; nsPerUnit: number } | null = null;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

function run(req: RunRequest): void {
  const t0 = performance.now();
  const s = loadScenario(req.text, {
    file: req.file,
    sets: req.sets.map((x) => ({ ...x, label: `form field ${x.path}` })),
    catalog: catalog(),
  });
  const seed = req.seed ?? scenarioSeeds(s)[0]!;
  const limitNs = s.stop.time ?? DEFAULT_TIME_LIMIT_NS;
  const store = new EventStore();
  let lastPost = 0;
  // The runner reports once per slice of virtual time; at most 20 messages a second reach the page.
  const onProgress = (simNs: number, events: number) => {
    const now = performance.now();
    if (now - lastPost < 50) return;
    lastPost = now;
    post({ type: "progress", id: req.id, fraction: Math.min(1, simNs / limitNs), simNs, events });
  };
  const result = runScenario(s, {
    seed,
    sets: req.sets.map((x) => `${x.path}=${x.value}`),
    trace: store,
    onProgress,
  });
  // With events dropped, the timeline ends at the last stored event (open slices close there).
  const endNs = store.dropped > 0 && store.n > 0 ? store.t[store.n - 1]! : result.run.simTimeNs;
  // the soft-lockup threshold: 2 x watchdog_thresh (kernel/watchdog.c get_softlockup_thresh)
  const timeline = buildTimeline(store, s.machine.cpus, endNs, 2 * s.machine.watchdogThresh * 1e9);
  last = {
    store,
    meta: { scenario: s.name, variant: result.kernel.variant, seed: String(seed) },
    nsPerUnit: 1,
  };
  post(
    {
      type: "done",
      id: req.id,
      result,
      text: textReport(result),
      json: resultJson(result),
      timeline,
      wallMs: performance.now() - t0,
      traceEvents: store.n + store.skipped + store.dropped,
      droppedEvents: store.dropped,
    },
    timelineBuffers(timeline),
  );
}

/** Plots come separately: vega is large (loaded on first use) and the page is useful without them. */
function plots(id: number, results: RunResult[]): void {
  void import("../../src/report/plots.js")
    .then((p) => p.standardPlots(results))
    .then((plots) => post({ type: "plots", id, plots }))
    .catch((e) => post({ type: "error", id, kind: "internal", message: `plots failed: ${String(e)}` }));
}

function exportTrace(id: number): void {
  if (!last) {
    post({ type: "error", id, kind: "internal", message: "no run to export" });
    return;
  }
  const parts: string[] = [];
  const sink = {
    write: (c: string) => void parts.push(c),
    close: () => {},
    abort: () => void (parts.length = 0),
  };
  const w = new ChromeTraceWriter(sink, last.meta);
  const k = last.nsPerUnit;
  last.store.replay(k === 1 ? w : { event: (e) => w.event({ ...e, t: e.t * k }) });
  w.finish();
  post({ type: "trace", id, parts });
}

function checkRun(req: CheckRequest): void {
  const s = loadScenario(req.text, {
    file: req.file,
    sets: req.sets.map((x) => ({ ...x, label: `form field ${x.path}` })),
    catalog: catalog(),
  });
  const seed = req.seed ?? scenarioSeeds(s)[0]!;
  const target = checkTargetFor(s, { seed, ...(req.kinds.length > 0 ? { kinds: req.kinds } : {}) });
  let lastPost = 0;
  const r = check(target, {
    strategy: req.strategy,
    budget: req.budget,
    timeS: req.timeS,
    seed,
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastPost < 100) return;
      lastPost = now;
      post({ type: "check-progress", id: req.id, schedules: p.schedules });
    },
  });
  const summary: CheckSummary = {
    verdict: r.verdict,
    strategy: r.strategy,
    schedules: r.schedules,
    elapsedMs: r.elapsedMs,
    complete: r.complete,
    foundAt: r.foundAt,
    originalSteps: r.original?.steps ?? null,
  };
  if (!r.counterexample) {
    post({
      type: "replayed",
      id: req.id,
      check: summary,
      counterexample: null,
      reproduced: false,
      finding: null,
      rows: [],
      cpus: s.machine.cpus,
      timeline: null,
    });
    return;
  }
  replayAndPost(req.id, target, r.counterexample, summary);
}

function replayAndPost(
  id: number,
  target: CheckTarget,
  cx: Counterexample,
  summary: CheckSummary | null,
): void {
  // Trace events are stored with the step number as their time (the explore driver ignores time).
  const store = new EventStore();
  let machine: Machine | null = null;
  const build = target.build.bind(target);
  const captured: CheckTarget = {
    ...target,
    build: () => {
      machine = build();
      return machine;
    },
  };
  const sink = {
    // kernel-function slices carry engine times, which mean nothing on a step axis
    event: (e: TraceEvent) =>
      e.kind === "slice"
        ? undefined
        : store.event(machine ? { ...e, t: Math.max(0, machine.steps - 0.5) } : e),
  };
  const rr = replay(captured, cx, sink);
  const cpus = rr.machine.cpus.length;
  const timeline = buildStepTimeline(store, cpus, rr.rows);
  // In the trace one explore step lasts 1 us, so that Perfetto shows step k at k us.
  last = {
    store,
    meta: { counterexample: cx.target, steps: String(cx.steps), "time-unit": "1 us = 1 explore step" },
    nsPerUnit: 1000,
  };
  post(
    {
      type: "replayed",
      id,
      check: summary,
      counterexample: cx,
      reproduced: rr.reproduced,
      finding: rr.finding
        ? { kind: rr.finding.kind, message: rr.finding.message, step: rr.machine.steps }
        : null,
      rows: rr.rows,
      cpus,
      timeline,
    },
    timelineBuffers(timeline),
  );
}

/** The target a counterexample file describes (as `faultline replay` rebuilds it). */
function replayTarget(cx: Counterexample): CheckTarget {
  const problem = counterexampleProblem(cx);
  if (problem) throw new ModelUnavailableError(`not a counterexample this build can replay: ${problem}`);
  const t = targetFromCounterexample(cx);
  // A file without recorded kinds stopped at its first finding, which is the one it records.
  return t.kinds ? t : { ...t, kinds: [cx.finding.kind] };
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  try {
    if (msg.type === "run") run(msg);
    else if (msg.type === "export-trace") exportTrace(msg.id);
    else if (msg.type === "plots") plots(msg.id, msg.results);
    else if (msg.type === "check") checkRun(msg);
    else if (msg.type === "replay")
      replayAndPost(msg.id, replayTarget(msg.counterexample), msg.counterexample, null);
  } catch (e) {
    const kind =
      e instanceof ScenarioError ? "scenario" : e instanceof ModelUnavailableError ? "model" : "internal";
    const message =
      e instanceof Error ? (kind === "internal" ? `${e.message}\n${e.stack ?? ""}` : e.message) : String(e);
    post({ type: "error", id: msg.id, kind, message });
  }
};
