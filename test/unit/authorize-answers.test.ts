import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { decide } from "../../src/domain/decision.js";
import { catalogFromJson } from "../../src/domain/scopes.js";
import { answerMemo } from "../../src/transport/services/authorize-service.js";
import { keyRecord } from "../support/records.js";

const catalog = catalogFromJson({
  resources: { campaigns: { description: "c", actions: { read: "r", write: "w" } } },
});
const at = new Date("2026-11-25T00:00:00Z");
const input = (requiredScopes: string[], domain: string | null = null) => ({
  credential: "present" as const,
  requiredScopes,
  domain,
  workspace: null,
});

describe("Authorize answers, made once per decision on a key's version", () => {
  it("answers the same decision on the same version with the same frozen message", () => {
    const answer = answerMemo();
    const record = keyRecord({ scopes: ["campaigns:read"] });
    const first = answer(decide(input(["campaigns:read"]), record, at, catalog));
    const again = answer(decide(input(["campaigns:read"]), record, at, catalog));
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toMatchObject({
      allowed: true,
      reason: Reason.OK,
      httpStatus: 200,
      grantedScopes: ["campaigns:read"],
      keyId: record.id,
    });
  });

  it("tells decisions apart by reason, missing scopes and domain", () => {
    const answer = answerMemo();
    const record = keyRecord({ scopes: ["campaigns:read"], allowedDomains: ["a.example"] });
    const ok = answer(decide(input(["campaigns:read"], "a.example"), record, at, catalog));
    const missing = answer(decide(input(["campaigns:write"], "a.example"), record, at, catalog));
    const otherDomain = answer(decide(input(["campaigns:read"], "b.example"), record, at, catalog));
    const thirdDomain = answer(decide(input(["campaigns:read"], "c.example"), record, at, catalog));
    expect(new Set([ok, missing, otherDomain, thirdDomain]).size).toBe(4);
    expect(missing).toMatchObject({
      allowed: false,
      reason: Reason.SCOPE_MISSING,
      missingScopes: ["campaigns:write"],
    });
    expect(thirdDomain.message).toContain("c.example");
  });

  it("a new version of the key gets a new answer, with what changed", () => {
    const answer = answerMemo();
    const v1 = keyRecord({ scopes: ["campaigns:read"], revision: 1 });
    const v2 = { ...v1, scopes: ["campaigns:read", "campaigns:write"], revision: 2 };
    expect(answer(decide(input(["campaigns:read"]), { ...v1 }, at, catalog))).toEqual(
      answer(decide(input(["campaigns:read"]), v1, at, catalog)),
    );
    const before = answer(decide(input(["campaigns:read"]), v1, at, catalog));
    const after = answer(decide(input(["campaigns:read"]), v2, at, catalog));
    expect(after).not.toBe(before);
    expect(after.grantedScopes).toEqual(["campaigns:read", "campaigns:write"]);
    const revoked = answer(
      decide(input(["campaigns:read"]), { ...v2, revokedAt: at, revision: 3 }, at, catalog),
    );
    expect(revoked).toMatchObject({ allowed: false, reason: Reason.KEY_REVOKED, httpStatus: 401 });
  });

  it("keeps a bounded number of answers", () => {
    const answer = answerMemo({ keys: 2, perKey: 2 });
    const record = keyRecord({ scopes: ["campaigns:read"], allowedDomains: ["a.example"] });
    const first = answer(decide(input([], "x1.example"), record, at, catalog));
    answer(decide(input([], "x2.example"), record, at, catalog));
    answer(decide(input([], "x3.example"), record, at, catalog));
    const rebuilt = answer(decide(input([], "x1.example"), record, at, catalog));
    expect(rebuilt).not.toBe(first);
    expect(rebuilt).toEqual(first);
    const [a, b, c] = [1, 2, 3].map(() => keyRecord({ scopes: ["campaigns:read"] }));
    const forA = answer(decide(input([]), a!, at, catalog));
    answer(decide(input([]), b!, at, catalog));
    answer(decide(input([]), c!, at, catalog));
    expect(answer(decide(input([]), a!, at, catalog))).not.toBe(forA);
  });
});
