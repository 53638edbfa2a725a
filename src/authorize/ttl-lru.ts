interface Entry<V> {
  value: V;
  expiresAt: number;
  /** From then on a reader is told the entry is due for a refresh (it is still served until expiresAt). */
  refreshAt: number;
  /** When it was last (re-)inserted, counted in insertions. */
  seq: number;
}

export interface TtlLruOptions {
  /** 0 turns the cache off. */
  maxEntries: number;
  ttlMs: number;
  /** How long after it is set an entry counts as due for a refresh; default ttlMs (never before it expires). */
  refreshAfterMs?: number;
  /** An expired entry stays until evicted or set again, so `has` still tells a key seen before. */
  keepExpired?: boolean;
  now: () => number;
}

/** A bounded least-recently-used map whose entries also expire. */
export class TtlLru<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private seq = 0;

  constructor(private readonly options: TtlLruOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K, nowMs?: number): V | undefined {
    return this.getEntry(key, nowMs)?.value;
  }

  /** Like get, with the entry's times: `refreshAt <= now` means it is due for a refresh. */
  getEntry(key: K, nowMs?: number): Readonly<Entry<V>> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= (nowMs ?? this.options.now())) {
      if (!this.options.keepExpired) this.entries.delete(key);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    // One among the newest half is far from eviction and stays put, so a hot key
    // costs a lookup, not a delete and an insert, on every call.
    if (this.seq - entry.seq >= this.options.maxEntries >>> 1) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.seq = ++this.seq;
    }
    return entry;
  }

  /** Like get, without marking the entry as used. */
  peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || entry.expiresAt <= this.options.now() ? undefined : entry.value;
  }

  set(key: K, value: V): void {
    if (this.options.maxEntries <= 0) return;
    this.entries.delete(key);
    const now = this.options.now();
    const { ttlMs, refreshAfterMs = ttlMs } = this.options;
    this.entries.set(key, {
      value,
      expiresAt: now + ttlMs,
      refreshAt: now + refreshAfterMs,
      seq: ++this.seq,
    });
    while (this.entries.size > this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
  }

  /** Held, expired or not (only kept when `keepExpired`). */
  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Ends an entry now: with `keepExpired` it stays, expired. */
  expire(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (this.options.keepExpired) entry.expiresAt = entry.refreshAt = -Infinity;
    else this.entries.delete(key);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
