import type { FieldViolation } from "./validation.js";

/**
 * GitHub's secret scanning partner format, which internal scanners can send too:
 * a JSON array of matches. Pure rules: the transport checks the signature and
 * the size, then asks these what the body says and how to answer.
 */
export interface LeakedToken {
  token: string;
  type: string;
  url: string;
  source: string;
}

export type Label = "true_positive" | "false_positive";

export interface LeakFeedback {
  token_hash: string;
  token_type: string;
  label: Label;
}

/** GitHub batches matches; a report far beyond that is a mistake or an attack. */
export const MAX_TOKENS_PER_REPORT = 1000;
const MAX_TOKEN_LENGTH = 1024;

export type ParsedReport =
  | { ok: true; tokens: LeakedToken[] }
  | { ok: false; violation: FieldViolation };

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

export function parseLeakReport(body: unknown): ParsedReport {
  if (!Array.isArray(body))
    return {
      ok: false,
      violation: { field: "body", problem: "must be a JSON array of {token, type, url, source}" },
    };
  if (body.length > MAX_TOKENS_PER_REPORT)
    return {
      ok: false,
      violation: {
        field: "body",
        problem: `at most ${MAX_TOKENS_PER_REPORT} tokens per report, got ${body.length}`,
      },
    };
  const tokens: LeakedToken[] = [];
  for (const [i, item] of body.entries()) {
    const token = text((item as { token?: unknown } | null)?.token);
    if (token === "")
      return {
        ok: false,
        violation: { field: `[${i}].token`, problem: "must be a non-empty string" },
      };
    if (token.length > MAX_TOKEN_LENGTH)
      return {
        ok: false,
        violation: {
          field: `[${i}].token`,
          problem: `must be at most ${MAX_TOKEN_LENGTH} characters`,
        },
      };
    const { type, url, source } = item as Record<string, unknown>;
    tokens.push({ token, type: text(type), url: text(url), source: text(source) });
  }
  return { ok: true, tokens };
}

/** Printable ASCII only, bounded: the reason is shown to operators and lives in the audit trail. */
function printable(value: string, max: number): string {
  const clean = value.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** The revoke reason DESIGN names: `leaked (<source>): <url>`, within the reason's 500 characters. */
export function leakRevokeReason(token: LeakedToken): string {
  return `leaked (${printable(token.source || "unknown source", 60)}): ${printable(token.url || "no url given", 420)}`;
}
