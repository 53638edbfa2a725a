import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { KeyStatus } from "../../gen/keyward/v1/key_admin_pb.js";

export function when(ts: Timestamp | undefined, empty = "—"): string {
  if (!ts) return empty;
  return `${timestampDate(ts).toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

/**
 * A key's state in words. A rotated key still ACTIVE is in its grace period:
 * "Retiring" until revoked_at, then keyward reports it revoked.
 */
export function statusLabel(k: { status: KeyStatus; successorId: string }): string {
  if (k.status === KeyStatus.ACTIVE) return k.successorId ? "Retiring" : "Active";
  if (k.status === KeyStatus.REVOKED) return "Revoked";
  if (k.status === KeyStatus.EXPIRED) return "Expired";
  return "Unknown";
}

export const EXPIRY_PRESETS = [
  { value: "never", label: "Never", days: null },
  { value: "30d", label: "30 days", days: 30 },
  { value: "90d", label: "90 days", days: 90 },
  { value: "1y", label: "1 year", days: 365 },
  { value: "date", label: "A date…", days: null },
] as const;
export type ExpiryChoice = (typeof EXPIRY_PRESETS)[number]["value"];

/** The expiry a form asked for, or an error naming the field; `date` is YYYY-MM-DD, taken as the end of that day UTC. */
export function expiryFrom(
  choice: ExpiryChoice,
  date: string,
  now: Date,
): { expiresAt: Timestamp | undefined } | { error: string } {
  if (choice === "never") return { expiresAt: undefined };
  const preset = EXPIRY_PRESETS.find((p) => p.value === choice);
  if (preset?.days)
    return { expiresAt: timestampFromDate(new Date(now.getTime() + preset.days * 86_400_000)) };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return { error: "Expiry date: pick a date" };
  const at = new Date(`${date}T23:59:59Z`);
  if (Number.isNaN(at.getTime()) || at <= now)
    return { error: "Expiry date: must be a day in the future" };
  return { expiresAt: timestampFromDate(at) };
}

/** "a.com, b.com" or one per line → host names; empty = any domain. */
export function domainsFrom(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((d) => d.trim())
    .filter((d) => d !== "");
}

export interface ScopeGroup {
  resource: string;
  scopes: Array<{ name: string; description: string; includes: string[] }>;
}

/** The catalog grouped by resource, in catalog order; `*` first on its own. */
export function groupScopes(
  scopes: Array<{ name: string; description: string; includes: string[] }>,
): ScopeGroup[] {
  const groups = new Map<string, ScopeGroup>();
  for (const s of scopes) {
    const resource = s.name === "*" ? "*" : (s.name.split(":")[0] ?? s.name);
    let g = groups.get(resource);
    if (!g) groups.set(resource, (g = { resource, scopes: [] }));
    g.scopes.push(s);
  }
  return [...groups.values()];
}

/** What a scope grants, in words: `*` and `resource:all` are the broad ones a reviewer should notice. */
export function scopeNote(s: { name: string; includes: string[] }): string {
  if (s.name === "*") return "Full access: every product scope, now and in the future.";
  if (s.name.endsWith(":all"))
    return "Every action of this resource, including actions added later.";
  if (s.includes.length > 0) return `Composite: grants ${s.includes.join(", ")}.`;
  return "";
}

export function countText(n: bigint | number): string {
  return Number(n).toLocaleString("en-US");
}

/** An audit change value (JSON in the record) as words: lists joined, empty as a dash. */
export function changeValueText(json: string): string {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return json || "—";
  }
  if (v === null || v === "" || (Array.isArray(v) && v.length === 0)) return "—";
  if (Array.isArray(v)) return v.map(String).join(", ");
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length ? entries.map(([k, x]) => `${k}=${String(x)}`).join(", ") : "—";
  }
  return String(v);
}
