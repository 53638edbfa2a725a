import type { Collection, Db, Filter } from "mongodb";
import type { AuditEvent, KeyId } from "../../domain/types.js";
import type { ListAuditQuery } from "../key-store.js";
import { type AuditDoc, afterFilter } from "./key-documents.js";

/** audit_events: one document per admin change, listed newest first per workspace. */
export class MongoAuditLog {
  private readonly audit: Collection<AuditDoc>;

  constructor(db: Db) {
    this.audit = db.collection<AuditDoc>("audit_events");
  }

  async ensureIndexes(): Promise<void> {
    await this.audit.createIndex(
      { workspace: 1, occurred_at: -1 },
      { name: "workspace_occurred_at" },
    );
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.audit.insertOne({
      _id: event.id,
      workspace: event.workspace,
      action: event.action,
      actor_key_id: event.actorKeyId,
      target_key_id: event.targetKeyId,
      occurred_at: event.occurredAt,
      changes: event.changes,
    });
  }

  async listAudit(query: ListAuditQuery): Promise<AuditEvent[]> {
    const clauses: Filter<AuditDoc>[] = [{ workspace: query.workspace }];
    if (query.after !== null) clauses.push(afterFilter<AuditDoc>("occurred_at", query.after));
    const docs = await this.audit
      .find({ $and: clauses })
      .sort({ occurred_at: -1, _id: -1 })
      .limit(query.limit)
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
}
