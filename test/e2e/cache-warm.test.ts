import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import type { AppOverrides } from "../../src/app.js";
import type { KeyId } from "../../src/domain/types.js";
import { HOUR_MS } from "../../src/domain/usage.js";
import { countingStore } from "../support/counting-store.js";
import { bearer, startTestServer, type TestServer, uniqueDbName } from "../support/harness.js";

describe("cold start: a replica warms its cache with the keys used in the last hour", () => {
  const db = uniqueDbName();
  const keys = { recent: "", revoked: "", old: "" };
  const running: TestServer[] = [];

  /** A replica on the shared database whose store reads are counted. */
  async function restart(overrides: AppOverrides = {}) {
    let calls = new Map<string, number>();
    const server = await startTestServer({
      env: { MONGODB_DB: db },
      overrides: {
        ...overrides,
        store: (inner) => {
          const c = countingStore(inner);
          calls = c.calls;
          return c.store;
        },
      },
    });
    running.push(server);
    const authz = server.client(AuthorizeService);
    return {
      server,
      lookups: () => calls.get("findKeyByDigest") ?? 0,
      ask: (key: string) => authz.authorize({ credential: { case: "apiKey", value: key } }),
    };
  }

  beforeAll(async () => {
    const first = await startTestServer({ env: { MONGODB_DB: db } });
    running.push(first);
    const admin = first.client(KeyAdminService);
    const authz = first.client(AuthorizeService);
    const create = (name: string) =>
      admin.createKey({ name, workspace: "acme", scopes: ["leads:read"] }, bearer(first.rootKey));
    const recent = await create("used now");
    const revoked = await create("used now, then revoked");
    const old = await create("used two hours ago");
    Object.assign(keys, { recent: recent.key, revoked: revoked.key, old: old.key });
    for (const key of [recent.key, revoked.key])
      expect((await authz.authorize({ credential: { case: "apiKey", value: key } })).allowed).toBe(
        true,
      );
    await admin.revokeKey({ id: revoked.apiKey!.id }, bearer(first.rootKey));
    // What a flush two hours ago wrote for this key.
    await first.app.store.recordUsage(
      new Map([[old.apiKey!.id as KeyId, new Date(Date.now() - 2 * HOUR_MS)]]),
    );
    // Stopping flushes this replica's usage: the restart below finds it.
    await first.stop();
    running.pop();
  });
  afterAll(async () => {
    for (const s of running) await s.stop();
  });

  it("answers a key used in the last hour with no store lookup, a revoked one too; a key used 2 h ago is read", async () => {
    const { server, lookups, ask } = await restart();
    expect((await server.app.cacheWarm())?.keys).toBeGreaterThanOrEqual(2);
    const before = lookups();
    expect((await ask(keys.recent)).allowed).toBe(true);
    expect((await ask(keys.revoked)).reason).toBe(Reason.KEY_REVOKED);
    expect(lookups()).toBe(before);
    expect((await ask(keys.old)).allowed).toBe(true);
    expect(lookups()).toBe(before + 1);
    await server.stop();
    running.pop();
  });

  it("without warming, the same key's first call goes to the store", async () => {
    const { server, lookups, ask } = await restart({ warmCache: false });
    expect(server.app.cacheWarm()).toBeNull();
    const before = lookups();
    expect((await ask(keys.recent)).allowed).toBe(true);
    expect(lookups()).toBe(before + 1);
  });
});
