import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Delivery,
  deliveryId,
  type WebhookRecord,
  type WebhookStore,
} from "../../src/store/webhook-store.js";
import { T0 } from "../support/records.js";

const at = (ms: number) => new Date(T0.getTime() + ms);
let n = 0;
const hook = (over: Partial<WebhookRecord> = {}): WebhookRecord => ({
  id: `wh_${++n}`,
  workspace: "acme",
  url: "https://hooks.example.com/x",
  events: [],
  secret: "whsec_c2VjcmV0",
  createdAt: at(n),
  ...over,
});
const event = (id: string, ms = 0) => ({
  id,
  type: "key.created",
  workspace: "acme",
  occurredAt: at(ms),
  body: `{"id":"${id}"}`,
});
const delivery = (eventId: string, webhookId: string): Delivery => ({
  id: deliveryId(eventId, webhookId),
  webhookId,
  eventId,
  status: "pending",
  attempts: 0,
  nextAttemptAt: at(0),
  lastError: "",
  createdAt: at(0),
});

/** The behaviour every WebhookStore must have. `fresh` returns an empty store. */
export function webhookStoreContract(name: string, fresh: () => Promise<WebhookStore>) {
  describe(`WebhookStore contract: ${name}`, () => {
    let store: WebhookStore;
    const opened: WebhookStore[] = [];
    beforeEach(async () => {
      store = await fresh();
      opened.push(store);
    });
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it("keeps webhooks, lists them by workspace (null: all), deletes them", async () => {
      const a = hook();
      const b = hook({ workspace: "other", events: ["key.revoked"] });
      await store.insertWebhook(a);
      await store.insertWebhook(b);
      expect(await store.findWebhook(a.id)).toEqual(a);
      expect((await store.listWebhooks("acme")).map((w) => w.id)).toEqual([a.id]);
      expect((await store.listWebhooks(null)).map((w) => w.id)).toEqual([a.id, b.id]);
      expect(await store.listWebhooks("acme")).toEqual([
        { ...a, lastSuccessAt: null, lastFailureAt: null, lastFailure: "", pending: 0 },
      ]);
      expect(await store.deleteWebhook(a.id)).toBe(true);
      expect(await store.deleteWebhook(a.id)).toBe(false);
      expect(await store.findWebhook(a.id)).toBeNull();
    });

    it("inserts an event once: a second insert of the same id changes nothing", async () => {
      expect(await store.insertEvent(event("exp_1_7d"))).toBe(true);
      expect(await store.insertEvent({ ...event("exp_1_7d"), body: "{}" })).toBe(false);
      expect((await store.findEvent("exp_1_7d"))?.body).toBe('{"id":"exp_1_7d"}');
    });

    it("fans an event out once, its deliveries idempotent, and counts them pending", async () => {
      const w = hook();
      await store.insertWebhook(w);
      await store.insertEvent(event("e1", 1));
      await store.insertEvent(event("e2", 2));
      expect((await store.eventsToFanOut(10)).map((e) => e.id)).toEqual(["e1", "e2"]);
      await store.fanOut("e1", [delivery("e1", w.id)]);
      await store.fanOut("e1", [delivery("e1", w.id)]);
      expect((await store.eventsToFanOut(10)).map((e) => e.id)).toEqual(["e2"]);
      expect((await store.listWebhooks("acme"))[0]!.pending).toBe(1);
    });

    it("claims each attempt once, and records its outcome on the delivery and the webhook", async () => {
      const w = hook();
      await store.insertWebhook(w);
      await store.insertEvent(event("e1"));
      await store.fanOut("e1", [delivery("e1", w.id)]);
      const [due] = await store.dueDeliveries(at(0), 10);
      expect(due).toMatchObject({ eventId: "e1", attempts: 0 });
      expect(await store.claimDelivery(due!.id, 0, at(10_000))).toBe(true);
      expect(await store.claimDelivery(due!.id, 0, at(10_000))).toBe(false);
      expect(await store.dueDeliveries(at(5_000), 10)).toEqual([]);
      await store.finishAttempt(due!, {
        status: "pending",
        at: at(1),
        error: "HTTP 503",
        nextAttemptAt: at(2_000),
      });
      const [again] = await store.dueDeliveries(at(2_000), 10);
      expect(again).toMatchObject({ attempts: 1, lastError: "HTTP 503" });
      expect(await store.claimDelivery(again!.id, 1, at(20_000))).toBe(true);
      await store.finishAttempt(again!, { status: "delivered", at: at(3) });
      expect(await store.dueDeliveries(at(100_000), 10)).toEqual([]);
      expect((await store.listWebhooks("acme"))[0]).toMatchObject({
        lastSuccessAt: at(3),
        lastFailureAt: at(1),
        lastFailure: "HTTP 503",
        pending: 0,
      });
    });

    it("gives a lease to one holder at a time until it expires or is released", async () => {
      expect(await store.acquireLease("l", "a", at(0), 1000)).toBe(true);
      expect(await store.acquireLease("l", "b", at(500), 1000)).toBe(false);
      expect(await store.acquireLease("l", "a", at(900), 1000)).toBe(true);
      expect(await store.acquireLease("l", "b", at(1500), 1000)).toBe(false);
      expect(await store.acquireLease("l", "b", at(1900), 1000)).toBe(true);
      await store.releaseLease("l", "b");
      expect(await store.acquireLease("l", "a", at(2000), 1000)).toBe(true);
    });

    it("keeps a mark", async () => {
      expect(await store.readMark("audit")).toBeNull();
      await store.writeMark("audit", at(5));
      expect(await store.readMark("audit")).toEqual(at(5));
    });
  });
}
