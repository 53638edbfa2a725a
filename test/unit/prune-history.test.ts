import { describe, expect, it } from "vitest";
import { MemoryWebhookStore } from "../../src/store/memory-webhook-store.js";
import { deliveryId } from "../../src/store/webhook-store.js";
import {
  HISTORY_RETENTION_MS,
  PRUNE_BATCH,
  PRUNE_EVERY_MS,
  pruneWebhookHistory,
} from "../../src/webhooks/prune-history.js";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);

/** `n` events of time 0, each delivered to webhook wh_1. */
async function delivered(store: MemoryWebhookStore, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const eventId = `e${i}`;
    await store.insertEvent({
      id: eventId,
      type: "key.created",
      workspace: "acme",
      occurredAt: at(0),
      body: "{}",
    });
    const d = {
      id: deliveryId(eventId, "wh_1"),
      webhookId: "wh_1",
      eventId,
      status: "pending" as const,
      attempts: 0,
      nextAttemptAt: at(0),
      lastError: "",
      createdAt: at(0),
    };
    await store.fanOut(eventId, [d]);
    await store.finishAttempt(d, { status: "delivered", at: at(1) });
  }
}

describe("pruning webhook history: bounded batches, a sweep every PRUNE_EVERY_MS", () => {
  it("goes on at the next tick while a batch comes back full, then waits", async () => {
    const store = new MemoryWebhookStore();
    await delivered(store, PRUNE_BATCH + 100);
    const late = at(HISTORY_RETENTION_MS + 1);
    await pruneWebhookHistory(store, late);
    expect(await store.recentDeliveries("wh_1", 1000)).toHaveLength(100);
    expect(await store.readMark("prune")).toBeNull();
    await pruneWebhookHistory(store, late);
    expect(await store.recentDeliveries("wh_1", 1000)).toHaveLength(0);
    expect(await store.readMark("prune")).toEqual(late);

    await delivered(store, 1, 10_000);
    await pruneWebhookHistory(store, at(HISTORY_RETENTION_MS + PRUNE_EVERY_MS));
    expect(await store.recentDeliveries("wh_1", 10)).toHaveLength(1);
    await pruneWebhookHistory(store, at(HISTORY_RETENTION_MS + PRUNE_EVERY_MS + 1));
    expect(await store.recentDeliveries("wh_1", 10)).toHaveLength(0);
  });

  it("keeps what is younger than the retention", async () => {
    const store = new MemoryWebhookStore();
    await delivered(store, 3);
    await pruneWebhookHistory(store, at(HISTORY_RETENTION_MS));
    expect(await store.recentDeliveries("wh_1", 10)).toHaveLength(3);
    expect(await store.findEvent("e0")).not.toBeNull();
  });
});
