import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { AuthorizeService } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { BOOTSTRAP_PRINCIPAL, KeyManager } from "./admin/key-manager.js";
import { reportLeaks } from "./admin/report-leaks.js";
import { type AppInvalidationMode, startBackground } from "./app/background.js";
import { wireHotPath } from "./app/hot-path.js";
import { type HttpGateway, serve } from "./app/listeners.js";
import { type WarmResult, warmKeyCache } from "./authorize/cache-warmer.js";
import type { CachedKeyLookup } from "./authorize/cached-key-lookup.js";
import { startUsageCompaction } from "./authorize/usage-compaction.js";
import type { UsageRecorder } from "./authorize/usage-recorder.js";
import type { Config } from "./config.js";
import { ROOT_WORKSPACE } from "./domain/admin-policy.js";
import { ADMIN_ALL } from "./domain/scopes.js";
import type { RawKey } from "./domain/types.js";
import { HealthState } from "./observability/health-state.js";
import { Metrics } from "./observability/metrics.js";
import { instrumentStore, withDeadline } from "./store/instrumented-key-store.js";
import type { KeyStore } from "./store/key-store.js";
import { MemoryKeyStore } from "./store/memory-key-store.js";
import { MongoKeyStore } from "./store/mongo/mongo-key-store.js";
import { withStoreErrors } from "./store/mongo/store-errors.js";
import { loadLeakReportKeys } from "./transport/gateways/leak-report-keys.js";
import { leakReports } from "./transport/gateways/leak-reports.js";
import { openWebhooks } from "./webhooks/wire-webhooks.js";

export interface AppOverrides {
  /** Wraps or replaces the store (tests count calls through it). */
  store?: (store: KeyStore) => KeyStore;
  now?: () => Date;
  /** false: start with an empty cache (to measure what warming saves). Default true. */
  warmCache?: boolean;
}

export interface RunningApp {
  /** gRPC (grpc-js). */
  port: number;
  /** Connect, gRPC-web and gRPC over HTTP/1.1 and h2c (connect-node). */
  httpPort: number;
  /** Dev mode only: the root admin key created at start. */
  devRootKey: RawKey | null;
  health: HealthState;
  store: KeyStore;
  usage: UsageRecorder;
  lookup: CachedKeyLookup;
  metrics: Metrics;
  /** The bound metrics port, or null when METRICS_PORT is unset. */
  metricsPort: number | null;
  invalidationMode: AppInvalidationMode;
  /** The cache warm started when the database first answered; null before that, without a database, or when turned off. */
  cacheWarm(): Promise<WarmResult> | null;
  /** The cache warm started when the database first answered; null before that, without a database, or when turned off. */
  cacheWarm(): Promise<WarmResult> | null;
  /** Aborted when stop() begins; long-lived streams (Health Watch) listen to it. */
  shutdownSignal: AbortSignal;
  stop(): Promise<void>;
}

/** The composition root: config → store → hot path and admin → server → background work. */
export async function startApp(
  config: Config,
  log: Logger,
  overrides: AppOverrides = {},
): Promise<RunningApp> {
  const core = compose(config, log, overrides);
  const { mongo, store, metrics, health, hot, webhooks } = core;
  const shutdown = new AbortController();
  const devRootKey = mongo ? null : await createDevRootKey(core.manager);
  const server = await listen(config, log, core, shutdown.signal);
  const warmer = cacheWarmer(config, log, core, shutdown.signal);
  const background = await startBackground(config, log, {
    mongo,
    store,
    lookup: hot.lookup,
    health,
    metrics,
    onReachable: hot.setStoreReachable,
    warm: overrides.warmCache === false ? null : warmer.warm,
  });
  if (config.usage.recording) hot.usage.start();
  const compaction = startUsageCompaction(config, store, core.now, log);
  webhooks.start();

  // Listeners first (no new calls), then the work that writes, then the store it writes to.
  const stoppers = [
    () => Promise.all([server.grpc, server.http].map((s) => s.close(config.shutdownTimeoutMs))),
    () => background.stop(),
    () => compaction.stop(),
    () => webhooks.stop(),
    () => hot.usage.stop(),
    () => closeStore(config, store, mongo),
  ];
  return {
    port: server.grpc.port,
    httpPort: server.http.port,
    devRootKey,
    health,
    store,
    usage: hot.usage,
    lookup: hot.lookup,
    metrics,
    metricsPort: background.metricsPort,
    invalidationMode: background.invalidationMode,
    cacheWarm: warmer.current,
    shutdownSignal: shutdown.signal,
    async stop() {
      health.setAll("NOT_SERVING");
      shutdown.abort();
      for (const stop of stoppers) await stop();
    },
  };
}

