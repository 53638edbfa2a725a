// Distinct string types so a hash is never passed where a raw key or an id belongs.
/** What callers hold or compute: HMAC-SHA256(pepper, key); accepted by Authorize as key_hash. */
export type KeyHash = string & { readonly __brand: "KeyHash" };
/** What the database holds: SHA-256(key_hash); never accepted by Authorize, so a stolen copy grants nothing. */
export type KeyDigest = string & { readonly __brand: "KeyDigest" };
export type KeyId = string & { readonly __brand: "KeyId" };
export type RawKey = string & { readonly __brand: "RawKey" };

export type Environment = "live" | "test";
export type KeyStatus = "active" | "revoked" | "expired";

/** A key as stored. Holds the digest of the hash, never the secret nor the hash. */
export interface KeyRecord {
  id: KeyId;
  keyDigest: KeyDigest;
  name: string;
  workspace: string;
  scopes: string[];
  allowedDomains: string[];
  environment: Environment;
  keyPreview: string;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  /**
   * Set by RevokeKey: the key is refused from then on. Which instant it holds is
   * for people; whether it is set is what counts, so no replica's clock decides it.
   */
  revokedAt: Date | null;
  revokeReason: string;
  /** Set by RotateKey: the end of the old key's grace period, judged like expires_at. */
  retiresAt: Date | null;
  /** The key this one was rotated to. */
  successorId: KeyId | null;
  /** Bumped by every change (not by usage): the order of a key's versions, for compare-and-set and caches. */
  revision: number;
}

export type AuditAction = "create" | "update" | "revoke" | "rotate";

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

export interface AuditEvent {
  id: string;
  workspace: string;
  action: AuditAction;
  actorKeyId: string;
  targetKeyId: KeyId;
  occurredAt: Date;
  changes: FieldChange[];
}

export function keyStatus(
  record: Pick<KeyRecord, "revokedAt" | "retiresAt" | "expiresAt">,
  now: Date,
): KeyStatus {
  if (record.revokedAt !== null) return "revoked";
  if (record.retiresAt !== null && record.retiresAt.getTime() <= now.getTime()) return "revoked";
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}
