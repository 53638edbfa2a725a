import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { AuthorizeService } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Authorizer } from "./authorizer.js";
import { CachedKeyLookup } from "./cache/cached-key-lookup.js";
import { startInvalidationPoller } from "./cache/invalidation-poller.js";
import { KeyCache } from "./cache/key-cache.js";
import type { Config } from "./config.js";
import type { RawKey } from "./domain/types.js";
import { HealthState } from "./health-state.js";
import { KeyManager } from "./key-manager.js";
import { listen } from "./server.js";
import { adminAuthInterceptor } from "./services/admin-auth-interceptor.js";
import { authorizeService } from "./services/authorize-service.js";
import { errorInterceptor } from "./services/error-interceptor.js";
import { healthService } from "./services/health-service.js";
import { keyAdminService } from "./services/key-admin-service.js";
import { loggingInterceptor } from "./services/logging-interceptor.js";
import { reflectionServices } from "./services/reflection-service.js";
import { startStoreMonitor } from "./store-monitor.js";
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
  stop(): Promise<void>;
}

export const SERVED_SERVICES = [AuthorizeService, KeyAdminService, Health, ReflectionV1, ReflectionV1alpha];

/** The composition root: config → store → services → server. */
export async function startApp(config: Config, log: Logger, overrides: AppOverrides = {}): Promise<RunningApp> {
  const now = overrides.now ?? (() => new Date());
  const devMode = config.mongodbUri === null;
  const pepper = config.keyPepper ?? randomBytes(32).toString("base64url");
  const mongo = devMode ? null : MongoKeyStore.create({ uri: config.mongodbUri!, dbName: config.mongodbDb });
  const baseStore: KeyStore = mongo ?? new MemoryKeyStore();
  const store = overrides.store ? overrides.store(baseStore) : baseStore;

  const health = new HealthState([AuthorizeService.typeName, KeyAdminService.typeName]);
  const shutdown = new AbortController();
  const usage = new UsageRecorder(store, config.lastUsedFlushMs, log);
  const cache = new KeyCache({ ...config.cache, positiveTtlMs: config.cache.ttlMs, now: () => now().getTime() });
  const lookup = new CachedKeyLookup(store, cache);
  const authorizer = new Authorizer({
    lookup: lookup.lookup,
    pepper,
    prefix: config.keyPrefix,
    catalog: config.catalog,
    now,
    onAllowed: (key, at) => usage.record(key.id, at),
  });
  const manager = new KeyManager({ store, catalog: config.catalog, pepper, prefix: config.keyPrefix, now, onKeyChanged: (record) => lookup.invalidate(record.keyHash) });

  let devRootKey: RawKey | null = null;
  if (devMode) {
    const created = await manager.create(
      { keyId: "dev-mode", workspace: "default", root: true },
      { name: "dev root admin", workspace: "default", scopes: ["*"], allowedDomains: [], expiresAt: null, environment: "test", metadata: {} },
    );
    devRootKey = created.key;
  }

  const reflection = reflectionServices(SERVED_SERVICES);
  const server = await listen({
    host: config.host,
    port: config.port,
    tls: config.tls,
    maxMessageBytes: config.maxMessageBytes,
    interceptors: [loggingInterceptor(log), errorInterceptor(log), adminAuthInterceptor(authorizer)],
    routes: (router) => {
      router.service(AuthorizeService, authorizeService(authorizer));
      router.service(KeyAdminService, keyAdminService(manager, config.catalog, now));
      router.service(Health, healthService(health, shutdown.signal));
      router.service(ReflectionV1, reflection.v1);
      router.service(ReflectionV1alpha, reflection.v1alpha);
    },
  });

  const monitor = mongo ? startStoreMonitor(mongo, health, log) : null;
  // FerretDB and standalone mongod offer no change streams; polling the updated_at index works everywhere.
  const poller = mongo
    ? startInvalidationPoller(store, lookup, log, { intervalMs: config.invalidationPollMs, overlapMs: 2000, now })
    : null;
  if (poller) log.info({ intervalMs: config.invalidationPollMs }, "cache invalidation: polling updated_at");
  if (!mongo) health.setAll("SERVING");
  usage.start();

  return {
    port: server.port,
    devRootKey,
    health,
    store,
    usage,
    lookup,
    async stop() {
      health.setAll("NOT_SERVING");
      shutdown.abort();
      await server.close(config.shutdownTimeoutMs);
      monitor?.stop();
      poller?.stop();
      await usage.stop();
      await store.close();
    },
  };
}
