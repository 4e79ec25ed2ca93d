// The page's form and link format without a browser: what the form shows for a scenario, which
// overrides it sends, and the URL round trip.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { catalog } from "../../src/scenario/models.js";
import { defaultForm, describeScenario, setsFor } from "../../web/src/form.js";
import { readUrl, writeUrl } from "../../web/src/url.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const text = fs.readFileSync(path.join(ROOT, "scenarios", "softlockup-demo.yaml"), "utf8");

describe("web form", () => {
  it("describes a scenario: machine, variant, seed and workload scalars with their paths", () => {
    const info = describeScenario(text, "scenarios/softlockup-demo.yaml", catalog());
    expect(info.ok).toBe(true);
    expect(info).toMatchObject({ variant: "generic", model: "sim", cpus: 2, preemption: "none", seed: 1 });
    expect(info.fields.map((f) => f.path)).toEqual(
      expect.arrayContaining(["workloads[0].cpu", "workloads[0].duration", "stop.time"]),
    );
    expect(info.fields.find((f) => f.path === "workloads[0].duration")!.value).toBe("25s");
  });

  it("sends only what differs from the file, plus link overrides of fields it does not show", () => {
    const info = describeScenario(text, "x.yaml", catalog());
    const f = defaultForm(info);
    expect(setsFor(info, f, "a")).toEqual([]);
    f.preemptionB = "full";
    f.cpus = "4";
    f.fields["workloads[0].duration"] = "30s";
    f.fields["workloads[0].condReschedEvery"] = "1ms";
    expect(setsFor(info, f, "a")).toEqual([
      { path: "machine.cpus", value: "4" },
      { path: "workloads[0].duration", value: "30s" },
      { path: "workloads[0].condReschedEvery", value: "1ms" },
    ]);
    expect(setsFor(info, f, "b")).toContainEqual({ path: "machine.preemption", value: "full" });
  });

  it("reports scenario problems with file:line:column", () => {
    const info = describeScenario(text.replace("cpus: 2", "cpus: 0"), "bad.yaml", catalog());
    expect(info.ok).toBe(false);
    expect(info.problems[0]).toMatch(/^bad\.yaml:\d+:\d+: machine\.cpus: found 0/);
  });

  it("keeps scenario, variant, seed and overrides in the link", () => {
    const u = {
      scenario: "iomap-s1",
      variant: "5.16",
      seed: 7,
      vs: "5.17",
      sets: [{ path: "workloads[0].size", value: "20GiB" }],
      run: true,
    };
    const q = writeUrl(u);
    expect(q).toBe("?scenario=iomap-s1&variant=5.16&seed=7&vs=5.17&set=workloads%5B0%5D.size%3D20GiB&run");
    expect(readUrl(q)).toEqual({ ...u, cpus: undefined, preempt: undefined, vsPreempt: undefined });
  });
});
