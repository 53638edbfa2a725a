/**
 * Usage as stored: one document per flush, folded hour or rolled-up day, the
 * same shape in every store. Scopes and domains are arrays of `{name, ...}`:
 * domain names contain dots, which MongoDB field names must not, and a scope
 * or domain may be named like an Object property ("constructor").
 */
import type { KeyId } from "../domain/types.js";
import { type Dict, dict, type UsageCounts, type UsagePeriod } from "../domain/usage.js";

export type PeriodKind = "flush" | "hour" | "day";

export interface ScopeEntry {
  name: string;
  allowed: number;
  denied: number;
  last_used_at: Date | null;
  granted_by: string;
}

export interface DomainEntry {
  name: string;
  calls: number;
  last_seen_at: Date;
}

export interface PeriodDoc {
  /** Random for a flush; `<key>|h|<hour iso>` or `<key>|d|<day iso>` for a fold, so only one can exist. */
  _id: string;
  key_id: string;
  workspace: string;
  kind: PeriodKind;
  start: Date;
  allowed: number;
  denied: number;
  /** Reason names (decision.ts) and UsageSource names are identifiers: safe as field names. */
  denied_by_reason: Record<string, number>;
  by_source: Record<string, number>;
  scopes: ScopeEntry[];
  domains: DomainEntry[];
  last_call_at: Date | null;
  last_allowed_at: Date | null;
}

export function foldedId(keyId: string, kind: "hour" | "day", start: Date): string {
  return `${keyId}|${kind === "hour" ? "h" : "d"}|${start.toISOString()}`;
}

const toDate = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));
const toMs = (d: Date | null | undefined): number | null => (d ? d.getTime() : null);

export function toPeriodDoc(_id: string, kind: PeriodKind, period: UsagePeriod): PeriodDoc {
  const c = period.counts;
  return {
    _id,
    key_id: period.keyId,
    workspace: period.workspace,
    kind,
    start: period.start,
    allowed: c.allowed,
    denied: c.denied,
    denied_by_reason: { ...c.deniedByReason },
    by_source: { ...c.bySource },
    scopes: Object.entries(c.scopes).map(([name, s]) => ({
      name,
      allowed: s.allowed,
      denied: s.denied,
      last_used_at: toDate(s.lastUsedAt),
      granted_by: s.grantedBy,
    })),
    domains: Object.entries(c.domains).map(([name, d]) => ({
      name,
      calls: d.calls,
      last_seen_at: new Date(d.lastSeenAt),
    })),
    last_call_at: toDate(c.lastCallAt),
    last_allowed_at: toDate(c.lastAllowedAt),
  };
}

/** Copies into null-prototype dicts, so a name like "constructor" is an ordinary entry. */
function dictOf(fields: Record<string, number> | undefined): Dict<number> {
  const d = dict<number>();
  for (const [name, n] of Object.entries(fields ?? {})) d[name] = n;
  return d;
}

export function countsOf(doc: PeriodDoc): UsageCounts {
  const counts: UsageCounts = {
    allowed: doc.allowed,
    denied: doc.denied,
    deniedByReason: dictOf(doc.denied_by_reason),
    bySource: dictOf(doc.by_source),
    scopes: dict(),
    domains: dict(),
    lastCallAt: toMs(doc.last_call_at),
    lastAllowedAt: toMs(doc.last_allowed_at),
  };
  for (const s of doc.scopes ?? []) {
    counts.scopes[s.name] = {
      allowed: s.allowed,
      denied: s.denied,
      lastUsedAt: toMs(s.last_used_at),
      grantedBy: s.granted_by,
    };
  }
  for (const d of doc.domains ?? [])
    counts.domains[d.name] = { calls: d.calls, lastSeenAt: d.last_seen_at.getTime() };
  return counts;
}

export function periodOf(doc: PeriodDoc, counts: UsageCounts = countsOf(doc)): UsagePeriod {
  return {
    keyId: doc.key_id as KeyId,
    workspace: doc.workspace,
    start: doc.start,
    granularity: doc.kind === "day" ? "day" : "hour",
    counts,
  };
}
