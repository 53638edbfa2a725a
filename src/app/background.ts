import type { Logger } from "pino";
import { WARM_HOLDS_SERVING_MS } from "../authorize/cache-warmer.js";
import type { CachedKeyLookup } from "../authorize/cached-key-lookup.js";
import { type InvalidationMode, startInvalidation } from "../authorize/invalidation.js";
import type { Config } from "../config.js";
import type { HealthState } from "../observability/health-state.js";
import { type Metrics, serveMetrics } from "../observability/metrics.js";
import { startStoreMonitor } from "../observability/store-monitor.js";
import type { KeyStore } from "../store/key-store.js";
import type { MongoKeyStore } from "../store/mongo/mongo-key-store.js";

/** How this replica hears of other replicas' key changes; "local" with no database to watch. */
export type AppInvalidationMode = InvalidationMode | "local";

export interface BackgroundDeps {
  mongo: MongoKeyStore | null;
  store: KeyStore;
  lookup: CachedKeyLookup;
  health: HealthState;
  metrics: Metrics;
  onReachable: (up: boolean) => void;
  /** Cache warming, run when the database first answers; null: none. */
  warm: (() => Promise<unknown>) | null;
}

/** The database monitor, cross-replica invalidation and the metrics endpoint. */
export async function startBackground(config: Config, log: Logger, deps: BackgroundDeps) {
  const { mongo, metrics, health, warm } = deps;
  // Warming starts once invalidation listens: a change made while a page is read is then seen.
  let invalidating = () => {};
  const listening = new Promise<void>((r) => (invalidating = r));
  const monitor = mongo
    ? startStoreMonitor(mongo, health, log, {
        timeoutMs: config.mongodbTimeoutMs,
        onReachable: (up) => {
          deps.onReachable(up);
          metrics.storeUp.set(up ? 1 : 0);
        },
        beforeServing: warm
          ? { run: () => listening.then(warm), maxMs: WARM_HOLDS_SERVING_MS }
          : undefined,
      })
    : null;
  const invalidation = mongo
    ? await startInvalidation(mongo, deps.store, deps.lookup, log, {
        pollIntervalMs: config.invalidationPollMs,
        // A metric only: the database's mark against this machine's real clock.
        onChange: (changedAt) =>
          metrics.invalidationLagSeconds.observe(
            Math.max(0, Date.now() - changedAt.getTime()) / 1000,
          ),
      })
    : null;
  invalidating();
  const invalidationMode: AppInvalidationMode = invalidation?.mode ?? "local";
  metrics.invalidationMode.set({ mode: invalidationMode }, 1);
  if (!mongo) {
    metrics.storeUp.set(1);
    health.setAll("SERVING");
  }
  const metricsServer =
    config.metricsPort === null
      ? null
      : await serveMetrics(metrics, config.host, config.metricsPort);
  if (metricsServer) log.info({ port: metricsServer.port }, "metrics: GET /metrics");
  return {
    invalidationMode,
    metricsPort: metricsServer?.port ?? null,
    async stop() {
      monitor?.stop();
      await invalidation?.stop();
      await metricsServer?.close();
    },
  };
}
