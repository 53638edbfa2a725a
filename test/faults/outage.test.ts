import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { generateKey } from "../../src/admin/key-material.js";
import { digestOfHash, hashKey } from "../../src/domain/keys.js";
import type { RawKey } from "../../src/domain/types.js";
import {
  bearer,
  startTestServer,
  TEST_PEPPER,
  type TestServer,
  waitFor,
} from "../support/harness.js";
import { FerretDb, ferretdbBinary } from "../support/mongo-provider.js";
import { outcomeOf } from "../support/outcomes.js";

const STALE_BOUND_MS = 10_000;
/**
 * Client and server share this process's event loop, so an answer is seen
 * here a little after keyward decided it, and the last read may have been
 * processed a little after the database process exited.
 */
const SLACK_MS = 1500;

describe("database outage: the test database process is stopped under load and started again", () => {
  let ferret: FerretDb;
  let server: TestServer;
  let cachedKey: string;
  let uncachedKey: string;

  beforeAll(async () => {
    const binary = ferretdbBinary();
    if (!binary)
      throw new Error(
        "this test stops and starts its own FerretDB: run bash scripts/install-go-tools.sh",
      );
    ferret = await FerretDb.start(binary);
    server = await startTestServer({
      env: { MONGODB_URI: ferret.uri, CACHE_TTL_MS: String(STALE_BOUND_MS) },
    });
    const admin = server.client(KeyAdminService);
    cachedKey = (
      await admin.createKey(
        { name: "hot", workspace: "acme", scopes: ["leads:read"] },
        bearer(server.rootKey),
      )
    ).key;
    uncachedKey = (
      await admin.createKey(
        { name: "cold", workspace: "acme", scopes: ["leads:read"] },
        bearer(server.rootKey),
      )
    ).key;
    server.app.lookup.invalidate(digestOfHash(hashKey(uncachedKey as RawKey, TEST_PEPPER))); // creation cached it on this replica
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await ferret?.stop();
  });

  it("serves cached keys up to the staleness bound, refuses to guess about the rest, and recovers without a restart", async () => {
    const authz = server.client(AuthorizeService);
    const health = server.client(Health);
    const ask = (key: string) =>
      outcomeOf(
        authz.authorize(
          { credential: { case: "apiKey", value: key }, requiredScopes: ["leads:read"] },
          { timeoutMs: 5000 },
        ),
      );

    expect(await ask(cachedKey)).toBe("ALLOW");

    // Steady traffic through the whole outage, every answer kept.
    let stoppedAt = Number.POSITIVE_INFINITY; // the uncached key is first asked once the database is gone
    const answers: { key: "cached" | "uncached" | "random"; at: number; result: string }[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        const random = generateKey("kw", "live");
        const batch = await Promise.all([
          ask(cachedKey).then((result) => ({ key: "cached" as const, at: Date.now(), result })),
          ...(Date.now() > stoppedAt
            ? [
                ask(uncachedKey).then((result) => ({
                  key: "uncached" as const,
                  at: Date.now(),
                  result,
                })),
              ]
            : []),
          ask(random).then((result) => ({ key: "random" as const, at: Date.now(), result })),
        ]);
        answers.push(...batch);
        // Pacing, not waiting for something: about 50 rounds a second, steady through the outage.
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // A fresh read just before the outage: the cached copy is then good for the whole bound.
    server.app.lookup.invalidate(digestOfHash(hashKey(cachedKey as RawKey, TEST_PEPPER)));
    expect(await ask(cachedKey)).toBe("ALLOW");
    const readAt = Date.now();
    await ferret.stopProcess();
    stoppedAt = Date.now();
    await waitFor(
      async () => (await health.check({})).status === HealthCheckResponse_ServingStatus.NOT_SERVING,
      10_000,
      "NOT_SERVING",
    );

    // Inside the bound the cached key is still served; a key never verified is UNAVAILABLE, never allowed.
    expect(Date.now() - readAt).toBeLessThan(STALE_BOUND_MS - 1000);
    expect(await ask(cachedKey)).toBe("ALLOW");
    expect(await ask(uncachedKey)).toBe("Unavailable");
    const t = performance.now();
    expect(await ask(generateKey("kw", "live"))).toBe("Unavailable");
    expect(performance.now() - t).toBeLessThan(500); // fails fast while the database is known to be down

    // Past the bound (the last read was before the stop) the cached key is no longer trusted either.
    await waitFor(
      () => Date.now() - stoppedAt > STALE_BOUND_MS + SLACK_MS,
      STALE_BOUND_MS + SLACK_MS + 1000,
      "staleness bound",
    );
    expect(await ask(cachedKey)).toBe("Unavailable");

    const restartAt = Date.now();
    await ferret.startProcess();
    await waitFor(
      async () => (await health.check({})).status === HealthCheckResponse_ServingStatus.SERVING,
      15_000,
      "SERVING again",
    );
    loading = false;
    await load;

    expect(await ask(cachedKey)).toBe("ALLOW");
    expect(await ask(uncachedKey)).toBe("ALLOW");

    if (process.env.OUTAGE_DEBUG)
      console.log(
        answers
          .filter((a) => a.key === "cached")
          .map((a) => `${a.at - stoppedAt}:${a.result}`)
          .join(" "),
      );
    const during = answers.filter((a) => a.at > stoppedAt + 3000 && a.at < restartAt);
    expect(during.length).toBeGreaterThan(20);
    for (const a of answers) {
      // Never an allow for a key that was not verified, never an internal error.
      if (a.key === "random") expect(["DENY:KEY_NOT_FOUND", "Unavailable"]).toContain(a.result);
      else expect(["ALLOW", "Unavailable"]).toContain(a.result);
      if (a.key === "cached" && a.result === "ALLOW" && a.at > stoppedAt && a.at < restartAt) {
        expect(a.at - stoppedAt).toBeLessThan(STALE_BOUND_MS + SLACK_MS);
      }
    }
    expect(
      during.filter((a) => a.key === "uncached").every((a) => a.result === "Unavailable"),
    ).toBe(true);
  }, 60_000);
});
