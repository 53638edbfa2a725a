import { describe, expect, it } from "vitest";
import {
  capDomains,
  countCall,
  dayStart,
  emptyCounts,
  HOUR_MS,
  HOURLY_DOMAIN_CAP,
  HOURLY_SCOPE_CAP,
  hourStart,
  isRecordedReason,
  mergeCounts,
  OTHER_DOMAINS,
  OTHER_SCOPES,
  own,
  sumCounts,
  type UsageCall,
  type UsageCounts,
} from "../../src/domain/usage.js";

const T = Date.parse("2026-10-17T10:20:30.456Z");
const call = (o: Partial<UsageCall> = {}): UsageCall => ({
  at: T,
  reason: "OK",
  source: "grpc",
  requiredScopes: ["campaigns:read"],
  missingScopes: [],
  domain: null,
  ...o,
});
/** The held scope answered for every allowed scope: what the recorder's look-up would return. */
const byAll = (scope: string) => `${scope.split(":")[0]}:all`;
const counted = (calls: UsageCall[], cap = HOURLY_DOMAIN_CAP): UsageCounts => {
  const counts = emptyCounts();
  for (const c of calls) countCall(counts, c, byAll, cap);
  return counts;
};
/** What a store hands back: plain objects with Object.prototype, numbers as they were. */
const roundTrip = (c: UsageCounts): UsageCounts => JSON.parse(JSON.stringify(c));

describe("hour and day starts, UTC", () => {
  it.each([
    ["mid-hour", T, "2026-10-17T10:00:00.000Z", "2026-10-17T00:00:00.000Z"],
    [
      "the first instant of an hour is its own start",
      Date.parse("2026-10-17T10:00:00.000Z"),
      "2026-10-17T10:00:00.000Z",
      "2026-10-17T00:00:00.000Z",
    ],
    [
      "the last instant of a day",
      Date.parse("2026-10-17T23:59:59.999Z"),
      "2026-10-17T23:00:00.000Z",
      "2026-10-17T00:00:00.000Z",
    ],
    [
      "before 1970",
      Date.parse("1969-12-31T23:30:00.000Z"),
      "1969-12-31T23:00:00.000Z",
      "1969-12-31T00:00:00.000Z",
    ],
  ])("%s", (_, ms, hour, day) => {
    expect(new Date(hourStart(ms)).toISOString()).toBe(hour);
    expect(new Date(dayStart(ms)).toISOString()).toBe(day);
  });
});

describe("which decisions are counted per key", () => {
  it.each([
    ["OK", true],
    ["KEY_REVOKED", true],
    ["KEY_EXPIRED", true],
    ["WORKSPACE_MISMATCH", true],
    ["DOMAIN_NOT_ALLOWED", true],
    ["SCOPE_MISSING", true],
    ["KEY_MISSING", false],
    ["KEY_MALFORMED", false],
    ["KEY_NOT_FOUND", false],
  ] as const)("%s: %s", (reason, recorded) => expect(isRecordedReason(reason)).toBe(recorded));
});

