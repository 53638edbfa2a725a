import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Authorization } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AuthorizeService } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { BOOTSTRAP_PRINCIPAL, KeyManager } from "./admin/key-manager.js";
import { reportLeaks } from "./admin/report-leaks.js";
import type { WebhookDeps } from "./admin/webhooks/create-webhook.js";
import { Authorizer } from "./authorize/authorizer.js";
import { WARM_HOLDS_SERVING_MS, type WarmResult, warmKeyCache } from "./authorize/cache-warmer.js";
import { CachedKeyLookup } from "./authorize/cached-key-lookup.js";
import { startInvalidation } from "./authorize/invalidation.js";
import { KeyCache } from "./authorize/key-cache.js";
import { LookupLimiter } from "./authorize/lookup-limiter.js";
import {
  type AuthorizeObserver,
  type AuthorizeSource,
  observedAuthorize,
} from "./authorize/observed-authorize.js";
import { startUsageCompaction } from "./authorize/usage-compaction.js";
import { DEFAULT_MAX_PENDING, UsageRecorder } from "./authorize/usage-recorder.js";
import type { Config } from "./config.js";
import { ROOT_WORKSPACE } from "./domain/admin-policy.js";
import { ADMIN_ALL } from "./domain/scopes.js";
import type { RawKey } from "./domain/types.js";
import { HealthState } from "./observability/health-state.js";
import type { HotCount } from "./observability/hot-metrics.js";
import { Metrics, serveMetrics } from "./observability/metrics.js";
import { startStoreMonitor } from "./observability/store-monitor.js";
import { instrumentStore, withDeadline } from "./store/instrumented-key-store.js";
import type { KeyStore } from "./store/key-store.js";
import { MemoryKeyStore } from "./store/memory-key-store.js";
import { MongoKeyStore } from "./store/mongo/mongo-key-store.js";
import { withStoreErrors } from "./store/mongo/store-errors.js";
import { listenConnect } from "./transport/connect-server.js";
import { consoleStatic, defaultConsoleDir } from "./transport/console-static.js";
import { extAuthzService } from "./transport/gateways/ext-authz.js";
import { forwardAuth } from "./transport/gateways/forward-auth.js";
import { loadLeakReportKeys } from "./transport/gateways/leak-report-keys.js";
import { leakReports } from "./transport/gateways/leak-reports.js";
import { grpcService, listenGrpc } from "./transport/grpc/grpc-server.js";
import { adminAuthInterceptor } from "./transport/middleware/admin-auth-interceptor.js";
import { errorInterceptor, toConnectError } from "./transport/middleware/error-interceptor.js";
import { loggingInterceptor } from "./transport/middleware/logging-interceptor.js";
import { authorizeService } from "./transport/services/authorize-service.js";
import { healthService } from "./transport/services/health-service.js";
import { keyAdminService } from "./transport/services/key-admin-service.js";
import { webhookService } from "./transport/services/webhook-service.js";
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
  invalidationMode: "change_stream" | "poll" | "local";
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
  const now = overrides.now ?? (() => new Date());
  // Read before anything listens: a bad key file stops the start (ConfigError, exit 2).
  const leakKeys =
    config.leakReportKeysFile === null ? null : loadLeakReportKeys(config.leakReportKeysFile);
  const pepper = config.keyPepper ?? randomBytes(32).toString("base64url");
  const metrics = new Metrics({ defaultMetrics: config.metricsPort !== null });
  const { mongo, store: opened } = openStore(config, metrics, overrides);
  const webhooks = openWebhooks(config, opened, now, log);
  const store = webhooks.keyStore;
  const health = new HealthState([AuthorizeService.typeName, KeyAdminService.typeName]);
  const shutdown = new AbortController();
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
    leakKeys &&
    leakReports({
      keys: leakKeys,
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
  const devRootKey = mongo ? null : await createDevRootKey(manager);
  const server = await serve(config, log, {
    authorizer: hot.authorizer,
    manager,
    store,
    metrics,
    health,
    shutdown: shutdown.signal,
    now,
    leaks,
    webhooks: webhooks.deps,
  });
  let warming: Promise<WarmResult> | null = null;
  const warm = () =>
    (warming ??= warmKeyCache({
      store,
      lookup: hot.lookup,
      now,
      maxKeys: config.cache.maxEntries,
      log,
      signal: shutdown.signal,
    }));
  const background = await startBackground(config, log, {
    mongo,
    store,
    lookup: hot.lookup,
    health,
    metrics,
    onReachable: hot.setStoreReachable,
    warm: overrides.warmCache === false ? null : warm,
  });
  if (config.usage.recording) hot.usage.start();
  const compaction = startUsageCompaction(config, store, now, log);
  webhooks.start();

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
    cacheWarm: () => warming,
    shutdownSignal: shutdown.signal,
    async stop() {
      health.setAll("NOT_SERVING");
      shutdown.abort();
      await Promise.all([
        server.grpc.close(config.shutdownTimeoutMs),
        server.http.close(config.shutdownTimeoutMs),
      ]);
      await background.stop();
      await compaction.stop();
      await webhooks.stop();
      await hot.usage.stop();
      // A hung database must not hold shutdown: give close the operation deadline, then force it.
      const closed = await Promise.race([
        store.close().then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), config.mongodbTimeoutMs).unref()),
      ]);
      if (!closed) await mongo?.close(true);
    },
  };
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

