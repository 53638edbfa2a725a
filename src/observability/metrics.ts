import http from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { LookupLane } from "../authorize/lookup-limiter.js";
import { HotCounter, HotHistogram } from "./hot-metrics.js";

/**
 * Everything keyward reports to Prometheus. What every Authorize bumps is a
 * Hot* metric (plain numbers until scraped); the rest is prom-client's own. Labels carry reasons, operations
 * and outcomes only: never a key, a hash or a key id (DESIGN.md).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly decisions = new HotCounter(
    "keyward_authorize_decisions_total",
    "Decisions by reason (OK is an allow; every other reason is a deny) and by source: grpc (PORT), connect (HTTP_PORT), forward_auth (/v1/check), ext_authz (Envoy).",
    ["reason", "source"],
    this.registry,
  );

  readonly authorizeErrors = new Counter({
    name: "keyward_authorize_errors_total",
    help: "Authorize calls answered with a gRPC error instead of a decision, by status code.",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly authorizeSeconds = new HotHistogram(
    "keyward_authorize_duration_seconds",
    "Time spent deciding one Authorize call inside keyward (excluding the transport).",
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2],
    this.registry,
  );

  readonly cacheLookups = new HotCounter(
    "keyward_cache_lookups_total",
    "Key lookups by cache result: hit (no database call), miss (read through, one flight per hash).",
    ["result"],
    this.registry,
  );

  /** Read at scrape time. */
  cacheSize: () => number = () => 0;

  readonly cacheEntries: Gauge = new Gauge({
    name: "keyward_cache_entries",
    help: "Known keys held in the cache (unknown digests are in a cache of their own).",
    registers: [this.registry],
    collect: (): void => this.cacheEntries.set(this.cacheSize()),
  });

  /** Read at scrape time. */
  lookupLimiter: { inFlight: number; queued(lane: LookupLane): number } | null = null;

  readonly lookupsInFlight: Gauge = new Gauge({
    name: "keyward_store_lookups_in_flight",
    help: "Database lookups of uncached keys running now (at most STORE_MAX_CONCURRENT_LOOKUPS).",
    registers: [this.registry],
    collect: (): void => this.lookupsInFlight.set(this.lookupLimiter?.inFlight ?? 0),
  });

  readonly lookupsQueued: Gauge = new Gauge({
    name: "keyward_store_lookups_queued",
    help: "Lookups waiting for a free database slot, by lane: known (re-reads of cached keys, served first) or unknown.",
    labelNames: ["lane"] as const,
    registers: [this.registry],
    collect: (): void => {
      for (const lane of ["known", "unknown"] as const)
        this.lookupsQueued.set({ lane }, this.lookupLimiter?.queued(lane) ?? 0);
    },
  });

  readonly lookupsRejected = new Counter({
    name: "keyward_store_lookups_rejected_total",
    help: "Lookups answered UNAVAILABLE without reaching the database: queue_full (refused at once) or waited_too_long (no slot within MONGODB_TIMEOUT_MS).",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly storeSeconds = new Histogram({
    name: "keyward_store_call_duration_seconds",
    help: "Database calls by operation and outcome.",
    labelNames: ["operation", "outcome"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly invalidationLagSeconds = new Histogram({
    name: "keyward_invalidation_lag_seconds",
    help: "Time from the database's mark of a change (changed_at) to this replica dropping its cached copy.",
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5],
    registers: [this.registry],
  });

  readonly invalidationMode = new Gauge({
    name: "keyward_invalidation_mode",
    help: "1 for the way this replica learns about changes made by others (change_stream or poll).",
    labelNames: ["mode"] as const,
    registers: [this.registry],
  });

  readonly storeUp = new Gauge({
    name: "keyward_store_up",
    help: "1 while the database answers pings, 0 while it does not.",
    registers: [this.registry],
  });

  readonly usageDropped = new Counter({
    name: "keyward_usage_dropped_total",
    help: "Decisions left out of usage because the cap on key-hours held in memory (pending, or awaiting a retried write) was reached.",
    registers: [this.registry],
  });

  /** Read at scrape time. */
  usagePending: () => number = () => 0;

  readonly usagePendingKeyHours: Gauge = new Gauge({
    name: "keyward_usage_pending_key_hours",
    help: "Key-hours of usage counted in memory and not yet written (bounded by a cap; see keyward_usage_dropped_total).",
    registers: [this.registry],
    collect: (): void => this.usagePendingKeyHours.set(this.usagePending()),
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: "keyward_" });
  }
}

/** Serves GET /metrics on its own port, away from the gRPC listener. */
export async function serveMetrics(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "/").split("?")[0] !== "/metrics") {
      res
        .writeHead(404, { "content-type": "text/plain" })
        .end("not found: metrics are served at GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
      (err: unknown) =>
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end(`metrics failed: ${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
