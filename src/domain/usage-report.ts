/**
 * GetKeyUsage in domain form: which range a request means (DESIGN's defaults and
 * bounds) and what a key's stored periods add up to over it.
 */

import { suggestedScopes, unusedScopes } from "./scope-suggestion.js";
import type { ScopeCatalog } from "./scopes.js";
import {
  capDomains,
  DAY_MS,
  type Dict,
  type DomainCounts,
  dayStart,
  dict,
  emptyCounts,
  HOUR_MS,
  hourStart,
  mergeCounts,
  OTHER_SCOPES,
  own,
  type ScopeCounts,
  type UsagePeriod,
} from "./usage.js";
import type { FieldViolation } from "./validation.js";

export type UsageGranularity = "hour" | "day";

export const DEFAULT_RANGE_DAYS = 30;
export const MAX_RANGE_DAYS = 400;
/** Unspecified granularity means hourly up to this range, daily beyond. */
export const HOURLY_RANGE_MS = 48 * HOUR_MS;
/** 400 days daily (401 once aligned) fit, and hourly up to 33 days, so the default 30 days can be asked hourly. */
export const MAX_BUCKETS = 800;
/** Domains listed in a report; the rest are folded into "(other)". */
export const MAX_REPORT_DOMAINS = 100;
/** Scope rows in one report: the most called, the rest summed as OTHER_SCOPES. */
export const MAX_REPORT_SCOPES = 200;

export interface UsageRange {
  /** Aligned down to the granularity, UTC. */
  start: Date;
  /** Exclusive, aligned up to the granularity, so the last bucket is whole. */
  end: Date;
  granularity: UsageGranularity;
}

export type RangeResult =
  | { ok: true; range: UsageRange }
  | { ok: false; violation: FieldViolation };

const unitOf = (g: UsageGranularity): number => (g === "hour" ? HOUR_MS : DAY_MS);
const alignDown = (ms: number, g: UsageGranularity): number =>
  g === "hour" ? hourStart(ms) : dayStart(ms);
const alignUp = (ms: number, g: UsageGranularity): number => {
  const down = alignDown(ms, g);
  return down === ms ? ms : down + unitOf(g);
};
const fail = (field: string, problem: string): RangeResult => ({
  ok: false,
  violation: { field, problem },
});
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * DESIGN's defaults: end = now, start = 30 days before end, hourly when the range
 * is 48 h or less, else daily; start before end; at most 400 days; at most
 * MAX_BUCKETS buckets. Field names are the proto's.
 */
export function resolveUsageRange(
  start: Date | null,
  end: Date | null,
  granularity: UsageGranularity | "unspecified",
  now: Date,
): RangeResult {
  const endMs = end === null ? now.getTime() : end.getTime();
  if (!Number.isFinite(endMs)) return fail("end_time", "is not a valid time");
  const startMs = start === null ? endMs - DEFAULT_RANGE_DAYS * DAY_MS : start.getTime();
  if (!Number.isFinite(startMs)) return fail("start_time", "is not a valid time");
  if (startMs >= endMs)
    return fail(
      "start_time",
      `must be before end_time (${iso(startMs)} is not before ${iso(endMs)})`,
    );
  const days = (endMs - startMs) / DAY_MS;
  if (days > MAX_RANGE_DAYS)
    return fail(
      "start_time",
      `the range is at most ${MAX_RANGE_DAYS} days; got ${Math.ceil(days)} days`,
    );
  const g =
    granularity !== "unspecified"
      ? granularity
      : endMs - startMs <= HOURLY_RANGE_MS
        ? "hour"
        : "day";
  const range = {
    start: new Date(alignDown(startMs, g)),
    end: new Date(alignUp(endMs, g)),
    granularity: g,
  };
  const buckets = (range.end.getTime() - range.start.getTime()) / unitOf(g);
  if (buckets > MAX_BUCKETS) {
    return fail(
      "granularity",
      `hourly covers at most ${MAX_BUCKETS} hours; got ${buckets}: ask for USAGE_GRANULARITY_DAY or a shorter range`,
    );
  }
  return { ok: true, range };
}

export interface UsageBucket {
  start: Date;
  allowed: number;
  denied: number;
  deniedByReason: Dict<number>;
}

export interface ScopeUsage {
  scope: string;
  allowed: number;
  denied: number;
  lastUsedAt: Date | null;
  grantedBy: string;
}

export interface DomainUsage {
  domain: string;
  calls: number;
  lastSeenAt: Date;
}