/** Waiters per lane of the lookup limiter, in multiples of STORE_MAX_CONCURRENT_LOOKUPS. */
const LOOKUP_QUEUE_ROUNDS = 4;

/** Authorize's pipeline: caches in front of the store (misses bounded by the limiter), usage recorded off the hot path. */
function wireHotPath(
  config: Config,
  store: KeyStore,
  metrics: Metrics,
  pepper: string,
  now: () => Date,
  log: Logger,
) {
  const usage = new UsageRecorder({
    store,
    catalog: config.catalog,
    intervalMs: config.usage.flushMs,
    maxPending: DEFAULT_MAX_PENDING,
    log,
    onDropped: (calls) => metrics.usageDropped.inc(calls),
  });
  metrics.usagePending = () => usage.pending;
  const cache = new KeyCache({
    ...config.cache,
    positiveTtlMs: config.cache.ttlMs,
    now: () => now().getTime(),
  });
  let storeReachable = true;
  const lookups = {
    hit: metrics.cacheLookups.labels({ result: "hit" }),
    miss: metrics.cacheLookups.labels({ result: "miss" }),
  };
  const rejected = {
    queue_full: metrics.lookupsRejected.labels({ reason: "queue_full" }),
    waited_too_long: metrics.lookupsRejected.labels({ reason: "waited_too_long" }),
  };
  const limiter = new LookupLimiter({
    maxInFlight: config.storeMaxConcurrentLookups,
    // Room for a few rounds of the slots: enough that a burst of cold keys waits
    // rather than fails, small enough that a flood is refused fast instead of
    // holding callers until the deadline.
    maxQueued: LOOKUP_QUEUE_ROUNDS * config.storeMaxConcurrentLookups,
    maxWaitMs: config.mongodbTimeoutMs,
    onReject: (reason) => rejected[reason].inc(),
  });
  const lookup = new CachedKeyLookup(store, cache, {
    storeReachable: () => storeReachable,
    onLookup: (result) => lookups[result].inc(),
    limiter,
  });
  metrics.cacheSize = () => lookup.size;
  metrics.lookupLimiter = limiter;
  const authorizer = new Authorizer({
    lookup: lookup.lookup,
    pepper,
    prefix: config.keyPrefix,
    catalog: config.catalog,
    now,
    onDecision: config.usage.recording
      ? (decision, at, requiredScopes, domain, source) =>
          usage.record(decision, at, requiredScopes, domain, source)
      : recordNothing,
  });
  return { usage, lookup, authorizer, setStoreReachable: (up: boolean) => (storeReachable = up) };
}

/** USAGE_RECORDING=off: an empty function the JIT inlines, so a call costs nothing for usage. */
const recordNothing = () => {};

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

interface ServeDeps {
  authorizer: Authorizer;
  /** POST /v1/leak-reports, when LEAK_REPORT_KEYS_FILE is set. */
  leaks: HttpGateway | null;
  manager: KeyManager;
  store: KeyStore;
  webhooks: WebhookDeps;
  metrics: Metrics;
  health: HealthState;
  shutdown: AbortSignal;
  now: () => Date;
}

