import type { Logger } from "pino";
import { Authorizer } from "../authorize/authorizer.js";
import { CachedKeyLookup } from "../authorize/cached-key-lookup.js";
import { KeyCache } from "../authorize/key-cache.js";
import { LookupLimiter } from "../authorize/lookup-limiter.js";
import { DEFAULT_MAX_PENDING, UsageRecorder } from "../authorize/usage-recorder.js";
import type { Config } from "../config.js";
import type { Metrics } from "../observability/metrics.js";
import type { KeyStore } from "../store/key-store.js";

/** Waiters per lane of the lookup limiter, in multiples of STORE_MAX_CONCURRENT_LOOKUPS. */
const LOOKUP_QUEUE_ROUNDS = 4;

function usageRecorder(
  config: Config,
  store: KeyStore,
  metrics: Metrics,
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
    // The clock decisions are stamped with: an hour closes by the same clock.
    nowMs: () => now().getTime(),
  });
  metrics.usagePending = () => usage.pending;
  return usage;
}

/** Authorize's pipeline: caches in front of the store (misses bounded by the limiter), usage recorded off the hot path. */
export function wireHotPath(
  config: Config,
  store: KeyStore,
  metrics: Metrics,
  pepper: string,
  now: () => Date,
  log: Logger,
) {
  const usage = usageRecorder(config, store, metrics, now, log);
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

export type HotPath = ReturnType<typeof wireHotPath>;
