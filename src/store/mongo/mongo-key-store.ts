import {
  type Collection,
  type Db,
  type Filter,
  MongoClient,
  MongoServerError,
  ReadPreference,
} from "mongodb";
import type { KeyUsageSummary } from "../../domain/findings.js";
import type { AuditEvent, KeyDigest, KeyId, KeyRecord } from "../../domain/types.js";
import type { UsagePeriod } from "../../domain/usage.js";
import type { KeyChangeFeed, KeyChangeListener } from "../change-feed.js";
import {
  type ChangeBatch,
  DuplicateKeyError,
  type KeyPatch,
  type KeyStore,
  type ListAuditQuery,
  type ListKeysQuery,
  type RecentlyUsedPage,
  type RecentlyUsedQuery,
  type UsageCompaction,
  type UsageRetention,
} from "../key-store.js";
import { UsagePeriods } from "../usage-periods.js";
import { MongoAuditLog } from "./audit-log.js";
import { watchKeyChanges } from "./key-change-stream.js";
import {
  afterFilter,
  DUPLICATE_KEY,
  fromDoc,
  hasDuplicateWriteError,
  type KeyDoc,
  PATCH_FIELDS,
  statusFilter,
  toDoc,
  type UsageDoc,
  withUsage,
} from "./key-documents.js";
import { recentlyUsedKeys, recordLastUsed } from "./last-used.js";
import { migrateFrom01 } from "./migrate-legacy-keys.js";
import { RevisionClaims } from "./revision-claims.js";
import { MongoPeriodCollection } from "./usage-periods.js";

export interface MongoKeyStoreOptions {
  uri: string;
  dbName: string;
  /**
   * Deadline of one database operation (ms). Driver 7 has no client-side
   * operation timeout (timeoutMS is ignored), so this bounds server selection,
   * the pool's wait queue and socket silence; the deadline decorator around the
   * store bounds the whole call.
   */
  timeoutMs?: number;
}

