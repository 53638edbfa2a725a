import {
  type Collection,
  type Db,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
} from "mongodb";
import type { OpenFinding } from "../../domain/finding-events.js";
import type {
  AttemptOutcome,
  Delivery,
  DeliveryState,
  EventSource,
  WebhookEvent,
  WebhookRecord,
  WebhookStore,
} from "../webhook-store.js";
import { DUPLICATE_KEY } from "./key-documents.js";
import { MongoEventSource } from "./mongo-event-source.js";
import {
  type DeliveryDoc,
  deliveryDoc,
  type EventDoc,
  fromDeliveryDoc,
  fromEventDoc,
  fromWebhookDoc,
  type WebhookDoc,
} from "./webhook-documents.js";
import {
  type HistoryCollections,
  MongoOpenFindings,
  type OpenFindingDoc,
  pruneHistory,
  recentDeliveries,
} from "./webhook-history.js";
import { MongoLeases } from "./webhook-leases.js";

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

/**
 * Webhooks, their events and deliveries in MongoDB. A conditional update is not
 * atomic on every MongoDB-wire server (FerretDB), so what must happen once is
 * decided by inserting a unique _id: an event, a delivery, an attempt's claim.
 */
export class MongoWebhookStore implements WebhookStore {
  private readonly webhooks: Collection<WebhookDoc>;
  private readonly events: Collection<EventDoc>;
  private readonly deliveries: Collection<DeliveryDoc>;
  private readonly attempts: Collection<{ _id: string; claimed_at: Date }>;
  private readonly leaseStore: MongoLeases;
  private readonly findings: MongoOpenFindings;
  private readonly history: HistoryCollections;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.webhooks = db.collection("webhooks");
    this.events = db.collection("webhook_events");
    this.deliveries = db.collection("webhook_deliveries");
    this.attempts = db.collection("webhook_attempts");
    this.leaseStore = new MongoLeases(db.collection("webhook_leases"));
    this.findings = new MongoOpenFindings(db.collection<OpenFindingDoc>("webhook_findings"));
    this.history = {
      events: this.events,
      deliveries: this.deliveries,
      attempts: this.attempts,
    };
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
    await this.deliveries.createIndex(
      { webhook_id: 1, created_at: -1 },
      { name: "webhook_created_at" },
    );
    // The sweep's reads: final deliveries and claims by age (events use fanned_out_occurred_at).
    await this.deliveries.createIndex({ status: 1, created_at: 1 }, { name: "status_created_at" });
    await this.attempts.createIndex({ claimed_at: 1 }, { name: "claimed_at" });
    await this.findings.ensureIndexes();
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
    else set.delivered_at = outcome.at;
    if (outcome.status === "pending") set.next_attempt_at = outcome.nextAttemptAt;
    await this.deliveries.updateOne({ _id: delivery.id }, { $set: set });
    const state =
      outcome.status === "delivered"
        ? { last_success_at: outcome.at }
        : { last_failure_at: outcome.at, last_failure: outcome.error };
    await this.webhooks.updateOne({ _id: delivery.webhookId }, { $set: state });
  }

  recentDeliveries = (webhookId: string, limit: number) =>
    recentDeliveries(this.history, webhookId, limit);
  prune = (before: Date, limit: number) => pruneHistory(this.history, before, limit);
  openFindings = (keyIds: readonly string[]) => this.findings.list(keyIds);
  insertOpenFinding = (finding: OpenFinding) => this.findings.insert(finding);
  markFindingAnnounced = (id: string) => this.findings.markAnnounced(id);
  closeFindings = (ids: readonly string[]) => this.findings.close(ids);

  acquireLease = (name: string, holder: string, now: Date, ttlMs: number) =>
    this.leaseStore.acquire(name, holder, now, ttlMs);
  releaseLease = (name: string, holder: string) => this.leaseStore.release(name, holder);
  readMark = (name: string) => this.leaseStore.readMark(name);
  writeMark = (name: string, mark: Date) => this.leaseStore.writeMark(name, mark);
  readCursor = (name: string) => this.leaseStore.readCursor(name);
  writeCursor = (name: string, cursor: string | null) => this.leaseStore.writeCursor(name, cursor);

  /** The audit trail and the keys, read from this store's database through its own pool. */
  eventSource(): EventSource {
    return new MongoEventSource(this.db);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  async forceClose(): Promise<void> {
    await this.client.close(true);
  }
}
