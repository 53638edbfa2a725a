import { describe, expect, it } from "vitest";
import { CachedKeyLookup } from "../../src/authorize/cached-key-lookup.js";
import { KeyCache } from "../../src/authorize/key-cache.js";
import { LookupLimiter, type LookupLimiterOptions } from "../../src/authorize/lookup-limiter.js";
import { StoreUnavailableError } from "../../src/domain/errors.js";
import type { KeyDigest, KeyRecord } from "../../src/domain/types.js";
import { GatedKeyStore } from "../support/gated-key-store.js";
import { keyRecord } from "../support/records.js";

const unknown = (n: number) => `f${n.toString(16).padStart(63, "0")}` as KeyDigest;
/** Every hop of a lookup is a promise continuation: by the next macrotask all have run. */
const settle = () => new Promise((r) => setImmediate(r));

/** The lookup path as app.ts wires it, over a store that answers only when released. */
function setup(options: Partial<LookupLimiterOptions> & { maxInFlight: number }) {
  let t = 0;
  let reachable = true;
  const store = new GatedKeyStore();
  const cache = new KeyCache({
    maxEntries: 100,
    positiveTtlMs: 1000,
    negativeMaxEntries: 100,
    negativeTtlMs: 60_000,
    now: () => t,
  });
  const rejections: string[] = [];
  const limiter = new LookupLimiter({
    maxQueued: 1000,
    maxWaitMs: 60_000,
    ...options,
    onReject: (reason, lane) => rejections.push(`${lane}:${reason}`),
  });
  const lookup = new CachedKeyLookup(store, cache, { limiter, storeReachable: () => reachable });
  const ask = (digest: KeyDigest) => lookup.lookup(digest, t);
  /** A real key, read once through the lookup, so the cache knows it. */
  const known = async (): Promise<KeyRecord> => {
    const record = keyRecord();
    await store.insertKey(record);
    const read = ask(record.keyDigest);
    await settle();
    store.release(record.keyDigest);
    expect((await read)?.id).toBe(record.id);
    return record;
  };
  return {
    store,
    limiter,
    lookup,
    ask,
    known,
    rejections,
    at: (ms: number) => (t = ms),
    setReachable: (up: boolean) => (reachable = up),
  };
}

