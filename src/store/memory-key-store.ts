import type { KeyUsageSummary } from "../domain/findings.js";
import {
  type AuditEvent,
  type KeyDigest,
  type KeyId,
  type KeyRecord,
  keyStatus,
} from "../domain/types.js";
import type { UsagePeriod } from "../domain/usage.js";
import {
  type ChangeBatch,
  type Cursor,
  DuplicateKeyError,
  type KeyPatch,
  type KeyStore,
  type ListAuditQuery,
  type ListKeysQuery,
  type RecentlyUsedPage,
  type RecentlyUsedQuery,
  type UsageCompaction,
  type UsageRetention,
} from "./key-store.js";
import { MemoryPeriodCollection } from "./memory-usage.js";
import type { PeriodCollection } from "./period-collection.js";
import { UsagePeriods } from "./usage-periods.js";

function newestFirst(
  a: { createdAt: Date; id: string },
  b: { createdAt: Date; id: string },
): number {
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
  private readonly idByDigest = new Map<KeyDigest, KeyId>();
  /** Change marks: one process, one clock, made strictly increasing. */
  private readonly changedAt = new Map<KeyId, number>();
  private lastMark = 0;
  private readonly audit: AuditEvent[] = [];
  private readonly usagePeriods: UsagePeriods;

  /** `periods` is where usage documents go; a test may keep a handle on it to stage a crashed compaction. */
  constructor(periods: PeriodCollection = new MemoryPeriodCollection()) {
    this.usagePeriods = new UsagePeriods(periods);
  }

  async insertKey(record: KeyRecord): Promise<void> {
    if (this.idByDigest.has(record.keyDigest) || this.byId.has(record.id))
      throw new DuplicateKeyError();
    this.byId.set(record.id, structuredClone(record));
    this.idByDigest.set(record.keyDigest, record.id);
    this.mark(record.id);
  }

  async insertKeys(records: readonly KeyRecord[]): Promise<void> {
    for (const record of records) await this.insertKey(record);
  }

  async findKeyByDigest(digest: KeyDigest): Promise<KeyRecord | null> {
    const id = this.idByDigest.get(digest);
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

  async updateKey(id: KeyId, revision: number, patch: KeyPatch): Promise<KeyRecord | null> {
    const record = this.byId.get(id);
    if (!record || record.revision !== revision) return null;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    Object.assign(record, structuredClone(defined), { revision: revision + 1 });
    this.mark(id);
    return structuredClone(record);
  }

  async discardKey(id: KeyId): Promise<boolean> {
    const record = this.byId.get(id);
    if (record?.revision !== 0) return false;
    this.byId.delete(id);
    this.idByDigest.delete(record.keyDigest);
    this.changedAt.delete(id);
    return true;
  }

  async recordUsage(usage: ReadonlyMap<KeyId, Date>): Promise<void> {
    for (const [id, at] of usage) {
      const record = this.byId.get(id);
      if (record && (record.lastUsedAt === null || record.lastUsedAt < at))
        record.lastUsedAt = new Date(at);
    }
  }

  async recentlyUsedKeys(query: RecentlyUsedQuery): Promise<RecentlyUsedPage> {
    const used = [...this.byId.values()]
      .filter((r) => r.lastUsedAt !== null && r.lastUsedAt >= query.since)
      .map((r) => ({ record: r, createdAt: r.lastUsedAt!, id: r.id }))
      .filter((u) =>
        isAfter(u, query.after && { createdAt: query.after.usedAt, id: query.after.id }),
      )
      .sort(newestFirst)
      .slice(0, query.limit);
    const last = used.at(-1);
    return {
      records: used.map((u) => structuredClone(u.record)),
      next: used.length < query.limit || !last ? null : { usedAt: last.createdAt, id: last.id },
    };
  }

  appendUsage(flush: readonly UsagePeriod[], flushId: string): Promise<void> {
    return this.usagePeriods.append(flush, flushId);
  }

  readUsage(keyId: KeyId, start: Date, end: Date): Promise<UsagePeriod[]> {
    return this.usagePeriods.read(keyId, start, end);
  }

  usageSummaries(
    keyIds: readonly KeyId[],
    now: Date,
    unusedDays: number,
  ): Promise<Map<KeyId, KeyUsageSummary>> {
    return this.usagePeriods.summaries(keyIds, now, unusedDays);
  }

  compactUsage(now: Date, retention: UsageRetention): Promise<UsageCompaction> {
    return this.usagePeriods.compact(now, retention);
  }

  async changesSince(since: Date): Promise<ChangeBatch> {
    const ids = [...this.changedAt].filter(([, mark]) => mark >= since.getTime());
    const latest = ids.reduce((max, [, mark]) => Math.max(max, mark), -Infinity);
    const changes = ids
      .map(([id]) => this.byId.get(id)!)
      .map((r) => ({ digest: r.keyDigest, revision: r.revision }));
    return { changes, latest: ids.length === 0 ? null : new Date(latest) };
  }

  async latestChange(): Promise<Date | null> {
    return this.lastMark === 0 ? null : new Date(this.lastMark);
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

  private mark(id: KeyId): void {
    this.lastMark = Math.max(Date.now(), this.lastMark + 1);
    this.changedAt.set(id, this.lastMark);
  }

  private copy(id: KeyId): KeyRecord | null {
    const record = this.byId.get(id);
    return record ? structuredClone(record) : null;
  }
}
