/**
 * The counts keyward keeps of what each key does, and their arithmetic. Pure:
 * time comes in as milliseconds since the epoch (UTC); nothing here reads a clock.
 *
 * Maps from a name to a count are null-prototype objects (`dict()`), chosen over
 * Map so a store can write and read them as they are (JSON, BSON); every read goes
 * through `Object.hasOwn`, so a scope or domain named like an Object property
 * ("constructor" is a valid host name) is an ordinary entry even in a plain
 * object a driver handed back.
 */
import type { Reason } from "./decision.js";
import type { KeyId } from "./types.js";

export type UsageSource = "grpc" | "connect" | "forward_auth" | "ext_authz";
export const USAGE_SOURCES: readonly UsageSource[] = [
  "grpc",
  "connect",
  "forward_auth",
  "ext_authz",
];

/** Decisions before a key is found name none, so they are counted nowhere per key. */
export type RecordedReason = Exclude<Reason, "KEY_MISSING" | "KEY_MALFORMED" | "KEY_NOT_FOUND">;

export function isRecordedReason(reason: Reason): reason is RecordedReason {
  return reason !== "KEY_MISSING" && reason !== "KEY_MALFORMED" && reason !== "KEY_NOT_FOUND";
}

export type Dict<T> = Record<string, T>;

export function dict<T>(): Dict<T> {
  return Object.create(null) as Dict<T>;
}

export function own<T>(d: Dict<T>, name: string): T | undefined {
  return Object.hasOwn(d, name) ? d[name] : undefined;
}

export interface ScopeCounts {
  /** Allowed calls that required the scope. */
  allowed: number;
  /** SCOPE_MISSING calls where this scope was among the missing ones. */
  denied: number;
  /** The last allowed call that required it (ms), null when none was allowed. */
  lastUsedAt: number | null;
  /** The held scope that satisfied it at lastUsedAt (see scope-suggestion `grantedBy`); "" if never allowed. */
  grantedBy: string;
}

export interface DomainCounts {
  /** Decisions naming the key that asked for this domain, allowed or denied. */
  calls: number;
  lastSeenAt: number;
}

/** One key's counts over one period (an hour, a day, a range). */
export interface UsageCounts {
  allowed: number;
  denied: number;
  /** Reason name (decision.ts `Reason`) → denied calls. */
  deniedByReason: Dict<number>;
  /** UsageSource → calls, allowed or denied. */
  bySource: Dict<number>;
  /** Required scope as callers asked for it → counts. */
  scopes: Dict<ScopeCounts>;
  /** Normalised domain, or OTHER_DOMAINS → counts. */
  domains: Dict<DomainCounts>;
  /** Any decision naming the key (ms). */
  lastCallAt: number | null;
  lastAllowedAt: number | null;
}

/** Per key and hour, at most this many distinct domains are named; the rest count as OTHER_DOMAINS. */
export const HOURLY_DOMAIN_CAP = 20;
/** Not a host name (parentheses), so no real domain can collide with it. */
export const OTHER_DOMAINS = "(other)";
/**
 * Per key and hour, at most this many distinct required scopes are named; the
 * rest count as OTHER_SCOPES. Callers choose required scopes (a `*` key is
 * allowed any, a denied call may name made-up ones), so without a bound one
 * caller could grow a key's counts, and its stored documents, without limit.
 */
export const HOURLY_SCOPE_CAP = 100;
/** Not a scope (parentheses): scope rules never match it. */
export const OTHER_SCOPES = "(other)";