describe("store lookups of cache misses are bounded (STORE_MAX_CONCURRENT_LOOKUPS)", () => {
  it("never has more than the bound in flight; unknown digests leave the reserved slots free", async () => {
    const s = setup({ maxInFlight: 4, reservedForKnown: 1 });
    const flood = Array.from({ length: 40 }, (_, i) => s.ask(unknown(i)));
    await settle();
    expect(s.store.inFlight).toBe(3);
    expect(s.limiter.queued("unknown")).toBe(37);
    while (s.store.release()) await settle();
    expect(await Promise.all(flood)).toEqual(Array(40).fill(null));
    expect(s.store.started).toHaveLength(40);
    expect(s.store.maxInFlight).toBe(3);
    expect(s.limiter.inFlight).toBe(0);
  });

  it("known keys with unknown ones never exceed the bound either", async () => {
    const s = setup({ maxInFlight: 4, reservedForKnown: 1 });
    const keys = [await s.known(), await s.known(), await s.known()];
    s.at(5000); // all three expired
    const flood = Array.from({ length: 10 }, (_, i) => s.ask(unknown(i)));
    const rereads = keys.map((k) => s.ask(k.keyDigest));
    await settle();
    expect(s.store.inFlight).toBe(4);
    expect(s.limiter.queued("known")).toBe(2);
    while (s.store.release()) await settle();
    expect((await Promise.all(rereads)).map((r) => r?.id)).toEqual(keys.map((k) => k.id));
    await Promise.all(flood);
    expect(s.store.maxInFlight).toBe(4);
  });

  it("runs re-reads of known keys (expired, refreshed ahead, invalidated) before queued unknown digests", async () => {
    const s = setup({ maxInFlight: 2, reservedForKnown: 0 });
    const expired = await s.known();
    s.at(1200);
    const refreshing = await s.known();
    const invalidated = await s.known();
    s.lookup.invalidate(invalidated.keyDigest);
    s.at(2000); // `expired` is past its TTL; `refreshing` is in its last quarter
    const started = s.store.started.length;

    const flood = [1, 2, 3, 4].map((n) => s.ask(unknown(n)));
    await settle();
    const rereads = [s.ask(expired.keyDigest), s.ask(invalidated.keyDigest)];
    // A refresh ahead answers from the cache at once; only its background read waits.
    expect((await s.ask(refreshing.keyDigest))?.id).toBe(refreshing.id);
    expect(s.limiter.queued("known")).toBe(3);
    while (s.store.release()) await settle();

    expect(s.store.started.slice(started)).toEqual([
      unknown(1),
      unknown(2),
      expired.keyDigest,
      invalidated.keyDigest,
      refreshing.keyDigest,
      unknown(3),
      unknown(4),
    ]);
    expect((await Promise.all(rereads)).map((r) => r?.id)).toEqual([expired.id, invalidated.id]);
    await Promise.all(flood);
  });

  it("starts a known key's re-read at once while unknown digests hold every slot they may take", async () => {
    const s = setup({ maxInFlight: 16 }); // an eighth reserved: 2 slots
    const key = await s.known();
    s.at(5000);
    const flood = Array.from({ length: 100 }, (_, i) => s.ask(unknown(i)));
    await settle();
    expect(s.store.inFlight).toBe(14);
    const reread = s.ask(key.keyDigest);
    await settle();
    expect(s.store.inFlight).toBe(15);
    s.store.release(key.keyDigest);
    expect((await reread)?.id).toBe(key.id);
    expect(s.limiter.queued("unknown")).toBe(86); // no unknown digest was answered meanwhile
    while (s.store.release()) await settle();
    await Promise.all(flood);
  });

  it("refuses at once, as UNAVAILABLE, a lookup that finds its lane's queue full; the other lane still queues", async () => {
    const s = setup({ maxInFlight: 1, reservedForKnown: 0, maxQueued: 2 });
    const key = await s.known();
    s.at(5000);
    const admitted = [1, 2, 3].map((n) => s.ask(unknown(n)));
    await settle();
    const refused = s.ask(unknown(4));
    await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.toThrow(
      /too many key lookups are waiting for the database \(1 in flight, 2 queued\)/,
    );
    expect(s.rejections).toEqual(["unknown:queue_full"]);
    const reread = s.ask(key.keyDigest);
    await settle();
    expect(s.limiter.queued("known")).toBe(1);
    while (s.store.release()) await settle();
    expect((await reread)?.id).toBe(key.id);
    expect(await Promise.all(admitted)).toEqual([null, null, null]);
    expect(s.store.started).not.toContain(unknown(4));
    // A refused digest is not left behind as a pending flight: asked again, it is read.
    const again = s.ask(unknown(4));
    await settle();
    s.store.release();
    expect(await again).toBeNull();
  });

  it("refuses, as UNAVAILABLE, a waiter that gets no slot within the store deadline, without waiting for a slot to free", async () => {
    const s = setup({ maxInFlight: 1, reservedForKnown: 0, maxWaitMs: 40 });
    const hung = s.ask(unknown(1));
    await settle();
    const start = performance.now();
    const waiter = s.ask(unknown(2));
    await expect(waiter).rejects.toThrow(/a key lookup waited \d+ ms for a free database slot/);
    const waited = performance.now() - start;
    expect(waited).toBeGreaterThanOrEqual(35);
    expect(waited).toBeLessThan(1000);
    expect(s.rejections).toEqual(["unknown:waited_too_long"]);
    expect(s.store.started).toEqual([unknown(1)]);
    s.store.release();
    expect(await hung).toBeNull();
  });

  it("coalesces concurrent misses of one digest into one store call and one place in the queue", async () => {
    const s = setup({ maxInFlight: 1, reservedForKnown: 0 });
    const a = Array.from({ length: 10 }, () => s.ask(unknown(1)));
    const b = Array.from({ length: 10 }, () => s.ask(unknown(2)));
    await settle();
    expect(s.store.started).toEqual([unknown(1)]);
    expect(s.limiter.queued("unknown")).toBe(1);
    while (s.store.release()) await settle();
    expect(await Promise.all([...a, ...b])).toEqual(Array(20).fill(null));
    expect(s.store.started).toEqual([unknown(1), unknown(2)]);
  });

  it("fails a waiter at once, without a store call, when the database went down while it waited", async () => {
    const s = setup({ maxInFlight: 1, reservedForKnown: 0 });
    const first = s.ask(unknown(1));
    const waiter = s.ask(unknown(2));
    await settle();
    s.setReachable(false);
    s.store.release();
    expect(await first).toBeNull();
    await expect(waiter).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(s.store.started).toEqual([unknown(1)]);
  });
});