/** Everything that does not listen: the store, the hot path, the admin use cases. */
function compose(config: Config, log: Logger, overrides: AppOverrides) {
  const now = overrides.now ?? (() => new Date());
  // Read before anything listens: a bad key file stops the start (ConfigError, exit 2).
  const leakKeys =
    config.leakReportKeysFile === null ? null : loadLeakReportKeys(config.leakReportKeysFile);
  const pepper = config.keyPepper ?? randomBytes(32).toString("base64url");
  const metrics = new Metrics({ defaultMetrics: config.metricsPort !== null });
  const { mongo, store: opened } = openStore(config, metrics, overrides);
  const webhooks = openWebhooks(config, opened, now, log, pepper);
  const store = webhooks.keyStore;
  const health = new HealthState([AuthorizeService.typeName, KeyAdminService.typeName]);
  const hot = wireHotPath(config, store, metrics, pepper, now, log);
  const manager = new KeyManager({
    store,
    catalog: config.catalog,
    pepper,
    prefix: config.keyPrefix,
    now,
    onKeyChanged: (record) => hot.lookup.replace(record),
  });
  const leaks =
    leakKeys && leakGateway(config, log, { keys: leakKeys, store, manager, pepper, now });
  return { now, mongo, store, metrics, health, hot, manager, leaks, webhooks };
}

/** MongoDB when configured (else the dev-mode memory store), bounded by the operation deadline and timed. */
function openStore(
  config: Config,
  metrics: Metrics,
  overrides: AppOverrides,
): { mongo: MongoKeyStore | null; store: KeyStore } {
  const mongo =
    config.mode === "dev" || config.mongodbUri === null
      ? null
      : MongoKeyStore.create({
          uri: config.mongodbUri,
          dbName: config.mongodbDb,
          timeoutMs: config.mongodbTimeoutMs,
        });
  const timed = instrumentStore(
    withDeadline(mongo ? withStoreErrors(mongo) : new MemoryKeyStore(), config.mongodbTimeoutMs),
    (operation, outcome, seconds) => metrics.storeSeconds.observe({ operation, outcome }, seconds),
  );
  return { mongo, store: overrides.store ? overrides.store(timed) : timed };
}

/** A hung database must not hold shutdown: give close the operation deadline, then force it. */
async function closeStore(config: Config, store: KeyStore, mongo: MongoKeyStore | null) {
  const closed = await Promise.race([
    store.close().then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), config.mongodbTimeoutMs).unref()),
  ]);
  if (!closed) await mongo?.close(true);
}

interface LeakDeps {
  keys: NonNullable<ReturnType<typeof loadLeakReportKeys>>;
  store: KeyStore;
  manager: KeyManager;
  pepper: string;
  now: () => Date;
}

/** POST /v1/leak-reports: reported tokens that are live keys are revoked. */
function leakGateway(config: Config, log: Logger, deps: LeakDeps): HttpGateway {
  const { store, manager, pepper, now } = deps;
  return leakReports({
    keys: deps.keys,
    judge: (tokens) =>
      reportLeaks(tokens, {
        store,
        revoke: (principal, id, reason) => manager.revoke(principal, id, reason),
        pepper,
        prefix: config.keyPrefix,
        now,
      }),
    log,
  });
}

/** Dev mode keeps nothing, so it makes its own root admin at every start. */
async function createDevRootKey(manager: KeyManager): Promise<RawKey> {
  const created = await manager.create(
    { ...BOOTSTRAP_PRINCIPAL, keyId: "dev-mode" },
    {
      name: "dev root admin",
      workspace: ROOT_WORKSPACE,
      scopes: [ADMIN_ALL],
      allowedDomains: [],
      expiresAt: null,
      environment: "test",
      metadata: {},
    },
  );
  return created.key;
}

/** The cache warm, made once, when the background monitor first finds the database. */
function cacheWarmer(
  config: Config,
  log: Logger,
  core: ReturnType<typeof compose>,
  signal: AbortSignal,
) {
  let warming: Promise<WarmResult> | null = null;
  return {
    warm: () =>
      (warming ??= warmKeyCache({
        store: core.store,
        lookup: core.hot.lookup,
        now: core.now,
        maxKeys: config.cache.maxEntries,
        log,
        signal,
      })),
    current: () => warming,
  };
}

/** Both ports, serving what compose() wired. */
function listen(
  config: Config,
  log: Logger,
  core: ReturnType<typeof compose>,
  shutdown: AbortSignal,
) {
  return serve(config, log, {
    authorizer: core.hot.authorizer,
    leaks: core.leaks,
    manager: core.manager,
    store: core.store,
    webhooks: core.webhooks.deps,
    metrics: core.metrics,
    health: core.health,
    shutdown,
    now: core.now,
  });
}
