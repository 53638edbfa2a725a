import type { KeyUsageSummary } from "../domain/findings.js";
import type { AuditEvent, KeyDigest, KeyId, KeyRecord, KeyStatus } from "../domain/types.js";
import { HOUR_MS, type UsagePeriod } from "../domain/usage.js";

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

/** Position after which a most-recently-used-first page continues. */
export interface UsedCursor {
  usedAt: Date;
  id: string;
}

export interface RecentlyUsedQuery {
  /** Keys whose last_used_at is at or after this. */
  since: Date;
  limit: number;
  after: UsedCursor | null;
}

export interface RecentlyUsedPage {
  /** Most recently used first, lastUsedAt set; a key removed since its use is left out. */
  records: KeyRecord[];
  /** Where the next page starts, or null when there is none. */
  next: UsedCursor | null;
}

export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | "name"
    | "scopes"
    | "allowedDomains"
    | "expiresAt"
    | "metadata"
    | "revokedAt"
    | "revokeReason"
    | "retiresAt"
    | "successorId"
  >
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

/**
 * An hour is folded once it is closed: its end plus this grace (flush intervals,
 * retried flushes, replica clock skew). A flush of an hour whose start is this
 * long ago or more may land after the fold and be ignored: a recorder drops such
 * counts (and counts them as dropped) instead of appending them.
 */
export const USAGE_HOUR_CLOSES_AFTER_MS = 2 * HOUR_MS;

export interface UsageRetention {
  /** Hours older than this many days are rolled into days. */
  hourlyDays: number;
  /** Days older than this many days are removed. */
  dailyDays: number;
}

export interface UsageCompaction {
  /** Flush and hour documents folded into hours and days. */
  folded: number;
  /** Documents removed for being older than dailyDays. */
  removed: number;
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
  /**
   * For warming a starting replica's cache: one page of the keys used (last_used_at,
   * as recordUsage wrote it) since `since`, most recently used first (then id,
   * descending). At most `limit` usage entries are read per call.
   */
  recentlyUsedKeys(query: RecentlyUsedQuery): Promise<RecentlyUsedPage>;
  /**
   * One replica's flush: each key's counts for each hour touched since its last
   * flush (granularity "hour"). Inserted, never updated in place: exact on
   * FerretDB, which rewrites whole documents on update, with any number of replicas.
   * `flushId` is unique per flush (e.g. a random UUID) and kept with it: sending
   * the same flush again under the same id (after an error that may have hidden a
   * success, such as a deadline) adds nothing, so retrying is safe.
   */
  appendUsage(flush: readonly UsagePeriod[], flushId: string): Promise<void>;
  /**
   * One key's usage over [start, end), oldest first: one period per hour (hours
   * starting in the range) or day (days overlapping it, where hours were rolled
   * up) that has data, non-overlapping, each already summed.
   */
  readUsage(keyId: KeyId, start: Date, end: Date): Promise<UsagePeriod[]>;
  /** For findings: per key, its KeyUsageSummary as of `now`. Keys without usage are absent. */
  usageSummaries(
    keyIds: readonly KeyId[],
    now: Date,
    unusedDays: number,
  ): Promise<Map<KeyId, KeyUsageSummary>>;
  /**
   * Background maintenance, safe on every replica at once and idempotent: folds
   * closed hours, rolls hours older than hourlyDays into days, removes days older
   * than dailyDays (FerretDB has no TTL index: this is the sweep).
   */
  compactUsage(now: Date, retention: UsageRetention): Promise<UsageCompaction>;
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
