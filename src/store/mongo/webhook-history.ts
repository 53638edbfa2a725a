import type { Collection } from "mongodb";
import type { OpenFinding } from "../../domain/finding-events.js";
import type { DeliveryView, PruneCounts } from "../webhook-store.js";
import { DUPLICATE_KEY } from "./key-documents.js";
import type { DeliveryDoc, EventDoc } from "./webhook-documents.js";

export interface HistoryCollections {
  events: Collection<EventDoc>;
  deliveries: Collection<DeliveryDoc>;
  attempts: Collection<{ _id: string; claimed_at: Date }>;
}

/** Newest first, each with its event's type (one read of the events by id). */
export async function recentDeliveries(
  c: HistoryCollections,
  webhookId: string,
  limit: number,
): Promise<DeliveryView[]> {
  const docs = await c.deliveries
    .find({ webhook_id: webhookId })
    .sort({ created_at: -1, _id: -1 })
    .limit(limit)
    .toArray();
  const events = await c.events
    .find({ _id: { $in: docs.map((d) => d.event_id) } }, { projection: { type: 1 } })
    .toArray();
  const types = new Map(events.map((e) => [e._id, e.type]));
  return docs.map((d) => ({
    eventId: d.event_id,
    type: types.get(d.event_id) ?? "",
    createdAt: d.created_at,
    status: d.status,
    attempts: d.attempts,
    deliveredAt: d.delivered_at ?? null,
    lastError: d.last_error ?? "",
  }));
}

/**
 * FerretDB has no TTL index: this is the sweep. Ids first, then a delete by id,
 * so each round is bounded by `limit` whatever the server does with a limited delete.
 */
export async function pruneHistory(
  c: HistoryCollections,
  before: Date,
  limit: number,
): Promise<PruneCounts> {
  const dropOld = async <T extends { _id: string }>(
    collection: Collection<T>,
    filter: Record<string, unknown>,
  ): Promise<number> => {
    const ids = (
      await collection
        .find(filter as never, { projection: { _id: 1 } })
        .limit(limit)
        .toArray()
    ).map((d) => d._id);
    if (ids.length === 0) return 0;
    return (await collection.deleteMany({ _id: { $in: ids } } as never)).deletedCount;
  };
  return {
    deliveries: await dropOld(c.deliveries, {
      status: { $in: ["delivered", "failed"] },
      created_at: { $lt: before },
    }),
    events: await dropOld(c.events, { fanned_out: true, occurred_at: { $lt: before } }),
    attempts: await dropOld(c.attempts, { claimed_at: { $lt: before } }),
  };
}

export interface OpenFindingDoc {
  _id: string;
  key_id: string;
  kind: OpenFinding["kind"];
  event_id: string;
  announced: boolean;
}

/** finding.opened's memory: one document per key and kind, inserted by a unique _id. */
export class MongoOpenFindings {
  constructor(private readonly findings: Collection<OpenFindingDoc>) {}

  async ensureIndexes(): Promise<void> {
    await this.findings.createIndex({ key_id: 1 }, { name: "key_id" });
  }

  async list(keyIds: readonly string[]): Promise<OpenFinding[]> {
    const docs = await this.findings.find({ key_id: { $in: [...keyIds] } }).toArray();
    return docs.map((d) => ({
      id: d._id,
      keyId: d.key_id,
      kind: d.kind,
      eventId: d.event_id,
      announced: d.announced,
    }));
  }

  async insert(f: OpenFinding): Promise<boolean> {
    try {
      await this.findings.insertOne({
        _id: f.id,
        key_id: f.keyId,
        kind: f.kind,
        event_id: f.eventId,
        announced: f.announced,
      });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === DUPLICATE_KEY) return false;
      throw err;
    }
  }

  async markAnnounced(id: string): Promise<void> {
    await this.findings.updateOne({ _id: id }, { $set: { announced: true } });
  }

  async close(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.findings.deleteMany({ _id: { $in: [...ids] } });
  }
}
