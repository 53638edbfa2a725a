import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FindingKind as ProtoFindingKind } from "../../gen/keyward/v1/usage_pb.js";
import {
  DEFAULT_FINDING_THRESHOLDS,
  FINDING_KINDS,
  type FindingKind,
  findingsFor,
  type KeyUsageSummary,
  NO_USAGE,
} from "../../src/domain/findings.js";
import { catalogFromJson } from "../../src/domain/scopes.js";
import type { KeyId, KeyRecord } from "../../src/domain/types.js";
import { keyRecord } from "../support/records.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);
const NOW = new Date("2026-11-16T12:00:00.000Z");
const DAY = 86_400_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const ahead = (ms: number) => new Date(NOW.getTime() + ms);

/** Old enough for every rule, not expiring, narrow scopes, nothing used yet. */
const base = (o: Partial<KeyRecord> = {}): KeyRecord =>
  keyRecord({
    id: "key_1" as KeyId,
    name: "reporting",
    createdAt: ago(60 * DAY),
    updatedAt: ago(60 * DAY),
    expiresAt: ahead(90 * DAY),
    ...o,
  });
const usage = (o: Partial<KeyUsageSummary> = {}): KeyUsageSummary => ({ ...NO_USAGE, ...o });
/** Called an hour ago, allowed, needing what it holds. */
const busy = usage({
  lastCallAt: ago(3_600_000),
  lastAllowedAt: ago(3_600_000),
  scopesUsed: ["campaigns:read"],
});

type Expected = { detail: string; since: Date; suggestedScopes?: string[] } | null;
type Row = [
  name: string,
  kind: FindingKind,
  key: KeyRecord,
  usage: KeyUsageSummary,
  expected: Expected,
];

