import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { KeyId, KeyStatus } from "../../src/domain/types.js";
import { DuplicateKeyError, type KeyStore } from "../../src/store/key-store.js";
import { keyRecord, T0 } from "../support/records.js";

const at = (ms: number) => new Date(T0.getTime() + ms);

/** The behaviour every KeyStore must have. `fresh` returns an empty store. */
export function keyStoreContract(name: string, fresh: () => Promise<KeyStore>) {
  describe(`KeyStore contract: ${name}`, () => {
    let store: KeyStore;
    const opened: KeyStore[] = [];
    beforeEach(async () => {
      store = await fresh();
      opened.push(store);
    });
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it("finds an inserted key by hash and by id, with every field intact", async () => {
      const r = keyRecord({ metadata: { team: "growth" }, allowedDomains: ["*.example.com"], expiresAt: at(1000) });
      await store.insertKey(r);
      expect(await store.findKeyByHash(r.keyHash)).toEqual(r);
      expect(await store.findKeyById(r.id)).toEqual(r);
    });

    it("answers null for unknown hashes and ids", async () => {
      const r = keyRecord();
      expect(await store.findKeyByHash(r.keyHash)).toBeNull();
      expect(await store.findKeyById(r.id)).toBeNull();
    });

    it("refuses a duplicate hash and keeps the original", async () => {
      const original = keyRecord({ name: "original" });
      await store.insertKey(original);
      await expect(store.insertKey(keyRecord({ keyHash: original.keyHash, name: "intruder" }))).rejects.toBeInstanceOf(DuplicateKeyError);
      expect((await store.findKeyByHash(original.keyHash))?.name).toBe("original");
    });

    it("bulk-inserts keys in order and stops at a duplicate without overwriting it", async () => {
      const existing = keyRecord({ name: "existing" });
      await store.insertKey(existing);
      const batch = [keyRecord({ name: "b1" }), keyRecord({ name: "b2" })];
      await store.insertKeys(batch);
      for (const r of batch) expect((await store.findKeyByHash(r.keyHash))?.name).toBe(r.name);
      const before = keyRecord({ name: "before dup" });
      await expect(store.insertKeys([before, keyRecord({ keyHash: existing.keyHash, name: "intruder" })])).rejects.toBeInstanceOf(DuplicateKeyError);
      expect((await store.findKeyByHash(existing.keyHash))?.name).toBe("existing");
      expect((await store.findKeyByHash(before.keyHash))?.name).toBe("before dup");
    });

    it("treats operator-shaped strings as plain values", async () => {
      const r = keyRecord({ name: '{"$ne": null}', workspace: "acme", metadata: { q: "$where" } });
      await store.insertKey(r);
      expect(await store.findKeyByHash('{"$ne": null}' as never)).toBeNull();
      expect((await store.findKeyById(r.id))?.name).toBe('{"$ne": null}');
    });

    it("updates only the patched fields", async () => {
      const r = keyRecord();
      await store.insertKey(r);
      const updated = await store.updateKey(r.id, { scopes: ["leads:read"], expiresAt: null, updatedAt: at(5) });
      expect(updated).toEqual({ ...r, scopes: ["leads:read"], expiresAt: null, updatedAt: at(5) });
      expect(await store.findKeyById(r.id)).toEqual(updated);
      expect(await store.updateKey("key_000000000000000000000000" as KeyId, { name: "x", updatedAt: at(5) })).toBeNull();
    });

    it("revocation only moves earlier: irreversible and idempotent", async () => {
      const r = keyRecord();
      await store.insertKey(r);
      const graced = await store.revokeKey(r.id, at(10_000), "rotated", at(1));
      expect(graced?.revokedAt).toEqual(at(10_000));
      const now = await store.revokeKey(r.id, at(2), "compromised", at(2));
      expect(now).toMatchObject({ revokedAt: at(2), revokeReason: "compromised", updatedAt: at(2) });
      const again = await store.revokeKey(r.id, at(50), "again", at(50));
      expect(again).toMatchObject({ revokedAt: at(2), revokeReason: "compromised", updatedAt: at(2) });
    });

    it("records usage without moving last_used_at backwards", async () => {
      const a = keyRecord();
      const b = keyRecord();
      await store.insertKey(a);
      await store.insertKey(b);
      await store.recordUsage(new Map([[a.id, at(100)], [b.id, at(50)]]));
      await store.recordUsage(new Map([[a.id, at(20)]]));
      expect((await store.findKeyById(a.id))?.lastUsedAt).toEqual(at(100));
      expect((await store.findKeyById(b.id))?.lastUsedAt).toEqual(at(50));
    });

    it("records usage for hundreds of keys in one flush", async () => {
      const records = Array.from({ length: 250 }, () => keyRecord());
      await store.insertKeys(records);
      const at = new Date(T0.getTime() + 60_000);
      await store.recordUsage(new Map(records.map((r) => [r.id, at])));
      await store.recordUsage(new Map(records.map((r) => [r.id, new Date(at.getTime() + 1000)])));
      for (const r of [records[0]!, records[99]!, records[100]!, records[249]!]) {
        expect((await store.findKeyById(r.id))?.lastUsedAt?.getTime()).toBe(at.getTime() + 1000);
      }
    });

    it("lists newest first, filtered by workspace, paged by cursor without gaps or repeats", async () => {
      const records = Array.from({ length: 7 }, (_, i) => keyRecord({ workspace: "acme", createdAt: at(Math.floor(i / 2)) }));
      await Promise.all(records.map((r) => store.insertKey(r)));
      await store.insertKey(keyRecord({ workspace: "other" }));
      const seen: string[] = [];
      let after = null;
      for (;;) {
        const page = await store.listKeys({ workspace: "acme", status: null, now: at(0), limit: 3, after });
        seen.push(...page.map((r) => r.id));
        const last = page[page.length - 1];
        if (page.length < 3 || !last) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      const expected = [...records].sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1)).map((r) => r.id);
      expect(seen).toEqual(expected);
      expect((await store.listKeys({ workspace: null, status: null, now: at(0), limit: 100, after: null })).length).toBe(8);
    });

    it("filters by status as of the given instant", async () => {
      const now = at(1000);
      const active = keyRecord({ expiresAt: at(2000) });
      const graced = keyRecord({ revokedAt: at(1500) });
      const revoked = keyRecord({ revokedAt: at(500), expiresAt: at(100) });
      const expired = keyRecord({ expiresAt: at(900) });
      await Promise.all([active, graced, revoked, expired].map((r) => store.insertKey(r)));
      const ids = async (status: KeyStatus) => (await store.listKeys({ workspace: "acme", status, now, limit: 10, after: null })).map((r) => r.id).sort();
      expect(await ids("active")).toEqual([active.id, graced.id].sort());
      expect(await ids("revoked")).toEqual([revoked.id]);
      expect(await ids("expired")).toEqual([expired.id]);
    });

    it("finds keys updated since an instant", async () => {
      const old = keyRecord({ updatedAt: at(1) });
      const recent = keyRecord({ updatedAt: at(10) });
      await store.insertKey(old);
      await store.insertKey(recent);
      expect((await store.keysUpdatedSince(at(10))).map((r) => r.id)).toEqual([recent.id]);
    });

    it("appends audit events and lists them per workspace, newest first, by cursor", async () => {
      const target = keyRecord().id;
      const events = [1, 2, 3].map((i) => ({
        id: `evt_${i}`,
        workspace: "acme",
        action: "update" as const,
        actorKeyId: "key_admin",
        targetKeyId: target,
        occurredAt: at(i),
        changes: [{ field: "name", before: `"a${i}"`, after: `"b${i}"` }],
      }));
      for (const e of events) await store.appendAudit(e);
      await store.appendAudit({ ...events[0]!, id: "evt_other", workspace: "other" });
      const first = await store.listAudit({ workspace: "acme", limit: 2, after: null });
      expect(first.map((e) => e.id)).toEqual(["evt_3", "evt_2"]);
      expect(first[0]).toEqual(events[2]);
      const rest = await store.listAudit({ workspace: "acme", limit: 2, after: { createdAt: at(2), id: "evt_2" } });
      expect(rest.map((e) => e.id)).toEqual(["evt_1"]);
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
