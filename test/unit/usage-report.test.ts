import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogFromJson } from "../../src/domain/scopes.js";
import type { KeyId } from "../../src/domain/types.js";
import {
  countCall,
  DAY_MS,
  emptyCounts,
  HOUR_MS,
  type UsageCall,
  type UsagePeriod,
} from "../../src/domain/usage.js";
import {
  MAX_BUCKETS,
  type RangeResult,
  resolveUsageRange,
  summarizeUsage,
  type UsageGranularity,
  type UsageRange,
} from "../../src/domain/usage-report.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);
const NOW = new Date("2026-10-17T10:20:30.000Z");
const at = (iso: string) => new Date(iso);
const ok = (r: RangeResult): UsageRange => {
  if (!r.ok) throw new Error(`${r.violation.field}: ${r.violation.problem}`);
  return r.range;
};
const iso = (r: UsageRange) => [r.start.toISOString(), r.end.toISOString(), r.granularity];

describe("resolveUsageRange: DESIGN's defaults and bounds", () => {
  it.each([
    [
      "nothing given: the last 30 days, daily, aligned to whole days",
      null,
      null,
      "unspecified",
      ["2026-09-17T00:00:00.000Z", "2026-10-18T00:00:00.000Z", "day"],
    ],
    [
      "48 h exactly: hourly",
      at("2026-10-15T10:20:30.000Z"),
      null,
      "unspecified",
      ["2026-10-15T10:00:00.000Z", "2026-10-17T11:00:00.000Z", "hour"],
    ],
    [
      "48 h and 1 ms: daily",
      at("2026-10-15T10:20:29.999Z"),
      null,
      "unspecified",
      ["2026-10-15T00:00:00.000Z", "2026-10-18T00:00:00.000Z", "day"],
    ],
    [
      "an end alone: the 30 days before it",
      null,
      at("2026-02-01T00:00:00.000Z"),
      "unspecified",
      ["2026-01-02T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "day"],
    ],
    [
      "30 days asked hourly",
      null,
      null,
      "hour",
      ["2026-09-17T10:00:00.000Z", "2026-10-17T11:00:00.000Z", "hour"],
    ],
    [
      "one hour asked daily",
      at("2026-10-17T09:00:00.000Z"),
      at("2026-10-17T10:00:00.000Z"),
      "day",
      ["2026-10-17T00:00:00.000Z", "2026-10-18T00:00:00.000Z", "day"],
    ],
    [
      "400 days exactly",
      at("2025-09-12T10:20:30.000Z"),
      null,
      "unspecified",
      ["2025-09-12T00:00:00.000Z", "2026-10-18T00:00:00.000Z", "day"],
    ],
  ] as const)("%s", (_, start, end, granularity, expected) => {
    expect(iso(ok(resolveUsageRange(start, end, granularity, NOW)))).toEqual(expected);
  });

  it.each([
    ["start equal to end", NOW, NOW, "unspecified", "start_time", "must be before end_time"],
    [
      "start after end",
      at("2026-10-18T00:00:00.000Z"),
      null,
      "unspecified",
      "start_time",
      "must be before end_time",
    ],
    [
      "400 days and 1 ms",
      at("2025-09-12T10:20:29.999Z"),
      null,
      "unspecified",
      "start_time",
      "at most 400 days; got 401 days",
    ],
    ["an invalid end", null, new Date(Number.NaN), "unspecified", "end_time", "not a valid time"],
    [
      "an invalid start",
      new Date(Number.NaN),
      null,
      "unspecified",
      "start_time",
      "not a valid time",
    ],
    [
      "40 days hourly",
      at("2026-09-07T10:20:30.000Z"),
      null,
      "hour",
      "granularity",
      `at most ${MAX_BUCKETS} hours; got 961`,
    ],
  ] as const)("refuses %s, naming the field", (_, start, end, granularity, field, problem) => {
    const r = resolveUsageRange(start, end, granularity, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.violation.field).toBe(field);
      expect(r.violation.problem).toContain(problem);
    }
  });
});

const period = (
  start: string,
  granularity: UsageGranularity,
  calls: Partial<UsageCall>[],
): UsagePeriod => {
  const counts = emptyCounts();
  const t = Date.parse(start);
  for (const c of calls) {
    countCall(
      counts,
      {
        at: t,
        reason: "OK",
        source: "grpc",
        requiredScopes: [],
        missingScopes: [],
        domain: null,
        ...c,
      },
      () => "campaigns:all",
    );
  }
  return { keyId: "k1" as KeyId, workspace: "acme", start: new Date(t), granularity, counts };
};
const read = { requiredScopes: ["campaigns:read"] };
const pause = {
  requiredScopes: ["campaigns:pause"],
  source: "connect" as const,
  domain: "app.example.com",
};
const missing = {
  reason: "SCOPE_MISSING" as const,
  requiredScopes: ["leads:read"],
  missingScopes: ["leads:read"],
  domain: "x.example.com",
};

