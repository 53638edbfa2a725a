import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import type { Logger } from "pino";
import { AuthorizeService } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Authorizer } from "./authorizer.js";
import { CachedKeyLookup } from "./cache/cached-key-lookup.js";
import { startInvalidation } from "./cache/invalidation.js";
import { KeyCache } from "./cache/key-cache.js";
import type { Config } from "./config.js";
import type { RawKey } from "./domain/types.js";
import { HealthState } from "./health-state.js";
import { BOOTSTRAP_PRINCIPAL, KeyManager } from "./key-manager.js";
import { ROOT_WORKSPACE } from "./domain/admin-policy.js";
import { ADMIN_ALL } from "./domain/scopes.js";
import { Metrics, serveMetrics } from "./metrics.js";
import { listen } from "./server.js";
import { adminAuthInterceptor } from "./services/admin-auth-interceptor.js";
import { authorizeService } from "./services/authorize-service.js";
import { errorInterceptor, toConnectError } from "./services/error-interceptor.js";
import { healthService } from "./services/health-service.js";
import { keyAdminService } from "./services/key-admin-service.js";
import { loggingInterceptor } from "./services/logging-interceptor.js";
import { reflectionServices } from "./services/reflection-service.js";
import { markInvalidUtf8, utf8GuardInterceptor } from "./services/utf8-guard.js";
import { startStoreMonitor } from "./store-monitor.js";
import { instrumentStore, withDeadline } from "./store/instrumented-key-store.js";
import type { KeyStore } from "./store/key-store.js";
import { MemoryKeyStore } from "./store/memory-key-store.js";
import { MongoKeyStore } from "./store/mongo-key-store.js";
import { UsageRecorder } from "./usage-recorder.js";

export interface AppOverrides {
  /** Wraps or replaces the store (tests count calls through it). */
  store?: (store: KeyStore) => KeyStore;
  now?: () => Date;
}

export interface RunningApp {
  port: number;
  /** Dev mode only: the root admin key created at start. */
  devRootKey: RawKey | null;
  health: HealthState;
  store: KeyStore;
  usage: UsageRecorder;
  lookup: CachedKeyLookup;
  metrics: Metrics;
  /** The bound metrics port, or null when METRICS_PORT is unset. */
  metricsPort: number | null;
  invalidationMode: "change_stream" | "poll" | "local";
  /** Aborted when stop() begins; long-lived streams (Health Watch) listen to it. */
  shutdownSignal: AbortSignal;
  stop(): Promise<void>;
}

export const SERVED_SERVICES = [AuthorizeService, KeyAdminService, Health, ReflectionV1, ReflectionV1alpha];

