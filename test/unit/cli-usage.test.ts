import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { FindingKind, GetKeyUsageResponseSchema } from "../../gen/keyward/v1/usage_pb.js";
import { UsageError } from "../../src/cli/admin-cli.js";
import { columnRows, fitColumns, usageChart } from "../../src/cli/usage/chart.js";
import { kindsFlag } from "../../src/cli/usage/findings-output.js";
import { parseWhen, usageRange } from "../../src/cli/usage/range-flags.js";
import { suggestion } from "../../src/cli/usage/report.js";
import { wrapText } from "../../src/cli/wrap-table.js";

const NOW = new Date("2026-12-01T14:30:00Z");
const hour = (i: number) => new Date(Date.UTC(2026, 11, 1, i));

describe("the usage chart", () => {
  it("scales each column to eighths of the panel: the highest is full, any call at least ▁, none blank", () => {
    expect(columnRows([8, 1, 0, 4], 1)).toEqual(["█▁ ▄"]);
    expect(columnRows([16, 8, 1], 2)).toEqual(["█", "██▁"]);
    expect(columnRows([2, 1], 1, 3)).toEqual(["██ ▄▄"]);
  });

  it("sums adjacent buckets when there are more than columns", () => {
    const points = Array.from({ length: 5 }, (_, i) => ({ start: hour(i), allowed: i, denied: 1 }));
    const { points: fitted, per } = fitColumns(points, 2);
    expect(per).toBe(3);
    expect(fitted.map((p) => [p.start, p.allowed, p.denied])).toEqual([
      [hour(0), 3, 3],
      [hour(3), 7, 2],
    ]);
  });

  it("draws an allowed and a denied panel on one time axis, coloured only when asked", () => {
    const points = Array.from({ length: 20 }, (_, i) => ({
      start: hour(i),
      allowed: i === 3 ? 30 : i,
      denied: i === 2 ? 3 : 0,
    }));
    const plain = usageChart(points, { width: 80, colour: false, granularity: "hour" });
    expect(plain).toContain("allowed per hour (highest 30)");
    expect(plain).toContain("denied per hour (highest 3)");
    expect(plain).toMatch(/^ +12-01 00:00 +12-01 19:00$/m);
    expect(plain).not.toContain("\x1b[");
    expect(plain).toMatch(/^ 30 ┤ {9}██$/m); // the highest column, 3 cells in (3 wide, 1 of them a gap)
    expect(usageChart(points, { width: 80, colour: true, granularity: "hour" })).toContain(
      "\x1b[32m",
    );
    const quiet = points.map((p) => ({ ...p, denied: 0 }));
    expect(usageChart(quiet, { width: 80, colour: false, granularity: "hour" })).toContain(
      "denied per hour: none",
    );
    expect(usageChart([], { width: 80, colour: false, granularity: "day" })).toBe(
      "no calls in this range\n",
    );
  });
});

describe("--since, --until, --by", () => {
  it("reads a time back from now or a date", () => {
    expect(parseWhen("48h", "--since", NOW)).toEqual(new Date("2026-11-29T14:30:00Z"));
    expect(parseWhen("7d", "--since", NOW)).toEqual(new Date("2026-11-24T14:30:00Z"));
    expect(parseWhen("2026-11-01", "--since", NOW)).toEqual(new Date("2026-11-01T00:00:00Z"));
    expect(parseWhen("2026-11-01T12:00:00Z", "--since", NOW)).toEqual(
      new Date("2026-11-01T12:00:00Z"),
    );
    for (const bad of ["7", "yesterday", "2026-13-45", "-3d"])
      expect(() => parseWhen(bad, "--since", NOW)).toThrow(UsageError);
  });

  it("resolves the range with the server's rules, and names the flag when it is refused", () => {
    expect(usageRange({ since: "48h" }, NOW).range.granularity).toBe("hour");
    expect(usageRange({}, NOW).range.granularity).toBe("day");
    expect(usageRange({ since: "7d", by: "hour" }, NOW).range.granularity).toBe("hour");
    expect(() => usageRange({ since: "401d" }, NOW)).toThrow(/at most 400 days, got 401 days/);
    expect(() => usageRange({ since: "1h", until: "2h" }, NOW)).toThrow(
      /--since must be before --until/,
    );
    expect(() => usageRange({ since: "40d", by: "hour" }, NOW)).toThrow(/--by day/);
    expect(() => usageRange({ by: "minute" }, NOW)).toThrow(/--by must be hour or day/);
  });
});

describe("the suggestion", () => {
  const res = (suggested: string[], unused: string[] = []) =>
    create(GetKeyUsageResponseSchema, { suggestedScopes: suggested, unusedScopes: unused });
  const key = { id: "key_6b70e79df93a4efc83de420f", scopes: ["campaigns:all", "leads:read"] };

  it("gives the exact update command when the calls needed less than the key holds", () => {
    expect(suggestion(key, res(["campaigns:pause", "campaigns:read"], ["leads:read"]))).toContain(
      "keyward keys update key_6b70e79df93a4efc83de420f --scope campaigns:pause --scope campaigns:read\n",
    );
  });

  it("gives none when the key holds what its calls needed, or nothing was allowed", () => {
    expect(suggestion(key, res(["leads:read", "campaigns:all"]))).toMatch(
      /Suggestion: none \(its scopes/,
    );
    expect(suggestion(key, res([]))).toMatch(/Suggestion: none \(no allowed call/);
    expect(suggestion(key, res([]))).not.toContain("keyward keys update");
  });
});

describe("--kind and the findings table", () => {
  it("takes kinds repeated, comma-separated, or as the proto spells them; an unknown one lists the valid ones", () => {
    expect(
      kindsFlag(["never-used", "wildcard,NO_EXPIRY", "FINDING_KIND_RETIRED_KEY_IN_USE"]),
    ).toEqual([
      FindingKind.NEVER_USED,
      FindingKind.WILDCARD,
      FindingKind.NO_EXPIRY,
      FindingKind.RETIRED_KEY_IN_USE,
    ]);
    expect(kindsFlag(undefined)).toEqual([]);
    expect(() => kindsFlag(["stale"])).toThrow(
      /the kinds are never-used, unused, unused-scopes, wildcard, no-expiry, expiring-soon, retired-key-in-use, unexpected-denials$/,
    );
  });

  it("wraps prose by words, splitting only a word longer than the width", () => {
    expect(wrapText("Never expires (created 2026-12-01).", 15)).toEqual([
      "Never expires",
      "(created",
      "2026-12-01).",
    ]);
    expect(wrapText("id key_6b70e79df93a", 8)).toEqual(["id", "key_6b70", "e79df93a"]);
  });
});
