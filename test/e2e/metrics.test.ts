import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { hashKey } from "../../src/domain/keys.js";
import type { RawKey } from "../../src/domain/types.js";
import {
  bearer,
  startTestServer,
  TEST_PEPPER,
  type TestServer,
  waitFor,
} from "../support/harness.js";

/** One sample's value from Prometheus text, or 0 when the series is absent. */
function sample(body: string, series: string): number {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("metrics on METRICS_PORT", () => {
  let server: TestServer;
  let key: RawKey;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.app.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return res.text();
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { METRICS_PORT: "0" } });
    const created = await server
      .client(KeyAdminService)
      .createKey(
        { name: "metered", workspace: "acme", scopes: ["leads:read"] },
        bearer(server.rootKey),
      );
    key = created.key as RawKey;
  });
  afterAll(() => server?.stop());

  it("counts decisions by reason, errors by code, and cache hits and misses", async () => {
    const before = await scrape();
    const authz = server.client(AuthorizeService);
    for (let i = 0; i < 3; i++)
      await authz.authorize({
        credential: { case: "apiKey", value: key },
        requiredScopes: ["leads:read"],
      });
    await authz.authorize({
      credential: { case: "apiKey", value: key },
      requiredScopes: ["leads:delete"],
    });
    await authz.authorize({ credential: { case: "apiKey", value: "kw_live_nonsense" } });
    await expect(
      authz.authorize({
        credential: { case: "apiKey", value: key },
        requiredScopes: ["NOT A SCOPE"],
      }),
    ).rejects.toThrow();
    const after = await scrape();

    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('keyward_authorize_decisions_total{reason="OK",source="grpc"}')).toBe(3);
    expect(delta('keyward_authorize_decisions_total{reason="SCOPE_MISSING",source="grpc"}')).toBe(
      1,
    );
    expect(delta('keyward_authorize_decisions_total{reason="KEY_MALFORMED",source="grpc"}')).toBe(
      1,
    );
    expect(delta('keyward_authorize_errors_total{code="InvalidArgument"}')).toBe(1);
    expect(delta("keyward_authorize_duration_seconds_count")).toBe(6);
    // The key was cached when it was created here; the unknown-key and malformed calls never reach the cache.
    expect(
      delta('keyward_cache_lookups_total{result="hit"}') +
        delta('keyward_cache_lookups_total{result="miss"}'),
    ).toBe(4);
    expect(delta('keyward_cache_lookups_total{result="hit"}')).toBeGreaterThanOrEqual(4);
    expect(sample(after, "keyward_cache_entries")).toBeGreaterThanOrEqual(1);
  });

  it("reports store latency, the invalidation mode chosen at start, and the database as up", async () => {
    const body = await scrape();
    expect(
      sample(
        body,
        'keyward_store_call_duration_seconds_count{operation="findKeyByDigest",outcome="ok"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(
        body,
        'keyward_store_call_duration_seconds_count{operation="changesSince",outcome="ok"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    // FerretDB offers no change streams, so keyward polls (and says so).
    expect(server.app.invalidationMode).toBe("poll");
    expect(sample(body, 'keyward_invalidation_mode{mode="poll"}')).toBe(1);
    expect(sample(body, "keyward_store_up")).toBe(1);
    expect(body).toContain("keyward_process_resident_memory_bytes");
  });

  it("records invalidation lag when another change arrives by polling", async () => {
    const admin = server.client(KeyAdminService);
    const before = sample(await scrape(), "keyward_invalidation_lag_seconds_count");
    await admin.createKey(
      { name: "lag probe", workspace: "acme", scopes: ["leads:read"] },
      bearer(server.rootKey),
    );
    const lagCount = async () => sample(await scrape(), "keyward_invalidation_lag_seconds_count");
    await waitFor(
      async () => (await lagCount()) > before,
      20 * server.config.invalidationPollMs,
      "an invalidation lag sample from polling",
    );
  });

  it("never exposes a key or a key hash", async () => {
    const body = await scrape();
    expect(body).not.toContain(key);
    expect(body).not.toContain(hashKey(key, TEST_PEPPER));
  });

  it("answers 404 with a hint on other paths", async () => {
    const res = await fetch(`http://127.0.0.1:${server.app.metricsPort}/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("/metrics");
  });
});