/** The composition root: config → store → services → server. */
export async function startApp(config: Config, log: Logger, overrides: AppOverrides = {}): Promise<RunningApp> {
  const now = overrides.now ?? (() => new Date());
  const devMode = config.mongodbUri === null;
  const pepper = config.keyPepper ?? randomBytes(32).toString("base64url");
  const mongo = devMode ? null : MongoKeyStore.create({ uri: config.mongodbUri!, dbName: config.mongodbDb, timeoutMs: config.mongodbTimeoutMs });
  const metrics = new Metrics({ defaultMetrics: config.metricsPort !== null });
  const timedStore = instrumentStore(withDeadline(mongo ?? new MemoryKeyStore(), config.mongodbTimeoutMs), (operation, outcome, seconds) =>
    metrics.storeSeconds.observe({ operation, outcome }, seconds),
  );
  const store = overrides.store ? overrides.store(timedStore) : timedStore;

  const health = new HealthState([AuthorizeService.typeName, KeyAdminService.typeName]);
  const shutdown = new AbortController();
  const usage = new UsageRecorder(store, config.lastUsedFlushMs, log);
  const cache = new KeyCache({ ...config.cache, positiveTtlMs: config.cache.ttlMs, now: () => now().getTime() });
  let storeReachable = true;
  const lookup = new CachedKeyLookup(store, cache, {
    storeReachable: () => storeReachable,
    onLookup: (result) => metrics.cacheLookups.inc({ result }),
  });
  metrics.cacheSize = () => lookup.size;
  const authorizer = new Authorizer({
    lookup: lookup.lookup,
    pepper,
    prefix: config.keyPrefix,
    catalog: config.catalog,
    now,
    onAllowed: (key, at) => usage.record(key.id, at),
  });
  const manager = new KeyManager({ store, catalog: config.catalog, pepper, prefix: config.keyPrefix, now, onKeyChanged: (record) => lookup.replace(record) });

  let devRootKey: RawKey | null = null;
  if (devMode) {
    const created = await manager.create(
      { ...BOOTSTRAP_PRINCIPAL, keyId: "dev-mode" },
      { name: "dev root admin", workspace: ROOT_WORKSPACE, scopes: [ADMIN_ALL], allowedDomains: [], expiresAt: null, environment: "test", metadata: {} },
    );
    devRootKey = created.key;
  }

  markInvalidUtf8();
  const reflection = reflectionServices(SERVED_SERVICES);
  const server = await listen({
    host: config.host,
    port: config.port,
    tls: config.tls,
    maxMessageBytes: config.maxMessageBytes,
    interceptors: [loggingInterceptor(log), errorInterceptor(log), utf8GuardInterceptor(), adminAuthInterceptor(authorizer)],
    routes: (router) => {
      router.service(
        AuthorizeService,
        authorizeService(authorizer, (outcome, seconds) => {
          metrics.authorizeSeconds.observe(seconds);
          if ("reason" in outcome) metrics.decisions.inc({ reason: outcome.reason });
          else metrics.authorizeErrors.inc({ code: codeName(outcome.error) });
        }),
      );
      router.service(KeyAdminService, keyAdminService(manager, config.catalog, now));
      router.service(Health, healthService(health, shutdown.signal));
      router.service(ReflectionV1, reflection.v1);
      router.service(ReflectionV1alpha, reflection.v1alpha);
    },
  });

  const monitor = mongo
    ? startStoreMonitor(mongo, health, log, {
        timeoutMs: config.mongodbTimeoutMs,
        onReachable: (up) => {
          storeReachable = up;
          metrics.storeUp.set(up ? 1 : 0);
        },
      })
    : null;
  const invalidation = mongo
    ? await startInvalidation(mongo, store, lookup, log, {
        pollIntervalMs: config.invalidationPollMs,
        // A metric only: the database's mark against this machine's real clock.
        onChange: (changedAt) => metrics.invalidationLagSeconds.observe(Math.max(0, Date.now() - changedAt.getTime()) / 1000),
      })
    : null;
  const invalidationMode = invalidation?.mode ?? "local";
  metrics.invalidationMode.set({ mode: invalidationMode }, 1);
  if (!mongo) {
    metrics.storeUp.set(1);
    health.setAll("SERVING");
  }
  const metricsServer = config.metricsPort === null ? null : await serveMetrics(metrics, config.host, config.metricsPort);
  if (metricsServer) log.info({ port: metricsServer.port }, "metrics: GET /metrics");
  usage.start();

  return {
    port: server.port,
    devRootKey,
    health,
    store,
    usage,
    lookup,
    metrics,
    metricsPort: metricsServer?.port ?? null,
    invalidationMode,
    shutdownSignal: shutdown.signal,
    async stop() {
      health.setAll("NOT_SERVING");
      shutdown.abort();
      await server.close(config.shutdownTimeoutMs);
      monitor?.stop();
      await invalidation?.stop();
      await metricsServer?.close();
      await usage.stop();
      // A hung database must not hold shutdown: give close the operation deadline, then force it.
      const closed = await Promise.race([store.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), config.mongodbTimeoutMs).unref())]);
      if (!closed) await mongo?.close(true);
    },
  };
}

function codeName(err: unknown): string {
  const mapped = toConnectError(err);
  return mapped ? Code[mapped.code] : "Internal";
}