/** GetKeyUsageResponse without key_id. */
export interface UsageReport {
  buckets: UsageBucket[];
  allowed: number;
  denied: number;
  deniedByReason: Dict<number>;
  bySource: Dict<number>;
  /** Sorted by scope name. */
  scopes: ScopeUsage[];
  /** Most calls first, then by name. */
  domains: DomainUsage[];
  unusedScopes: string[];
  suggestedScopes: string[];
}

export interface UsageQuery extends UsageRange {
  /**
   * One key's stored periods; they must not overlap (an hour and the day that
   * holds it). Each counts in the bucket holding its start, so a day-long
   * period asked for hourly lands in its first hour; periods outside the range
   * are left out.
   */
  periods: readonly UsagePeriod[];
  heldScopes: readonly string[];
  catalog: ScopeCatalog;
}

/** Every bucket of the range in order, zeros included; totals over the same periods. */
export function summarizeUsage(q: UsageQuery): UsageReport {
  const buckets = emptyBuckets(q);
  const index = new Map(buckets.map((b) => [b.start.getTime(), b]));
  const total = emptyCounts();
  for (const period of q.periods) {
    const bucket = index.get(alignDown(period.start.getTime(), q.granularity));
    if (bucket === undefined) continue;
    addToBucket(bucket, period);
    mergeCounts(total, period.counts);
  }
  const used = Object.entries(total.scopes).flatMap(([scope, s]) => (s.allowed > 0 ? [scope] : []));
  return {
    buckets,
    allowed: total.allowed,
    denied: total.denied,
    deniedByReason: total.deniedByReason,
    bySource: total.bySource,
    scopes: scopeRows(total.scopes),
    domains: domainRows(capDomains(total, MAX_REPORT_DOMAINS).domains),
    unusedScopes: unusedScopes(q.heldScopes, used, q.catalog),
    suggestedScopes: suggestedScopes(q.catalog, q.heldScopes, used),
  };
}

function emptyBuckets(range: UsageRange): UsageBucket[] {
  const unit = unitOf(range.granularity);
  const first = alignDown(range.start.getTime(), range.granularity);
  const count = Math.ceil((range.end.getTime() - first) / unit);
  if (!(count <= MAX_BUCKETS))
    throw new RangeError(
      `a usage report holds at most ${MAX_BUCKETS} buckets, asked for ${count}: resolve the range first`,
    );
  return Array.from({ length: Math.max(count, 0) }, (_, i) => ({
    start: new Date(first + i * unit),
    allowed: 0,
    denied: 0,
    deniedByReason: dict<number>(),
  }));
}

function addToBucket(bucket: UsageBucket, period: UsagePeriod): void {
  bucket.allowed += period.counts.allowed;
  bucket.denied += period.counts.denied;
  for (const [reason, n] of Object.entries(period.counts.deniedByReason)) {
    bucket.deniedByReason[reason] = (own(bucket.deniedByReason, reason) ?? 0) + n;
  }
}

function scopeRows(scopes: Dict<ScopeCounts>): ScopeUsage[] {
  const byCalls = Object.entries(scopes)
    .filter(([name]) => name !== OTHER_SCOPES)
    .sort(
      ([an, a], [bn, b]) => b.allowed + b.denied - (a.allowed + a.denied) || (an < bn ? -1 : 1),
    );
  const kept = byCalls.slice(0, MAX_REPORT_SCOPES);
  const rest = [
    ...byCalls.slice(MAX_REPORT_SCOPES).map(([, c]) => c),
    ...(own(scopes, OTHER_SCOPES) ? [own(scopes, OTHER_SCOPES)!] : []),
  ];
  if (rest.length > 0) kept.push([OTHER_SCOPES, foldScopes(rest)]);
  return kept
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([scope, s]) => ({
      scope,
      allowed: s.allowed,
      denied: s.denied,
      lastUsedAt: s.lastUsedAt === null ? null : new Date(s.lastUsedAt),
      grantedBy: s.grantedBy,
    }));
}

function domainRows(domains: Dict<DomainCounts>): DomainUsage[] {
  return Object.entries(domains)
    .sort(([an, a], [bn, b]) => b.calls - a.calls || (an < bn ? -1 : an > bn ? 1 : 0))
    .map(([domain, d]) => ({ domain, calls: d.calls, lastSeenAt: new Date(d.lastSeenAt) }));
}

function foldScopes(parts: readonly ScopeCounts[]): ScopeCounts {
  let lastUsedAt: number | null = null;
  for (const p of parts)
    if (p.lastUsedAt !== null && (lastUsedAt === null || p.lastUsedAt > lastUsedAt))
      lastUsedAt = p.lastUsedAt;
  return {
    allowed: parts.reduce((n, p) => n + p.allowed, 0),
    denied: parts.reduce((n, p) => n + p.denied, 0),
    lastUsedAt,
    grantedBy: "",
  };
}
