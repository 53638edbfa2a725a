import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { generateKey } from "../../src/admin/key-material.js";
import { countingStore } from "../support/counting-store.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";

describe("the key cache, with two replicas on one database", () => {
  const db = uniqueDbName();
  let first: TestServer;
  let second: TestServer;
  let calls: Map<string, number>;
  let authz: Client<typeof AuthorizeService>;
  let admin2: Client<typeof KeyAdminService>;
  const lookups = () => calls.get("findKeyByDigest") ?? 0;

  beforeAll(async () => {
    first = await startTestServer({
      env: { MONGODB_DB: db },
      overrides: {
        store: (inner) => {
          const c = countingStore(inner);
          calls = c.calls;
          return c.store;
        },
      },
    });
    second = await startTestServer({ env: { MONGODB_DB: db } });
    authz = first.client(AuthorizeService);
    admin2 = second.client(KeyAdminService);
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  it("serves a repeated key without a store lookup", async () => {
    const { key } = await admin2.createKey(
      { name: "hot", workspace: "acme", scopes: ["leads:read"] },
      bearer(second.rootKey),
    );
    const ask = () =>
      authz.authorize({
        credential: { case: "apiKey", value: key },
        requiredScopes: ["leads:read"],
      });
    expect((await ask()).allowed).toBe(true);
    const after = lookups();
    for (let i = 0; i < 50; i++) expect((await ask()).allowed).toBe(true);
    expect(lookups()).toBe(after);
  });

  it("a burst of 200 concurrent calls for one cold key makes exactly one store call", async () => {
    const { key } = await admin2.createKey(
      { name: "cold", workspace: "acme", scopes: ["leads:read"] },
      bearer(second.rootKey),
    );
    const before = lookups();
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        authz.authorize({ credential: { case: "apiKey", value: key } }),
      ),
    );
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(lookups() - before).toBe(1);
  });

  it("remembers unknown keys for a while: repeated junk costs one lookup", async () => {
    const junk = generateKey("kw", "live");
    const before = lookups();
    for (let i = 0; i < 20; i++)
      expect((await authz.authorize({ credential: { case: "apiKey", value: junk } })).reason).toBe(
        Reason.KEY_NOT_FOUND,
      );
    expect(lookups() - before).toBe(1);
  });

  it("an update and a revoke through the second replica reach the first within one second", async () => {
    const { key, apiKey } = await admin2.createKey(
      { name: "moving", workspace: "acme", scopes: ["leads:read"] },
      bearer(second.rootKey),
    );
    const ask = () =>
      authz.authorize({
        credential: { case: "apiKey", value: key },
        requiredScopes: ["campaigns:read"],
      });
    expect((await ask()).reason).toBe(Reason.SCOPE_MISSING);
    await admin2.updateKey(
      { apiKey: { id: apiKey!.id, scopes: ["campaigns:read"] }, updateMask: { paths: ["scopes"] } },
      bearer(second.rootKey),
    );
    await waitFor(async () => (await ask()).allowed, 1000, "update seen by the first replica");
    await admin2.revokeKey({ id: apiKey!.id }, bearer(second.rootKey));
    await waitFor(
      async () => (await ask()).reason === Reason.KEY_REVOKED,
      1000,
      "revoke seen by the first replica",
    );
  });

  it("a change made on the replica itself is seen by the very next call", async () => {
    const admin1 = first.client(KeyAdminService);
    const { key, apiKey } = await admin1.createKey(
      { name: "local", workspace: "acme", scopes: ["leads:read"] },
      bearer(first.rootKey),
    );
    expect((await authz.authorize({ credential: { case: "apiKey", value: key } })).allowed).toBe(
      true,
    );
    await admin1.revokeKey({ id: apiKey!.id }, bearer(first.rootKey));
    expect((await authz.authorize({ credential: { case: "apiKey", value: key } })).reason).toBe(
      Reason.KEY_REVOKED,
    );
  });
});
