/** key_usage_periods: the PeriodCollection the usage algorithms (../usage-periods.ts) run on in MongoDB. */
import { type Collection, type Db, type Filter, MongoBulkWriteError } from "mongodb";
import type { FindOptions, PeriodCollection, PeriodFilter } from "../period-collection.js";
import type { PeriodDoc } from "../usage-documents.js";
import { DUPLICATE_KEY, writeErrorsOf } from "./key-documents.js";

export const USAGE_PERIODS_COLLECTION = "key_usage_periods";

function toFilter(f: PeriodFilter): Filter<PeriodDoc> {
  const filter: Record<string, unknown> = {};
  if (f.keyIds !== undefined)
    filter.key_id = f.keyIds.length === 1 ? f.keyIds[0] : { $in: [...f.keyIds] };
  if (f.kinds !== undefined)
    filter.kind = f.kinds.length === 1 ? f.kinds[0] : { $in: [...f.kinds] };
  const start: Record<string, Date> = {};
  if (f.from !== undefined) start.$gte = f.from;
  if (f.before !== undefined) start.$lt = f.before;
  if (f.at !== undefined) filter.start = f.at;
  else if (Object.keys(start).length > 0) filter.start = start;
  if (f.allowedOnly) filter.last_allowed_at = { $ne: null };
  return filter as Filter<PeriodDoc>;
}

export class MongoPeriodCollection implements PeriodCollection {
  private readonly col: Collection<PeriodDoc>;

  constructor(db: Db) {
    this.col = db.collection<PeriodDoc>(USAGE_PERIODS_COLLECTION);
  }

  /** Serves reads by key and time (readUsage, usageSummaries) and compaction's sweep by kind and age. */
  async ensureIndexes(): Promise<void> {
    await this.col.createIndex({ key_id: 1, start: 1 }, { name: "key_id_start" });
    await this.col.createIndex({ kind: 1, start: 1 }, { name: "kind_start" });
  }

  async insertNew(docs: readonly PeriodDoc[]): Promise<number> {
    if (docs.length === 0) return 0;
    try {
      // Unordered: the free _ids are inserted even when some are taken.
      return (await this.col.insertMany([...docs], { ordered: false })).insertedCount;
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = writeErrorsOf<{ code?: number }>(err);
      if (errors.length === 0 || errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      return docs.length - errors.length;
    }
  }

  async find(filter: PeriodFilter, options: FindOptions = {}): Promise<PeriodDoc[]> {
    const cursor = this.col
      .find(toFilter(filter))
      .sort(options.newestFirst ? { start: -1 } : { key_id: 1, start: 1 });
    if (options.limit !== undefined) cursor.limit(options.limit);
    return cursor.toArray() as Promise<PeriodDoc[]>;
  }

  async deleteIds(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await this.col.deleteMany({ _id: { $in: [...ids] } } as Filter<PeriodDoc>))
      .deletedCount;
  }

  async deleteBefore(before: Date): Promise<number> {
    return (await this.col.deleteMany({ start: { $lt: before } })).deletedCount;
  }
}
