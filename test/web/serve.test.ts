// `faultline serve`'s static server: files with their types, 404s, no escape from the root, and a
// clear usage error when the page is not built.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/io.js";
import { startServer } from "../../src/cli/serve.js";

describe("faultline serve", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-serve-"));
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    fs.mkdirSync(path.join(root, "assets"));
    fs.writeFileSync(path.join(root, "index.html"), "<!doctype html><title>faultline</title>");
    fs.writeFileSync(
      path.join(root, "assets", "app.js"),
      `export const text = ${JSON.stringify("faultline ".repeat(2000))};\n`,
    );
    fs.writeFileSync(path.join(os.tmpdir(), `faultline-serve-secret-${process.pid}.txt`), "secret");
    server = await startServer({ root, port: 0 });
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(path.join(os.tmpdir(), `faultline-serve-secret-${process.pid}.txt`), { force: true });
  });

  it("listens on 127.0.0.1 and serves index.html for /", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const r = await fetch(server.url);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await r.text()).toContain("<title>faultline</title>");
  });

  it("serves assets with their type and long caching", async () => {
    const r = await fetch(`${server.url}assets/app.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(r.headers.get("cache-control")).toContain("immutable");
  });

  it("answers 404 for missing files and never serves outside its root", async () => {
    expect((await fetch(`${server.url}nope.js`)).status).toBe(404);
    const outside = await fetch(`${server.url}..%2Ffaultline-serve-secret-${process.pid}.txt`);
    expect([403, 404]).toContain(outside.status);
    expect(await outside.text()).not.toContain("secret");
    expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
  });

  it("compresses text (gzip, brotli), answers conditional GETs with 304 and serves byte ranges", async () => {
    const url = `${server.url}assets/app.js`;
    const gz = await fetch(url, { headers: { "Accept-Encoding": "gzip" } });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(await gz.text()).toContain("faultline faultline");
    const br = await fetch(url, { headers: { "Accept-Encoding": "br" } });
    expect(br.headers.get("content-encoding")).toBe("br");
    const etag = br.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await fetch(url, { headers: { "If-None-Match": etag! } });
    expect(again.status).toBe(304);
    const part = await fetch(url, { headers: { Range: "bytes=0-5", "Accept-Encoding": "identity" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("export");
  });

  it("refuses to start without a built page", () => {
    expect(() => startServer({ root: path.join(root, "missing") })).toThrow(UsageError);
  });
});
