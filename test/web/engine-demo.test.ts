// The web page on the engine demo: a kthread spinning 25 s without cond_resched() on 2 CPUs, run under
// PREEMPT_NONE and PREEMPT (full) side by side: the soft lockup shows on the NONE side only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, type Harness, pageErrors, screenshot, startHarness } from "./harness.js";

describe.skipIf(!chromiumAvailable())("web page: engine demo", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("compares PREEMPT_NONE and PREEMPT on softlockup-demo: soft lockup on one side only", async () => {
    const p = await h.page();
    await p.goto(`${h.url}?scenario=softlockup-demo&preempt=none&vs=generic&vsPreempt=full&run`);
    await p
      .getByTestId("verdict-0")
      .waitFor({ timeout: 60_000 })
      .catch(async (e) => {
        await screenshot(p, "web-engine-demo-failed.png");
        throw new Error(
          `${e}\npage errors: ${pageErrors(p).join("\n")}\n${(await p.locator("body").innerText()).slice(0, 2000)}`,
        );
      });
    await p.getByTestId("verdict-1").waitFor({ timeout: 60_000 });
    expect(await p.getByTestId("verdict-0").textContent()).toContain("soft_lockup");
    expect(await p.getByTestId("verdict-1").textContent()).toBe("No findings.");
    expect(await p.getByTestId("dmesg-0").textContent()).toContain(
      "watchdog: BUG: soft lockup - CPU#1 stuck for",
    );
    // the timelines are drawn, and zooming redraws them
    const tl = p.getByTestId("timeline-0").locator("canvas");
    await tl.waitFor();
    const box = (await tl.boundingBox())!;
    expect(box.height).toBeGreaterThan(40);
    await p.mouse.move(box.x + box.width * 0.6, box.y + 40);
    await p.mouse.wheel(0, -600);
    await p.getByTestId("plots").waitFor({ timeout: 60_000 });
    expect(await p.getByTestId("compare-report").textContent()).toContain("findings");
    // the URL keeps scenario, variant and seed
    expect(p.url()).toContain("scenario=softlockup-demo");
    expect(p.url()).toContain("seed=1");
    await screenshot(p, "web-engine-demo.png");
    expect(pageErrors(p)).toEqual([]);
  });
});