describe("counting one decision", () => {
  it("names at most HOURLY_SCOPE_CAP distinct scopes per key and hour; the rest count as (other), every call still counted", () => {
    const made = Array.from({ length: 5000 }, (_, i) => `junk${i}:read`);
    const counts = emptyCounts();
    for (let i = 0; i < made.length; i += 50) {
      countCall(
        counts,
        call({
          reason: "SCOPE_MISSING",
          requiredScopes: made.slice(i, i + 50),
          missingScopes: made.slice(i, i + 50),
        }),
        byAll,
      );
      countCall(
        counts,
        call({ requiredScopes: made.slice(i, i + 50).map((s) => s.replace("junk", "star")) }),
        byAll,
      );
    }
    const names = Object.keys(counts.scopes);
    expect(names.length).toBe(HOURLY_SCOPE_CAP + 1);
    expect(names).toContain(OTHER_SCOPES);
    const other = own(counts.scopes, OTHER_SCOPES)!;
    const named = names.filter((n) => n !== OTHER_SCOPES).map((n) => own(counts.scopes, n)!);
    expect(other.denied + named.reduce((n, e) => n + e.denied, 0)).toBe(5000);
    expect(other.allowed + named.reduce((n, e) => n + e.allowed, 0)).toBe(5000);
  });

  it("an allowed call counts each distinct required scope once, with its time and grantor", () => {
    const asked: string[] = [];
    const counts = emptyCounts();
    const grantor = (s: string) => {
      asked.push(s);
      return "campaigns:all";
    };
    countCall(
      counts,
      call({ requiredScopes: ["campaigns:read", "campaigns:pause", "campaigns:read"] }),
      grantor,
    );
    countCall(counts, call({ at: T + 5, requiredScopes: ["campaigns:read"] }), grantor);
    expect(counts).toMatchObject({
      allowed: 2,
      denied: 0,
      lastCallAt: T + 5,
      lastAllowedAt: T + 5,
    });
    expect(own(counts.scopes, "campaigns:read")).toEqual({
      allowed: 2,
      denied: 0,
      lastUsedAt: T + 5,
      grantedBy: "campaigns:all",
    });
    expect(own(counts.scopes, "campaigns:pause")).toEqual({
      allowed: 1,
      denied: 0,
      lastUsedAt: T,
      grantedBy: "campaigns:all",
    });
    // Asked once per scope per counts, not per call: a key already seen costs no look-up.
    expect(asked).toEqual(["campaigns:read", "campaigns:pause"]);
    expect({ ...counts.bySource }).toEqual({ grpc: 2 });
  });

  it("SCOPE_MISSING counts the missing scopes as denied and leaves the satisfied ones alone", () => {
    const counts = counted([
      call({
        reason: "SCOPE_MISSING",
        requiredScopes: ["campaigns:read", "leads:read"],
        missingScopes: ["leads:read"],
      }),
    ]);
    expect(counts).toMatchObject({ allowed: 0, denied: 1, lastCallAt: T, lastAllowedAt: null });
    expect({ ...counts.deniedByReason }).toEqual({ SCOPE_MISSING: 1 });
    expect({ ...counts.scopes }).toEqual({
      "leads:read": { allowed: 0, denied: 1, lastUsedAt: null, grantedBy: "" },
    });
  });

  it.each(["KEY_REVOKED", "KEY_EXPIRED", "WORKSPACE_MISMATCH", "DOMAIN_NOT_ALLOWED"] as const)(
    "%s counts the call and its domain, no scope",
    (reason) => {
      const counts = counted([call({ reason, source: "ext_authz", domain: "app.example.com" })]);
      expect(counts).toMatchObject({ allowed: 0, denied: 1, lastCallAt: T, lastAllowedAt: null });
      expect({ ...counts.deniedByReason }).toEqual({ [reason]: 1 });
      expect({ ...counts.bySource }).toEqual({ ext_authz: 1 });
      expect(Object.keys(counts.scopes)).toEqual([]);
      expect({ ...counts.domains }).toEqual({ "app.example.com": { calls: 1, lastSeenAt: T } });
    },
  );

  it("a request naming no domain counts no domain", () => {
    expect(Object.keys(counted([call()]).domains)).toEqual([]);
  });

  it(`names at most ${HOURLY_DOMAIN_CAP} domains an hour; the 21st and later count as ${OTHER_DOMAINS}`, () => {
    const domains = Array.from({ length: 25 }, (_, i) => `d${i}.example.com`);
    const counts = counted(
      [...domains, "d0.example.com", "d24.example.com"].map((domain, i) =>
        call({ domain, at: T + i }),
      ),
    );
    expect(Object.keys(counts.domains)).toHaveLength(HOURLY_DOMAIN_CAP + 1);
    expect(own(counts.domains, "d0.example.com")).toEqual({ calls: 2, lastSeenAt: T + 25 });
    expect(own(counts.domains, OTHER_DOMAINS)).toEqual({ calls: 6, lastSeenAt: T + 26 });
    expect(Object.values(counts.domains).reduce((n, d) => n + d.calls, 0)).toBe(27);
  });

  it("a domain or scope named like an Object property is an ordinary entry", () => {
    const counts = counted([
      call({ domain: "constructor" }),
      call({ domain: "constructor" }),
      call({ domain: "__proto__", requiredScopes: ["__proto__", "constructor"] }),
    ]);
    expect(own(counts.domains, "constructor")).toEqual({ calls: 2, lastSeenAt: T });
    expect(own(counts.domains, "__proto__")).toEqual({ calls: 1, lastSeenAt: T });
    expect(own(counts.scopes, "constructor")?.allowed).toBe(1);
    expect(Object.getPrototypeOf(counts.domains)).toBeNull();
    expect(own(roundTrip(counts).domains, "constructor")).toEqual({ calls: 2, lastSeenAt: T });
  });
});

