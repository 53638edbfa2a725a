import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { warmKeyCache } from "../../src/authorize/cache-warmer.js";
import { CachedKeyLookup } from "../../src/authorize/cached-key-lookup.js";
import { KeyCache } from "../../src/authorize/key-cache.js";
import type { KeyId } from "../../src/domain/types.js";
import { HOUR_MS } from "../../src/domain/usage.js";
import { HealthState } from "../../src/observability/health-state.js";
import { startStoreMonitor } from "../../src/observability/store-monitor.js";
import type { KeyStore } from "../../src/store/key-store.js";
import { MemoryKeyStore } from "../../src/store/memory-key-store.js";
import type { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import { countingStore } from "../support/counting-store.js";
import { waitFor } from "../support/harness.js";
import { keyRecord, T0 } from "../support/records.js";

const now = () => new Date(T0.getTime() + 10 * HOUR_MS);
const ago = (ms: number) => new Date(now().getTime() - ms);

function lookupOver(store: KeyStore, maxEntries = 100) {
  const cache = new KeyCache({
    maxEntries,
    positiveTtlMs: 60_000,
    negativeMaxEntries: 10,
    negativeTtlMs: 100,
    now: () => now().getTime(),
  });
  return new CachedKeyLookup(store, cache);
}

describe("warmKeyCache", () => {
  it("caches the keys used in the last hour, most recent first, up to maxKeys, in pages", async () => {
    const memory = new MemoryKeyStore();
    const recent = Array.from({ length: 5 }, () => keyRecord());
    const old = keyRecord();
    await memory.insertKeys([...recent, old]);
    await memory.recordUsage(
      new Map<KeyId, Date>([
        ...recent.map((r, i) => [r.id, ago(i * 60_000)] as [KeyId, Date]),
        [old.id, ago(HOUR_MS + 1000)],
      ]),
    );
    const { store, calls } = countingStore(memory);
    const lookup = lookupOver(store);
    const log = pino({ level: "silent" });
    const warmed = await warmKeyCache({ store, lookup, now, maxKeys: 3, log });
    expect(warmed.keys).toBe(3);
    const reads = () => calls.get("findKeyByDigest") ?? 0;
    for (const r of recent.slice(0, 3)) await lookup.lookup(r.keyDigest);
    expect(reads()).toBe(0);
    await lookup.lookup(recent[3]!.keyDigest);
    await lookup.lookup(old.keyDigest);
    expect(reads()).toBe(2);
  });

  it("a store that fails only logs: what was cached stays, the rest is read on first call", async () => {
    const memory = new MemoryKeyStore();
    const r = keyRecord();
    await memory.insertKey(r);
    await memory.recordUsage(new Map([[r.id, ago(1000)]]));
    let pages = 0;
    const failing = {
      recentlyUsedKeys: async (q: Parameters<KeyStore["recentlyUsedKeys"]>[0]) => {
        if (pages++ > 0) throw new Error("database gone");
        const page = await memory.recentlyUsedKeys({ ...q, limit: 1 });
        return { ...page, next: { usedAt: ago(1000), id: r.id } };
      },
    };
    const warnings: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    const warmed = await warmKeyCache({
      store: failing,
      lookup: lookupOver(memory),
      now,
      maxKeys: 10,
      log,
    });
    expect(warmed.keys).toBe(1);
    expect(warnings.join("")).toContain("cache warm failed");
  });
});

describe("startStoreMonitor's beforeServing", () => {
  it("holds SERVING for the warm at most maxMs, then serves while it goes on", async () => {
    const health = new HealthState([]);
    const database = { ensureIndexes: async () => {}, ping: async () => {} };
    let warmStarted = false;
    const monitor = startStoreMonitor(
      database as unknown as MongoKeyStore,
      health,
      pino({ level: "silent" }),
      {
        beforeServing: {
          run: () => {
            warmStarted = true;
            return new Promise(() => {});
          },
          maxMs: 100,
        },
      },
    );
    try {
      const t0 = performance.now();
      await waitFor(() => health.get("") === "SERVING", 5000, "SERVING");
      expect(warmStarted).toBe(true);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    } finally {
      monitor.stop();
    }
  });
});
