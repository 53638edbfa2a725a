interface Entry<V> {
  value: V;
  expiresAt: number;
}

export interface TtlLruOptions {
  /** 0 turns the cache off. */
  maxEntries: number;
  ttlMs: number;
  now: () => number;
}

/** A bounded least-recently-used map whose entries also expire. */
export class TtlLru<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  constructor(private readonly options: TtlLruOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K, nowMs?: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= (nowMs ?? this.options.now())) {
      this.entries.delete(key);
      return undefined;
    }
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Like get, without marking the entry as used. */
  peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || entry.expiresAt <= this.options.now() ? undefined : entry.value;
  }

  set(key: K, value: V): void {
    if (this.options.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.options.now() + this.options.ttlMs });
    while (this.entries.size > this.options.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
