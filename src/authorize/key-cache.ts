import type { KeyDigest, KeyRecord } from "../domain/types.js";
import { TtlLru } from "./ttl-lru.js";

export interface KeyCacheOptions {
  maxEntries: number;
  /** A found key is re-read at least this often, even if no invalidation arrives. */
  positiveTtlMs: number;
  /** Unknown digests remembered at most; a bound of their own. */
  negativeMaxEntries: number;
  /** An unknown digest is remembered this long, so repeated junk keys cost no round trips. */
  negativeTtlMs: number;
  now: () => number;
}

/** `refresh`: a known key in the last quarter of its TTL, still served; worth re-reading in the background. */
export type CacheResult =
  | { hit: true; record: KeyRecord | null; refresh?: boolean }
  | { hit: false };

/** A known key counts as due for a refresh once this share of its TTL has passed. */
export const REFRESH_AFTER = 0.75;

/**
 * The memos of the hot path (compiled grants, answers) are keyed by a cached
 * record's identity, so a cached record must never change: a change brings a
 * new object. Frozen here, so a mutation throws instead of serving stale memos.
 */
function frozen(record: KeyRecord): KeyRecord {
  if (Object.isFrozen(record)) return record;
  Object.freeze(record.scopes);
  Object.freeze(record.allowedDomains);
  Object.freeze(record.metadata);
  return Object.freeze(record);
}

const MISS: CacheResult = { hit: false };
const UNKNOWN: CacheResult = { hit: true, record: null };

/**
 * Known keys and unknown digests in two separate LRUs (an expired known key is
 * kept, unserved, until evicted: `knows` tells a re-read from a stranger). The checksum is public,
 * so anyone can mint well-formed unknown keys by the million: they may only
 * push out each other, never a real key.
 */
export class KeyCache {
  private readonly known: TtlLru<KeyDigest, KeyRecord>;
  private readonly unknown: TtlLru<KeyDigest, true>;
  private readonly now: () => number;
  readonly maxEntries: number;

  constructor(options: KeyCacheOptions) {
    this.now = options.now;
    this.maxEntries = options.maxEntries;
    this.known = new TtlLru({
      maxEntries: options.maxEntries,
      ttlMs: options.positiveTtlMs,
      refreshAfterMs: options.positiveTtlMs * REFRESH_AFTER,
      keepExpired: true,
      now: options.now,
    });
    this.unknown = new TtlLru({
      maxEntries: options.negativeMaxEntries,
      ttlMs: options.negativeTtlMs,
      now: options.now,
    });
  }

  get size(): number {
    return this.known.size;
  }

  get negativeSize(): number {
    return this.unknown.size;
  }

  /** `nowMs` saves a clock read when the caller already made one. */
  get(digest: KeyDigest, nowMs?: number): CacheResult {
    const entry = this.known.getEntry(digest, nowMs);
    if (entry !== undefined)
      return { hit: true, record: entry.value, refresh: entry.refreshAt <= (nowMs ?? this.now()) };
    return this.unknown.get(digest, nowMs) ? UNKNOWN : MISS;
  }

  /**
   * A real key was cached under this digest and is still remembered (expired or
   * invalidated, not yet evicted): its re-read goes ahead of unknown digests.
   */
  knows(digest: KeyDigest): boolean {
    return this.known.has(digest);
  }

  /** Like get, without marking the entry as used. */
  peek(digest: KeyDigest): CacheResult {
    const record = this.known.peek(digest);
    if (record !== undefined) return { hit: true, record };
    return this.unknown.peek(digest) ? UNKNOWN : MISS;
  }

  set(digest: KeyDigest, record: KeyRecord | null): void {
    if (record === null) {
      this.known.delete(digest);
      this.unknown.set(digest, true);
    } else {
      this.unknown.delete(digest);
      this.known.set(digest, frozen(record));
    }
  }

  /** The next get misses; a known key stays known, so its re-read keeps its priority. */
  delete(digest: KeyDigest): void {
    this.known.expire(digest);
    this.unknown.delete(digest);
  }

  clear(): void {
    this.known.clear();
    this.unknown.clear();
  }
}
