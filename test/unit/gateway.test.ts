import { describe, expect, it } from "vitest";
import { Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { decide, disclosedKey } from "../../src/domain/decision.js";
import { catalogFromJson } from "../../src/domain/scopes.js";
import {
  answerForDecision,
  authorizeFieldsOf,
  checkUrlInputs,
  ignoredRequirementHeader,
} from "../../src/transport/gateways/gateway-mapping.js";
import { answerMemo } from "../../src/transport/services/authorize-service.js";
import { keyRecord, T0 } from "../support/records.js";

const catalog = catalogFromJson({
  resources: { campaigns: { description: "c", actions: { read: "r", write: "w" } } },
});
const now = new Date(T0.getTime() + 3600_000);
const past = new Date(now.getTime() - 1000);
const input = {
  credential: "present" as const,
  requiredScopes: ["campaigns:read"],
  domain: null,
  workspace: null,
};

describe("which /v1/check URLs carry requirements", () => {
  it.each([
    ["/v1/check", {}],
    ["/v1/check?", {}],
    [
      "/v1/check?scopes=campaigns:read&workspace=acme&domain=app.acme.com",
      { scopes: "campaigns:read", workspace: "acme", domain: "app.acme.com" },
    ],
    ["/v1/check?scopes=", { scopes: "" }],
    // Envoy's HTTP ext_authz: path_prefix, then the client's own path and query, none of it the gateway's.
    ["/v1/check/", {}],
    ["/v1/check/campaigns", {}],
    ["/v1/check/some/path?x", {}],
    ["/v1/check/campaigns?scopes=campaigns:write&workspace=globex&domain=app.acme.com", {}],
    ["/v1/check/v1/check?domain=app.acme.com", {}],
  ])("%s", (url, expected) => {
    const inputs = checkUrlInputs(url);
    expect(inputs).not.toBeNull();
    expect(Object.fromEntries(Object.entries(inputs!).filter(([, v]) => v !== undefined))).toEqual(
      expected,
    );
  });

  it.each([
    "/",
    "/healthz",
    "/v1/checks",
    "/v1/check2?scopes=x",
    "/v1/Check",
    "/keyward.v1.AuthorizeService/Authorize",
  ])("%s is not forward auth", (url) => {
    expect(checkUrlInputs(url)).toBeNull();
  });
});

describe("X-Keyward-* request headers", () => {
  const headers: Record<string, string> = {
    "x-api-key": "kw_live_x",
    "x-keyward-scopes": "campaigns:write",
    "x-keyward-workspace": "globex",
    "x-keyward-domain": "allowed.example",
  };
  const header = (name: string) => headers[name];

  it("are ignored unless the operator trusts the gateway to set or clear them", () => {
    expect(authorizeFieldsOf(header, {}, false)).toMatchObject({
      requiredScopes: [],
      workspace: "",
      domain: "",
    });
  });

  it("are read where the URL is silent when trusted, and never over the URL", () => {
    expect(authorizeFieldsOf(header, {}, true)).toMatchObject({
      requiredScopes: ["campaigns:write"],
      workspace: "globex",
      domain: "allowed.example",
    });
    expect(
      authorizeFieldsOf(header, { scopes: "campaigns:read", workspace: "acme", domain: "" }, true),
    ).toMatchObject({ requiredScopes: ["campaigns:read"], workspace: "acme", domain: "" });
  });
});

describe("a 401 tells the presenter of a dead key nothing about it", () => {
  const key = keyRecord({
    scopes: ["campaigns:read", "campaigns:write"],
    workspace: "acme",
    expiresAt: new Date(now.getTime() + 86_400_000),
  });
  const cases = [
    ["revoked", decide(input, { ...key, revokedAt: past }, now, catalog), Reason.KEY_REVOKED],
    ["expired", decide(input, { ...key, expiresAt: past }, now, catalog), Reason.KEY_EXPIRED],
  ] as const;

  it.each(cases)(
    "%s: the Authorize answer has the reason, status and message only",
    (_name, d, reason) => {
      expect(d.key).not.toBeNull(); // the decision keeps the record for usage and metrics
      expect(disclosedKey(d)).toBeNull();
      const answer = answerMemo()(d);
      expect(answer).toMatchObject({
        allowed: false,
        reason,
        httpStatus: 401,
        keyId: "",
        workspace: "",
        grantedScopes: [],
        missingScopes: [],
      });
      expect(answer.message).toMatch(/^API key has (been revoked|expired)$/);
      expect(answer.expiresAt).toBeUndefined();
    },
  );

  it.each(cases)(
    "%s: the gateway answer carries no key id, workspace or granted scopes",
    (_name, d, reason) => {
      const answer = answerForDecision(d, ["campaigns:read"]);
      expect(answer.status).toBe(401);
      expect(Object.keys(answer.headers).sort()).toEqual([
        "Content-Type",
        "WWW-Authenticate",
        "X-Keyward-Message",
        "X-Keyward-Reason",
      ]);
      expect(JSON.parse(answer.body)).toEqual({
        statusCode: 401,
        error: "Unauthorized",
        message: d.message,
        detail: d.message,
        reason: Reason[reason],
        required: ["campaigns:read"],
        granted: [],
      });
    },
  );

  it("a 403 still tells the key's holder what it has", () => {
    const d = decide(
      { ...input, requiredScopes: ["campaigns:write"] },
      { ...key, scopes: ["campaigns:read"] },
      now,
      catalog,
    );
    expect(answerMemo()(d)).toMatchObject({
      httpStatus: 403,
      keyId: key.id,
      workspace: "acme",
      grantedScopes: ["campaigns:read"],
    });
    expect(JSON.parse(answerForDecision(d, ["campaigns:write"]).body).granted).toEqual([
      "campaigns:read",
    ]);
  });
});

describe("ignoredRequirementHeader", () => {
  const headers = (h: Record<string, string>) => (name: string) => h[name];
  it.each([
    [
      "a header where the URL is silent, headers not trusted",
      { "x-keyward-domain": "a.com" },
      {},
      false,
      "x-keyward-domain",
    ],
    ["the URL names the field", { "x-keyward-domain": "a.com" }, { domain: "b.com" }, false, null],
    ["headers trusted", { "x-keyward-scopes": "x:y" }, {}, true, null],
    ["no requirement header", { "x-api-key": "k" }, {}, false, null],
  ] as const)("%s → %s", (_what, h, settings, trust, expected) => {
    expect(ignoredRequirementHeader(headers(h), settings, trust)).toBe(expected);
  });
});
