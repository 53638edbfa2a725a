import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { hashKey } from "../../src/domain/keys.js";
import type { RawKey } from "../../src/domain/types.js";
import { countingStore } from "../support/counting-store.js";
import { grpcJsClient, grpcJsUnary } from "../support/grpc-js-client.js";
import { bearer, startTestServer, TEST_PEPPER, type TestServer } from "../support/harness.js";

describe("Authorize over gRPC against MongoDB", () => {
  let server: TestServer;
  let calls: Map<string, number>;
  let admin: Client<typeof KeyAdminService>;
  let authz: Client<typeof AuthorizeService>;
  let clockOffsetMs = 0;

  const createKey = async (init: Parameters<typeof admin.createKey>[0]) => {
    const res = await admin.createKey(
      { name: "k", workspace: "acme", scopes: ["campaigns:read"], ...init },
      bearer(server.rootKey),
    );
    return { key: res.key as RawKey, id: res.apiKey!.id };
  };

  beforeAll(async () => {
    server = await startTestServer({
      overrides: {
        store: (inner) => {
          const counted = countingStore(inner);
          calls = counted.calls;
          return counted.store;
        },
        now: () => new Date(Date.now() + clockOffsetMs),
      },
    });
    admin = server.client(KeyAdminService);
    authz = server.client(AuthorizeService);
  });
  afterAll(async () => server?.stop());

  const expectDecision = (
    res: { allowed: boolean; reason: Reason; httpStatus: number; message: string },
    allowed: boolean,
    reason: Reason,
    status: number,
    message: string,
  ) => {
    expect({
      allowed: res.allowed,
      reason: Reason[res.reason],
      httpStatus: res.httpStatus,
      message: res.message,
    }).toEqual({ allowed, reason: Reason[reason], httpStatus: status, message });
  };

  it("OK: allows a valid key and returns its id, workspace and scopes", async () => {
    const { key, id } = await createKey({ scopes: ["campaigns:write", "leads:read"] });
    const res = await authz.authorize({
      credential: { case: "apiKey", value: key },
      requiredScopes: ["campaigns:pause", "leads:read"],
    });
    expectDecision(res, true, Reason.OK, 200, "OK");
    expect(res).toMatchObject({
      keyId: id,
      workspace: "acme",
      grantedScopes: ["campaigns:write", "leads:read"],
      missingScopes: [],
    });
  });

  it("OK through the grpc-js reference client, with a caller-computed key_hash", async () => {
    const { key } = await createKey({});
    const client = grpcJsClient(server.port);
    try {
      const res = await grpcJsUnary(client, AuthorizeService.method.authorize, {
        credential: { case: "keyHash", value: hashKey(key, TEST_PEPPER) },
        requiredScopes: ["campaigns:read"],
      });
      expectDecision(res, true, Reason.OK, 200, "OK");
    } finally {
      client.close();
    }
  });

  it("KEY_MISSING: no credential", async () => {
    expectDecision(
      await authz.authorize({ requiredScopes: ["campaigns:read"] }),
      false,
      Reason.KEY_MISSING,
      401,
      "API key is missing",
    );
    expectDecision(
      await authz.authorize({ credential: { case: "apiKey", value: "" } }),
      false,
      Reason.KEY_MISSING,
      401,
      "API key is missing",
    );
  });

  it("KEY_MALFORMED: refused without a store lookup", async () => {
    const { key } = await createKey({});
    const corrupted = key.slice(0, 12) + (key[12] === "a" ? "b" : "a") + key.slice(13);
    const before = calls.get("findKeyByDigest") ?? 0;
    for (const candidate of [
      corrupted,
      "kw_live_short",
      `sk_live_${key.slice(8)}`,
      "x".repeat(600),
      '{"$ne": null}',
    ]) {
      expectDecision(
        await authz.authorize({ credential: { case: "apiKey", value: candidate } }),
        false,
        Reason.KEY_MALFORMED,
        401,
        "Invalid API key",
      );
    }
    expectDecision(
      await authz.authorize({ credential: { case: "keyHash", value: "ABC" } }),
      false,
      Reason.KEY_MALFORMED,
      401,
      "Invalid API key",
    );
    expect(calls.get("findKeyByDigest") ?? 0).toBe(before);
  });

  it("KEY_NOT_FOUND: well-formed but unknown key", async () => {
    const { generateKey } = await import("../../src/admin/key-material.js");
    const before = calls.get("findKeyByDigest") ?? 0;
    expectDecision(
      await authz.authorize({ credential: { case: "apiKey", value: generateKey("kw", "live") } }),
      false,
      Reason.KEY_NOT_FOUND,
      401,
      "Invalid API key",
    );
    expect(calls.get("findKeyByDigest")).toBe(before + 1);
  });

  it("KEY_REVOKED: refused at once after RevokeKey", async () => {
    const { key, id } = await createKey({});
    expect((await authz.authorize({ credential: { case: "apiKey", value: key } })).allowed).toBe(
      true,
    );
    await admin.revokeKey({ id, reason: "leaked" }, bearer(server.rootKey));
    expectDecision(
      await authz.authorize({ credential: { case: "apiKey", value: key } }),
      false,
      Reason.KEY_REVOKED,
      401,
      "API key has been revoked",
    );
  });

  it("KEY_EXPIRED: refused once expires_at passes", async () => {
    const { key } = await createKey({
      expiresAt: timestampFromDate(new Date(Date.now() + 3600_000)),
    });
    expect((await authz.authorize({ credential: { case: "apiKey", value: key } })).allowed).toBe(
      true,
    );
    clockOffsetMs = 2 * 3600_000;
    try {
      expectDecision(
        await authz.authorize({ credential: { case: "apiKey", value: key } }),
        false,
        Reason.KEY_EXPIRED,
        401,
        "API key has expired",
      );
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("WORKSPACE_MISMATCH: another workspace is refused, the key's own is allowed", async () => {
    const { key } = await createKey({ workspace: "acme" });
    expectDecision(
      await authz.authorize({ credential: { case: "apiKey", value: key }, workspace: "globex" }),
      false,
      Reason.WORKSPACE_MISMATCH,
      403,
      "API key does not have permission to access this workspace",
    );
    expect(
      (await authz.authorize({ credential: { case: "apiKey", value: key }, workspace: "acme" }))
        .allowed,
    ).toBe(true);
  });

  it("DOMAIN_NOT_ALLOWED: other domain or no domain; sub-domains by wildcard, IDN and case normalised", async () => {
    const { key } = await createKey({ allowedDomains: ["example.com", "*.Bücher.example"] });
    const ask = (domain: string) =>
      authz.authorize({ credential: { case: "apiKey", value: key }, domain });
    expectDecision(
      await ask("example.org"),
      false,
      Reason.DOMAIN_NOT_ALLOWED,
      403,
      "API key is not allowed for domain example.org",
    );
    expectDecision(
      await ask(""),
      false,
      Reason.DOMAIN_NOT_ALLOWED,
      403,
      "API key is restricted to specific domains and the request names none",
    );
    expect((await ask("bücher.example")).allowed).toBe(false);
    expect((await ask("Shop.BÜCHER.example.")).allowed).toBe(true);
    expect((await ask("EXAMPLE.com")).allowed).toBe(true);
  });

  it("SCOPE_MISSING: lists every missing scope and what is granted", async () => {
    const { key } = await createKey({ scopes: ["campaigns:read", "campaigns:pause"] });
    const res = await authz.authorize({
      credential: { case: "apiKey", value: key },
      requiredScopes: ["campaigns:write", "campaigns:read", "leads:read"],
    });
    expectDecision(
      res,
      false,
      Reason.SCOPE_MISSING,
      403,
      "Missing required scopes: campaigns:write, leads:read",
    );
    expect(res.missingScopes).toEqual(["campaigns:write", "leads:read"]);
    expect(res.grantedScopes).toEqual(["campaigns:read", "campaigns:pause"]);
  });

  it("resource:all and * grant scopes the catalog does not list yet", async () => {
    const all = await createKey({ scopes: ["campaigns:all"] });
    const star = await createKey({ scopes: ["*"] });
    expect(
      (
        await authz.authorize({
          credential: { case: "apiKey", value: all.key },
          requiredScopes: ["campaigns:export"],
        })
      ).allowed,
    ).toBe(true);
    expect(
      (
        await authz.authorize({
          credential: { case: "apiKey", value: star.key },
          requiredScopes: ["invoices:read"],
        })
      ).allowed,
    ).toBe(true);
  });

  it.each([
    [{ requiredScopes: ["Campaigns:Read"] }, "required_scopes"],
    [{ requiredScopes: Array.from({ length: 101 }, () => "campaigns:read") }, "required_scopes"],
    [{ domain: "https://example.com/x" }, "domain"],
    [{ domain: "a".repeat(300) }, "domain"],
    [{ workspace: '{"$ne": null}' }, "workspace"],
  ])("INVALID_ARGUMENT naming the field for an invalid request (%#: %s)", async (req, field) => {
    const err = await authz
      .authorize({ credential: { case: "apiKey", value: "kw_live_x" }, ...req })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain(field);
  });
});
