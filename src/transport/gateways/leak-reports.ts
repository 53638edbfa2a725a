import { type KeyObject, verify } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Logger } from "pino";
import { type LeakedToken, type LeakFeedback, parseLeakReport } from "../../domain/leak-report.js";
import type { LeakReportKeys } from "./leak-report-keys.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export const LEAK_REPORTS_PATH = "/v1/leak-reports";
/** DESIGN: at most 1 MiB of report. */
export const MAX_REPORT_BYTES = 1024 * 1024;
/** Reports read at once: bodies are held in memory until their signature is checked. */
export const MAX_REPORTS_IN_FLIGHT = 8;
const UNSIGNED =
  "Github-Public-Key-Identifier and Github-Public-Key-Signature must name a trusted key and sign the body";

export interface LeakReportDeps {
  keys: LeakReportKeys;
  judge: (tokens: readonly LeakedToken[]) => Promise<LeakFeedback[]>;
  log: Logger;
}

function answer(
  res: Response,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  (res as ServerResponse).writeHead(status, {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    ...extra,
  });
  res.end(JSON.stringify(body));
}

function problem(
  res: Response,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  answer(res, status, { statusCode: status, message }, extra);
}

/** The raw body, or null once it passes the limit (the answer is then 413). */
function readBody(req: Request, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The trusted key and signature a report claims, or null: checked before a byte of the body is read. */
function claimedSigner(
  req: Request,
  keys: LeakReportKeys,
): { key: KeyObject; signature: string } | null {
  const id = req.headers["github-public-key-identifier"];
  const signature = req.headers["github-public-key-signature"];
  if (typeof id !== "string" || typeof signature !== "string") return null;
  const key = keys.get(id);
  return key ? { key, signature } : null;
}

/** GitHub signs the raw body: base64 of an ASN.1 (DER) ECDSA P-256 SHA-256 signature. */
function signedBy(
  body: Buffer,
  { key, signature }: { key: KeyObject; signature: string },
): boolean {
  try {
    return verify("sha256", body, { key, dsaEncoding: "der" }, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/**
 * `POST /v1/leak-reports`: a secret scanner reports keys it found in public.
 * Nothing is done for a body that is not signed by a trusted key. Tokens are
 * never logged, not even the false positives.
 */
export function leakReports(deps: LeakReportDeps): (req: Request, res: Response) => boolean {
  let inFlight = 0;
  return (req, res) => {
    const url = req.url ?? "";
    if (url !== LEAK_REPORTS_PATH && !url.startsWith(`${LEAK_REPORTS_PATH}?`)) return false;
    if (req.method !== "POST") {
      problem(res, 405, "leak reports are POSTed", { Allow: "POST" });
      return true;
    }
    if (Number(req.headers["content-length"] ?? 0) > MAX_REPORT_BYTES) {
      problem(res, 413, `a leak report is at most ${MAX_REPORT_BYTES} bytes`, {
        Connection: "close",
      });
      return true;
    }
    // Unsigned or unknown signer: refused before the body is read, so junk costs no memory.
    const signer = claimedSigner(req, deps.keys);
    if (signer === null) {
      problem(res, 401, UNSIGNED, { Connection: "close" });
      return true;
    }
    if (inFlight >= MAX_REPORTS_IN_FLIGHT) {
      problem(res, 503, "too many leak reports at once; retry later", {
        "Retry-After": "1",
        Connection: "close",
      });
      return true;
    }
    inFlight++;
    handle(req, res, deps, signer)
      .catch((err: unknown) => {
        deps.log.warn({ err }, "leak report could not be handled");
        if (!res.headersSent) problem(res, 503, "keyward could not judge the report; retry later");
      })
      .finally(() => inFlight--);
    return true;
  };
}

async function handle(
  req: Request,
  res: Response,
  deps: LeakReportDeps,
  signer: { key: KeyObject; signature: string },
): Promise<void> {
  const body = await readBody(req, MAX_REPORT_BYTES);
  if (body === null)
    return problem(res, 413, `a leak report is at most ${MAX_REPORT_BYTES} bytes`, {
      Connection: "close",
    });
  if (!signedBy(body, signer)) return problem(res, 401, UNSIGNED);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return problem(res, 400, "body: is not JSON");
  }
  const report = parseLeakReport(json);
  if (!report.ok)
    return problem(res, 400, `${report.violation.field}: ${report.violation.problem}`);
  const feedback = await deps.judge(report.tokens);
  const revoked = feedback.filter((f) => f.label === "true_positive").length;
  deps.log.info({ tokens: feedback.length, truePositives: revoked }, "leak report judged");
  answer(res, 200, feedback);
}