const rows: Row[] = [
  [
    "NEVER_USED at exactly 30 days old",
    "NEVER_USED",
    base({ createdAt: ago(30 * DAY) }),
    NO_USAGE,
    { detail: "Created 30 days ago (2026-10-17) and never called.", since: ago(30 * DAY) },
  ],
  [
    "no NEVER_USED at 30 days less 1 ms",
    "NEVER_USED",
    base({ createdAt: ago(30 * DAY - 1) }),
    NO_USAGE,
    null,
  ],
  [
    "no NEVER_USED once presented, even denied",
    "NEVER_USED",
    base(),
    usage({ lastCallAt: ago(40 * DAY) }),
    null,
  ],
  [
    "no NEVER_USED with a last_used_at from before usage was recorded",
    "NEVER_USED",
    base({ lastUsedAt: ago(50 * DAY) }),
    NO_USAGE,
    null,
  ],
  ["no NEVER_USED for a revoked key", "NEVER_USED", base({ revokedAt: ago(DAY) }), NO_USAGE, null],

  [
    "UNUSED at exactly 30 days without a call",
    "UNUSED",
    base(),
    usage({ lastCallAt: ago(30 * DAY) }),
    { detail: "Not called in 30 days (last call 2026-10-17).", since: ago(30 * DAY) },
  ],
  [
    "UNUSED from last_used_at alone",
    "UNUSED",
    base({ lastUsedAt: ago(45 * DAY) }),
    NO_USAGE,
    { detail: "Not called in 45 days (last call 2026-10-02).", since: ago(45 * DAY) },
  ],
  [
    "no UNUSED at 30 days less 1 ms",
    "UNUSED",
    base(),
    usage({ lastCallAt: ago(30 * DAY - 1) }),
    null,
  ],
  ["no UNUSED when never called (that is NEVER_USED)", "UNUSED", base(), NO_USAGE, null],
  [
    "no UNUSED for an expired key",
    "UNUSED",
    base({ expiresAt: ago(DAY) }),
    usage({ lastCallAt: ago(40 * DAY) }),
    null,
  ],

  [
    "UNUSED_SCOPES with the suggestion",
    "UNUSED_SCOPES",
    base({ scopes: ["campaigns:all", "leads:read"] }),
    usage({
      lastCallAt: ago(DAY),
      lastAllowedAt: ago(DAY),
      scopesUsed: ["campaigns:read", "campaigns:pause"],
    }),
    {
      detail:
        "1 of 2 held scopes not needed by any allowed call in 30 days: leads:read; the calls needed campaigns:pause, campaigns:read.",
      since: ago(30 * DAY),
      suggestedScopes: ["campaigns:pause", "campaigns:read"],
    },
  ],
  ["no UNUSED_SCOPES when every held scope was needed", "UNUSED_SCOPES", base(), busy, null],
  [
    "no UNUSED_SCOPES for a key younger than the window",
    "UNUSED_SCOPES",
    base({ createdAt: ago(29 * DAY), scopes: ["campaigns:read", "leads:read"] }),
    busy,
    null,
  ],
  [
    "no UNUSED_SCOPES when the last allowed call is 30 days old (that is UNUSED)",
    "UNUSED_SCOPES",
    base({ scopes: ["campaigns:read", "leads:read"] }),
    usage({ lastCallAt: ago(30 * DAY), lastAllowedAt: ago(30 * DAY) }),
    null,
  ],

  [
    "WILDCARD for resource:all, with what the calls needed",
    "WILDCARD",
    base({ scopes: ["campaigns:all", "leads:read"] }),
    busy,
    {
      detail:
        "Holds campaigns:all, granting actions that do not exist yet; its allowed calls in 30 days needed only campaigns:read.",
      since: ago(60 * DAY),
      suggestedScopes: ["campaigns:read"],
    },
  ],
  [
    "WILDCARD for * with no allowed call",
    "WILDCARD",
    base({ scopes: ["*"], updatedAt: ago(DAY) }),
    NO_USAGE,
    {
      detail:
        "Holds *, granting actions that do not exist yet; no allowed call in 30 days needed a scope.",
      since: ago(DAY),
      suggestedScopes: [],
    },
  ],
  [
    "no WILDCARD for actions and composites",
    "WILDCARD",
    base({ scopes: ["campaigns:write", "leads:read"] }),
    busy,
    null,
  ],
  [
    "no WILDCARD for a revoked key",
    "WILDCARD",
    base({ scopes: ["*"], revokedAt: ago(DAY) }),
    busy,
    null,
  ],

  [
    "NO_EXPIRY",
    "NO_EXPIRY",
    base({ expiresAt: null }),
    busy,
    { detail: "Never expires (created 2026-09-17).", since: ago(60 * DAY) },
  ],
  ["no NO_EXPIRY with an expiry", "NO_EXPIRY", base(), busy, null],
  [
    "no NO_EXPIRY during a rotation's grace period",
    "NO_EXPIRY",
    base({ expiresAt: null, retiresAt: ahead(DAY) }),
    busy,
    null,
  ],

  [
    "EXPIRING_SOON at exactly 7 days",
    "EXPIRING_SOON",
    base({ expiresAt: ahead(7 * DAY) }),
    busy,
    { detail: "Expires in 7 days (2026-11-23T12:00:00.000Z).", since: NOW },
  ],
  [
    "EXPIRING_SOON in hours",
    "EXPIRING_SOON",
    base({ expiresAt: ahead(5 * 3_600_000 - 1) }),
    busy,
    {
      detail: "Expires in 5 hours (2026-11-16T16:59:59.999Z).",
      since: ahead(5 * 3_600_000 - 1 - 7 * DAY),
    },
  ],
  [
    "no EXPIRING_SOON at 7 days and 1 ms",
    "EXPIRING_SOON",
    base({ expiresAt: ahead(7 * DAY + 1) }),
    busy,
    null,
  ],
  ["no EXPIRING_SOON once expired", "EXPIRING_SOON", base({ expiresAt: NOW }), busy, null],

  [
    "RETIRED_KEY_IN_USE for a revoked key",
    "RETIRED_KEY_IN_USE",
    base({ revokedAt: ago(2 * DAY) }),
    usage({ deniedByReasonLast24h: { KEY_REVOKED: 37 } }),
    {
      detail: "Revoked on 2026-11-14 and still presented 37 times in the last 24 h.",
      since: ago(2 * DAY),
    },
  ],
  [
    "RETIRED_KEY_IN_USE for a rotated-out key",
    "RETIRED_KEY_IN_USE",
    base({ retiresAt: ago(3_600_000), successorId: "key_2" as KeyId }),
    usage({ deniedByReasonLast24h: { KEY_REVOKED: 1 } }),
    {
      detail: "Rotated out (to key_2) on 2026-11-16 and still presented 1 time in the last 24 h.",
      since: ago(3_600_000),
    },
  ],
  [
    "RETIRED_KEY_IN_USE for an expired key",
    "RETIRED_KEY_IN_USE",
    base({ expiresAt: ago(DAY) }),
    usage({ deniedByReasonLast24h: { KEY_EXPIRED: 2 } }),
    {
      detail: "Expired on 2026-11-15 and still presented 2 times in the last 24 h.",
      since: ago(DAY),
    },
  ],
  [
    "no RETIRED_KEY_IN_USE when not presented",
    "RETIRED_KEY_IN_USE",
    base({ revokedAt: ago(DAY) }),
    usage({ deniedByReasonLast24h: { KEY_REVOKED: 0 } }),
    null,
  ],
  [
    "no RETIRED_KEY_IN_USE for an active key",
    "RETIRED_KEY_IN_USE",
    base(),
    usage({ deniedByReasonLast24h: { KEY_REVOKED: 5 } }),
    null,
  ],

  [
    "UNEXPECTED_DENIALS at exactly 100",
    "UNEXPECTED_DENIALS",
    base(),
    usage({
      deniedByReasonLast24h: {
        SCOPE_MISSING: 30,
        WORKSPACE_MISMATCH: 60,
        DOMAIN_NOT_ALLOWED: 10,
        KEY_REVOKED: 7,
      },
    }),
    {
      detail:
        "Denied 100 times in the last 24 h for its workspace, domains or scopes: 60 WORKSPACE_MISMATCH, 30 SCOPE_MISSING, 10 DOMAIN_NOT_ALLOWED.",
      since: ago(DAY),
    },
  ],
  [
    "no UNEXPECTED_DENIALS at 99",
    "UNEXPECTED_DENIALS",
    base(),
    usage({ deniedByReasonLast24h: { SCOPE_MISSING: 99 } }),
    null,
  ],
  [
    "no UNEXPECTED_DENIALS from a retired key's denials",
    "UNEXPECTED_DENIALS",
    base({ revokedAt: ago(DAY) }),
    usage({ deniedByReasonLast24h: { KEY_REVOKED: 500 } }),
    null,
  ],
];

