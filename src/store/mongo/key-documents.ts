import type { Filter, MongoServerError } from "mongodb";
import type { AuditEvent, KeyDigest, KeyId, KeyRecord, KeyStatus } from "../../domain/types.js";
import type { Cursor, KeyPatch } from "../key-store.js";

/** MongoDB's duplicate-key error code. */
export const DUPLICATE_KEY = 11000;

/** A key as stored in api_keys: snake_case fields, the digest and never the hash. */
export interface KeyDoc {
  _id: string;
  key_digest: string;
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
  retires_at: Date | null;
  successor_id: string | null;
  revision: number;
  /** Set by the database's clock ($currentDate) on every insert and change: orders changes across replicas. */
  changed_at?: Date;
}

/** A key's last use, kept in key_usage under the key's id. */
export interface UsageDoc {
  _id: string;
  last_used_at: Date;
}

/** The later of the key's own last_used_at (written there before key_usage existed) and key_usage's. */
export function withUsage(records: KeyRecord[], usage: readonly UsageDoc[]): KeyRecord[] {
  const byId = new Map(usage.map((u) => [u._id, u.last_used_at]));
  return records.map((r) => {
    const used = byId.get(r.id);
    return used && (r.lastUsedAt === null || used > r.lastUsedAt) ? { ...r, lastUsedAt: used } : r;
  });
}

export interface AuditDoc {
  _id: string;
  workspace: string;
  action: AuditEvent["action"];
  actor_key_id: string;
  target_key_id: string;
  occurred_at: Date;
  changes: AuditEvent["changes"];
}

export function toDoc(r: KeyRecord): KeyDoc {
  return {
    _id: r.id,
    key_digest: r.keyDigest,
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
    retires_at: r.retiresAt,
    successor_id: r.successorId,
    revision: r.revision,
  };
}

export function fromDoc(d: KeyDoc): KeyRecord {
  return {
    id: d._id as KeyId,
    keyDigest: d.key_digest as KeyDigest,
    name: d.name,
    workspace: d.workspace,
    // FerretDB drops empty arrays given to $setOnInsert: absent means empty.
    scopes: d.scopes ?? [],
    allowedDomains: d.allowed_domains ?? [],
    environment: d.environment,
    keyPreview: d.key_preview,
    metadata: d.metadata ?? {},
    createdAt: d.created_at,
    updatedAt: d.updated_at,
    lastUsedAt: d.last_used_at ?? null,
    expiresAt: d.expires_at ?? null,
    revokedAt: d.revoked_at ?? null,
    revokeReason: d.revoke_reason ?? "",
    retiresAt: d.retires_at ?? null,
    successorId: (d.successor_id ?? null) as KeyId | null,
    revision: d.revision ?? 0,
  };
}

export const PATCH_FIELDS: Record<keyof KeyPatch, keyof KeyDoc> = {
  name: "name",
  scopes: "scopes",
  allowedDomains: "allowed_domains",
  expiresAt: "expires_at",
  metadata: "metadata",
  updatedAt: "updated_at",
  revokedAt: "revoked_at",
  revokeReason: "revoke_reason",
  retiresAt: "retires_at",
  successorId: "successor_id",
};

export function statusFilter(status: KeyStatus, now: Date): Filter<KeyDoc> {
  const notRevoked: Filter<KeyDoc> = {
    revoked_at: null,
    $or: [{ retires_at: null }, { retires_at: { $gt: now } }],
  };
  if (status === "revoked")
    return { $or: [{ revoked_at: { $ne: null } }, { retires_at: { $lte: now } }] };
  if (status === "expired") return { $and: [notRevoked, { expires_at: { $lte: now } }] };
  return { $and: [notRevoked, { $or: [{ expires_at: null }, { expires_at: { $gt: now } }] }] };
}

export function afterFilter<T extends { _id: string }>(field: string, cursor: Cursor): Filter<T> {
  return {
    $or: [
      { [field]: { $lt: cursor.createdAt } },
      { [field]: cursor.createdAt, _id: { $lt: cursor.id } },
    ],
  } as Filter<T>;
}

/** A bulk write's per-operation errors: the driver gives one error or a list. */
export function writeErrorsOf<E extends { code?: number }>(err: MongoServerError): E[] {
  const writeErrors = (err as { writeErrors?: E[] | E }).writeErrors;
  return Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
}

export function hasDuplicateWriteError(err: MongoServerError): boolean {
  return writeErrorsOf(err).some((e) => e.code === DUPLICATE_KEY);
}
