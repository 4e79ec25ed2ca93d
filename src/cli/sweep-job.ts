// One sweep job (scenario text + overrides + seed) run to its result as JSON: in a worker thread
// (sweep-worker.ts) or in the sweep's own thread.
import { resultJson } from "../report/result.js";
import { loadScenario, type SetOption } from "../scenario/load.js";
import { catalog } from "../scenario/models.js";
import { runScenario } from "../scenario/run.js";

export interface SweepJob {
  index: number;
  text: string;
  file: string;
  sets: SetOption[];
  seed: number;
}

export interface SweepJobResult {
  index: number;
  /** resultJson() of the run, or undefined when it failed. */
  json?: string;
  error?: string;
}

export function runJob(job: SweepJob): SweepJobResult {
  try {
    const s = loadScenario(job.text, { file: job.file, sets: job.sets, catalog: catalog() });
    const r = runScenario(s, { seed: job.seed, sets: job.sets.map((x) => `${x.path}=${x.value}`) });
    return { index: job.index, json: resultJson(r) };
  } catch (e) {
    return { index: job.index, error: (e as Error)?.message ?? String(e) };
  }
}
