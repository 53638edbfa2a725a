/**
 * What an admin should look at, one pure rule per FindingKind of DESIGN,
 * computed from a key record, what a store can cheaply say about its usage, and
 * the time (a parameter: nothing here reads a clock).
 */

import { suggestedScopes, unusedScopes } from "./scope-suggestion.js";
import { parseScope, type ScopeCatalog } from "./scopes.js";
import { type KeyRecord, keyStatus } from "./types.js";
import { DAY_MS, type Dict, HOUR_MS, own } from "./usage.js";

/** The proto's FindingKind names without the prefix, as protobuf-es names the enum members. */
export type FindingKind =
  | "NEVER_USED"
  | "UNUSED"
  | "UNUSED_SCOPES"
  | "WILDCARD"
  | "NO_EXPIRY"
  | "EXPIRING_SOON"
  | "RETIRED_KEY_IN_USE"
  | "UNEXPECTED_DENIALS";

export interface FindingThresholds {
  /** FINDINGS_UNUSED_DAYS */
  unusedDays: number;
  /** FINDINGS_EXPIRING_DAYS */
  expiringDays: number;
  /** FINDINGS_DENIALS_PER_DAY */
  denialsPerDay: number;
}

export const DEFAULT_FINDING_THRESHOLDS: Readonly<FindingThresholds> = {
  unusedDays: 30,
  expiringDays: 7,
  denialsPerDay: 100,
};

/** Denials that say the key is presented where it was not meant to be. */
export const UNEXPECTED_REASONS = [
  "WORKSPACE_MISMATCH",
  "DOMAIN_NOT_ALLOWED",
  "SCOPE_MISSING",
] as const;
/** Denials of a key presented after it was revoked, rotated out or expired. */
export const RETIRED_REASONS = ["KEY_REVOKED", "KEY_EXPIRED"] as const;

/** What a store can say about one key from its usage, without reading every bucket. */
export interface KeyUsageSummary {
  /** The last decision naming the key, allowed or denied, as far back as usage is kept. */
  lastCallAt: Date | null;
  lastAllowedAt: Date | null;
  /** Required scopes of allowed calls in the last `unusedDays` (ScopeCounts.allowed > 0). */
  scopesUsed: readonly string[];
  /**
   * Denied calls by reason (decision.ts names) in the hourly buckets from
   * hourStart(now − 24 h) on. KEY_REVOKED and KEY_EXPIRED count the calls made
   * while the key was revoked, rotated out or expired.
   */
  deniedByReasonLast24h: Dict<number>;
}

/** For a key with no usage recorded; shared, so frozen. */
export const NO_USAGE: KeyUsageSummary = Object.freeze({
  lastCallAt: null,
  lastAllowedAt: null,
  scopesUsed: Object.freeze([]),
  deniedByReasonLast24h: Object.freeze({}),
});

export interface Finding {
  keyId: string;
  keyName: string;
  workspace: string;
  kind: FindingKind;
  /** One human sentence with the numbers. */
  detail: string;
  suggestedScopes: string[];
  /** When the condition began, or the earliest instant it is known to hold since (see each rule). */
  since: Date;
}

export interface FindingInput {
  key: KeyRecord;
  usage: KeyUsageSummary;
  now: Date;
  thresholds: FindingThresholds;
  catalog: ScopeCatalog;
}

type Rule = (input: FindingInput) => Finding | null;

