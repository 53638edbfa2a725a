import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** DESIGN "Console": on every response under /console/, whatever its status. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

const HTML = "text/html; charset=utf-8";

/**
 * The only files served: a fixed table, so no request path ever reaches the
 * file system (no traversal, no listing). The bundle names are not hashed, so
 * the browser revalidates them instead of caching.
 */
const FILES: Readonly<Record<string, { file: string; type: string; cache: string }>> = {
  "/console/": { file: "index.html", type: HTML, cache: "no-store" },
  "/console/index.html": { file: "index.html", type: HTML, cache: "no-store" },
  "/console/app.js": { file: "app.js", type: "text/javascript; charset=utf-8", cache: "no-cache" },
  "/console/app.css": { file: "app.css", type: "text/css; charset=utf-8", cache: "no-cache" },
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keyward console not built</title></head>
<body><h1>The keyward console has not been built</h1>
<p>Run <code>npm run build</code> in the keyward checkout (or <code>npm start</code>, which builds it), then reload this page.</p></body></html>
`;

/** dist/console of the checkout, whether keyward runs from src/ (tsx) or dist/src/ (compiled). */
export function defaultConsoleDir(): string {
  const compiled = import.meta.url.endsWith(".js");
  return fileURLToPath(new URL(compiled ? "../../console" : "../../dist/console", import.meta.url));
}

function send(
  res: Response,
  status: number,
  type: string,
  cache: string,
  body: string | Buffer,
  head: boolean,
  extra: Record<string, string> = {},
): void {
  (res as ServerResponse).writeHead(status, {
    ...CONSOLE_HEADERS,
    "Content-Type": type,
    "Cache-Control": cache,
    ...extra,
  });
  if (head) res.end();
  else res.end(body);
}

/** Serves the built console at /console/; returns false for every other path. */
export function consoleStatic(dir: string): (req: Request, res: Response) => boolean {
  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    if (path !== "/console" && !path.startsWith("/console/")) return false;
    const head = req.method === "HEAD";
    if (req.method !== "GET" && !head) {
      send(
        res,
        405,
        "text/plain; charset=utf-8",
        "no-store",
        "method not allowed: the console is read with GET\n",
        head,
        { Allow: "GET, HEAD" },
      );
      return true;
    }
    if (path === "/console") {
      send(res, 308, "text/plain; charset=utf-8", "no-store", "moved to /console/\n", head, {
        Location: "/console/",
      });
      return true;
    }
    const entry = FILES[path];
    if (!entry) {
      send(res, 404, "text/plain; charset=utf-8", "no-store", "not found\n", head);
      return true;
    }
    readFile(join(dir, entry.file)).then(
      (body) => send(res, 200, entry.type, entry.cache, body, head),
      () =>
        entry.type === HTML
          ? send(res, 503, HTML, "no-store", NOT_BUILT, head)
          : send(
              res,
              404,
              "text/plain; charset=utf-8",
              "no-store",
              "not found: run npm run build\n",
              head,
            ),
    );
    return true;
  };
}
