import { type Collection, type Db, MongoServerError } from "mongodb";
import { DUPLICATE_KEY } from "./key-documents.js";

/** A claim older than this (by the database's clock) belongs to a writer that died between claim and write. */
const STALE_CLAIM_MS = 60_000;

export interface ClaimDoc {
  /** `<key id>#<revision>`: unique, so of all writers of one revision exactly one inserts it. */
  _id: string;
  claimed_at: Date;
}

/**
 * Claims on "the next revision of a key". A conditional update is not atomic on
 * every MongoDB-wire server (FerretDB 1.24 lets all of 8 concurrent writers at
 * one revision succeed); inserting a document with a unique _id is, everywhere.
 */
export class RevisionClaims {
  private readonly claims: Collection<ClaimDoc>;

  constructor(private readonly db: Db) {
    this.claims = db.collection<ClaimDoc>("key_revision_claims");
  }

  /** True when this caller, and no other, may write `<key id>#<revision>`. */
  async claim(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const result = await this.claims.updateOne(
          { _id: id },
          { $setOnInsert: { _id: id }, $currentDate: { claimed_at: true } } as never,
          { upsert: true },
        );
        return result.upsertedCount === 1;
      } catch (err) {
        if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
      }
      // Held: by a live writer (lose), or by one that died before writing (take it over).
      const held = await this.claims.findOne({ _id: id });
      const serverNow = ((await this.db.command({ hello: 1 })) as { localTime?: Date }).localTime;
      if (!held || !serverNow || serverNow.getTime() - held.claimed_at.getTime() < STALE_CLAIM_MS)
        return false;
      await this.claims.deleteOne({ _id: id, claimed_at: held.claimed_at });
    }
    return false;
  }

  async release(id: string): Promise<void> {
    await this.claims.deleteOne({ _id: id });
  }
}