const date = (d: Date): string => d.toISOString().slice(0, 10);
const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? "" : "s"}`;
const wholeDays = (ms: number): number => Math.floor(ms / DAY_MS);
const isActive = ({ key, now }: FindingInput): boolean => keyStatus(key, now) === "active";
const sum = (d: Dict<number>, names: readonly string[]): number =>
  names.reduce((n, name) => n + (own(d, name) ?? 0), 0);

function finding(
  input: FindingInput,
  kind: FindingKind,
  detail: string,
  since: Date,
  suggested: string[] = [],
): Finding {
  const { key } = input;
  return {
    keyId: key.id,
    keyName: key.name,
    workspace: key.workspace,
    kind,
    detail,
    suggestedScopes: suggested,
    since,
  };
}

function later(a: Date | null, b: Date | null): Date | null {
  if (a === null || b === null) return a ?? b;
  return a > b ? a : b;
}

/** last_used_at covers calls recorded before usage was: the later of the two counts. */
const lastCall = ({ key, usage }: FindingInput): Date | null =>
  later(usage.lastCallAt, key.lastUsedAt);
const lastAllowed = ({ key, usage }: FindingInput): Date | null =>
  later(usage.lastAllowedAt, key.lastUsedAt);
const windowMs = (input: FindingInput): number => input.thresholds.unusedDays * DAY_MS;
const age = (input: FindingInput): number => input.now.getTime() - input.key.createdAt.getTime();

/** Active, at least `unusedDays` old, never called. Since: its creation. */
export const neverUsed: Rule = (input) => {
  if (!isActive(input) || lastCall(input) !== null || age(input) < windowMs(input)) return null;
  const { createdAt } = input.key;
  return finding(
    input,
    "NEVER_USED",
    `Created ${plural(wholeDays(age(input)), "day")} ago (${date(createdAt)}) and never called.`,
    createdAt,
  );
};

/** Active and no call, allowed or denied, in `unusedDays` or more. Since: the last call. */
export const unused: Rule = (input) => {
  const last = lastCall(input);
  if (!isActive(input) || last === null) return null;
  const idle = input.now.getTime() - last.getTime();
  if (idle < windowMs(input)) return null;
  return finding(
    input,
    "UNUSED",
    `Not called in ${plural(wholeDays(idle), "day")} (last call ${date(last)}).`,
    last,
  );
};

/**
 * Active, old enough to have shown what it needs (`unusedDays`), allowed calls in
 * that window, and held scopes none of them needed. Since: the window's start,
 * the earliest instant usage proves them unused.
 */
export const unusedScopesFinding: Rule = (input) => {
  const allowed = lastAllowed(input);
  if (!isActive(input) || age(input) < windowMs(input)) return null;
  if (allowed === null || input.now.getTime() - allowed.getTime() >= windowMs(input)) return null;
  const { key, usage, catalog, thresholds } = input;
  const unusedHeld = unusedScopes(key.scopes, usage.scopesUsed, catalog);
  if (unusedHeld.length === 0) return null;
  const suggested = suggestedScopes(catalog, key.scopes, usage.scopesUsed);
  const detail =
    `${unusedHeld.length} of ${plural(new Set(key.scopes).size, "held scope")} not needed by any allowed call in ` +
    `${plural(thresholds.unusedDays, "day")}: ${unusedHeld.join(", ")}; the calls needed ${suggested.join(", ") || "no scope"}.`;
  return finding(
    input,
    "UNUSED_SCOPES",
    detail,
    new Date(input.now.getTime() - windowMs(input)),
    suggested,
  );
};

function isWildcard(scope: string): boolean {
  return scope === "*" || parseScope(scope)?.kind === "all";
}

/**
 * Active and holding `*` or a `resource:all`, which grant actions that do not
 * exist yet. Since: the record's last change (it keeps no history of which field
 * changed, so that is the earliest instant known to hold it).
 */
export const wildcard: Rule = (input) => {
  const wild = [...new Set(input.key.scopes.filter(isWildcard))].sort();
  if (!isActive(input) || wild.length === 0) return null;
  const { key, usage, catalog, thresholds } = input;
  const suggested = suggestedScopes(catalog, key.scopes, usage.scopesUsed);
  const days = plural(thresholds.unusedDays, "day");
  const needed =
    suggested.length > 0
      ? `its allowed calls in ${days} needed only ${suggested.join(", ")}`
      : `no allowed call in ${days} needed a scope`;
  const detail = `Holds ${wild.join(", ")}, granting actions that do not exist yet; ${needed}.`;
  return finding(input, "WILDCARD", detail, key.updatedAt, suggested);
};

/** Active with neither an expiry nor a rotation's retirement. Since: the record's last change, as WILDCARD. */
export const noExpiry: Rule = (input) => {
  const { key } = input;
  if (!isActive(input) || key.expiresAt !== null || key.retiresAt !== null) return null;
  return finding(
    input,
    "NO_EXPIRY",
    `Never expires (created ${date(key.createdAt)}).`,
    key.updatedAt,
  );
};

/** Active and expiring within `expiringDays` (a rotation's retirement is planned, not flagged). Since: expiry − expiringDays. */
export const expiringSoon: Rule = (input) => {
  const { key, now, thresholds } = input;
  if (!isActive(input) || key.expiresAt === null) return null;
  const left = key.expiresAt.getTime() - now.getTime();
  const windowStart = key.expiresAt.getTime() - thresholds.expiringDays * DAY_MS;
  if (left > thresholds.expiringDays * DAY_MS) return null;
  const when =
    left >= DAY_MS ? plural(wholeDays(left), "day") : plural(Math.ceil(left / HOUR_MS), "hour");
  return finding(
    input,
    "EXPIRING_SOON",
    `Expires in ${when} (${key.expiresAt.toISOString()}).`,
    new Date(windowStart),
  );
};

/**
 * Revoked, rotated out or expired, and still presented in the last 24 h:
 * something still uses it, or someone found it. Since: when it stopped working.
 */
export const retiredKeyInUse: Rule = (input) => {
  const { key, now, usage } = input;
  const presented = sum(usage.deniedByReasonLast24h, RETIRED_REASONS);
  if (isActive(input) || presented === 0) return null;
  const [what, at] = retirement(key, now);
  const detail = `${what} on ${date(at)} and still presented ${plural(presented, "time")} in the last 24 h.`;
  return finding(input, "RETIRED_KEY_IN_USE", detail, at);
};

function retirement(key: KeyRecord, now: Date): [string, Date] {
  if (key.revokedAt !== null) return ["Revoked", key.revokedAt];
  if (key.retiresAt !== null && key.retiresAt <= now) {
    return [key.successorId ? `Rotated out (to ${key.successorId})` : "Rotated out", key.retiresAt];
  }
  return ["Expired", key.expiresAt ?? now];
}

/** At least `denialsPerDay` WORKSPACE_MISMATCH, DOMAIN_NOT_ALLOWED or SCOPE_MISSING in the last 24 h. Since: 24 h ago. */
export const unexpectedDenials: Rule = (input) => {
  const denied = input.usage.deniedByReasonLast24h;
  const total = sum(denied, UNEXPECTED_REASONS);
  if (total < input.thresholds.denialsPerDay) return null;
  const parts = UNEXPECTED_REASONS.map((r) => [r, own(denied, r) ?? 0] as const)
    .filter(([, n]) => n > 0)
    .sort(([ra, a], [rb, b]) => b - a || (ra < rb ? -1 : 1))
    .map(([r, n]) => `${n} ${r}`);
  const detail = `Denied ${plural(total, "time")} in the last 24 h for its workspace, domains or scopes: ${parts.join(", ")}.`;
  return finding(input, "UNEXPECTED_DENIALS", detail, new Date(input.now.getTime() - DAY_MS));
};

/** In the proto's FindingKind order. */
export const FINDING_RULES: ReadonlyArray<readonly [FindingKind, Rule]> = [
  ["NEVER_USED", neverUsed],
  ["UNUSED", unused],
  ["UNUSED_SCOPES", unusedScopesFinding],
  ["WILDCARD", wildcard],
  ["NO_EXPIRY", noExpiry],
  ["EXPIRING_SOON", expiringSoon],
  ["RETIRED_KEY_IN_USE", retiredKeyInUse],
  ["UNEXPECTED_DENIALS", unexpectedDenials],
];

export const FINDING_KINDS: readonly FindingKind[] = FINDING_RULES.map(([kind]) => kind);

/** Every finding for one key, in FindingKind order; `kinds` (empty = all) picks which rules run. */
export function findingsFor(
  key: KeyRecord,
  usage: KeyUsageSummary,
  now: Date,
  thresholds: FindingThresholds,
  catalog: ScopeCatalog,
  kinds: readonly FindingKind[] = [],
): Finding[] {
  const input: FindingInput = { key, usage, now, thresholds, catalog };
  return FINDING_RULES.filter(([kind]) => kinds.length === 0 || kinds.includes(kind)).flatMap(
    ([, rule]) => rule(input) ?? [],
  );
}
