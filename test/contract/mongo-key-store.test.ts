import { createHash } from "node:crypto";
import { Collection, MongoClient, MongoError, ReadPreference } from "mongodb";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { newKeyId } from "../../src/admin/key-material.js";
import { StoreUnavailableError } from "../../src/domain/errors.js";
import { digestOfHash } from "../../src/domain/keys.js";
import type { KeyDigest, KeyHash } from "../../src/domain/types.js";
import { DuplicateKeyError } from "../../src/store/key-store.js";
import { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import { asStoreError, withStoreErrors } from "../../src/store/mongo/store-errors.js";
import { MongoPeriodCollection } from "../../src/store/mongo/usage-periods.js";
import { uniqueDbName } from "../support/harness.js";
import { legacyKey, seedKeyDocuments } from "../support/legacy-keys.js";
import { keyRecord } from "../support/records.js";
import { keyStoreContract } from "./key-store.contract.js";
import { usageStoreContract } from "./usage-store.contract.js";

// As the app opens it: driver errors mapped, everything else (DuplicateKeyError included) as the store throws it.
keyStoreContract("mongodb", async () => {
  const store = MongoKeyStore.create({ uri: inject("mongoUri"), dbName: uniqueDbName() });
  await store.ensureIndexes();
  return withStoreErrors(store);
});

describe("MongoKeyStore: driver failures are the store's own", () => {
  it("a database that cannot be reached answers StoreUnavailableError, the driver's error kept as its cause", async () => {
    // Port 1 refuses at once; server selection gives up after the store's deadline.
    const raw = MongoKeyStore.create({
      uri: "mongodb://127.0.0.1:1/?directConnection=true",
      dbName: uniqueDbName(),
      timeoutMs: 200,
    });
    const store = withStoreErrors(raw);
    try {
      const failure = await store.findKeyById(newKeyId()).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as Error).message).toBe("the key database is unavailable; retry later");
      expect((failure as Error).cause).toBeInstanceOf(MongoError);
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await raw.close();
    }
  });

  it("errors that are not the driver's pass unchanged", () => {
    const duplicate = new DuplicateKeyError();
    expect(asStoreError(duplicate)).toBe(duplicate);
    const bug = new TypeError("x is undefined");
    expect(asStoreError(bug)).toBe(bug);
  });
});

usageStoreContract("mongodb", async () => {
  const dbName = uniqueDbName();
  const store = MongoKeyStore.create({ uri: inject("mongoUri"), dbName });
  await store.ensureIndexes();
  // A second client on the same database: what a crashed replica left behind is written beside the store.
  const client = new MongoClient(inject("mongoUri"));
  return {
    store,
    periods: new MongoPeriodCollection(client.db(dbName)),
    close: async () => void (await Promise.all([store.close(), client.close()])),
  };
});

describe("MongoKeyStore: the 0.1 migration", () => {
  const pepper = "p".repeat(32);
  const hour = 3600_000;
  const digestOf = (hash: string) =>
    createHash("sha256").update(hash, "utf8").digest("hex") as KeyDigest;

  it("carries a rotation's successor over, so a retired key never looks unrotated", async () => {
    const dbName = uniqueDbName();
    const successor = legacyKey(pepper);
    const inGraceSuccessor = legacyKey(pepper);
    // Rotated by 0.1: the grace end in revoked_at, the successor only in the reason.
    const retired = legacyKey(pepper, {
      revoked_at: new Date(Date.now() - 24 * hour),
      revoke_reason: `rotated to ${successor.id}`,
    });
    const inGrace = legacyKey(pepper, {
      revoked_at: new Date(Date.now() + hour),
      revoke_reason: `rotated to ${inGraceSuccessor.id}`,
    });
    // An operator's revoke whose reason merely starts like a rotation's stays a revoke.
    const revoked = legacyKey(pepper, {
      revoked_at: new Date(Date.now() - hour),
      revoke_reason: "rotated to the new vault",
    });
    // What the migration before this fix left behind: retires_at, but no successor_id.
    const halfMigratedSuccessor = newKeyId();
    const { key_hash: halfHash, ...halfFields } = legacyKey(pepper, {
      revoke_reason: `rotated to ${halfMigratedSuccessor}`,
    }).doc;
    const halfMigrated = {
      ...halfFields,
      key_digest: digestOf(halfHash),
      retires_at: new Date(Date.now() - hour),
      revision: 0,
    };
    await seedKeyDocuments(
      inject("mongoUri"),
      dbName,
      [successor, inGraceSuccessor, retired, inGrace, revoked]
        .map((k) => k.doc)
        .concat([halfMigrated as never]),
    );

    const store = MongoKeyStore.create({ uri: inject("mongoUri"), dbName });
    try {
      await store.ensureIndexes();
      // Idempotent: a second start changes nothing.
      await store.ensureIndexes();
      const byDigest = (doc: { key_hash: string }) => store.findKeyByDigest(digestOf(doc.key_hash));
      expect(await byDigest(retired.doc)).toMatchObject({
        id: retired.id,
        revokedAt: null,
        retiresAt: retired.doc.revoked_at,
        successorId: successor.id,
      });
      expect(await byDigest(inGrace.doc)).toMatchObject({
        revokedAt: null,
        retiresAt: inGrace.doc.revoked_at,
        successorId: inGraceSuccessor.id,
      });
      expect(await byDigest(revoked.doc)).toMatchObject({
        revokedAt: revoked.doc.revoked_at,
        retiresAt: null,
        successorId: null,
      });
      expect(await byDigest(successor.doc)).toMatchObject({
        id: successor.id,
        revokedAt: null,
        retiresAt: null,
        successorId: null,
        revision: 0,
      });
      expect(await store.findKeyById(halfMigrated._id as never)).toMatchObject({
        retiresAt: halfMigrated.retires_at,
        successorId: halfMigratedSuccessor,
      });
    } finally {
      await store.close();
    }
  });
});

describe("MongoKeyStore: Authorize reads from the primary", () => {
  afterEach(() => vi.restoreAllMocks());

  // A replica set cannot run on this machine (FerretDB is a single server), so this asserts the
  // read preference the driver is given, not a lagging secondary's answer.
  it("asks for readPreference primary on findKeyByDigest (also the re-read after an invalidation)", async () => {
    // The URI prefers secondaries, as an operator might set it for the admin reads.
    const store = MongoKeyStore.create({
      uri: withSecondaryPreferred(inject("mongoUri")),
      dbName: uniqueDbName(),
    });
    try {
      await store.ensureIndexes();
      const r = keyRecord();
      await store.insertKey(r);
      const findOne = vi.spyOn(Collection.prototype, "findOne");
      expect((await store.findKeyByDigest(r.keyDigest))?.id).toBe(r.id);
      expect(await store.findKeyByDigest(digestOfHash("0".repeat(64) as KeyHash))).toBeNull();
      expect(findOne).toHaveBeenCalledTimes(2);
      for (const call of findOne.mock.calls)
        expect(ReadPreference.fromOptions(call[1] as never)?.mode).toBe("primary");
    } finally {
      await store.close();
    }
  });
});

function withSecondaryPreferred(uri: string): string {
  return `${uri}${uri.includes("?") ? "&" : "?"}readPreference=secondaryPreferred`;
}