export class MongoKeyStore implements KeyStore, KeyChangeFeed {
  private readonly keys: Collection<KeyDoc>;
  private readonly auditLog: MongoAuditLog;
  /**
   * last_used_at, apart from the keys: FerretDB 1.24 writes an updated document
   * back whole, so a usage write beside a revoke could put the un-revoked key back.
   */
  private readonly usage: Collection<UsageDoc>;
  private readonly claims: RevisionClaims;
  private readonly periods: MongoPeriodCollection;
  private readonly usagePeriods: UsagePeriods;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.keys = db.collection<KeyDoc>("api_keys");
    this.auditLog = new MongoAuditLog(db);
    this.usage = db.collection<UsageDoc>("key_usage");
    this.claims = new RevisionClaims(db);
    this.periods = new MongoPeriodCollection(db);
    this.usagePeriods = new UsagePeriods(this.periods);
  }

  /** Connects lazily: the process starts (and reports NOT_SERVING) even while the database is down. */
  static create(options: MongoKeyStoreOptions): MongoKeyStore {
    const timeoutMs = options.timeoutMs ?? 2000;
    const client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: timeoutMs,
      waitQueueTimeoutMS: timeoutMs,
      // A hung server sends nothing: drop the connection instead of waiting forever.
      socketTimeoutMS: Math.max(timeoutMs * 2, 1000),
      connectTimeoutMS: timeoutMs,
      appName: "keyward",
    });
    return new MongoKeyStore(client, client.db(options.dbName));
  }

  /** Idempotent; run at start. */
  async ensureIndexes(): Promise<void> {
    await migrateFrom01(this.keys);
    await this.keys.createIndex({ key_digest: 1 }, { unique: true, name: "key_digest_unique" });
    await this.keys.createIndex({ workspace: 1, created_at: -1 }, { name: "workspace_created_at" });
    await this.keys.createIndex({ created_at: -1 }, { name: "created_at" });
    await this.keys.createIndex({ changed_at: 1 }, { name: "changed_at" });
    await this.auditLog.ensureIndexes();
    await this.periods.ensureIndexes();
    await this.usage.createIndex({ last_used_at: -1, _id: -1 }, { name: "last_used_at" });
  }

  async insertKey(record: KeyRecord): Promise<void> {
    const { _id, ...fields } = toDoc(record);
    try {
      // An upsert, so the database's clock stamps the insert (an insert cannot use $currentDate).
      const result = await this.keys.updateOne(
        { _id },
        { $setOnInsert: fields, $currentDate: { changed_at: true } },
        { upsert: true },
      );
      if (result.upsertedCount !== 1) throw new DuplicateKeyError();
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY)
        throw new DuplicateKeyError();
      throw err;
    }
  }

  async insertKeys(records: readonly KeyRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.keys.insertMany(records.map(toDoc), { ordered: true });
    } catch (err) {
      if (
        err instanceof MongoServerError &&
        (err.code === DUPLICATE_KEY || hasDuplicateWriteError(err))
      )
        throw new DuplicateKeyError();
      throw err;
    }
  }

  /**
   * Authorize's read: one round trip, so last_used_at may lag (see KeyStore).
   * Always from the primary, whatever the URI's readPreference says: it is also
   * the re-read after a change-stream invalidation, and a secondary that has not
   * yet applied a revoke would hand back the key as it was, to be cached as
   * valid until the next change or TTL.
   */
  async findKeyByDigest(digest: KeyDigest): Promise<KeyRecord | null> {
    const doc = await this.keys.findOne(
      { key_digest: digest },
      { readPreference: ReadPreference.PRIMARY },
    );
    return doc ? fromDoc(doc) : null;
  }

  async findKeyById(id: KeyId): Promise<KeyRecord | null> {
    const doc = await this.keys.findOne({ _id: id });
    return doc ? (await this.withUsage([fromDoc(doc)]))[0]! : null;
  }

  /** Admin reads show last_used_at from key_usage, or from the key itself where an older keyward wrote it there. */
  private async withUsage(records: KeyRecord[]): Promise<KeyRecord[]> {
    if (records.length === 0) return records;
    const docs = await this.usage.find({ _id: { $in: records.map((r) => r.id) } }).toArray();
    return withUsage(records, docs);
  }

  async listKeys(query: ListKeysQuery): Promise<KeyRecord[]> {
    const clauses: Filter<KeyDoc>[] = [];
    if (query.workspace !== null) clauses.push({ workspace: query.workspace });
    if (query.status !== null) clauses.push(statusFilter(query.status, query.now));
    if (query.after !== null) clauses.push(afterFilter<KeyDoc>("created_at", query.after));
    const docs = await this.keys
      .find(clauses.length > 0 ? { $and: clauses } : {})
      .sort({ created_at: -1, _id: -1 })
      .limit(query.limit)
      .toArray();
    return this.withUsage(docs.map(fromDoc));
  }

  /** Compare-and-set in two steps: claim the next revision (atomic everywhere), then write the key. */
  async updateKey(id: KeyId, revision: number, patch: KeyPatch): Promise<KeyRecord | null> {
    const claim = `${id}#${revision + 1}`;
    if (!(await this.claims.claim(claim))) return null;
    const set: Partial<KeyDoc> = {};
    for (const [field, value] of Object.entries(patch)) {
      if (value !== undefined)
        (set as Record<string, unknown>)[PATCH_FIELDS[field as keyof KeyPatch]] = value;
    }
    let doc: KeyDoc | null;
    try {
      // One command that returns the written document: a separate read after the write
      // can see the old one on FerretDB, and callers cache what this returns.
      doc = await this.keys.findOneAndUpdate(
        { _id: id, revision: revision === 0 ? { $in: [0, null] } : revision } as Filter<KeyDoc>,
        { $set: { ...set, revision: revision + 1 }, $currentDate: { changed_at: true } },
        { returnDocument: "after" },
      );
    } catch (err) {
      await this.claims.release(claim).catch(() => undefined);
      throw err;
    }
    // Without a write, the claim goes; after one, the previous revision's claim has served its turn.
    await this.claims.release(doc === null ? claim : `${id}#${revision}`).catch(() => undefined);
    if (doc === null) return null;
    // The write has landed: a failed usage read must not report it as failed.
    const written = fromDoc(doc);
    return (await this.withUsage([written]).catch(() => [written]))[0]!;
  }

  async discardKey(id: KeyId): Promise<boolean> {
    const result = await this.keys.deleteOne({
      _id: id,
      revision: { $in: [0, null] },
    } as Filter<KeyDoc>);
    return result.deletedCount === 1;
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
    // Polled every few hundred ms by every replica: fetch only what invalidation reads.
    const docs = await this.keys
      .find(
        { changed_at: { $gte: since } },
        { projection: { _id: 0, key_digest: 1, revision: 1, changed_at: 1 } },
      )
      .toArray();
    let latest: Date | null = null;
    for (const d of docs)
      if (d.changed_at && (latest === null || d.changed_at > latest)) latest = d.changed_at;
    return {
      changes: docs.map((d) => ({ digest: d.key_digest as KeyDigest, revision: d.revision ?? 0 })),
      latest,
    };
  }

  async latestChange(): Promise<Date | null> {
    const doc = await this.keys
      .find({ changed_at: { $ne: null } } as unknown as Filter<KeyDoc>, {
        projection: { changed_at: 1 },
      })
      .sort({ changed_at: -1 })
      .limit(1)
      .next();
    return doc?.changed_at ?? null;
  }

  recentlyUsedKeys(query: RecentlyUsedQuery): Promise<RecentlyUsedPage> {
    return recentlyUsedKeys(this.usage, this.keys, query);
  }

  recordUsage(usage: ReadonlyMap<KeyId, Date>): Promise<void> {
    return recordLastUsed(this.usage, usage);
  }

  appendAudit(event: AuditEvent): Promise<void> {
    return this.auditLog.appendAudit(event);
  }

  listAudit(query: ListAuditQuery): Promise<AuditEvent[]> {
    return this.auditLog.listAudit(query);
  }

  /**
   * Follows changes to keys (not last_used_at bumps) through a change stream.
   * Answers null when the server offers none (FerretDB, a standalone mongod).
   */
  watchKeyChanges(
    onChange: KeyChangeListener,
    onError: (err: unknown) => void,
  ): Promise<{ close(): Promise<void> } | null> {
    return watchKeyChanges(this.keys, onChange, onError);
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  /** force: drop connections at once (a hung server must not hold shutdown). */
  async close(force = false): Promise<void> {
    await this.client.close(force);
  }
}
