import { type AnyBulkWriteOperation, type Collection, MongoBulkWriteError } from "mongodb";
import type { KeyId } from "../../domain/types.js";
import { DUPLICATE_KEY, type UsageDoc, writeErrorsOf } from "./key-documents.js";

const USAGE_BATCH = 50;

/** last_used_at per key (key_usage), kept apart from the keys themselves (see MongoKeyStore). */
export async function recordLastUsed(
  collection: Collection<UsageDoc>,
  usage: ReadonlyMap<KeyId, Date>,
): Promise<void> {
  const ops: AnyBulkWriteOperation<UsageDoc>[] = [...usage].map(([id, at]) => ({
    updateOne: { filter: { _id: id }, update: { $max: { last_used_at: at } }, upsert: true },
  }));
  // FerretDB 1.24 (SQLite) hangs for good on an update command of 100 or more statements.
  for (let i = 0; i < ops.length; i += USAGE_BATCH)
    await writeUsage(collection, ops.slice(i, i + USAGE_BATCH));
}

/** Two replicas may create one key's usage document at once: the loser's ops go again, as updates now. */
async function writeUsage(
  collection: Collection<UsageDoc>,
  ops: AnyBulkWriteOperation<UsageDoc>[],
): Promise<void> {
  try {
    await collection.bulkWrite(ops, { ordered: false });
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = writeErrorsOf<{ code?: number; index: number }>(err);
    if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
    await collection.bulkWrite(
      errors.map((e) => ops[e.index]!),
      { ordered: false },
    );
  }
}
