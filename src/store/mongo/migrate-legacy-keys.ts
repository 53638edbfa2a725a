import { createHash } from "node:crypto";
import type { Collection, Filter } from "mongodb";
import type { KeyDoc } from "./key-documents.js";

/** The reason 0.1's RotateKey wrote, exactly: the only place 0.1 recorded a successor. */
const ROTATED_TO = /^rotated to (key_[0-9a-f]{24})$/;

function successorNamedIn(reason: string | undefined): string | null {
  return ROTATED_TO.exec(reason ?? "")?.[1] ?? null;
}

/**
 * keyward 0.1 stored key_hash itself, which Authorize accepts: a stolen copy
 * was a set of credentials. Replace each by its digest, in place, once.
 */
export async function migrateFrom01(keys: Collection<KeyDoc>): Promise<void> {
  const legacy = await keys.indexExists("key_hash_unique").catch(() => false);
  if (legacy) await keys.dropIndex("key_hash_unique");
  const cursor = keys.find({ key_hash: { $exists: true } } as Filter<KeyDoc>, {
    projection: { _id: 1, key_hash: 1, revoked_at: 1, revoke_reason: 1 },
  });
  for await (const doc of cursor) {
    const hash = (doc as unknown as { key_hash: string }).key_hash;
    const set: Record<string, unknown> = {
      key_digest: createHash("sha256").update(hash, "utf8").digest("hex"),
    };
    // 0.1 kept a rotation's grace end in revoked_at (retires_at now) and named the successor
    // only in the reason. Without successor_id the key would look unrotated, and rotating it
    // again would set a new grace end: a retired secret working again. Any other reason,
    // even one starting "rotated to", was an operator's revoke, and stays one.
    const successor = successorNamedIn(doc.revoke_reason);
    if (doc.revoked_at && successor !== null)
      Object.assign(set, {
        revoked_at: null,
        retires_at: doc.revoked_at,
        successor_id: successor,
      });
    await keys.updateOne({ _id: doc._id }, { $set: set, $unset: { key_hash: "" } } as never);
  }
  await carryMissingSuccessors(keys);
}

/**
 * An earlier keyward moved 0.1 rotations to retires_at without their successor;
 * give them the one their reason names. One it cannot name stays as it is:
 * retires_at alone already bars rotating or changing the key (KeyManager).
 */
async function carryMissingSuccessors(keys: Collection<KeyDoc>): Promise<void> {
  const cursor = keys.find({ retires_at: { $ne: null }, successor_id: null } as Filter<KeyDoc>, {
    projection: { _id: 1, revoke_reason: 1 },
  });
  for await (const doc of cursor) {
    const successor = successorNamedIn(doc.revoke_reason);
    if (successor !== null)
      await keys.updateOne({ _id: doc._id, successor_id: null } as Filter<KeyDoc>, {
        $set: { successor_id: successor },
      });
  }
}
