import { MongoClient, MongoServerError, type ChangeStreamDocument, type Collection, type Db, type Filter } from "mongodb";
import type { AuditEvent, KeyHash, KeyId, KeyRecord, KeyStatus } from "../domain/types.js";
import {
  DuplicateKeyError,
  type Cursor,
  type KeyPatch,
  type KeyStore,
  type ListAuditQuery,
  type ListKeysQuery,
} from "./key-store.js";

interface KeyDoc {
  _id: string;
  key_hash: string;
  name: string;
  workspace: string;
  scopes: string[];
  allowed_domains: string[];
  environment: KeyRecord["environment"];
  key_preview: string;
  metadata: Record<string, string>;
  created_at: Date;
  updated_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoke_reason: string;
}

interface AuditDoc {
  _id: string;
  workspace: string;
  action: AuditEvent["action"];
  actor_key_id: string;
  target_key_id: string;
  occurred_at: Date;
  changes: AuditEvent["changes"];
}

const DUPLICATE_KEY = 11000;
const USAGE_BATCH = 50;

function toDoc(r: KeyRecord): KeyDoc {
  return {
    _id: r.id,
    key_hash: r.keyHash,
    name: r.name,
    workspace: r.workspace,
    scopes: r.scopes,
    allowed_domains: r.allowedDomains,
    environment: r.environment,
    key_preview: r.keyPreview,
    metadata: r.metadata,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    last_used_at: r.lastUsedAt,
    expires_at: r.expiresAt,
    revoked_at: r.revokedAt,
    revoke_reason: r.revokeReason,
  };
}

function fromDoc(d: KeyDoc): KeyRecord {
  return {
    id: d._id as KeyId,
    keyHash: d.key_hash as KeyHash,
    name: d.name,
    workspace: d.workspace,
    scopes: d.scopes,
    allowedDomains: d.allowed_domains,
    environment: d.environment,
    keyPreview: d.key_preview,
    metadata: d.metadata ?? {},
    createdAt: d.created_at,
    updatedAt: d.updated_at,
    lastUsedAt: d.last_used_at ?? null,
    expiresAt: d.expires_at ?? null,
    revokedAt: d.revoked_at ?? null,
    revokeReason: d.revoke_reason ?? "",
  };
}

const PATCH_FIELDS: Record<keyof KeyPatch, keyof KeyDoc> = {
  name: "name",
  scopes: "scopes",
  allowedDomains: "allowed_domains",
  expiresAt: "expires_at",
  metadata: "metadata",
  updatedAt: "updated_at",
};

function statusFilter(status: KeyStatus, now: Date): Filter<KeyDoc> {
  const notRevoked: Filter<KeyDoc> = { $or: [{ revoked_at: null }, { revoked_at: { $gt: now } }] };
  if (status === "revoked") return { revoked_at: { $lte: now } };
  if (status === "expired") return { $and: [notRevoked, { expires_at: { $lte: now } }] };
  return { $and: [notRevoked, { $or: [{ expires_at: null }, { expires_at: { $gt: now } }] }] };
}

function afterFilter<T extends { _id: string }>(field: string, cursor: Cursor): Filter<T> {
  return {
    $or: [{ [field]: { $lt: cursor.createdAt } }, { [field]: cursor.createdAt, _id: { $lt: cursor.id } }],
  } as Filter<T>;
}

