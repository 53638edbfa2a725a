import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";

const TEN_MINUTES = 10 * 60_000;

describe("two replicas whose clocks differ by 20 minutes (one 10 ahead, one 10 behind)", () => {
  const db = uniqueDbName();
  let ahead: TestServer;
  let behind: TestServer;

  beforeAll(async () => {
    ahead = await startTestServer({
      env: { MONGODB_DB: db },
      overrides: { now: () => new Date(Date.now() + TEN_MINUTES) },
    });
    behind = await startTestServer({
      env: { MONGODB_DB: db },
      overrides: { now: () => new Date(Date.now() - TEN_MINUTES) },
    });
  });
  afterAll(async () => {
    await ahead?.stop();
    await behind?.stop();
  });

  /** Creates a key through `writer`, warms the `reader`'s cache, revokes through `writer`, and times the reader's refusal. */
  async function revokeSeenWithin(
    writer: TestServer,
    reader: TestServer,
    change: "revoke" | "scopes",
  ): Promise<number> {
    const admin = writer.client(KeyAdminService);
    const authz = reader.client(AuthorizeService);
    const { key, apiKey } = await admin.createKey(
      { name: `skew ${change}`, workspace: "acme", scopes: ["leads:read"] },
      bearer(writer.rootKey),
    );
    const ask = async () =>
      (
        await authz.authorize({
          credential: { case: "apiKey", value: key },
          requiredScopes: ["leads:read"],
        })
      ).allowed;
    expect(await ask()).toBe(true);
    expect(await ask()).toBe(true); // cached on the reader now
    const start = Date.now();
    if (change === "revoke")
      await admin.revokeKey({ id: apiKey!.id, reason: "skew" }, bearer(writer.rootKey));
    else
      await admin.updateKey(
        {
          apiKey: { id: apiKey!.id, scopes: ["campaigns:read"] },
          updateMask: { paths: ["scopes"] },
        },
        bearer(writer.rootKey),
      );
    await waitFor(
      async () => !(await ask()),
      1000,
      `${change} through one replica refused by the other within 1 s`,
    );
    return Date.now() - start;
  }

  it("a revoke through the replica that runs ahead is refused by the one behind within 1 s", async () => {
    const ms = await revokeSeenWithin(ahead, behind, "revoke");
    expect(ms).toBeLessThan(1000);
  });

  it("a revoke through the replica that runs behind is refused by the one ahead within 1 s", async () => {
    const ms = await revokeSeenWithin(behind, ahead, "revoke");
    expect(ms).toBeLessThan(1000);
  });

  it("a scope change propagates both ways within 1 s too", async () => {
    expect(await revokeSeenWithin(ahead, behind, "scopes")).toBeLessThan(1000);
    expect(await revokeSeenWithin(behind, ahead, "scopes")).toBeLessThan(1000);
  });

  it("later changes keep propagating: the poller's position does not depend on either clock", async () => {
    for (let i = 0; i < 3; i++) {
      expect(
        await revokeSeenWithin(
          i % 2 === 0 ? ahead : behind,
          i % 2 === 0 ? behind : ahead,
          "revoke",
        ),
      ).toBeLessThan(1000);
    }
  });
});