describe("findings: each kind produced by its scenario, absent when its condition is not met", () => {
  it.each(rows)("%s", (_, kind, key, summary, expected) => {
    const found = findingsFor(key, summary, NOW, DEFAULT_FINDING_THRESHOLDS, catalog).filter(
      (f) => f.kind === kind,
    );
    if (expected === null) return expect(found).toEqual([]);
    expect(found).toEqual([
      {
        keyId: "key_1",
        keyName: "reporting",
        workspace: "acme",
        kind,
        suggestedScopes: [],
        ...expected,
      },
    ]);
  });

  it("every kind has a producing row and an absent row", () => {
    for (const kind of FINDING_KINDS) {
      expect(
        rows.some(([, k, , , e]) => k === kind && e !== null),
        kind,
      ).toBe(true);
      expect(
        rows.some(([, k, , , e]) => k === kind && e === null),
        kind,
      ).toBe(true);
    }
  });
});

describe("findingsFor", () => {
  it("finds nothing on a healthy key: recent, narrow, used, expiring later", () => {
    expect(findingsFor(base(), busy, NOW, DEFAULT_FINDING_THRESHOLDS, catalog)).toEqual([]);
  });

  it("lists several findings in FindingKind order, and only the kinds asked for", () => {
    const key = base({ scopes: ["*"], expiresAt: null, createdAt: ago(31 * DAY) });
    const all = findingsFor(key, NO_USAGE, NOW, DEFAULT_FINDING_THRESHOLDS, catalog).map(
      (f) => f.kind,
    );
    expect(all).toEqual(["NEVER_USED", "WILDCARD", "NO_EXPIRY"]);
    const some = findingsFor(key, NO_USAGE, NOW, DEFAULT_FINDING_THRESHOLDS, catalog, [
      "NO_EXPIRY",
      "UNUSED",
    ]);
    expect(some.map((f) => f.kind)).toEqual(["NO_EXPIRY"]);
  });

  it("follows the thresholds it is given", () => {
    const key = base({ createdAt: ago(10 * DAY) });
    expect(
      findingsFor(
        key,
        NO_USAGE,
        NOW,
        { ...DEFAULT_FINDING_THRESHOLDS, unusedDays: 10 },
        catalog,
      ).map((f) => f.kind),
    ).toEqual(["NEVER_USED"]);
    expect(findingsFor(key, NO_USAGE, NOW, DEFAULT_FINDING_THRESHOLDS, catalog)).toEqual([]);
  });

  it("names each kind as the proto does, in the same order", () => {
    expect(FINDING_KINDS.map((k) => ProtoFindingKind[k])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
