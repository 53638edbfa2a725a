/** Builders for the usage contract: flushes made of real decisions (countCall), and the sums a test expects of them. */
import type { KeyId } from "../../src/domain/types.js";
import {
  countCall,
  emptyCounts,
  HOUR_MS,
  type RecordedReason,
  USAGE_SOURCES,
  type UsageCall,
  type UsageCounts,
  type UsagePeriod,
  type UsageSource,
} from "../../src/domain/usage.js";

/** Deterministic, so a failure can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REASONS: readonly RecordedReason[] = [
  "OK",
  "OK",
  "OK",
  "SCOPE_MISSING",
  "KEY_REVOKED",
  "DOMAIN_NOT_ALLOWED",
  "WORKSPACE_MISMATCH",
];
const SCOPES = ["campaigns:read", "campaigns:pause", "constructor"];
const DOMAINS = ["api.example.com", "constructor", "a.b.c.example.org"];

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** What a test adds up itself, by plain arithmetic, for one key and hour. */
export interface Tally {
  allowed: number;
  denied: number;
  reasons: Record<string, number>;
  sources: Record<string, number>;
  scopesAllowed: Record<string, number>;
}

export const emptyTally = (): Tally => ({
  allowed: 0,
  denied: 0,
  reasons: {},
  sources: {},
  scopesAllowed: {},
});
const bump = (d: Record<string, number>, k: string, n = 1) => {
  d[k] = (Object.hasOwn(d, k) ? d[k]! : 0) + n;
};

export function call(
  at: number,
  reason: RecordedReason,
  source: UsageSource,
  scopes: readonly string[],
  domain: string | null,
): UsageCall {
  return {
    at,
    reason,
    source,
    requiredScopes: scopes,
    missingScopes: reason === "SCOPE_MISSING" ? scopes : [],
    domain,
  };
}

/** `n` random decisions within `hour`, counted into fresh counts and into `tally`. */
export function randomCounts(r: () => number, hour: number, n: number, tally: Tally): UsageCounts {
  const counts = emptyCounts();
  for (let i = 0; i < n; i++) {
    const c = call(
      hour + Math.floor(r() * HOUR_MS),
      pick(r, REASONS),
      pick(r, USAGE_SOURCES),
      [pick(r, SCOPES)],
      pick(r, DOMAINS),
    );
    countCall(counts, c, (s) => s);
    if (c.reason === "OK") {
      tally.allowed++;
      for (const s of c.requiredScopes) bump(tally.scopesAllowed, s);
    } else {
      tally.denied++;
      bump(tally.reasons, c.reason);
    }
    bump(tally.sources, c.source);
  }
  return counts;
}

/** Counts of the given decisions. */
export function countsOf(...calls: UsageCall[]): UsageCounts {
  const counts = emptyCounts();
  for (const c of calls) countCall(counts, c, (s) => s);
  return counts;
}

export function period(
  keyId: KeyId,
  start: number,
  counts: UsageCounts,
  workspace = "acme",
): UsagePeriod {
  return { keyId, workspace, start: new Date(start), granularity: "hour", counts };
}

/** A period's counts as the test's Tally, to compare with one. */
export function tallyOf(p: UsagePeriod): Tally {
  const scopesAllowed: Record<string, number> = {};
  for (const [name, s] of Object.entries(p.counts.scopes))
    if (s.allowed > 0) scopesAllowed[name] = s.allowed;
  return {
    allowed: p.counts.allowed,
    denied: p.counts.denied,
    reasons: { ...p.counts.deniedByReason },
    sources: { ...p.counts.bySource },
    scopesAllowed,
  };
}
