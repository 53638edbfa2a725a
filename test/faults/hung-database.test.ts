import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { generateKey } from "../../src/admin/key-material.js";
import { bearer, startTestServer, type TestServer, waitFor } from "../support/harness.js";
import { FerretDb, ferretdbBinary } from "../support/mongo-provider.js";

const TIMEOUT_MS = 500;
/** Client and server share this event loop; answers arrive a little after keyward gives them. */
const SLACK_MS = 1000;

async function timed(call: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const start = Date.now();
  try {
    await call;
    return { code: "OK", ms: Date.now() - start };
  } catch (err) {
    return { code: Code[ConnectError.from(err).code], ms: Date.now() - start };
  }
}

describe(`a hung database (the FerretDB process frozen with SIGSTOP), MONGODB_TIMEOUT_MS=${TIMEOUT_MS}`, () => {
  let ferret: FerretDb;
  let server: TestServer;
  let cachedKey: string;

  beforeAll(async () => {
    const binary = ferretdbBinary();
    if (!binary)
      throw new Error("this test freezes its own FerretDB: run bash scripts/install-go-tools.sh");
    ferret = await FerretDb.start(binary);
    server = await startTestServer({
      env: { MONGODB_URI: ferret.uri, MONGODB_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    const admin = server.client(KeyAdminService);
    cachedKey = (
      await admin.createKey(
        { name: "hot", workspace: "acme", scopes: ["leads:read"] },
        bearer(server.rootKey),
      )
    ).key;
    ferret.pause();
  });
  afterAll(async () => {
    ferret?.resume();
    await ferret?.stop();
  });

  it("answers uncached keys UNAVAILABLE within the deadline, however many wait, and keeps serving cached ones", async () => {
    const authz = server.client(AuthorizeService);
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        timed(
          authz.authorize({ credential: { case: "apiKey", value: generateKey("kw", "live") } }),
        ),
      ),
    );
    expect(new Set(results.map((r) => r.code))).toEqual(new Set(["Unavailable"]));
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    const cached = await authz.authorize({
      credential: { case: "apiKey", value: cachedKey },
      requiredScopes: ["leads:read"],
    });
    expect(cached.allowed).toBe(true);
  });

  it("answers KeyAdmin UNAVAILABLE within the deadline", async () => {
    const admin = server.client(KeyAdminService);
    const r = await timed(admin.listKeys({ workspace: "acme" }, bearer(server.rootKey)));
    // The admin credential itself is cached; the listing needs the database.
    expect(r.code).toBe("Unavailable");
    expect(r.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  });

  it("reports NOT_SERVING", async () => {
    await waitFor(() => server.app.health.get("") === "NOT_SERVING", 5000, "NOT_SERVING");
  });

  it("still shuts down in bounded time, with usage to flush and a database that never answers", async () => {
    const authz = server.client(AuthorizeService);
    await authz.authorize({ credential: { case: "apiKey", value: cachedKey } }); // leaves a last_used_at to flush
    const start = Date.now();
    await server.stop();
    expect(Date.now() - start).toBeLessThan(3 * TIMEOUT_MS + SLACK_MS);
  });
});
