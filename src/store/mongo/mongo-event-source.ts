import type { Db } from "mongodb";
import type { AuditEvent, KeyId, KeyRecord } from "../../domain/types.js";
import type { EventSource } from "../webhook-store.js";
import { type AuditDoc, fromDoc, type KeyDoc } from "./key-documents.js";

/** Where webhook events come from in MongoDB: the audit trail (the outbox) and the keys. */
export class MongoEventSource implements EventSource {
  constructor(private readonly db: Db) {}

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
}
