import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type AuthorizeInput, decide } from "../../src/domain/decision.js";
import { catalogFromJson } from "../../src/domain/scopes.js";
import { keyRecord, T0 } from "../support/records.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);
const now = new Date(T0.getTime() + 3600_000);
const before = new Date(now.getTime() - 1);
const after = new Date(now.getTime() + 1);
const input = (o: Partial<AuthorizeInput> = {}): AuthorizeInput => ({
  credential: "present",
  requiredScopes: ["campaigns:read"],
  domain: null,
  workspace: null,
  ...o,
});

describe("decide: one row per reason", () => {
  it.each([
    ["KEY_MISSING", input({ credential: "missing" }), null, 401, "API key is missing"],
    ["KEY_MALFORMED", input({ credential: "malformed" }), null, 401, "Invalid API key"],
    ["KEY_NOT_FOUND", input(), null, 401, "Invalid API key"],
    ["KEY_REVOKED", input(), keyRecord({ revokedAt: before }), 401, "API key has been revoked"],
    [
      "KEY_REVOKED at the exact instant",
      input(),
      keyRecord({ revokedAt: now }),
      401,
      "API key has been revoked",
    ],
    ["KEY_EXPIRED", input(), keyRecord({ expiresAt: before }), 401, "API key has expired"],
    [
      "WORKSPACE_MISMATCH",
      input({ workspace: "other" }),
      keyRecord(),
      403,
      "API key does not have permission to access this workspace",
    ],
    [
      "DOMAIN_NOT_ALLOWED",
      input({ domain: "example.org" }),
      keyRecord({ allowedDomains: ["example.com"] }),
      403,
      "API key is not allowed for domain example.org",
    ],
    [
      "DOMAIN_NOT_ALLOWED without a domain",
      input(),
      keyRecord({ allowedDomains: ["example.com"] }),
      403,
      "API key is restricted to specific domains and the request names none",
    ],
    [
      "SCOPE_MISSING",
      input({ requiredScopes: ["campaigns:write", "leads:read"] }),
      keyRecord(),
      403,
      "Missing required scopes: campaigns:write, leads:read",
    ],
  ])("%s", (name, req, record, status, message) => {
    const d = decide(req, record, now, catalog);
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe(name.split(" ")[0]);
    expect(d.httpStatus).toBe(status);
    expect(d.message).toBe(message);
  });

  it("allows a key that passes every check, with status 200", () => {
    const record = keyRecord({
      allowedDomains: ["*.example.com"],
      expiresAt: after,
      retiresAt: after,
      scopes: ["campaigns:all"],
    });
    const d = decide(
      input({ domain: "app.example.com", workspace: "acme", requiredScopes: ["campaigns:pause"] }),
      record,
      now,
      catalog,
    );
    expect(d).toMatchObject({ allowed: true, reason: "OK", httpStatus: 200, missingScopes: [] });
    expect(d.key).toBe(record);
  });

  it("allows a request with no required scopes (authentication only)", () => {
    expect(decide(input({ requiredScopes: [] }), keyRecord(), now, catalog).allowed).toBe(true);
  });
});

describe("decide: the first applicable reason wins", () => {
  const everythingWrong = keyRecord({
    revokedAt: before,
    expiresAt: before,
    workspace: "acme",
    allowedDomains: ["example.com"],
    scopes: [],
  });
  const req = input({
    workspace: "other",
    domain: "example.org",
    requiredScopes: ["campaigns:write"],
  });
  it.each([
    ["revoked before expired", everythingWrong, "KEY_REVOKED"],
    ["expired before workspace", { ...everythingWrong, revokedAt: null }, "KEY_EXPIRED"],
    [
      "workspace before domain",
      { ...everythingWrong, revokedAt: null, expiresAt: null },
      "WORKSPACE_MISMATCH",
    ],
    [
      "domain before scope",
      { ...everythingWrong, revokedAt: null, expiresAt: null, workspace: "other" },
      "DOMAIN_NOT_ALLOWED",
    ],
    [
      "scope last",
      {
        ...everythingWrong,
        revokedAt: null,
        expiresAt: null,
        workspace: "other",
        allowedDomains: [],
      },
      "SCOPE_MISSING",
    ],
  ])("%s", (_name, record, reason) =>
    expect(decide(req, record, now, catalog).reason).toBe(reason),
  );

  it("missing before malformed before lookup", () => {
    expect(
      decide(input({ credential: "missing", workspace: "other" }), everythingWrong, now, catalog)
        .reason,
    ).toBe("KEY_MISSING");
    expect(decide(input({ credential: "malformed" }), everythingWrong, now, catalog).reason).toBe(
      "KEY_MALFORMED",
    );
  });

  it("a rotated key works until its grace period ends, then is KEY_REVOKED", () => {
    const rotated = keyRecord({ retiresAt: after });
    expect(decide(input(), rotated, now, catalog).allowed).toBe(true);
    expect(decide(input(), rotated, after, catalog).reason).toBe("KEY_REVOKED");
  });

  it("a revoked key is refused whatever the reader's clock says of the instant it holds", () => {
    // The revoking replica's clock ran 10 minutes ahead: the revocation is still in force now.
    const revoked = keyRecord({ revokedAt: new Date(now.getTime() + 600_000) });
    expect(decide(input(), revoked, now, catalog).reason).toBe("KEY_REVOKED");
  });

  it("a product key holding * does not satisfy an admin scope", () => {
    const d = decide(
      input({ requiredScopes: ["keyward:read"] }),
      keyRecord({ scopes: ["*"] }),
      now,
      catalog,
    );
    expect(d).toMatchObject({ reason: "SCOPE_MISSING", missingScopes: ["keyward:read"] });
  });
});