/**
 * One set of ServiceImpls on two ports: gRPC by grpc-js (the hot path) and
 * Connect by connect-node. Interceptors are attached per service, so Authorize
 * pays only for error mapping (and logging when LOG_LEVEL=debug).
 */
async function serve(config: Config, log: Logger, deps: ServeDeps) {
  const { metrics } = deps;
  const observer = (source: AuthorizeSource): AuthorizeObserver => {
    // Label children bound once per value, not looked up by hashing labels on every call.
    const decisionsBy = new Map<string, HotCount>();
    return (outcome, seconds) => {
      metrics.authorizeSeconds.observe(seconds);
      if (!("reason" in outcome))
        return metrics.authorizeErrors.inc({ code: codeName(outcome.error) });
      let child = decisionsBy.get(outcome.reason);
      if (!child)
        decisionsBy.set(
          outcome.reason,
          (child = metrics.decisions.labels({ reason: outcome.reason, source })),
        );
      child.inc();
    };
  };
  const common: Interceptor[] = [
    ...(log.isLevelEnabled("debug") ? [loggingInterceptor(log)] : []),
    errorInterceptor(log),
  ];
  // Admin credentials count in usage under the port they came in on.
  const adminInterceptors = (source: "grpc" | "connect") => [
    ...common,
    adminAuthInterceptor(deps.authorizer, source),
  ];
  const keyAdmin = {
    ...keyAdminService(deps.manager, config.catalog, deps.now, {
      store: deps.store,
      thresholds: config.findings,
    }),
    ...webhookService(deps.webhooks),
  };
  const forwardAuthObserved = observer("forward_auth");
  const grpc = await listenGrpc({
    host: config.host,
    port: config.port,
    tls: config.tls,
    maxMessageBytes: config.maxMessageBytes,
    limits: config.connections,
    services: [
      grpcService(
        AuthorizeService,
        authorizeService(observedAuthorize(deps.authorizer, "grpc", observer("grpc"))),
        common,
      ),
      grpcService(KeyAdminService, keyAdmin, adminInterceptors("grpc")),
      grpcService(
        Authorization,
        extAuthzService(observedAuthorize(deps.authorizer, "ext_authz", observer("ext_authz"))),
        common,
      ),
    ],
    health: deps.health,
    alsoReflect: [Health, ReflectionV1, ReflectionV1alpha],
  });
  const http = await listenConnect({
    host: config.host,
    port: config.httpPort,
    tls: config.tls,
    maxMessageBytes: config.maxMessageBytes,
    limits: config.connections,
    gateway: firstOf(
      deps.leaks,
      config.consoleEnabled ? consoleStatic(defaultConsoleDir()) : null,
      forwardAuth({
        authorize: observedAuthorize(deps.authorizer, "forward_auth", (outcome, seconds) => {
          forwardAuthObserved(outcome, seconds);
          // gRPC calls are logged by the logging interceptor; /v1/check is plain HTTP, so here. Never the key.
          if (log.isLevelEnabled("debug"))
            log.debug(
              {
                rpc: "/v1/check",
                outcome: "reason" in outcome ? outcome.reason : codeName(outcome.error),
                ms: seconds * 1000,
              },
              "forward auth",
            );
        }),
        health: deps.health,
        trustHeaders: config.forwardAuthTrustHeaders,
      }),
    ),
    routes: (router) => {
      router.service(
        AuthorizeService,
        authorizeService(observedAuthorize(deps.authorizer, "connect", observer("connect"))),
        { interceptors: common },
      );
      router.service(KeyAdminService, keyAdmin, { interceptors: adminInterceptors("connect") });
      router.service(Health, healthService(deps.health, deps.shutdown));
    },
  });
  return { grpc, http };
}

interface BackgroundDeps {
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
async function startBackground(config: Config, log: Logger, deps: BackgroundDeps) {
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
  const invalidationMode: RunningApp["invalidationMode"] = invalidation?.mode ?? "local";
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

function codeName(err: unknown): string {
  const mapped = toConnectError(err);
  return mapped ? Code[mapped.code] : "Internal";
}

type HttpGateway = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => boolean;

/** HTTP endpoints outside Connect, asked in order; the first that takes a request answers it. */
function firstOf(...gateways: Array<HttpGateway | null>): HttpGateway {
  const present = gateways.filter((g): g is HttpGateway => g !== null);
  return (req, res) => present.some((g) => g(req, res));
}
