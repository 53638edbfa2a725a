import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { UsageRecorder } from "../../src/authorize/usage-recorder.js";
import { loadCatalog } from "../../src/config.js";
import type { Decision, Reason } from "../../src/domain/decision.js";
import { HOUR_MS, type UsagePeriod } from "../../src/domain/usage.js";
import { MemoryKeyStore } from "../../src/store/memory-key-store.js";
import { keyRecord as record } from "../support/records.js";

const catalog = loadCatalog(new URL("../../config/scopes.json", import.meta.url).pathname);
const T = Date.UTC(2026, 9, 14, 10, 0, 0);

/** Lands each flush, then answers with an error the first `failures` times: a deadline that hid a success. */
class LateStore extends MemoryKeyStore {
  constructor(public failures: number) {
    super();
  }
  override async appendUsage(flush: readonly UsagePeriod[], flushId: string): Promise<void> {
    await super.appendUsage(flush, flushId);
    if (this.failures-- > 0) throw new Error("deadline");
  }
}

function recorder(store: MemoryKeyStore, maxPending = 100) {
  let dropped = 0;
  const r = new UsageRecorder({
    store,
    catalog,
    intervalMs: 60_000,
    maxPending,
    log: pino({ level: "silent" }),
    onDropped: (n) => (dropped += n),
    nowMs: () => T,
  });
  return { r, dropped: () => dropped };
}

const decision = (key: ReturnType<typeof record>, reason: Reason = "OK"): Decision => ({
  allowed: reason === "OK",
  reason,
  httpStatus: 200,
  message: "",
  missingScopes: [],
  key,
});

/** Refuses every usage write while `down`. */
class DownStore extends MemoryKeyStore {
  down = true;
  override async appendUsage(flush: readonly UsagePeriod[], flushId: string): Promise<void> {
    if (this.down) throw new Error("database unavailable");
    await super.appendUsage(flush, flushId);
  }
}

describe("UsageRecorder", () => {
  it("drops (and counts) an hour it could not write before the hour closed, so late counts never vanish silently or block later ones", async () => {
    const store = new DownStore();
    const key = record({ scopes: ["campaigns:read"] });
    await store.insertKey(key);
    let now = T;
    let dropped = 0;
    const r = new UsageRecorder({
      store,
      catalog,
      intervalMs: 60_000,
      maxPending: 100,
      log: pino({ level: "silent" }),
      onDropped: (n) => (dropped += n),
      nowMs: () => now,
    });
    for (let i = 0; i < 4; i++)
      r.record(decision(key), new Date(T + i), ["campaigns:read"], null, "grpc");
    await r.flush();
    expect(r.pending).toBe(1);
    // Still down two hours later: the first hour is closed and folded by now.
    now = T + 2 * HOUR_MS + 1;
    r.record(decision(key), new Date(now), ["campaigns:read"], null, "grpc");
    store.down = false;
    await r.flush();
    expect(dropped).toBe(4);
    expect(r.pending).toBe(0);
    const periods = await store.readUsage(key.id, new Date(T - HOUR_MS), new Date(now + HOUR_MS));
    expect(periods.map((p) => p.counts.allowed)).toEqual([1]);
  });

  it("a write that landed but answered an error is retried under the same flush id: counted once", async () => {
    const store = new LateStore(1);
    const key = record({ scopes: ["campaigns:read"] });
    await store.insertKey(key);
    const { r } = recorder(store);
    for (let i = 0; i < 3; i++)
      r.record(decision(key), new Date(T + i), ["campaigns:read"], "app.acme.com", "grpc");
    await r.flush();
    expect(r.pending).toBe(1);
    await r.flush();
    expect(r.pending).toBe(0);
    const [hour] = await store.readUsage(key.id, new Date(T - HOUR_MS), new Date(T + HOUR_MS));
    expect([hour?.counts.allowed, hour?.counts.scopes["campaigns:read"]?.grantedBy]).toEqual([
      3,
      "campaigns:read",
    ]);
    expect((await store.findKeyById(key.id))?.lastUsedAt).toEqual(new Date(T + 2));
  });

  it("keeps one entry per key and hour, drops (and counts) calls for new key-hours past the cap, and ignores decisions naming no key", async () => {
    const store = new MemoryKeyStore();
    const [a, b] = [record({ scopes: ["campaigns:read"] }), record({ scopes: ["campaigns:read"] })];
    const { r, dropped } = recorder(store, 2);
    r.record(decision(a), new Date(T), [], null, "grpc");
    r.record(decision(a), new Date(T + HOUR_MS), [], null, "connect"); // a new hour: a second key-hour
    r.record(decision(a, "SCOPE_MISSING"), new Date(T + HOUR_MS + 1), [], null, "connect"); // same hour: counted
    r.record(decision(b), new Date(T), [], null, "grpc"); // a third key-hour: over the cap
    r.record({ ...decision(a, "KEY_NOT_FOUND"), key: null }, new Date(T), [], null, "grpc");
    expect([r.pending, dropped()]).toEqual([2, 1]);
    await r.flush();
    const hours = await store.readUsage(a.id, new Date(T), new Date(T + 2 * HOUR_MS));
    expect(hours.map((h) => [h.counts.allowed, h.counts.denied])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(await store.readUsage(b.id, new Date(T), new Date(T + 2 * HOUR_MS))).toEqual([]);
  });
});