export interface UsagePeriod {
  keyId: KeyId;
  workspace: string;
  /** The period's first instant: an hour or a day start, UTC. */
  start: Date;
  granularity: "hour" | "day";
  counts: UsageCounts;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export function hourStart(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function emptyCounts(): UsageCounts {
  return {
    allowed: 0,
    denied: 0,
    deniedByReason: dict(),
    bySource: dict(),
    scopes: dict(),
    domains: dict(),
    lastCallAt: null,
    lastAllowedAt: null,
  };
}

/** One decision that named a key, as the recorder sees it. */
export interface UsageCall {
  at: number;
  reason: RecordedReason;
  source: UsageSource;
  requiredScopes: readonly string[];
  /** Decision.missingScopes: non-empty only on SCOPE_MISSING. */
  missingScopes: readonly string[];
  /** Normalised, or null when the request named none. */
  domain: string | null;
}

/**
 * Adds one decision to `counts`, which must hold a single key's hour (the domain
 * cap is per hour). `grantedByOf` is asked only on a scope's first allowed use in
 * these counts, so a key already seen this hour costs no further look-ups and,
 * for scopes and a domain already present, no allocation.
 */
export function countCall(
  counts: UsageCounts,
  call: UsageCall,
  grantedByOf: (scope: string) => string,
  domainCap = HOURLY_DOMAIN_CAP,
): UsageCounts {
  const allowed = call.reason === "OK";
  if (allowed) counts.allowed++;
  else {
    counts.denied++;
    add(counts.deniedByReason, call.reason, 1);
  }
  add(counts.bySource, call.source, 1);
  counts.lastCallAt = later(counts.lastCallAt, call.at);
  if (allowed) {
    counts.lastAllowedAt = later(counts.lastAllowedAt, call.at);
    const required = call.requiredScopes;
    // indexOf dedupes without allocating; required scopes are few (at most 100).
    for (let i = 0; i < required.length; i++) {
      const scope = required[i] as string;
      if (required.indexOf(scope) === i)
        countAllowedScope(counts.scopes, scope, call.at, grantedByOf);
    }
  } else {
    for (const scope of call.missingScopes) scopeEntry(counts.scopes, scope).denied++;
  }
  if (call.domain !== null) countDomain(counts.domains, call.domain, call.at, domainCap);
  return counts;
}

function countAllowedScope(
  scopes: Dict<ScopeCounts>,
  scope: string,
  at: number,
  grantedByOf: (scope: string) => string,
): void {
  const entry = scopeEntry(scopes, scope);
  entry.allowed++;
  if (entry.grantedBy === "") entry.grantedBy = grantedByOf(scope);
  entry.lastUsedAt = later(entry.lastUsedAt, at);
}

function scopeEntry(scopes: Dict<ScopeCounts>, scope: string): ScopeCounts {
  let entry = own(scopes, scope);
  if (entry === undefined) {
    const name = namedScopes(scopes) >= HOURLY_SCOPE_CAP ? OTHER_SCOPES : scope;
    entry = own(scopes, name);
    if (entry === undefined) {
      entry = { allowed: 0, denied: 0, lastUsedAt: null, grantedBy: "" };
      scopes[name] = entry;
    }
  }
  return entry;
}

function namedScopes(scopes: Dict<ScopeCounts>): number {
  let n = 0;
  for (const name in scopes) if (name !== OTHER_SCOPES && Object.hasOwn(scopes, name)) n++;
  return n;
}

function countDomain(domains: Dict<DomainCounts>, domain: string, at: number, cap: number): void {
  let name = domain;
  if (own(domains, name) === undefined && namedDomains(domains) >= cap) name = OTHER_DOMAINS;
  const entry = own(domains, name);
  if (entry === undefined) domains[name] = { calls: 1, lastSeenAt: at };
  else {
    entry.calls++;
    entry.lastSeenAt = Math.max(entry.lastSeenAt, at);
  }
}

function namedDomains(domains: Dict<DomainCounts>): number {
  let n = 0;
  for (const name in domains) if (name !== OTHER_DOMAINS && Object.hasOwn(domains, name)) n++;
  return n;
}

function add(d: Dict<number>, name: string, n: number): void {
  d[name] = (own(d, name) ?? 0) + n;
}

function later(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.max(a, b);
}

/**
 * Adds `from` into `into` exactly (sums; the later of each timestamp) and returns
 * `into`. No domain cap: merge an hour's parts first, then `capDomains` once, so
 * which domains are kept does not depend on the order the parts came in.
 */
export function mergeCounts(into: UsageCounts, from: UsageCounts): UsageCounts {
  into.allowed += from.allowed;
  into.denied += from.denied;
  for (const [reason, n] of Object.entries(from.deniedByReason))
    add(into.deniedByReason, reason, n);
  for (const [source, n] of Object.entries(from.bySource)) add(into.bySource, source, n);
  for (const [scope, s] of Object.entries(from.scopes))
    mergeScope(scopeEntry(into.scopes, scope), s);
  for (const [domain, d] of Object.entries(from.domains)) mergeDomain(into.domains, domain, d);
  into.lastCallAt = later(into.lastCallAt, from.lastCallAt);
  into.lastAllowedAt = later(into.lastAllowedAt, from.lastAllowedAt);
  return into;
}

/** granted_by follows the latest allowed use: the key's scopes may have changed in between. */
function mergeScope(into: ScopeCounts, from: ScopeCounts): void {
  into.allowed += from.allowed;
  into.denied += from.denied;
  const newer =
    from.lastUsedAt !== null && (into.lastUsedAt === null || from.lastUsedAt > into.lastUsedAt);
  if (newer || into.grantedBy === "") into.grantedBy = from.grantedBy || into.grantedBy;
  into.lastUsedAt = later(into.lastUsedAt, from.lastUsedAt);
}

function mergeDomain(into: Dict<DomainCounts>, domain: string, from: DomainCounts): void {
  const entry = own(into, domain);
  if (entry === undefined) into[domain] = { calls: from.calls, lastSeenAt: from.lastSeenAt };
  else {
    entry.calls += from.calls;
    entry.lastSeenAt = Math.max(entry.lastSeenAt, from.lastSeenAt);
  }
}

/**
 * Keeps the `cap` named domains with the most calls (ties: by name) and folds the
 * rest into OTHER_DOMAINS; calls are conserved. Returns `counts`.
 */
export function capDomains(counts: UsageCounts, cap: number): UsageCounts {
  const named = Object.entries(counts.domains).filter(([name]) => name !== OTHER_DOMAINS);
  if (named.length <= cap) return counts;
  named.sort(([an, a], [bn, b]) => b.calls - a.calls || (an < bn ? -1 : 1));
  const kept = dict<DomainCounts>();
  for (const [name, d] of named.slice(0, cap)) kept[name] = d;
  const other = own(counts.domains, OTHER_DOMAINS);
  if (other !== undefined) kept[OTHER_DOMAINS] = other;
  for (const [, d] of named.slice(cap)) mergeDomain(kept, OTHER_DOMAINS, d);
  counts.domains = kept;
  return counts;
}

/**
 * A fresh sum of `parts`, with at most `domainCap` named domains: HOURLY_DOMAIN_CAP
 * for the parts (flushes, replicas) of one hour; for days and ranges the default
 * keeps every domain, which the hourly cap already bounds (24 × 20 per key and day).
 */
export function sumCounts(
  parts: readonly UsageCounts[],
  domainCap = Number.POSITIVE_INFINITY,
): UsageCounts {
  const total = emptyCounts();
  for (const part of parts) mergeCounts(total, part);
  return capDomains(total, domainCap);
}
