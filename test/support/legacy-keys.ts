import { MongoClient } from "mongodb";
import { generateKey, newKeyId } from "../../src/admin/key-material.js";
import { hashKey, keyPreview } from "../../src/domain/keys.js";
import type { KeyId, RawKey } from "../../src/domain/types.js";

/**
 * A key as keyward 0.1 stored it (git show 72d9727^:src/store/mongo-key-store.ts):
 * key_hash itself, no revision, retires_at or successor_id. 0.1's RotateKey wrote
 * the grace end into revoked_at and named the successor only in the reason,
 * `rotated to <id>`.
 */
export interface LegacyKeyDoc {
  _id: string;
  key_hash: string;
  name: string;
  workspace: string;
  scopes: string[];
  allowed_domains: string[];
  environment: "live" | "test";
  key_preview: string;
  metadata: Record<string, string>;
  created_at: Date;
  updated_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoke_reason: string;
}

export function legacyKey(
  pepper: string,
  fields: Partial<LegacyKeyDoc> = {},
): { key: RawKey; id: KeyId; doc: LegacyKeyDoc } {
  const key = generateKey("kw", "live");
  const id = newKeyId();
  const created = new Date(Date.now() - 90 * 24 * 3600_000);
  const doc: LegacyKeyDoc = {
    _id: id,
    key_hash: hashKey(key, pepper),
    name: "from 0.1",
    workspace: "legacy",
    scopes: ["leads:read"],
    allowed_domains: [],
    environment: "live",
    key_preview: keyPreview(key),
    metadata: {},
    created_at: created,
    updated_at: created,
    last_used_at: null,
    expires_at: null,
    revoked_at: null,
    revoke_reason: "",
    ...fields,
  };
  return { key, id, doc };
}

/** Writes documents into api_keys as they are, with 0.1's unique index, bypassing every keyward code path. */
export async function seedKeyDocuments(
  uri: string,
  dbName: string,
  docs: readonly object[],
): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const keys = client.db(dbName).collection("api_keys");
    if (docs.some((d) => "key_hash" in d))
      await keys.createIndex({ key_hash: 1 }, { unique: true, name: "key_hash_unique" });
    await keys.insertMany(docs.map((d) => ({ ...d })) as never[]);
  } finally {
    await client.close();
  }
}
