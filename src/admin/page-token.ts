import { createHash } from "node:crypto";
import { invalid } from "../domain/errors.js";
import type { Cursor } from "../store/key-store.js";

/**
 * Opaque page tokens: the position of the last item plus a fingerprint of the
 * query, so a token cannot be replayed against a different filter.
 */
function fingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}

export function encodePageToken(cursor: Cursor, query: unknown): string {
  return Buffer.from(
    JSON.stringify({ t: cursor.createdAt.getTime(), i: cursor.id, q: fingerprint(query) }),
  ).toString("base64url");
}

export function decodePageToken(token: string, query: unknown, field: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid(field, "is not a page token returned by this API");
  }
  const p = parsed as { t?: unknown; i?: unknown; q?: unknown };
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.t !== "number" ||
    typeof p.i !== "string" ||
    typeof p.q !== "string"
  ) {
    throw invalid(field, "is not a page token returned by this API");
  }
  if (p.q !== fingerprint(query))
    throw invalid(
      field,
      "was issued for a different query; repeat the same filters or start without a token",
    );
  return { createdAt: new Date(p.t), id: p.i };
}
