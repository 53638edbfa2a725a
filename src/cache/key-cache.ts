import type { KeyHash, KeyRecord } from "../domain/types.js";

interface Entry {
  record: KeyRecord | null;
  expiresAt: number;
}

export interface KeyCacheOptions {
  maxEntries: number;
  /** A found key is re-read at least this often, even if no invalidation arrives. */
  positiveTtlMs: number;
  /** An unknown hash is remembered this long, so floods of junk keys cost no round trips. */
  negativeTtlMs: number;
  now: () => number;
}

export type CacheResult = { hit: true; record: KeyRecord | null } | { hit: false };

/** Bounded LRU of key records by hash; `null` records are negative entries. */
export class KeyCache {
  private readonly entries = new Map<KeyHash, Entry>();

  constructor(private readonly options: KeyCacheOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get(hash: KeyHash): CacheResult {
    const entry = this.entries.get(hash);
    if (entry === undefined) return { hit: false };
    if (entry.expiresAt <= this.options.now()) {
      this.entries.delete(hash);
      return { hit: false };
    }
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    return { hit: true, record: entry.record };
  }

  /** Like get, without marking the entry as used. */
  peek(hash: KeyHash): CacheResult {
    const entry = this.entries.get(hash);
    return entry === undefined || entry.expiresAt <= this.options.now() ? { hit: false } : { hit: true, record: entry.record };
  }

  set(hash: KeyHash, record: KeyRecord | null): void {
    if (this.options.maxEntries <= 0) return;
    const ttl = record === null ? this.options.negativeTtlMs : this.options.positiveTtlMs;
    this.entries.delete(hash);
    this.entries.set(hash, { record, expiresAt: this.options.now() + ttl });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as KeyHash;
      this.entries.delete(oldest);
    }
  }

  delete(hash: KeyHash): void {
    this.entries.delete(hash);
  }

  clear(): void {
    this.entries.clear();
  }
}
