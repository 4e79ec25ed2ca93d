// The page's shareable state in the URL: scenario, variant, seed, machine and workload overrides.
import type { SetPair } from "./protocol.js";

export interface UrlState {
  scenario?: string;
  variant?: string;
  seed?: number;
  cpus?: number;
  preempt?: string;
  /** Compare against this variant (and preemption model). */
  vs?: string;
  vsPreempt?: string;
  sets: SetPair[];
  run: boolean;
}

export function readUrl(search: string): UrlState {
  const q = new URLSearchParams(search);
  const num = (k: string) => {
    const v = q.get(k);
    return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const sets: SetPair[] = [];
  for (const s of q.getAll("set")) {
    const eq = s.indexOf("=");
    if (eq > 0) sets.push({ path: s.slice(0, eq), value: s.slice(eq + 1) });
  }
  return {
    scenario: q.get("scenario") ?? undefined,
    variant: q.get("variant") ?? undefined,
    seed: num("seed"),
    cpus: num("cpus"),
    preempt: q.get("preempt") ?? undefined,
    vs: q.get("vs") ?? undefined,
    vsPreempt: q.get("vsPreempt") ?? undefined,
    sets,
    run: q.has("run"),
  };
}

export function writeUrl(s: UrlState): string {
  const q = new URLSearchParams();
  if (s.scenario) q.set("scenario", s.scenario);
  if (s.variant) q.set("variant", s.variant);
  if (s.seed !== undefined) q.set("seed", String(s.seed));
  if (s.cpus !== undefined) q.set("cpus", String(s.cpus));
  if (s.preempt) q.set("preempt", s.preempt);
  if (s.vs) q.set("vs", s.vs);
  if (s.vsPreempt) q.set("vsPreempt", s.vsPreempt);
  for (const p of s.sets) q.append("set", `${p.path}=${p.value}`);
  if (s.run) q.set("run", "");
  const str = q.toString().replace(/run=(&|$)/, "run$1");
  return str === "" ? "" : `?${str}`;
}
