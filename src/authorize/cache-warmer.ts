import type { Logger } from "pino";
import { HOUR_MS } from "../domain/usage.js";
import type { KeyStore, UsedCursor } from "../store/key-store.js";
import type { CachedKeyLookup } from "./cached-key-lookup.js";

/** Keys read per store call: each page is one bounded read under the usual deadline. */
export const WARM_BATCH = 500;

/**
 * How long a starting replica holds SERVING back while its cache warms: room
 * for thousands of keys on a healthy database, short enough that a slow one
 * does not hold up a rolling deploy; the rest warms in the background.
 */
export const WARM_HOLDS_SERVING_MS = 3000;

/** How far back a key counts as in use, for warming. */
export const WARM_WINDOW_MS = HOUR_MS;

export interface WarmOptions {
  store: Pick<KeyStore, "recentlyUsedKeys">;
  lookup: CachedKeyLookup;
  now: () => Date;
  /** At most this many keys (CACHE_MAX_ENTRIES); the cache's own room bounds it too. */
  maxKeys: number;
  log: Logger;
  /** Aborted at shutdown: no further page is read. */
  signal?: AbortSignal;
}

export interface WarmResult {
  /** Keys put in the cache. */
  keys: number;
  ms: number;
}

/**
 * Fills a starting replica's cache with the keys used in the last hour, most
 * recently used first, one page at a time (one store read in flight; requests
 * never wait on it), so a rolling deploy does not send every product's first
 * calls to the database at once. Stops when the cache has no room: a warm
 * never evicts what traffic put there. A failure only logs: the keys are
 * then read on their first call, as without warming.
 */
export async function warmKeyCache(options: WarmOptions): Promise<WarmResult> {
  const { store, lookup, maxKeys, log } = options;
  const started = performance.now();
  const since = new Date(options.now().getTime() - WARM_WINDOW_MS);
  let keys = 0;
  let read = 0;
  let after: UsedCursor | null = null;
  try {
    while (read < maxKeys && lookup.hasRoom && !options.signal?.aborted) {
      const mark = lookup.invalidationMark();
      const page = await store.recentlyUsedKeys({
        since,
        limit: Math.min(WARM_BATCH, maxKeys - read),
        after,
      });
      read += page.records.length;
      for (const record of page.records) if (lookup.preload(record, mark)) keys++;
      if (page.next === null) break;
      after = page.next;
    }
  } catch (err) {
    log.warn({ err, keys }, "cache warm failed; the other keys are read on their first call");
  }
  const ms = Math.round(performance.now() - started);
  log.info({ keys, ms }, "key cache warmed with the keys used in the last hour");
  return { keys, ms };
}
