import type { AuditEvent, KeyHash, KeyId, KeyRecord, KeyStatus } from "../domain/types.js";

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

export type KeyPatch = Partial<Pick<KeyRecord, "name" | "scopes" | "allowedDomains" | "expiresAt" | "metadata">> & {
  updatedAt: Date;
};

/** Thrown when an insert collides on the unique key hash: never overwrite. */
export class DuplicateKeyError extends Error {
  constructor() {
    super("a key with this hash already exists");
    this.name = "DuplicateKeyError";
  }
}

/** The one persistence boundary; every implementation passes test/contract/key-store.contract.ts. */
export interface KeyStore {
  insertKey(record: KeyRecord): Promise<void>;
  /** Bulk import, in order; stops at the first collision with DuplicateKeyError (records before it are kept). */
  insertKeys(records: readonly KeyRecord[]): Promise<void>;
  findKeyByHash(hash: KeyHash): Promise<KeyRecord | null>;
  findKeyById(id: KeyId): Promise<KeyRecord | null>;
  /** Newest first (created_at, then id, descending). */
  listKeys(query: ListKeysQuery): Promise<KeyRecord[]>;
  /** Returns the updated record, or null when no key has this id. */
  updateKey(id: KeyId, patch: KeyPatch): Promise<KeyRecord | null>;
  /**
   * Makes the key stop working at `at`, unless it already stops earlier:
   * revocation only ever moves closer, which makes it irreversible and idempotent.
   */
  revokeKey(id: KeyId, at: Date, reason: string, updatedAt: Date): Promise<KeyRecord | null>;
  /** Sets last_used_at per key, never moving it backwards. */
  recordUsage(usage: ReadonlyMap<KeyId, Date>): Promise<void>;
  /** Keys whose updated_at is at or after `since`, for cache invalidation by polling. */
  keysUpdatedSince(since: Date): Promise<KeyRecord[]>;
  appendAudit(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(query: ListAuditQuery): Promise<AuditEvent[]>;
  /** Resolves when the store can serve requests; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
