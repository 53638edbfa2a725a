import { type Collection, MongoServerError } from "mongodb";
import { DUPLICATE_KEY } from "./key-documents.js";

const isDuplicate = (err: unknown) => err instanceof MongoServerError && err.code === DUPLICATE_KEY;

export interface LeaseDoc {
  _id: string;
  holder?: string;
  expires_at?: Date;
  mark?: Date;
  cursor?: string | null;
}

/** The delivery loop's lease, and the marks and cursors its holder keeps beside it. */
export class MongoLeases {
  constructor(private readonly leases: Collection<LeaseDoc>) {}

  async acquire(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    try {
      const r = await this.leases.updateOne(
        { _id: name, $or: [{ holder }, { expires_at: { $lte: now } }] },
        { $set: { holder, expires_at: new Date(now.getTime() + ttlMs) } },
        { upsert: true },
      );
      return r.matchedCount + r.upsertedCount > 0;
    } catch (err) {
      // The upsert met the lease of another, live holder.
      if (isDuplicate(err)) return false;
      throw err;
    }
  }

  async release(name: string, holder: string): Promise<void> {
    await this.leases.updateOne({ _id: name, holder }, { $set: { expires_at: new Date(0) } });
  }

  async readMark(name: string): Promise<Date | null> {
    return (await this.leases.findOne({ _id: `mark:${name}` }))?.mark ?? null;
  }

  async writeMark(name: string, mark: Date): Promise<void> {
    await this.leases.updateOne({ _id: `mark:${name}` }, { $set: { mark } }, { upsert: true });
  }

  async readCursor(name: string): Promise<string | null> {
    return (await this.leases.findOne({ _id: `cursor:${name}` }))?.cursor ?? null;
  }

  async writeCursor(name: string, cursor: string | null): Promise<void> {
    await this.leases.updateOne({ _id: `cursor:${name}` }, { $set: { cursor } }, { upsert: true });
  }
}
