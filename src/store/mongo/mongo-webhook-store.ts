import {
  type Collection,
  type Db,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
} from "mongodb";
import type { AuditEvent, KeyId, KeyRecord } from "../../domain/types.js";
import type {
  AttemptOutcome,
  Delivery,
  DeliveryState,
  EventSource,
  WebhookEvent,
  WebhookRecord,
  WebhookStore,
} from "../webhook-store.js";
import { type AuditDoc, DUPLICATE_KEY, fromDoc, type KeyDoc } from "./key-documents.js";
import {
  type DeliveryDoc,
  deliveryDoc,
  type EventDoc,
  fromDeliveryDoc,
  fromEventDoc,
  fromWebhookDoc,
  type WebhookDoc,
} from "./webhook-documents.js";

interface LeaseDoc {
  _id: string;
  holder?: string;
  expires_at?: Date;
  mark?: Date;
}

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

/**
 * Webhooks, their events and deliveries in MongoDB. A conditional update is not
 * atomic on every MongoDB-wire server (FerretDB), so what must happen once is
 * decided by inserting a unique _id: an event, a delivery, an attempt's claim.
 */
export class MongoWebhookStore implements WebhookStore, EventSource {
  private readonly webhooks: Collection<WebhookDoc>;
  private readonly events: Collection<EventDoc>;
  private readonly deliveries: Collection<DeliveryDoc>;
  private readonly attempts: Collection<{ _id: string; claimed_at: Date }>;
  private readonly leases: Collection<LeaseDoc>;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.webhooks = db.collection("webhooks");
    this.events = db.collection("webhook_events");
    this.deliveries = db.collection("webhook_deliveries");
    this.attempts = db.collection("webhook_attempts");
    this.leases = db.collection("webhook_leases");
  }

  /** Its own connection pool, so deliveries never queue behind Authorize's lookups. */
  static create(options: { uri: string; dbName: string; timeoutMs: number }): MongoWebhookStore {
    const t = options.timeoutMs;
    const client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: t,
      waitQueueTimeoutMS: t,
      socketTimeoutMS: Math.max(t * 2, 1000),
      connectTimeoutMS: t,
      appName: "keyward-webhooks",
    });
    return new MongoWebhookStore(client, client.db(options.dbName));
  }

  async ensureIndexes(): Promise<void> {
    await this.webhooks.createIndex(
      { workspace: 1, created_at: 1 },
      { name: "workspace_created_at" },
    );
    await this.events.createIndex(
      { fanned_out: 1, occurred_at: 1 },
      { name: "fanned_out_occurred_at" },
    );
    await this.deliveries.createIndex(
      { status: 1, next_attempt_at: 1 },
      { name: "status_next_attempt_at" },
    );
    await this.deliveries.createIndex({ webhook_id: 1, status: 1 }, { name: "webhook_status" });
    // The outbox scan reads the audit trail and the keys by time, across workspaces.
    await this.db
      .collection("audit_events")
      .createIndex({ occurred_at: 1 }, { name: "occurred_at" });
    await this.db.collection("api_keys").createIndex({ expires_at: 1 }, { name: "expires_at" });
  }

  async insertWebhook(webhook: WebhookRecord): Promise<void> {
    await this.webhooks.insertOne({
      _id: webhook.id,
      workspace: webhook.workspace,
      url: webhook.url,
      events: webhook.events,
      secret: webhook.secret,
      created_at: webhook.createdAt,
      last_success_at: null,
      last_failure_at: null,
      last_failure: "",
    });
  }

  async findWebhook(id: string): Promise<WebhookRecord | null> {
    const doc = await this.webhooks.findOne({ _id: id });
    return doc && fromWebhookDoc(doc);
  }

  async listWebhooks(workspace: string | null): Promise<Array<WebhookRecord & DeliveryState>> {
    const docs = await this.webhooks
      .find(workspace === null ? {} : { workspace })
      .sort({ created_at: 1, _id: 1 })
      .toArray();
    return Promise.all(
      docs.map(async (d) => ({
        ...fromWebhookDoc(d),
        lastSuccessAt: d.last_success_at ?? null,
        lastFailureAt: d.last_failure_at ?? null,
        lastFailure: d.last_failure ?? "",
        pending: await this.deliveries.countDocuments({ webhook_id: d._id, status: "pending" }),
      })),
    );
  }

  async deleteWebhook(id: string): Promise<boolean> {
    const deleted = await this.webhooks.deleteOne({ _id: id });
    await this.deliveries.deleteMany({ webhook_id: id, status: "pending" });
    return deleted.deletedCount === 1;
  }

  async insertEvent(event: WebhookEvent): Promise<boolean> {
    try {
      await this.events.insertOne({
        _id: event.id,
        type: event.type,
        workspace: event.workspace,
        occurred_at: event.occurredAt,
        body: event.body,
        fanned_out: false,
      });
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async findEvent(id: string): Promise<WebhookEvent | null> {
    const doc = await this.events.findOne({ _id: id });
    return doc && fromEventDoc(doc);
  }

  async eventsToFanOut(limit: number): Promise<WebhookEvent[]> {
    return (
      await this.events
        .find({ fanned_out: false })
        .sort({ occurred_at: 1, _id: 1 })
        .limit(limit)
        .toArray()
    ).map(fromEventDoc);
  }

  async fanOut(eventId: string, deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length > 0) {
      try {
        await this.deliveries.insertMany(deliveries.map(deliveryDoc), { ordered: false });
      } catch (err) {
        // Another replica (or an earlier try of this one) made some already: those stay as they are.
        const codes =
          err instanceof MongoBulkWriteError ? [err.writeErrors].flat().map((e) => e.code) : null;
        if (codes === null || codes.some((c) => c !== DUPLICATE_KEY)) throw err;
      }
    }
    await this.events.updateOne({ _id: eventId }, { $set: { fanned_out: true } });
  }

  async dueDeliveries(now: Date, limit: number): Promise<Delivery[]> {
    return (
      await this.deliveries
        .find({ status: "pending", next_attempt_at: { $lte: now } })
        .sort({ next_attempt_at: 1 })
        .limit(limit)
        .toArray()
    ).map(fromDeliveryDoc);
  }

  async claimDelivery(id: string, attempts: number, until: Date): Promise<boolean> {
    // Moved first, so a claimer that dies before sending leaves the delivery due again at `until`.
    await this.deliveries.updateOne(
      { _id: id, status: "pending", attempts },
      { $set: { attempts: attempts + 1, next_attempt_at: until } },
    );
    try {
      await this.attempts.insertOne({ _id: `${id}#${attempts}`, claimed_at: new Date() });
      return true;
    } catch (err) {
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async finishAttempt(delivery: Delivery, outcome: AttemptOutcome): Promise<void> {
    const set: Partial<DeliveryDoc> = { status: outcome.status };
    if (outcome.status !== "delivered") set.last_error = outcome.error;
    if (outcome.status === "pending") set.next_attempt_at = outcome.nextAttemptAt;
    await this.deliveries.updateOne({ _id: delivery.id }, { $set: set });
    const state =
      outcome.status === "delivered"
        ? { last_success_at: outcome.at }
        : { last_failure_at: outcome.at, last_failure: outcome.error };
    await this.webhooks.updateOne({ _id: delivery.webhookId }, { $set: state });
  }

  async acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    try {
      const r = await this.leases.updateOne(
        { _id: name, $or: [{ holder }, { expires_at: { $lte: now } }] },
        { $set: { holder, expires_at: new Date(now.getTime() + ttlMs) } },
        { upsert: true },
      );
      return r.matchedCount + r.upsertedCount > 0;
    } catch (err) {
      // The upsert met the lease of another, live holder.
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.leases.updateOne({ _id: name, holder }, { $set: { expires_at: new Date(0) } });
  }

  async readMark(name: string): Promise<Date | null> {
    return (await this.leases.findOne({ _id: `mark:${name}` }))?.mark ?? null;
  }

  async writeMark(name: string, mark: Date): Promise<void> {
    await this.leases.updateOne({ _id: `mark:${name}` }, { $set: { mark } }, { upsert: true });
  }

  async auditSince(since: Date, limit: number): Promise<AuditEvent[]> {
    const docs = await this.db
      .collection<AuditDoc>("audit_events")
      .find({ occurred_at: { $gte: since } })
      .sort({ occurred_at: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => ({
      id: d._id,
      workspace: d.workspace,
      action: d.action,
      actorKeyId: d.actor_key_id,
      targetKeyId: d.target_key_id as KeyId,
      occurredAt: d.occurred_at,
      changes: d.changes,
    }));
  }

  async keysExpiringBetween(from: Date, to: Date): Promise<KeyRecord[]> {
    const docs = await this.db
      .collection<KeyDoc>("api_keys")
      .find({ expires_at: { $gt: from, $lte: to }, revoked_at: null, retires_at: null })
      .limit(10_000)
      .toArray();
    return docs.map(fromDoc);
  }

  async findKey(id: string): Promise<KeyRecord | null> {
    const doc = await this.db.collection<KeyDoc>("api_keys").findOne({ _id: id });
    return doc && fromDoc(doc);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async forceClose(): Promise<void> {
    await this.client.close(true);
  }
}
