import {
  type AnyBulkWriteOperation,
  type Collection,
  type Filter,
  MongoBulkWriteError,
} from "mongodb";
import type { KeyId } from "../../domain/types.js";
import type { RecentlyUsedPage, RecentlyUsedQuery } from "../key-store.js";
import {
  afterFilter,
  DUPLICATE_KEY,
  fromDoc,
  type KeyDoc,
  type UsageDoc,
  writeErrorsOf,
} from "./key-documents.js";

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

/** Two bounded reads: a page of key_usage by last_used_at, then those keys by _id. */
export async function recentlyUsedKeys(
  usage: Collection<UsageDoc>,
  keys: Collection<KeyDoc>,
  query: RecentlyUsedQuery,
): Promise<RecentlyUsedPage> {
  const clauses: Filter<UsageDoc>[] = [{ last_used_at: { $gte: query.since } }];
  if (query.after !== null)
    clauses.push(
      afterFilter<UsageDoc>("last_used_at", { createdAt: query.after.usedAt, id: query.after.id }),
    );
  const used = await usage
    .find({ $and: clauses })
    .sort({ last_used_at: -1, _id: -1 })
    .limit(query.limit)
    .toArray();
  const last = used.at(-1);
  if (last === undefined) return { records: [], next: null };
  const docs = await keys.find({ _id: { $in: used.map((u) => u._id) } }).toArray();
  const byId = new Map(docs.map((d) => [d._id, fromDoc(d)]));
  return {
    records: used.flatMap((u) => {
      const record = byId.get(u._id);
      return record ? [{ ...record, lastUsedAt: u.last_used_at }] : [];
    }),
    next: used.length < query.limit ? null : { usedAt: last.last_used_at, id: last._id },
  };
}
