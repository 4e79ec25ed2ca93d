// `faultline serve`: a small static file server over web/dist (the page built by `npm run build:web`),
// on localhost. The simulator runs in the browser; the server only hands out files.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./io.js";

/** The built page: web/dist next to the package's src/ or dist/ (both are two levels below the root). */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "dist");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".yaml": "text/yaml; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
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
    throw new UsageError(`no built page in ${root}: run \`npm run build:web\` first`);
  const server = http.createServer((req, res) => serveFile(root, req, res));
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new UsageError(`port ${o.port} is already in use; choose another with --port`)
          : e.code === "EACCES"
            ? new UsageError(`not allowed to listen on port ${o.port}`)
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

function serveFile(root: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD" }).end();
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (rel.endsWith("/")) rel += "index.html";
  const file = path.resolve(root, `.${rel}`);
  if (file !== root && !file.startsWith(root + path.sep)) {
    res.writeHead(403).end();
    return;
  }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "Content-Type": TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": st.size,
      "Cache-Control": rel.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
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
