// Every lock site `faultline explain` lists for the mm variants is reached by at least one built-in
// scenario (on its variant or one of its compare variants), so that removing any site can be shown.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildMmScenario } from "../../src/mm/scenario.js";
import { LOCK_SITES } from "../../src/mm/switches.js";
import { toMmWorkload } from "../../src/scenario/adapters/mm.js";
import { findVariant } from "../../src/scenario/catalog.js";
import { loadScenario } from "../../src/scenario/load.js";
import { catalog } from "../../src/scenario/models.js";
import { effectiveKnobs } from "../../src/scenario/run.js";

const DIR = path.resolve(import.meta.dirname, "../../scenarios");

/** The lock sites one timed run of a scenario on `variant` passes (every site check asks disabledSites). */
function sitesReached(file: string, variant: string, reached: Set<string>): void {
  const s0 = loadScenario(fs.readFileSync(file, "utf8"), { file, catalog: catalog() });
  const s = { ...s0, kernel: { ...s0.kernel, variant } };
  const v = findVariant(catalog(), variant)!;
  const { switches, costs } = effectiveKnobs(s, v, catalog());
  const b = buildMmScenario({
    variant: v.name,
    switches,
    costs,
    disableLockSites: s.kernel.disableLockSites,
    ...(s.kernel.faultInjection !== undefined ? { inject: s.kernel.faultInjection } : {}),
    cpus: s.machine.cpus,
    seed: 1,
    preempt: s.machine.preemption,
    workloads: s.workloads.filter((w) => w.enabled).map(toMmWorkload),
    latency: false,
  });
  const set = b.m.disabledSites;
  // a site no kernel step names: the fast paths skip has() on an empty set, and every check must ask
  set.add("test:no-such-site");
  const has = set.has.bind(set);
  set.has = (k: string) => {
    reached.add(k);
    return has(k);
  };
  b.m.run(Math.min(s.stop.time ?? 20e6, 20e6), 5e6);
}

describe("lock sites and built-in scenarios", () => {
  it("every lock site of the mm variants is reached by a built-in scenario", () => {
    const reached = new Set<string>();
    for (const f of fs.readdirSync(DIR).sort()) {
      if (!f.startsWith("pervma-")) continue;
      const file = path.join(DIR, f);
      const s = loadScenario(fs.readFileSync(file, "utf8"), { file, catalog: catalog() });
      for (const variant of new Set([s.kernel.variant, ...(s.compare ?? [])]))
        sitesReached(file, variant, reached);
    }
    const missing = LOCK_SITES.filter((x) => !reached.has(x));
    expect(missing).toEqual([]);
    const infos = catalog().variants.filter((v) => v.model === "mm");
    for (const v of infos) for (const site of v.lockSites) expect(reached.has(site)).toBe(true);
  }, 300_000);
});
