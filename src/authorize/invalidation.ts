import type { Logger } from "pino";
import type { KeyChangeFeed } from "../store/change-feed.js";
import type { KeyStore } from "../store/key-store.js";
import type { CachedKeyLookup } from "./cached-key-lookup.js";
import { startInvalidationPoller } from "./invalidation-poller.js";

export type InvalidationMode = "change_stream" | "poll";

export interface InvalidationOptions {
  pollIntervalMs: number;
  /** Called with the database's mark of a change seen (change stream, or the newest of a poll). */
  onChange?: (changedAt: Date) => void;
}

/**
 * Learns about changes other replicas make: a change stream where the server
 * offers one (replica sets), otherwise polling the updated_at index. Chosen
 * once at start; a change stream that later fails hands over to polling.
 */
export async function startInvalidation(
  feed: KeyChangeFeed,
  store: KeyStore,
  lookup: CachedKeyLookup,
  log: Logger,
  options: InvalidationOptions,
): Promise<{ mode: InvalidationMode; stop(): Promise<void> }> {
  const poll = () =>
    startInvalidationPoller(store, lookup, log, {
      intervalMs: options.pollIntervalMs,
      overlapMs: 2000,
      onChange: options.onChange,
    });

  let poller: { stop(): void } | null = null;
  const stream = await feed
    .watchKeyChanges(
      (digest, changedAt) => {
        lookup.invalidate(digest);
        if (changedAt) options.onChange?.(changedAt);
      },
      (err) => {
        log.warn(
          { err },
          "cache invalidation: change stream failed; polling updated_at from now on",
        );
        poller ??= poll();
      },
    )
    .catch(() => null);

  if (stream) {
    log.info("cache invalidation: change stream");
  } else {
    log.info(
      { intervalMs: options.pollIntervalMs },
      "cache invalidation: polling updated_at (the database offers no change streams)",
    );
    poller = poll();
  }
  return {
    mode: stream ? "change_stream" : "poll",
    async stop() {
      poller?.stop();
      await stream?.close().catch(() => undefined);
    },
  };
}
