import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { describeProblem } from "../../console/src/errors.js";
import {
  changeValueText,
  domainsFrom,
  expiryFrom,
  groupScopes,
  statusLabel,
} from "../../console/src/format.js";
import { KeyStatus } from "../../gen/keyward/v1/key_admin_pb.js";

describe("console helpers (pure)", () => {
  const now = new Date("2026-01-10T12:00:00Z");

  it("turns expiry choices into timestamps, and names the field when a date is missing or past", () => {
    expect(expiryFrom("never", "", now)).toEqual({ expiresAt: undefined });
    const in30 = expiryFrom("30d", "", now);
    expect(
      "expiresAt" in in30 && in30.expiresAt && timestampDate(in30.expiresAt).toISOString(),
    ).toBe("2026-02-09T12:00:00.000Z");
    const dated = expiryFrom("date", "2026-03-01", now);
    expect(
      "expiresAt" in dated && dated.expiresAt && timestampDate(dated.expiresAt).toISOString(),
    ).toBe("2026-03-01T23:59:59.000Z");
    expect(expiryFrom("date", "", now)).toEqual({ error: "Expiry date: pick a date" });
    expect(expiryFrom("date", "2025-01-01", now)).toEqual({
      error: "Expiry date: must be a day in the future",
    });
  });

  it("reads domains separated by commas, spaces or lines; empty means any", () => {
    expect(domainsFrom(" a.com, *.b.com\nc.com ")).toEqual(["a.com", "*.b.com", "c.com"]);
    expect(domainsFrom("  ")).toEqual([]);
  });

  it("groups the catalog by resource, * on its own", () => {
    const s = (name: string) => ({ name, description: "", includes: [] });
    expect(
      groupScopes([s("*"), s("leads:read"), s("campaigns:read"), s("leads:write")]).map((g) => [
        g.resource,
        g.scopes.length,
      ]),
    ).toEqual([
      ["*", 1],
      ["leads", 2],
      ["campaigns", 1],
    ]);
  });

  it("shows audit values in words, never raw JSON", () => {
    expect(changeValueText('["a:read","b:read"]')).toBe("a:read, b:read");
    expect(changeValueText("null")).toBe("—");
    expect(changeValueText('"name"')).toBe("name");
    expect(changeValueText("{}")).toBe("—");
  });

  it("says what a person can do about each failure", () => {
    expect(
      describeProblem(
        new ConnectError("admin credential refused: key revoked", Code.Unauthenticated),
      ),
    ).toEqual({
      kind: "signed-out",
      message: "You were signed out: admin credential refused: key revoked.",
    });
    expect(
      describeProblem(new ConnectError("it needs keyward:write", Code.PermissionDenied)).message,
    ).toContain("keyward:write");
    expect(describeProblem(new ConnectError("Failed to fetch", Code.Unknown)).kind).toBe(
      "unreachable",
    );
    expect(describeProblem(new TypeError("Failed to fetch")).kind).toBe("unreachable");
    expect(describeProblem(new Error('{"code":"internal"} at foo (x.js:1)')).message).not.toMatch(
      /\{|at foo/,
    );
  });

  it("calls a rotated key still active Retiring, and every other state by its status", () => {
    expect(statusLabel({ status: KeyStatus.ACTIVE, successorId: "" })).toBe("Active");
    expect(statusLabel({ status: KeyStatus.ACTIVE, successorId: "key_next" })).toBe("Retiring");
    expect(statusLabel({ status: KeyStatus.REVOKED, successorId: "key_next" })).toBe("Revoked");
    expect(statusLabel({ status: KeyStatus.EXPIRED, successorId: "" })).toBe("Expired");
  });
});