describe("merging counts", () => {
  const a = [
    call({ at: T, requiredScopes: ["campaigns:read"], domain: "a.example.com" }),
    call({
      at: T + 1,
      reason: "SCOPE_MISSING",
      requiredScopes: ["leads:read"],
      missingScopes: ["leads:read"],
      source: "connect",
    }),
    call({ at: T + 2, reason: "KEY_REVOKED", source: "forward_auth", domain: "b.example.com" }),
  ];
  const b = [
    call({ at: T + 10, requiredScopes: ["campaigns:read", "leads:read"], domain: "a.example.com" }),
    call({ at: T + 3, reason: "WORKSPACE_MISMATCH", source: "ext_authz" }),
  ];

  it("is exact: the merge of two parts equals counting all their calls in one", () => {
    expect(mergeCounts(counted(a), counted(b))).toEqual(counted([...a, ...b]));
    expect(mergeCounts(counted(b), counted(a))).toEqual(counted([...a, ...b]));
  });

  it("works on what a store hands back (plain objects), in both directions", () => {
    const whole = roundTrip(counted([...a, ...b]));
    expect(roundTrip(mergeCounts(roundTrip(counted(a)), roundTrip(counted(b))))).toEqual(whole);
    const fromStore = roundTrip(counted(a));
    mergeCounts(fromStore, counted([call({ domain: "constructor" })]));
    expect(own(fromStore.domains, "constructor")).toEqual({ calls: 1, lastSeenAt: T });
  });

  it("keeps the later timestamps, and granted_by from the latest allowed use", () => {
    const older = counted([call({ at: T })]);
    const newer = emptyCounts();
    countCall(newer, call({ at: T + HOUR_MS }), () => "campaigns:read");
    for (const [into, from] of [
      [older, newer],
      [newer, older],
    ] as const) {
      const merged = mergeCounts(roundTrip(into), roundTrip(from));
      expect(merged).toMatchObject({ lastCallAt: T + HOUR_MS, lastAllowedAt: T + HOUR_MS });
      expect(merged.scopes["campaigns:read"]).toEqual({
        allowed: 2,
        denied: 0,
        lastUsedAt: T + HOUR_MS,
        grantedBy: "campaigns:read",
      });
    }
  });

  it("an hour's parts merged then capped keep the 20 busiest domains, whatever the order, and every call", () => {
    const part = (from: number, calls: number) =>
      counted(
        Array.from({ length: 15 }, (_, i) =>
          Array.from({ length: calls + i }, () => call({ domain: `d${from + i}.example.com` })),
        ).flat(),
      );
    const parts = [part(0, 1), part(15, 3), part(30, 2)];
    const one = sumCounts(parts, HOURLY_DOMAIN_CAP);
    expect(sumCounts([...parts].reverse(), HOURLY_DOMAIN_CAP)).toEqual(one);
    expect(Object.keys(one.domains)).toHaveLength(HOURLY_DOMAIN_CAP + 1);
    expect(own(one.domains, "d29.example.com")?.calls).toBe(17);
    expect(own(one.domains, "d0.example.com")).toBeUndefined();
    const total = (c: UsageCounts) => Object.values(c.domains).reduce((n, d) => n + d.calls, 0);
    expect(total(one)).toBe(parts.reduce((n, p) => n + total(p), 0));
    expect(one.allowed).toBe(parts.reduce((n, p) => n + p.allowed, 0));
  });

  it("a range keeps every domain unless asked to cap, and capping folds into an existing (other)", () => {
    const hours = Array.from({ length: 3 }, (_, h) =>
      counted(
        Array.from({ length: 21 }, (_, i) =>
          call({ at: T + h * HOUR_MS, domain: `h${h}d${i}.example.com` }),
        ),
      ),
    );
    const day = sumCounts(hours);
    expect(Object.keys(day.domains)).toHaveLength(3 * HOURLY_DOMAIN_CAP + 1);
    expect(own(day.domains, OTHER_DOMAINS)?.calls).toBe(3);
    const capped = capDomains(sumCounts(hours), 10);
    expect(Object.keys(capped.domains)).toHaveLength(11);
    expect(own(capped.domains, OTHER_DOMAINS)).toEqual({
      calls: 63 - 10,
      lastSeenAt: T + 2 * HOUR_MS,
    });
  });
});
