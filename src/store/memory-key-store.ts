import { keyStatus, type AuditEvent, type KeyHash, type KeyId, type KeyRecord } from "../domain/types.js";
import {
  DuplicateKeyError,
  type Cursor,
  type KeyPatch,
  type KeyStore,
  type ListAuditQuery,
  type ListKeysQuery,
} from "./key-store.js";

function newestFirst(a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function isAfter(item: { createdAt: Date; id: string }, cursor: Cursor | null): boolean {
  if (cursor === null) return true;
  const t = item.createdAt.getTime();
  const c = cursor.createdAt.getTime();
  return t < c || (t === c && item.id < cursor.id);
}

/** Dev mode only: nothing survives a restart. Returns copies so callers cannot mutate stored state. */
export class MemoryKeyStore implements KeyStore {
  private readonly byId = new Map<KeyId, KeyRecord>();
  private readonly idByHash = new Map<KeyHash, KeyId>();
  private readonly audit: AuditEvent[] = [];

  async insertKey(record: KeyRecord): Promise<void> {
    if (this.idByHash.has(record.keyHash) || this.byId.has(record.id)) throw new DuplicateKeyError();
    this.byId.set(record.id, structuredClone(record));
    this.idByHash.set(record.keyHash, record.id);
  }

  async insertKeys(records: readonly KeyRecord[]): Promise<void> {
    for (const record of records) await this.insertKey(record);
  }

  async findKeyByHash(hash: KeyHash): Promise<KeyRecord | null> {
    const id = this.idByHash.get(hash);
    return id === undefined ? null : this.copy(id);
  }

  async findKeyById(id: KeyId): Promise<KeyRecord | null> {
    return this.copy(id);
  }

  async listKeys(query: ListKeysQuery): Promise<KeyRecord[]> {
    return [...this.byId.values()]
      .filter((r) => query.workspace === null || r.workspace === query.workspace)
      .filter((r) => query.status === null || keyStatus(r, query.now) === query.status)
      .filter((r) => isAfter(r, query.after))
      .sort(newestFirst)
      .slice(0, query.limit)
      .map((r) => structuredClone(r));
  }

  async updateKey(id: KeyId, patch: KeyPatch): Promise<KeyRecord | null> {
    const record = this.byId.get(id);
    if (!record) return null;
    Object.assign(record, structuredClone(patch));
    return structuredClone(record);
  }

  async revokeKey(id: KeyId, at: Date, reason: string, updatedAt: Date): Promise<KeyRecord | null> {
    const record = this.byId.get(id);
    if (!record) return null;
    if (record.revokedAt === null || record.revokedAt.getTime() > at.getTime()) {
      Object.assign(record, { revokedAt: new Date(at), revokeReason: reason, updatedAt: new Date(updatedAt) });
    }
    return structuredClone(record);
  }

  async recordUsage(usage: ReadonlyMap<KeyId, Date>): Promise<void> {
    for (const [id, at] of usage) {
      const record = this.byId.get(id);
      if (record && (record.lastUsedAt === null || record.lastUsedAt < at)) record.lastUsedAt = new Date(at);
    }
  }

  async keysUpdatedSince(since: Date): Promise<KeyRecord[]> {
    return [...this.byId.values()].filter((r) => r.updatedAt >= since).map((r) => structuredClone(r));
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.audit.push(structuredClone(event));
  }

  async listAudit(query: ListAuditQuery): Promise<AuditEvent[]> {
    return this.audit
      .map((e) => ({ ...e, createdAt: e.occurredAt }))
      .filter((e) => e.workspace === query.workspace && isAfter(e, query.after))
      .sort(newestFirst)
      .slice(0, query.limit)
      .map(({ createdAt: _, ...e }) => structuredClone(e));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  private copy(id: KeyId): KeyRecord | null {
    const record = this.byId.get(id);
    return record ? structuredClone(record) : null;
  }
}
