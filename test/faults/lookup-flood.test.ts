import { spawn } from "node:child_process";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { bootstrapAdmin } from "../../src/admin/bootstrap.js";
import type { KeyStore } from "../../src/store/key-store.js";
import { goTool } from "../support/go-tools.js";
import { grpcJsClient, grpcJsUnary } from "../support/grpc-js-client.js";
import { startTestServer, type TestServer, waitFor } from "../support/harness.js";
import { FerretDb, ferretdbBinary } from "../support/mongo-provider.js";
import { outcomeOf } from "../support/outcomes.js";

const FLOOD_CONCURRENCY = 200;
const FLOOD_SECONDS = 3;
/** STORE_MAX_CONCURRENT_LOOKUPS's default. */
const MAX_LOOKUPS = 64;
/** Short, so the cached key is refreshed ahead (and would expire if starved) during the flood. */
const CACHE_TTL_MS = 1000;

interface Probe {
  ms: number[];
  failures: string[];
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function ask(client: grpc.Client, apiKey: string): Promise<{ ms: number; outcome: string }> {
  const start = performance.now();
  const outcome = await outcomeOf(
    grpcJsUnary(client, AuthorizeService.method.authorize, {
      credential: { case: "apiKey", value: apiKey },
      requiredScopes: ["leads:read"],
    }),
    { withMessage: true },
  );
  return { ms: performance.now() - start, outcome };
}

/** One call at a time, so each latency is the server's answer to a lone legitimate client. */
async function probe(client: grpc.Client, apiKey: string, until: () => boolean): Promise<Probe> {
  const result: Probe = { ms: [], failures: [] };
  while (!until()) {
    const r = await ask(client, apiKey);
    result.ms.push(r.ms);
    if (r.outcome !== "ALLOW") result.failures.push(r.outcome);
  }
  return result;
}

/** Counts findKeyByDigest calls in flight at the store, and times those of one digest (the cached key's refreshes). */
function lookupProbe(inner: KeyStore) {
  let now = 0;
  let max = 0;
  const watched = { digest: "", ms: [] as number[] };
  const store = Object.create(inner) as KeyStore;
  store.findKeyByDigest = (digest) => {
    max = Math.max(max, ++now);
    const start = performance.now();
    return inner.findKeyByDigest(digest).finally(() => {
      now--;
      if (digest === watched.digest) watched.ms.push(performance.now() - start);
    });
  };
  return { store, max: () => max, watched };
}

/**
 * DESIGN "Connections": store misses run with bounded concurrency, refreshes of
 * known keys first. ghz (its own process) mints a fresh 64-hex key_hash for
 * every call; keyward runs against a FerretDB of this test's own, so the flood
 * reaches a real database and troubles no other test.
 */
describe(`a flood of random key_hash values (${FLOOD_CONCURRENCY} in flight for ${FLOOD_SECONDS} s) against FerretDB`, () => {
  let ferret: FerretDb;
  let server: TestServer;
  let lookups: ReturnType<typeof lookupProbe>;
  let client: grpc.Client;
  let hotKey: string;
  let coldKey: string;

  beforeAll(async () => {
    const binary = ferretdbBinary();
    if (!binary)
      throw new Error(
        "this test floods a FerretDB of its own: run bash scripts/install-go-tools.sh",
      );
    ferret = await FerretDb.start(binary);
    server = await startTestServer({
      env: {
        MONGODB_URI: ferret.uri,
        CACHE_TTL_MS: String(CACHE_TTL_MS),
        STORE_MAX_CONCURRENT_LOOKUPS: String(MAX_LOOKUPS),
      },
      overrides: { store: (s) => (lookups = lookupProbe(s)).store },
    });
    const { config } = server;
    const deps = { catalog: config.catalog, pepper: config.keyPepper!, prefix: config.keyPrefix };
    // Written past keyward's cache: it has seen neither key until it is asked.
    const hot = await bootstrapAdmin(server.app.store, deps, {
      workspace: "acme",
      name: "hot",
      scopes: ["leads:read"],
      environment: "live",
    });
    hotKey = hot.key;
    lookups.watched.digest = hot.record.keyDigest;
    coldKey = (
      await bootstrapAdmin(server.app.store, deps, {
        workspace: "acme",
        name: "cold",
        scopes: ["leads:read"],
        environment: "live",
      })
    ).key;
    client = grpcJsClient(server.port);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await server?.stop();
    await ferret?.stop();
  });

  it("holds store lookups to the bound, keeps a cached key fast and answers a cold legitimate key", {
    timeout: 20_000,
  }, async () => {
    expect((await ask(client, hotKey)).outcome).toBe("ALLOW");
    const quietEnd = performance.now() + 1000;
    const quiet = await probe(client, hotKey, () => performance.now() > quietEnd);

    const ghz = spawn(goTool("ghz", "GHZ_BIN"), [
      "--insecure",
      "--call",
      "keyward.v1.AuthorizeService/Authorize",
      // 32 bytes of a fresh UUID as 64 hex digits: a new digest on every call, never in the negative cache.
      "-d",
      JSON.stringify({ key_hash: "{{printf `%.32x` .UUID}}", required_scopes: ["leads:read"] }),
      "-c",
      String(FLOOD_CONCURRENCY),
      "--connections",
      "4",
      "-z",
      `${FLOOD_SECONDS}s`,
      "--duration-stop",
      "wait",
      "-O",
      "json",
      `127.0.0.1:${server.port}`,
    ]);
    let out = "";
    let err = "";
    ghz.stdout.on("data", (d: Buffer) => (out += d.toString()));
    ghz.stderr.on("data", (d: Buffer) => (err += d.toString()));
    let floodDone = false;
    const ghzDone = new Promise<void>((resolve) =>
      ghz.on("close", () => {
        floodDone = true;
        resolve();
      }),
    );
    let notServing = 0;
    const health = setInterval(
      () => (notServing += server.app.health.get("") === "SERVING" ? 0 : 1),
      50,
    );

    // Measure inside the flood: from when misses queue for the store's bound.
    const floodStart = performance.now();
    const hotReadsBefore = lookups.watched.ms.length;
    const { metrics } = server.app;
    const queued = async () =>
      (await metrics.lookupsQueued.get()).values.reduce((sum, v) => sum + v.value, 0);
    await waitFor(async () => (await queued()) > 0, 2000, "store lookups queued behind the bound");
    const during = probe(
      client,
      hotKey,
      () => floodDone || performance.now() - floodStart > (FLOOD_SECONDS - 0.3) * 1000,
    );
    // The cached key's refresh had to get through the flooded store queue once before the cold key is asked.
    await waitFor(
      () => lookups.watched.ms.length > hotReadsBefore,
      (FLOOD_SECONDS - 1) * 1000,
      "a refresh of the cached key inside the flood",
    );
    const gauges = {
      inFlight: (await metrics.lookupsInFlight.get()).values[0]?.value ?? 0,
      queued: Object.fromEntries(
        (await metrics.lookupsQueued.get()).values.map((v) => [v.labels.lane, v.value]),
      ),
    };
    const cold = await ask(client, coldKey);
    const hot = await during;
    await ghzDone;
    clearInterval(health);

    if (!out) throw new Error(`ghz gave no report: ${err}`);
    const report = JSON.parse(out) as {
      count: number;
      rps: number;
      statusCodeDistribution: Record<string, number>;
    };
    const rejected = await metrics.lookupsRejected.get();
    const summary = {
      flood: {
        calls: report.count,
        rps: Math.round(report.rps),
        status: report.statusCodeDistribution,
      },
      storeLookupsMaxInFlight: lookups.max(),
      gaugesMidFlood: gauges,
      rejected: Object.fromEntries(rejected.values.map((v) => [v.labels.reason, v.value])),
      cachedBefore: {
        n: quiet.ms.length,
        p50: +percentile(quiet.ms, 50).toFixed(2),
        p99: +percentile(quiet.ms, 99).toFixed(2),
      },
      cachedDuring: {
        n: hot.ms.length,
        p50: +percentile(hot.ms, 50).toFixed(2),
        p99: +percentile(hot.ms, 99).toFixed(2),
        failures: hot.failures.length,
      },
      // The cached key's refreshes that ran during the flood: read time at the store, after any wait for a slot.
      cachedRefreshes: lookups.watched.ms.slice(hotReadsBefore).map((ms) => Math.round(ms)),
      coldKey: { outcome: cold.outcome, ms: +cold.ms.toFixed(1) },
      notServingSamples: notServing,
    };
    console.log(`[lookup-flood] ${JSON.stringify(summary)}`);

    expect(report.count, "the flood ran").toBeGreaterThan(FLOOD_CONCURRENCY);
    expect(lookups.max()).toBeLessThanOrEqual(MAX_LOOKUPS);
    expect(gauges.inFlight).toBeGreaterThan(0);
    expect(gauges.inFlight).toBeLessThanOrEqual(MAX_LOOKUPS);
    expect(cold.outcome).toBe("ALLOW");
    expect(hot.failures).toEqual([]);
    expect(quiet.failures).toEqual([]);
    expect(hot.ms.length).toBeGreaterThan(10);
    // Coarse on purpose: this host's two cores also run FerretDB, ghz and other suites, so latency is
    // mostly scheduling. A cached key answered through the store queue would wait as long as the cold key.
    expect(percentile(hot.ms, 50)).toBeLessThan(250);
    expect(notServing, "health stayed SERVING").toBe(0);
  });
});
