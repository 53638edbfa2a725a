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

    it("keeps a mark and a cursor", async () => {
      expect(await store.readMark("audit")).toBeNull();
      await store.writeMark("audit", at(5));
      expect(await store.readMark("audit")).toEqual(at(5));
      expect(await store.readCursor("findings")).toBeNull();
      await store.writeCursor("findings", "2026-01-01T00:00:00.000Z|key_1");
      expect(await store.readCursor("findings")).toBe("2026-01-01T00:00:00.000Z|key_1");
      await store.writeCursor("findings", null);
      expect(await store.readCursor("findings")).toBeNull();
    });

    it("shows a webhook's recent deliveries, newest first, with their type and delivery time", async () => {
      const w = hook();
      await store.insertWebhook(w);
      for (const [id, ms] of [
        ["e1", 1],
        ["e2", 2],
      ] as const) {
        await store.insertEvent(event(id, ms));
        await store.fanOut(id, [{ ...delivery(id, w.id), createdAt: at(ms) }]);
      }
      const [first] = await store.dueDeliveries(at(0), 1);
      await store.claimDelivery(first!.id, 0, at(10_000));
      await store.finishAttempt(first!, { status: "delivered", at: at(7) });
      expect(await store.recentDeliveries(w.id, 10)).toEqual([
        {
          eventId: "e2",
          type: "key.created",
          createdAt: at(2),
          status: "pending",
          attempts: 0,
          deliveredAt: null,
          lastError: "",
        },
        {
          eventId: "e1",
          type: "key.created",
          createdAt: at(1),
          status: "delivered",
          attempts: 1,
          deliveredAt: at(7),
          lastError: "",
        },
      ]);
      expect((await store.recentDeliveries(w.id, 1)).map((d) => d.eventId)).toEqual(["e2"]);
      expect(await store.recentDeliveries("wh_none", 10)).toEqual([]);
    });

    it("prunes final deliveries and fanned-out events older than the cut, in bounded batches, never a pending one", async () => {
      const w = hook();
      await store.insertWebhook(w);
      for (const id of ["old1", "old2", "old3", "pending", "new"]) {
        const ms = id === "new" ? 50_000 : 1;
        await store.insertEvent(event(id, ms));
        await store.fanOut(id, [{ ...delivery(id, w.id), createdAt: at(ms) }]);
        if (id === "pending") continue;
        const d = { ...delivery(id, w.id), createdAt: at(ms) };
        await store.claimDelivery(d.id, 0, at(ms + 1));
        await store.finishAttempt(d, { status: "delivered", at: at(ms + 1) });
      }
      await store.insertEvent(event("unfanned", 1));
      const first = await store.prune(at(10_000), 2);
      expect(first.deliveries).toBe(2);
      expect(first.events).toBe(2);
      const second = await store.prune(at(10_000), 2);
      expect(second.deliveries).toBe(1);
      expect(second.events).toBe(2);
      expect(await store.prune(at(10_000), 2)).toMatchObject({ deliveries: 0, events: 0 });
      expect((await store.recentDeliveries(w.id, 10)).map((d) => d.eventId)).toEqual([
        "new",
        "pending",
      ]);
      expect(await store.findEvent("new")).not.toBeNull();
      expect(await store.findEvent("unfanned")).not.toBeNull();
      expect(await store.findEvent("old1")).toBeNull();
    });

    it("opens a finding once per key and kind, marks it announced, closes it", async () => {
      const open = {
        id: "key_1|WILDCARD",
        keyId: "key_1",
        kind: "WILDCARD" as const,
        eventId: "finding|key_1|WILDCARD|2026-01-01T00:00:00.000Z",
        announced: false,
      };
      expect(await store.insertOpenFinding(open)).toBe(true);
      expect(await store.insertOpenFinding({ ...open, eventId: "other" })).toBe(false);
      expect(await store.openFindings(["key_1", "key_2"])).toEqual([open]);
      await store.markFindingAnnounced(open.id);
      expect(await store.openFindings(["key_1"])).toEqual([{ ...open, announced: true }]);
      expect(await store.openFindings(["key_2"])).toEqual([]);
      await store.closeFindings([open.id]);
      expect(await store.openFindings(["key_1"])).toEqual([]);
    });
  });
}
