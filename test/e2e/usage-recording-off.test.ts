import { describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import type { KeyId } from "../../src/domain/types.js";
import { countingStore } from "../support/counting-store.js";
import { bearer, startTestServer } from "../support/harness.js";

describe("USAGE_RECORDING=off", () => {
  it("records nothing: no usage documents, no last_used_at, not even at shutdown", async () => {
    let calls = new Map<string, number>();
    const server = await startTestServer({
      store: "memory",
      env: { USAGE_RECORDING: "off", USAGE_FLUSH_MS: "10" },
      overrides: {
        store: (inner) => {
          const c = countingStore(inner);
          calls = c.calls;
          return c.store;
        },
      },
    });
    const { key, apiKey } = await server
      .client(KeyAdminService)
      .createKey(
        { name: "quiet", workspace: "acme", scopes: ["leads:read"] },
        bearer(server.rootKey),
      );
    const authz = server.client(AuthorizeService);
    for (const scope of ["leads:read", "leads:write"])
      await authz.authorize({
        credential: { case: "apiKey", value: key },
        requiredScopes: [scope],
      });
    await server.stop();
    expect(calls.get("appendUsage") ?? 0).toBe(0);
    expect(calls.get("recordUsage") ?? 0).toBe(0);
    const id = apiKey!.id as KeyId;
    expect(await server.app.store.readUsage(id, new Date(0), new Date(Date.now() + 1000))).toEqual(
      [],
    );
    expect((await server.app.store.findKeyById(id))?.lastUsedAt).toBeNull();
  });
});
