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

export type CacheResult = { hit: true; record: KeyRecord | null } | { hit: false };

const MISS: CacheResult = { hit: false };
const UNKNOWN: CacheResult = { hit: true, record: null };

/**
 * Known keys and unknown digests in two separate LRUs. The checksum is public,
 * so anyone can mint well-formed unknown keys by the million: they may only
 * push out each other, never a real key.
 */
export class KeyCache {
  private readonly known: TtlLru<KeyDigest, KeyRecord>;
  private readonly unknown: TtlLru<KeyDigest, true>;

  constructor(options: KeyCacheOptions) {
    this.known = new TtlLru({ maxEntries: options.maxEntries, ttlMs: options.positiveTtlMs, now: options.now });
    this.unknown = new TtlLru({ maxEntries: options.negativeMaxEntries, ttlMs: options.negativeTtlMs, now: options.now });
  }

  get size(): number {
    return this.known.size;
  }

  get negativeSize(): number {
    return this.unknown.size;
  }

  /** `nowMs` saves a clock read when the caller already made one. */
  get(digest: KeyDigest, nowMs?: number): CacheResult {
    const record = this.known.get(digest, nowMs);
    if (record !== undefined) return { hit: true, record };
    return this.unknown.get(digest, nowMs) ? UNKNOWN : MISS;
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
      this.known.set(digest, record);
    }
  }

  delete(digest: KeyDigest): void {
    this.known.delete(digest);
    this.unknown.delete(digest);
  }

  clear(): void {
    this.known.clear();
    this.unknown.clear();
  }
}
