import type { Logger } from "pino";
import type { KeyStore } from "../store/key-store.js";
import type { CachedKeyLookup } from "./cached-key-lookup.js";

export interface PollerOptions {
  intervalMs: number;
  /**
   * Change marks come from the database's clock, so replicas' clocks play no
   * part; the overlap only covers a write whose mark was taken just before it
   * became visible to readers.
   */
  overlapMs: number;
  /** The database's mark of the newest change a poll saw (for the lag metric). */
  onChange?: (changedAt: Date) => void;
}

/**
 * Invalidation for servers without change streams (FerretDB, a standalone
 * mongod): every interval, drop the cached keys whose revision moved.
 */
export function startInvalidationPoller(
  store: KeyStore,
  lookup: CachedKeyLookup,
  log: Logger,
  options: PollerOptions,
): { stop(): void } {
  let since: Date | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let failing = false;

  const poll = async () => {
    try {
      if (since === null) {
        const latest = await store.latestChange();
        since = new Date((latest?.getTime() ?? 0) - options.overlapMs);
      }
      const batch = await store.changesSince(since);
      for (const change of batch.changes) lookup.invalidateIfStale(change);
      if (batch.latest !== null) {
        options.onChange?.(batch.latest);
        const next = batch.latest.getTime() - options.overlapMs;
        if (next > since.getTime()) since = new Date(next);
      }
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
