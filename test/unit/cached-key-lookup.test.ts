import { describe, expect, it } from "vitest";
import { CachedKeyLookup } from "../../src/authorize/cached-key-lookup.js";
import { KeyCache } from "../../src/authorize/key-cache.js";
import type { KeyStore } from "../../src/store/key-store.js";
import { MemoryKeyStore } from "../../src/store/memory-key-store.js";
import { countingStore } from "../support/counting-store.js";
import { keyRecord } from "../support/records.js";

/** A hot key is re-read in the background before its TTL runs out, so no caller waits on the database for it. */
describe("CachedKeyLookup refreshes ahead", () => {
  const setup = async (wrap: (s: KeyStore) => KeyStore = (s) => s) => {
    let t = 0;
    let reachable = true;
    const memory = new MemoryKeyStore();
    const record = keyRecord();
    await memory.insertKey(record);
    const { store, calls, settled } = countingStore(wrap(memory));
    const cache = new KeyCache({
      maxEntries: 10,
      positiveTtlMs: 1000,
      negativeMaxEntries: 10,
      negativeTtlMs: 100,
      now: () => t,
    });
    const answers: string[] = [];
    const lookup = new CachedKeyLookup(store, cache, {
      storeReachable: () => reachable,
      onLookup: (r) => answers.push(r),
    });
    const reads = () => calls.get("findKeyByDigest") ?? 0;
    return {
      lookup,
      record,
      reads,
      settled,
      lastAnswer: () => answers.at(-1),
      at: (ms: number) => (t = ms),
      setReachable: (up: boolean) => (reachable = up),
    };
  };

  it("answers from the cache at once and re-reads once, in the background, in the last quarter of the TTL", async () => {
    const { lookup, record, reads, settled, lastAnswer, at } = await setup();
    expect((await lookup.lookup(record.keyDigest, 0))?.id).toBe(record.id);
    expect(reads()).toBe(1);
    at(700);
    await lookup.lookup(record.keyDigest, 700);
    expect(reads()).toBe(1);
    at(800);
    const [a, b] = await Promise.all([
      lookup.lookup(record.keyDigest, 800),
      lookup.lookup(record.keyDigest, 800),
    ]);
    expect(a?.id).toBe(record.id);
    expect(b?.id).toBe(record.id);
    await settled(); // the background refresh's read, and what the lookup did with its answer
    expect(reads()).toBe(2); // one refresh for both callers
    at(1500); // past the first read's TTL, inside the refresh's
    await lookup.lookup(record.keyDigest, 1500);
    expect(reads()).toBe(2);
    expect(lastAnswer()).toBe("hit");
  });

  it("does not refresh while the database is known to be down, and a failed refresh leaves the TTL as it was", async () => {
    const down = await setup();
    await down.lookup.lookup(down.record.keyDigest, 0);
    down.setReachable(false);
    down.at(900);
    expect((await down.lookup.lookup(down.record.keyDigest, 900))?.id).toBe(down.record.id);
    await down.settled();
    expect(down.reads()).toBe(1);

    let fail = false;
    const flaky = await setup(
      (s) =>
        new Proxy(s, {
          get: (target, p, r) =>
            p === "findKeyByDigest" && fail
              ? () => Promise.reject(new Error("db gone"))
              : Reflect.get(target, p, r),
        }),
    );
    await flaky.lookup.lookup(flaky.record.keyDigest, 0);
    fail = true;
    flaky.at(900);
    expect((await flaky.lookup.lookup(flaky.record.keyDigest, 900))?.id).toBe(flaky.record.id);
    await flaky.settled();
    flaky.at(1000);
    await expect(flaky.lookup.lookup(flaky.record.keyDigest, 1000)).rejects.toThrow("db gone"); // expired as before: a read, which fails
    expect(flaky.reads()).toBe(3); // a read of its own: the failed refresh was over
  });
});

describe("CachedKeyLookup.replace", () => {
  it("does not put back a version older than one polling has already reported", async () => {
    const memory = new MemoryKeyStore();
    const v1 = keyRecord({ revision: 1 });
    await memory.insertKey(v1);
    const cache = new KeyCache({
      maxEntries: 10,
      positiveTtlMs: 60_000,
      negativeMaxEntries: 10,
      negativeTtlMs: 100,
      now: () => 0,
    });
    const lookup = new CachedKeyLookup(memory, cache);
    // Another replica revoked the key (revision 3) and this one's poller saw it...
    lookup.invalidateIfStale({ digest: v1.keyDigest, revision: 3 });
    // ...before this replica's own, older write (revision 2) returned.
    lookup.replace({ ...v1, revision: 2 });
    expect(cache.peek(v1.keyDigest)).toEqual({ hit: false });
    // A write at least as new as what was seen is cached.
    lookup.replace({ ...v1, revision: 4 });
    const hit = cache.peek(v1.keyDigest);
    expect(hit.hit && hit.record?.revision).toBe(4);
  });
});

/** Cache warming at start: preloaded records never replace newer knowledge or evict live keys. */
describe("CachedKeyLookup.preload", () => {
  const setup = (maxEntries = 10) => {
    const memory = new MemoryKeyStore();
    const { store, calls } = countingStore(memory);
    const cache = new KeyCache({
      maxEntries,
      positiveTtlMs: 60_000,
      negativeMaxEntries: 10,
      negativeTtlMs: 100,
      now: () => 0,
    });
    const lookup = new CachedKeyLookup(store, cache);
    return { lookup, memory, reads: () => calls.get("findKeyByDigest") ?? 0 };
  };

  it("caches a record, so its first call reads nothing", async () => {
    const { lookup, reads } = setup();
    const r = keyRecord();
    expect(lookup.preload(r, lookup.invalidationMark())).toBe(true);
    expect((await lookup.lookup(r.keyDigest, 0))?.id).toBe(r.id);
    expect(reads()).toBe(0);
  });

  it("skips a record invalidated after it was read, and one already cached", async () => {
    const { lookup } = setup();
    const r = keyRecord();
    const mark = lookup.invalidationMark();
    lookup.invalidate(r.keyDigest);
    expect(lookup.preload(r, mark)).toBe(false);
    const newer = { ...r, revision: 1, name: "newer" };
    lookup.replace(newer);
    expect(lookup.preload(r, lookup.invalidationMark())).toBe(false);
    expect((await lookup.lookup(r.keyDigest, 0))?.name).toBe("newer");
  });

  it("after polling re-reported a change: preloads the record as new as it, not an older one", () => {
    const { lookup } = setup();
    const r = keyRecord({ revision: 2 });
    const mark = lookup.invalidationMark();
    lookup.invalidateIfStale({ digest: r.keyDigest, revision: 2 });
    expect(lookup.preload({ ...r, revision: 1 }, mark)).toBe(false);
    expect(lookup.preload(r, mark)).toBe(true);
  });

  it("stops when the cache is full instead of evicting", () => {
    const { lookup } = setup(2);
    const mark = lookup.invalidationMark();
    expect([1, 2, 3].map(() => lookup.preload(keyRecord(), mark))).toEqual([true, true, false]);
    expect(lookup.size).toBe(2);
  });
});
