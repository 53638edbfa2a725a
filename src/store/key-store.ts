import type { KeyUsageSummary } from "../domain/findings.js";
import type { AuditEvent, KeyDigest, KeyId, KeyRecord, KeyStatus } from "../domain/types.js";
import type { UsagePeriod } from "../domain/usage.js";

/** Position after which a newest-first page continues. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface ListKeysQuery {
  /** null lists every workspace. */
  workspace: string | null;
  /** null lists every status. */
  status: KeyStatus | null;
  /** Status is a function of time, so the query states which instant it means. */
  now: Date;
  limit: number;
  after: Cursor | null;
}

export interface ListAuditQuery {
  workspace: string;
  limit: number;
  after: Cursor | null;
}

export type KeyPatch = Partial<
  Pick<KeyRecord, "name" | "scopes" | "allowedDomains" | "expiresAt" | "metadata" | "revokedAt" | "revokeReason" | "retiresAt" | "successorId">
> & {
  updatedAt: Date;
};

/** What a cache needs to know of a change: which key, and which version it is now. */
export interface KeyChange {
  digest: KeyDigest;
  revision: number;
}

/** Changes in the database's own order: marks come from the database's clock, never a replica's. */
export interface ChangeBatch {
  changes: KeyChange[];
  /** The newest change mark among them, or null when there were none. */
  latest: Date | null;
}

/** Thrown when an insert collides on the unique key hash: never overwrite. */
export class DuplicateKeyError extends Error {
  constructor() {
    super("a key with this digest already exists");
    this.name = "DuplicateKeyError";
  }
}

/** The one persistence boundary; every implementation passes test/contract/key-store.contract.ts. */
export interface KeyStore {
  insertKey(record: KeyRecord): Promise<void>;
  /** Bulk import, in order; stops at the first collision with DuplicateKeyError (records before it are kept). */
  insertKeys(records: readonly KeyRecord[]): Promise<void>;
  /** Authorize's read, one round trip: its lastUsedAt may lag behind recordUsage. */
  findKeyByDigest(digest: KeyDigest): Promise<KeyRecord | null>;
  findKeyById(id: KeyId): Promise<KeyRecord | null>;
  /** Newest first (created_at, then id, descending). */
  listKeys(query: ListKeysQuery): Promise<KeyRecord[]>;
  /**
   * Compare-and-set: applies the patch and bumps the revision only if the key is
   * still at `revision`. Returns the written record, or null when the key is
   * missing or changed meanwhile (the caller re-reads and decides again).
   */
  updateKey(id: KeyId, revision: number, patch: KeyPatch): Promise<KeyRecord | null>;
  /**
   * Removes a key that was never changed (still at revision 0): a rotation's
   * successor whose old key moved on without naming it, so its secret was never
   * handed out. True when it was removed; false when it is missing or was changed.
   */
  discardKey(id: KeyId): Promise<boolean>;
  /**
   * Sets last_used_at per key, never moving it backwards; not a change (no revision,
   * no change mark), and never undoes a change written at the same time.
   */
  recordUsage(usage: ReadonlyMap<KeyId, Date>): Promise<void>;
  /** One replica's flush: each key's counts for each hour touched since its last flush. Inserted, never updated in place (exact on FerretDB, which rewrites whole documents on update). */
  appendUsage(flush: readonly UsagePeriod[]): Promise<void>;
  /** One key's usage in [start, end): one UsagePeriod per hour or day that has data, non-overlapping (a day where hours were rolled up), each already summed. */
  readUsage(keyId: KeyId, start: Date, end: Date): Promise<UsagePeriod[]>;
  /** For findings: per key id, the KeyUsageSummary of src/domain/findings.ts as of `now` (lastCallAt, lastAllowedAt, scopesUsed in the last `unusedDays`, deniedByReasonLast24h). Keys without usage are absent. */
  usageSummaries(keyIds: readonly KeyId[], now: Date, unusedDays: number): Promise<Map<KeyId, KeyUsageSummary>>;
  /** Background maintenance, safe to run on every replica at once and idempotent: folds closed hours, rolls hours older than hourlyDays into days, removes days older than dailyDays. */
  compactUsage(now: Date, retention: { hourlyDays: number; dailyDays: number }): Promise<{ folded: number; removed: number }>;
  /** Keys inserted or changed at or after `since` (a mark from this store), for cache invalidation by polling. */
  changesSince(since: Date): Promise<ChangeBatch>;
  /** The newest change mark, or null when nothing was ever changed: where polling starts. */
  latestChange(): Promise<Date | null>;
  appendAudit(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(query: ListAuditQuery): Promise<AuditEvent[]>;
  /** Resolves when the store can serve requests; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
