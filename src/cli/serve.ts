// `faultline serve`: the built web page (web/dist, built by `npm run build`) on localhost, served by sirv
// (ETag, conditional GET, range requests, no escape from the root) behind the `compression` middleware
// (gzip/brotli for text). The simulator runs in the browser; the server only hands out files.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import compression from "compression";
import sirv from "sirv";
import { UsageError } from "./io.js";

/** The built page: web/dist next to the package's src/ or dist/ (both are two levels below the root). */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "dist");

/** Types sirv's table lacks or gives without a charset. */
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".yaml": "text/yaml; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};

export interface ServeOptions {
  /** Directory to serve (default WEB_DIST). */
  root?: string;
  port?: number;
  host?: string;
}

/** Starts the server; resolves once it listens. */
export function startServer(o: ServeOptions = {}): Promise<http.Server & { url: string }> {
  const root = path.resolve(o.root ?? WEB_DIST);
  if (!fs.existsSync(path.join(root, "index.html")))
    throw new UsageError(`no built page in ${root}: run \`npm run build\` first`);
  const files = sirv(root, {
    etag: true,
    dev: false,
    setHeaders(res, pathname) {
      const type = TYPES[pathname.endsWith("/") ? ".html" : path.extname(pathname).toLowerCase()];
      if (type) res.setHeader("Content-Type", type);
      res.setHeader(
        "Cache-Control",
        pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      );
      res.setHeader("X-Content-Type-Options", "nosniff");
    },
  });
  const compress = compression();
  const notFound = (res: http.ServerResponse): void => {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
  };
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    compress(req as never, res as never, () => files(req, res, () => notFound(res)));
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new UsageError(`port ${o.port} is already in use; choose another with --port`)
          : e.code === "EACCES"
            ? new UsageError(`not allowed to listen on port ${o.port}`)
            : e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND"
              ? new UsageError(`--host ${o.host}: not an address of this machine`)
              : e,
      ),
    );
    server.listen(o.port ?? 8080, o.host ?? "127.0.0.1", () => {
      const a = server.address() as AddressInfo;
      const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
      resolve(Object.assign(server, { url: `http://${host}:${a.port}/` }));
    });
  });
}

/** `faultline serve`: serves until interrupted. */
export async function runServe(o: { port?: string; host?: string }): Promise<number> {
  const portText = o.port ?? "8080";
  if (!/^\d+$/.test(portText) || Number(portText) > 65535)
    throw new UsageError(`--port: expected a port number from 0 to 65535, got "${portText}"`);
  const server = await startServer({ port: Number(portText), host: o.host ?? "127.0.0.1" });
  process.stdout.write(`faultline: serving the web page at ${server.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
