// Distinct string types so a hash is never passed where a raw key or an id belongs.
export type KeyHash = string & { readonly __brand: "KeyHash" };
export type KeyId = string & { readonly __brand: "KeyId" };
export type RawKey = string & { readonly __brand: "RawKey" };

export type Environment = "live" | "test";
export type KeyStatus = "active" | "revoked" | "expired";

/** A key as stored. Holds the hash, never the secret. */
export interface KeyRecord {
  id: KeyId;
  keyHash: KeyHash;
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
  /** When the key stops working; in the future while a rotated key is in its grace period. */
  revokedAt: Date | null;
  revokeReason: string;
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

export function keyStatus(record: Pick<KeyRecord, "revokedAt" | "expiresAt">, now: Date): KeyStatus {
  if (record.revokedAt !== null && record.revokedAt.getTime() <= now.getTime()) return "revoked";
  if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}
