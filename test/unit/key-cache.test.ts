import { describe, expect, it } from "vitest";
import { KeyCache } from "../../src/authorize/key-cache.js";
import type { KeyDigest } from "../../src/domain/types.js";
import { keyRecord } from "../support/records.js";

const h = (n: number) => n.toString(16).padStart(64, "0") as KeyDigest;

describe("KeyCache", () => {
  const make = (o: Partial<ConstructorParameters<typeof KeyCache>[0]> = {}) => {
    let t = 0;
    const cache = new KeyCache({
      maxEntries: 3,
      positiveTtlMs: 1000,
      negativeMaxEntries: 3,
      negativeTtlMs: 100,
      now: () => t,
      ...o,
    });
    return { cache, advance: (ms: number) => (t += ms) };
  };

  it("returns what was set, and misses what was not", () => {
    const { cache } = make();
    const r = keyRecord();
    cache.set(h(1), r);
    expect(cache.get(h(1))).toEqual({ hit: true, record: r, refresh: false });
    expect(cache.get(h(2))).toEqual({ hit: false });
  });

  it("a cached record cannot be changed in place: the memos keyed by its identity stay true", () => {
    const { cache } = make();
    cache.set(h(1), keyRecord({ scopes: ["campaigns:read"] }));
    const hit = cache.get(h(1));
    if (!hit.hit || hit.record === null) throw new Error("expected a cached record");
    const record = hit.record;
    expect(() => {
      record.scopes.push("*");
    }).toThrow(TypeError);
    expect(() => {
      record.revokedAt = new Date();
    }).toThrow(TypeError);
    expect(() => {
      record.metadata.tier = "gold";
    }).toThrow(TypeError);
    expect(record.scopes).toEqual(["campaigns:read"]);
  });

  it("holds negative entries for a shorter time than positive ones", () => {
    const { cache, advance } = make();
    cache.set(h(1), keyRecord());
    cache.set(h(2), null);
    expect(cache.get(h(2))).toEqual({ hit: true, record: null });
    advance(100);
    expect(cache.get(h(2))).toEqual({ hit: false });
    expect(cache.get(h(1)).hit).toBe(true);
    advance(900);
    expect(cache.get(h(1)).hit).toBe(false);
  });

  it("says when a known key is due for a refresh: in the last quarter of its TTL, while still served", () => {
    const { cache, advance } = make();
    const r = keyRecord();
    cache.set(h(1), r);
    advance(749);
    expect(cache.get(h(1))).toEqual({ hit: true, record: r, refresh: false });
    advance(1);
    expect(cache.get(h(1))).toEqual({ hit: true, record: r, refresh: true });
    advance(249);
    expect(cache.get(h(1))).toEqual({ hit: true, record: r, refresh: true });
    advance(1);
    expect(cache.get(h(1))).toEqual({ hit: false });
    cache.set(h(1), r); // the refresh landed: a full TTL again
    expect(cache.get(h(1))).toEqual({ hit: true, record: r, refresh: false });
  });

  it("still knows a known key once it expired or was dropped (unserved), so its re-read can go first; a key found gone is forgotten", () => {
    const { cache, advance } = make();
    cache.set(h(1), keyRecord());
    cache.set(h(2), keyRecord());
    cache.set(h(3), null);
    advance(1000);
    cache.delete(h(2));
    expect(cache.get(h(1))).toEqual({ hit: false });
    expect(cache.get(h(2))).toEqual({ hit: false });
    expect(cache.peek(h(2))).toEqual({ hit: false });
    expect([cache.knows(h(1)), cache.knows(h(2)), cache.knows(h(3)), cache.knows(h(4))]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    cache.set(h(1), null);
    expect(cache.knows(h(1))).toBe(false);
  });

  it("stays within its bound, evicting the least recently used", () => {
    const { cache } = make();
    for (const n of [1, 2, 3]) cache.set(h(n), null);
    cache.get(h(1));
    cache.set(h(4), null);
    expect(cache.negativeSize).toBe(3);
    expect(cache.get(h(2)).hit).toBe(false);
    expect([1, 3, 4].every((n) => cache.get(h(n)).hit)).toBe(true);
  });

  it("unknown digests never evict known keys, however many arrive", () => {
    const { cache } = make();
    const known = [1, 2, 3].map((n) => [h(n), keyRecord()] as const);
    for (const [d, r] of known) cache.set(d, r);
    for (let n = 1000; n < 11_000; n++) cache.set(h(n), null);
    expect(cache.negativeSize).toBe(3);
    for (const [d, r] of known)
      expect(cache.get(d)).toEqual({ hit: true, record: r, refresh: false });
    expect(cache.get(h(10_999))).toEqual({ hit: true, record: null });
    expect(cache.get(h(1000)).hit).toBe(false);
  });

  it("a key found after it was remembered as unknown replaces the negative entry", () => {
    const { cache } = make();
    const r = keyRecord();
    cache.set(h(1), null);
    cache.set(h(1), r);
    expect(cache.get(h(1))).toEqual({ hit: true, record: r, refresh: false });
    expect(cache.negativeSize).toBe(0);
  });

  it("a size of 0 caches nothing", () => {
    const { cache } = make({ maxEntries: 0 });
    cache.set(h(1), keyRecord());
    expect(cache.get(h(1)).hit).toBe(false);
  });
});
