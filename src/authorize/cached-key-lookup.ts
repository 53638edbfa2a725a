import { StoreUnavailableError } from "../domain/errors.js";
import type { KeyDigest, KeyRecord } from "../domain/types.js";
import type { KeyChange, KeyStore } from "../store/key-store.js";
import type { KeyCache } from "./key-cache.js";
import type { LookupLane, LookupLimiter } from "./lookup-limiter.js";
import { TtlLru } from "./ttl-lru.js";

export interface LookupOptions {
  /**
   * False while the database is known to be down: a miss then fails at once
   * instead of queueing callers behind a server-selection timeout.
   */
  storeReachable?: () => boolean;
  onLookup?: (result: "hit" | "miss") => void;
  /** Bounds store reads, known keys first (STORE_MAX_CONCURRENT_LOOKUPS); without it every miss goes to the store at once. */
  limiter?: LookupLimiter;
}

/**
 * The store behind the cache, with single flight: concurrent misses for one
 * digest share one store call, so a burst for a cold key costs one round trip
 * (and one place in the limiter's queue while it waits).
 */
export class CachedKeyLookup {
  /** A read invalidated while in flight may carry the old record: it answers its callers but is not cached. */
  private readonly inflight = new Map<
    KeyDigest,
    { promise: Promise<KeyRecord | null>; stale: boolean }
  >();
  /**
   * The newest revision polling has reported per digest, for a while: a write
   * made here may return after another replica's newer change was seen, and
   * must not put the older version back in the cache.
   */
  private readonly seenRevisions = new TtlLru<KeyDigest, number>({
    maxEntries: 10_000,
    ttlMs: 60_000,
    now: Date.now,
  });

  /**
   * When each digest was last invalidated, as a count of invalidations: a
   * preload read before an invalidation must not put the older record back
   * (a change stream reports no revision to compare with).
   */
  private readonly invalidatedAt = new TtlLru<KeyDigest, number>({
    maxEntries: 10_000,
    ttlMs: 60_000,
    now: Date.now,
  });
  private invalidations = 0;

  constructor(
    private readonly store: KeyStore,
    private readonly cache: KeyCache,
    private readonly options: LookupOptions = {},
  ) {}

  get size(): number {
    return this.cache.size;
  }

  get negativeSize(): number {
    return this.cache.negativeSize;
  }

  lookup = (digest: KeyDigest, nowMs?: number): Promise<KeyRecord | null> => {
    const cached = this.cache.get(digest, nowMs);
    this.options.onLookup?.(cached.hit ? "hit" : "miss");
    if (cached.hit) {
      // Refresh ahead: a key in use is re-read in the background before its TTL
      // runs out, so its callers never wait on the database for it. A failed
      // refresh changes nothing: the entry still expires when it would have.
      if (cached.refresh && !this.inflight.has(digest) && this.options.storeReachable?.() !== false)
        this.read(digest, "known").catch(() => {});
      return Promise.resolve(cached.record);
    }
    const pending = this.inflight.get(digest);
    if (pending) return pending.promise;
    if (this.options.storeReachable?.() === false)
      return Promise.reject(new StoreUnavailableError());
    return this.read(digest, this.cache.knows(digest) ? "known" : "unknown");
  };

  /** One store read per digest at a time; what it finds is cached unless invalidated meanwhile. */
  private read(digest: KeyDigest, lane: LookupLane): Promise<KeyRecord | null> {
    const done = () => {
      if (this.inflight.get(digest) === flight) this.inflight.delete(digest);
    };
    const flight = {
      stale: false,
      promise: this.find(digest, lane).then(
        (record) => {
          done();
          if (!flight.stale) this.cache.set(digest, record);
          return record;
        },
        (err: unknown) => {
          done();
          throw err;
        },
      ),
    };
    this.inflight.set(digest, flight);
    return flight.promise;
  }

  private find(digest: KeyDigest, lane: LookupLane): Promise<KeyRecord | null> {
    const { limiter, storeReachable } = this.options;
    if (!limiter) return this.store.findKeyByDigest(digest);
    // A waiter that gets its slot after the database went down fails at once, as a new miss would.
    return limiter.run(lane, () =>
      storeReachable?.() === false
        ? Promise.reject(new StoreUnavailableError())
        : this.store.findKeyByDigest(digest),
    );
  }

  /**
   * For changes seen by polling, which re-reads an overlap window: keeps a
   * cached copy that is already as new as the change, so a recently changed
   * key is not re-read on every poll.
   */
  invalidateIfStale(changed: KeyChange): void {
    if ((this.seenRevisions.get(changed.digest) ?? -1) < changed.revision)
      this.seenRevisions.set(changed.digest, changed.revision);
    const cached = this.cache.peek(changed.digest);
    // Revisions come from the database's compare-and-set, so no replica's clock decides "newer".
    const current =
      cached.hit && cached.record !== null && cached.record.revision >= changed.revision;
    // seenRevisions now holds this change, so a preload of an older record is refused without a mark.
    if (!current || this.inflight.has(changed.digest)) this.drop(changed.digest);
  }

  /**
   * For changes made on this replica: caches the record the write returned, so
   * the next Authorize here does not depend on the database's read-after-write.
   */
  replace(record: KeyRecord): void {
    this.invalidate(record.keyDigest);
    if ((this.seenRevisions.get(record.keyDigest) ?? -1) > record.revision) return;
    this.cache.set(record.keyDigest, record);
  }

  /** Pass to preload: records read after this mark are newer than every invalidation so far. */
  invalidationMark(): number {
    return this.invalidations;
  }

  /** Room for preloaded keys: a preload never evicts a key that traffic put in the cache. */
  get hasRoom(): boolean {
    return this.cache.size < this.cache.maxEntries;
  }

  /**
   * Cache warming: caches a record read at `mark` unless the cache already has
   * an answer for its digest, a read is in flight, or the key changed since.
   * True when it was cached.
   */
  preload(record: KeyRecord, mark: number): boolean {
    const digest = record.keyDigest;
    if (!this.hasRoom || this.cache.peek(digest).hit || this.inflight.has(digest)) return false;
    if ((this.invalidatedAt.get(digest) ?? -1) > mark) return false;
    if ((this.seenRevisions.get(digest) ?? -1) > record.revision) return false;
    this.cache.set(digest, record);
    return true;
  }

  /** Drops a key so the next Authorize reads it fresh. */
  invalidate(digest: KeyDigest): void {
    this.invalidatedAt.set(digest, ++this.invalidations);
    this.drop(digest);
  }

  private drop(digest: KeyDigest): void {
    const flight = this.inflight.get(digest);
    if (flight) {
      flight.stale = true;
      this.inflight.delete(digest);
    }
    this.cache.delete(digest);
  }
}