function hasDuplicateWriteError(err: MongoServerError): boolean {
  const writeErrors = (err as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.some((e) => e.code === DUPLICATE_KEY);
}

export type KeyChangeListener = (hash: KeyHash, updatedAt: Date) => void;

export interface MongoKeyStoreOptions {
  uri: string;
  dbName: string;
  /** How long a call waits for a reachable server before failing (ms). */
  serverSelectionTimeoutMS?: number;
}

export class MongoKeyStore implements KeyStore {
  private readonly keys: Collection<KeyDoc>;
  private readonly audit: Collection<AuditDoc>;

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {
    this.keys = db.collection<KeyDoc>("api_keys");
    this.audit = db.collection<AuditDoc>("audit_events");
  }

  /** Connects lazily: the process starts (and reports NOT_SERVING) even while the database is down. */
  static create(options: MongoKeyStoreOptions): MongoKeyStore {
    const client = new MongoClient(options.uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 2000,
      appName: "keyward",
    });
    return new MongoKeyStore(client, client.db(options.dbName));
  }

  /** Idempotent; run at start. */
  async ensureIndexes(): Promise<void> {
    await this.keys.createIndex({ key_hash: 1 }, { unique: true, name: "key_hash_unique" });
    await this.keys.createIndex({ workspace: 1, created_at: -1 }, { name: "workspace_created_at" });
    await this.keys.createIndex({ created_at: -1 }, { name: "created_at" });
    await this.keys.createIndex({ updated_at: 1 }, { name: "updated_at" });
    await this.audit.createIndex({ workspace: 1, occurred_at: -1 }, { name: "workspace_occurred_at" });
  }

  async insertKey(record: KeyRecord): Promise<void> {
    try {
      await this.keys.insertOne(toDoc(record));
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) throw new DuplicateKeyError();
      throw err;
    }
  }

  async insertKeys(records: readonly KeyRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.keys.insertMany(records.map(toDoc), { ordered: true });
    } catch (err) {
      if (err instanceof MongoServerError && (err.code === DUPLICATE_KEY || hasDuplicateWriteError(err))) throw new DuplicateKeyError();
      throw err;
    }
  }

  async findKeyByHash(hash: KeyHash): Promise<KeyRecord | null> {
    const doc = await this.keys.findOne({ key_hash: hash });
    return doc ? fromDoc(doc) : null;
  }

  async findKeyById(id: KeyId): Promise<KeyRecord | null> {
    const doc = await this.keys.findOne({ _id: id });
    return doc ? fromDoc(doc) : null;
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
    return docs.map(fromDoc);
  }

  async updateKey(id: KeyId, patch: KeyPatch): Promise<KeyRecord | null> {
    const set: Partial<KeyDoc> = {};
    for (const [field, value] of Object.entries(patch)) {
      if (value !== undefined) (set as Record<string, unknown>)[PATCH_FIELDS[field as keyof KeyPatch]] = value;
    }
    const doc = await this.keys.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: "after" });
    return doc ? fromDoc(doc) : null;
  }

  async revokeKey(id: KeyId, at: Date, reason: string, updatedAt: Date): Promise<KeyRecord | null> {
    // One command that returns the written document: a separate read after the write
    // can see the old one on FerretDB, and the caller caches what this returns.
    const doc = await this.keys.findOneAndUpdate(
      { _id: id, $or: [{ revoked_at: null }, { revoked_at: { $gt: at } }] },
      { $set: { revoked_at: at, revoke_reason: reason, updated_at: updatedAt } },
      { returnDocument: "after" },
    );
    return doc ? fromDoc(doc) : this.findKeyById(id);
  }

  async recordUsage(usage: ReadonlyMap<KeyId, Date>): Promise<void> {
    const ops = [...usage].map(([id, at]) => ({
      updateOne: {
        filter: { _id: id, $or: [{ last_used_at: null }, { last_used_at: { $lt: at } }] },
        update: { $set: { last_used_at: at } },
      },
    }));
    // FerretDB 1.24 (SQLite) hangs for good on an update command of 100 or more statements.
    for (let i = 0; i < ops.length; i += USAGE_BATCH) {
      await this.keys.bulkWrite(ops.slice(i, i + USAGE_BATCH), { ordered: false });
    }
  }

  async keysUpdatedSince(since: Date): Promise<KeyRecord[]> {
    const docs = await this.keys.find({ updated_at: { $gte: since } }).toArray();
    return docs.map(fromDoc);
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
    const docs = await this.audit.find({ $and: clauses }).sort({ occurred_at: -1, _id: -1 }).limit(query.limit).toArray();
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

  /**
   * Follows changes to keys (not last_used_at bumps) through a change stream.
   * Answers null when the server offers none (FerretDB, a standalone mongod).
   */
  async watchKeyChanges(onChange: KeyChangeListener, onError: (err: unknown) => void): Promise<{ close(): Promise<void> } | null> {
    const stream = this.keys.watch<KeyDoc, ChangeStreamDocument<KeyDoc>>(
      [{ $match: { $or: [{ operationType: { $ne: "update" } }, { "updateDescription.updatedFields.updated_at": { $exists: true } }] } }],
      { fullDocument: "updateLookup" },
    );
    let first: ChangeStreamDocument<KeyDoc> | null;
    try {
      first = await stream.tryNext();
    } catch {
      await stream.close().catch(() => undefined);
      return null;
    }
    let closed = false;
    const deliver = (event: ChangeStreamDocument<KeyDoc>) => {
      const doc = "fullDocument" in event ? event.fullDocument : undefined;
      if (doc) onChange(doc.key_hash as KeyHash, doc.updated_at);
    };
    void (async () => {
      try {
        if (first) deliver(first);
        for await (const event of stream) deliver(event);
      } catch (err) {
        if (!closed) onError(err);
      }
    })();
    return {
      async close() {
        closed = true;
        await stream.close();
      },
    };
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
