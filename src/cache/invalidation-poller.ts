import type { Logger } from "pino";
import type { KeyStore } from "../store/key-store.js";
import type { CachedKeyLookup } from "./cached-key-lookup.js";

export interface PollerOptions {
  intervalMs: number;
  /** Replicas' clocks differ; re-reading a window behind the last poll covers the skew. */
  overlapMs: number;
  now: () => Date;
  onLag?: (lagMs: number) => void;
}

/**
 * Invalidation for servers without change streams (FerretDB, a standalone
 * mongod): every interval, drop the cached keys whose updated_at moved.
 */
export function startInvalidationPoller(store: KeyStore, lookup: CachedKeyLookup, log: Logger, options: PollerOptions): { stop(): void } {
  let since = new Date(options.now().getTime() - options.overlapMs);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let failing = false;

  const poll = async () => {
    const startedAt = options.now();
    try {
      const changed = await store.keysUpdatedSince(since);
      for (const record of changed) {
        lookup.invalidateIfStale(record);
        options.onLag?.(startedAt.getTime() - record.updatedAt.getTime());
      }
      since = new Date(startedAt.getTime() - options.overlapMs);
      if (failing) log.info("cache invalidation polling recovered");
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err }, "cache invalidation poll failed; retrying");
      failing = true;
    }
    if (!stopped) {
      timer = setTimeout(() => void poll(), options.intervalMs);
      timer.unref();
    }
  };
  void poll();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
