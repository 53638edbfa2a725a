import { ROOT_WORKSPACE } from "./admin-policy.js";
import type { AuditEvent } from "./types.js";

/** The event types of DESIGN "Events". */
export const EVENT_TYPES = [
  "key.created",
  "key.updated",
  "key.revoked",
  "key.rotated",
  "key.leaked",
  "key.expiring",
  "finding.opened",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The audit actor of a leak report (src/admin/report-leaks.ts): its revoke is a leak. */
export const LEAK_REPORT_ACTOR = "leak-report";

const BY_ACTION: Record<AuditEvent["action"], EventType> = {
  create: "key.created",
  update: "key.updated",
  revoke: "key.revoked",
  rotate: "key.rotated",
};

/** Each audited change is one event; a leak report's revoke is key.leaked. */
export function eventTypeOfAudit(event: Pick<AuditEvent, "action" | "actorKeyId">): EventType {
  if (event.action === "revoke" && event.actorKeyId === LEAK_REPORT_ACTOR) return "key.leaked";
  return BY_ACTION[event.action];
}

const DAY_MS = 24 * 3600_000;
export const EXPIRY_THRESHOLDS = [
  { name: "1d", ms: DAY_MS },
  { name: "7d", ms: 7 * DAY_MS },
] as const;
export type ExpiryThreshold = (typeof EXPIRY_THRESHOLDS)[number]["name"];
/** How far ahead the expiry scan looks. */
export const EXPIRY_HORIZON_MS = 7 * DAY_MS;

/**
 * The nearest threshold a live key has crossed: a key found 12 hours before it
 * expires is warned once ("1d"), not twice. null when it is further away or past.
 */
export function expiryThreshold(expiresAt: Date, now: Date): ExpiryThreshold | null {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return null;
  return EXPIRY_THRESHOLDS.find((t) => left <= t.ms)?.name ?? null;
}

/**
 * One id per key, expiry instant and threshold: every replica computes the same,
 * so an insert by id makes each warning once; a changed expires_at is warned anew.
 */
export function expiryEventId(keyId: string, expiresAt: Date, threshold: ExpiryThreshold): string {
  return `exp_${keyId}_${expiresAt.getTime()}_${threshold}`;
}

/** Whether a webhook of `webhookWorkspace` listening to `events` (empty = all) receives this event. */
export function receives(
  webhook: { workspace: string; events: readonly string[] },
  event: { workspace: string; type: string },
): boolean {
  const inReach = webhook.workspace === ROOT_WORKSPACE || webhook.workspace === event.workspace;
  return inReach && (webhook.events.length === 0 || webhook.events.includes(event.type));
}

/** Retries give up this long after the event. */
export const GIVE_UP_AFTER_MS = 24 * 3600_000;
const MAX_RETRY_DELAY_MS = 3600_000;

/** Exponential backoff: base × 2^(attempts-1), at most an hour apart. */
export function retryDelayMs(attempts: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30), MAX_RETRY_DELAY_MS);
}

/** A URL is allowed when it starts with one of the operator's prefixes; an empty list allows nothing. */
export function urlViolation(url: string, allowlist: readonly string[]): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not an absolute URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    return "must be http:// or https://";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials";
  if (!allowlist.some((prefix) => underPrefix(parsed, prefix)))
    return `is outside WEBHOOK_URL_ALLOWLIST (${allowlist.join(", ")})`;
  return null;
}

/**
 * A string prefix of the normal form that covers the whole host name: a bare
 * `startsWith` would let `https://hooks.example.com` admit
 * `https://hooks.example.com.evil.net/`. A prefix ending exactly at the host
 * admits only the default port; `http://127.0.0.1:` (ending in the port) admits any.
 */
function underPrefix(url: URL, prefix: string): boolean {
  if (!url.href.startsWith(prefix)) return false;
  const hostEnd = `${url.protocol}//${url.hostname}`.length;
  return prefix.length > hostEnd || (prefix.length === hostEnd && url.port === "");
}
