// Shared set-up of the web page tests: build the page with vite unless web/dist/ is current, serve it
// with `faultline serve`'s server on 127.0.0.1 and a free port, and drive Debian's Chromium through
// playwright-core.
import * as fs from "node:fs";
import type { Server } from "node:http";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { startServer } from "../../src/cli/serve.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ARTIFACTS = path.join(ROOT, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface Harness {
  url: string;
  browser: Browser;
  page(): Promise<Page>;
  close(): Promise<void>;
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** Newest (max) or oldest (min) modification time of the files under `p` (a file or a folder). */
function mtime(p: string, pick: (a: number, b: number) => number, start: number): number {
  if (!fs.statSync(p).isDirectory()) return fs.statSync(p).mtimeMs;
  let t = start;
  for (const e of fs.readdirSync(p)) t = pick(t, mtime(path.join(p, e), pick, start));
  return t;
}

/**
 * web/dist/ as `npm run build` (and so `npm ci`) leaves it is newer than everything the page is built
 * from: then the tests serve it as it is, otherwise they build it first.
 */
function webDistFresh(): boolean {
  const dist = path.join(ROOT, "web", "dist");
  if (!fs.existsSync(path.join(dist, "index.html"))) return false;
  const inputs = ["src", "scenarios", "web/src", "web/index.html", "web/vite.config.ts", "package-lock.json"];
  const newest = Math.max(...inputs.map((p) => mtime(path.join(ROOT, p), Math.max, 0)));
  return mtime(dist, Math.min, Number.POSITIVE_INFINITY) > newest;
}

export async function startHarness(): Promise<Harness> {
  if (!webDistFresh())
    await build({ configFile: path.join(ROOT, "web", "vite.config.ts"), logLevel: "error" });
  const server: Server & { url: string } = await startServer({
    root: path.join(ROOT, "web", "dist"),
    port: 0,
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const errors: string[] = [];
  return {
    url: server.url,
    browser,
    async page() {
      const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      p.on("pageerror", (e) => errors.push(String(e)));
      p.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      (p as Page & { errors: string[] }).errors = errors;
      return p;
    },
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export function pageErrors(p: Page): string[] {
  return (p as Page & { errors?: string[] }).errors ?? [];
}

export async function screenshot(p: Page, name: string, fullPage = true): Promise<string> {
  const file = path.join(ARTIFACTS, name);
  await p.screenshot({ path: file, fullPage });
  return file;
}