describe("summarizeUsage", () => {
  const range = ok(
    resolveUsageRange(at("2026-10-14T00:00:00.000Z"), at("2026-10-17T00:00:00.000Z"), "day", NOW),
  );
  const periods = [
    period("2026-10-14T03:00:00.000Z", "hour", [read, read, missing]),
    period("2026-10-14T05:00:00.000Z", "hour", [pause]),
    period("2026-10-16T23:00:00.000Z", "hour", [
      pause,
      pause,
      { reason: "KEY_REVOKED", source: "forward_auth" },
    ]),
    period("2026-10-13T23:00:00.000Z", "hour", [read]), // before the range
    period("2026-10-17T00:00:00.000Z", "hour", [read]), // at the exclusive end
  ];
  const report = summarizeUsage({
    ...range,
    periods,
    heldScopes: ["campaigns:all", "leads:read"],
    catalog,
  });

  it("lists every bucket of the range in order, zeros included, hours summed into their day", () => {
    expect(
      report.buckets.map((b) => [
        b.start.toISOString(),
        b.allowed,
        b.denied,
        { ...b.deniedByReason },
      ]),
    ).toEqual([
      ["2026-10-14T00:00:00.000Z", 3, 1, { SCOPE_MISSING: 1 }],
      ["2026-10-15T00:00:00.000Z", 0, 0, {}],
      ["2026-10-16T00:00:00.000Z", 2, 1, { KEY_REVOKED: 1 }],
    ]);
  });

  it("totals the same periods the buckets hold, and nothing outside the range", () => {
    expect([report.allowed, report.denied]).toEqual([5, 2]);
    expect({ ...report.deniedByReason }).toEqual({ SCOPE_MISSING: 1, KEY_REVOKED: 1 });
    expect({ ...report.bySource }).toEqual({ grpc: 3, connect: 3, forward_auth: 1 });
  });

  it("lists scopes by name, domains by calls, with their times", () => {
    expect(report.scopes).toEqual([
      {
        scope: "campaigns:pause",
        allowed: 3,
        denied: 0,
        lastUsedAt: at("2026-10-16T23:00:00.000Z"),
        grantedBy: "campaigns:all",
      },
      {
        scope: "campaigns:read",
        allowed: 2,
        denied: 0,
        lastUsedAt: at("2026-10-14T03:00:00.000Z"),
        grantedBy: "campaigns:all",
      },
      { scope: "leads:read", allowed: 0, denied: 1, lastUsedAt: null, grantedBy: "" },
    ]);
    expect(report.domains).toEqual([
      { domain: "app.example.com", calls: 3, lastSeenAt: at("2026-10-16T23:00:00.000Z") },
      { domain: "x.example.com", calls: 1, lastSeenAt: at("2026-10-14T03:00:00.000Z") },
    ]);
  });

  it("names the unused held scopes and the suggestion from the allowed calls only", () => {
    expect(report.unusedScopes).toEqual(["leads:read"]);
    expect(report.suggestedScopes).toEqual(["campaigns:pause", "campaigns:read"]);
  });

  it("an hourly range counts each hour in its own bucket", () => {
    const hourly = ok(
      resolveUsageRange(
        at("2026-10-14T02:30:00.000Z"),
        at("2026-10-14T05:30:00.000Z"),
        "unspecified",
        NOW,
      ),
    );
    const r = summarizeUsage({ ...hourly, periods, heldScopes: ["*"], catalog });
    expect(
      r.buckets.map((b) => [b.start.toISOString().slice(11, 13), b.allowed + b.denied]),
    ).toEqual([
      ["02", 0],
      ["03", 3],
      ["04", 0],
      ["05", 1],
    ]);
  });

  it("an empty range of periods is all zeros, no scopes, and suggests nothing", () => {
    const r = summarizeUsage({ ...range, periods: [], heldScopes: ["campaigns:all"], catalog });
    expect(r.buckets).toHaveLength(3);
    expect(r).toMatchObject({
      allowed: 0,
      denied: 0,
      scopes: [],
      domains: [],
      unusedScopes: ["campaigns:all"],
      suggestedScopes: [],
    });
  });

  it("refuses more buckets than MAX_BUCKETS rather than building them", () => {
    const start = at("2026-01-01T00:00:00.000Z");
    const end = new Date(start.getTime() + (MAX_BUCKETS + 1) * HOUR_MS);
    expect(() =>
      summarizeUsage({ start, end, granularity: "hour", periods: [], heldScopes: [], catalog }),
    ).toThrow(RangeError);
    expect(
      summarizeUsage({
        start,
        end: new Date(start.getTime() + 400 * DAY_MS),
        granularity: "day",
        periods: [],
        heldScopes: [],
        catalog,
      }).buckets,
    ).toHaveLength(400);
  });
});
