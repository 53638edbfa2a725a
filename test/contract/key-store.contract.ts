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

    it("finds an inserted key by digest and by id, with every field intact", async () => {
      const r = keyRecord({
        metadata: { team: "growth" },
        allowedDomains: ["*.example.com"],
        expiresAt: at(1000),
      });
      await store.insertKey(r);
      expect(await store.findKeyByDigest(r.keyDigest)).toEqual(r);
      expect(await store.findKeyById(r.id)).toEqual(r);
    });

    it("answers null for unknown digests and ids", async () => {
      const r = keyRecord();
      expect(await store.findKeyByDigest(r.keyDigest)).toBeNull();
      expect(await store.findKeyById(r.id)).toBeNull();
    });

    it("refuses a duplicate digest and keeps the original", async () => {
      const original = keyRecord({ name: "original" });
      await store.insertKey(original);
      await expect(
        store.insertKey(keyRecord({ keyDigest: original.keyDigest, name: "intruder" })),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      expect((await store.findKeyByDigest(original.keyDigest))?.name).toBe("original");
    });

    it("bulk-inserts keys in order and stops at a duplicate without overwriting it", async () => {
      const existing = keyRecord({ name: "existing" });
      await store.insertKey(existing);
      const batch = [keyRecord({ name: "b1" }), keyRecord({ name: "b2" })];
      await store.insertKeys(batch);
      for (const r of batch) expect((await store.findKeyByDigest(r.keyDigest))?.name).toBe(r.name);
      const before = keyRecord({ name: "before dup" });
      await expect(
        store.insertKeys([before, keyRecord({ keyDigest: existing.keyDigest, name: "intruder" })]),
      ).rejects.toBeInstanceOf(DuplicateKeyError);
      expect((await store.findKeyByDigest(existing.keyDigest))?.name).toBe("existing");
      expect((await store.findKeyByDigest(before.keyDigest))?.name).toBe("before dup");
    });

    it("treats operator-shaped strings as plain values", async () => {
      const r = keyRecord({ name: '{"$ne": null}', workspace: "acme", metadata: { q: "$where" } });
      await store.insertKey(r);
      expect(await store.findKeyByDigest('{"$ne": null}' as never)).toBeNull();
      expect((await store.findKeyById(r.id))?.name).toBe('{"$ne": null}');
    });

    it("updates only the patched fields, and bumps the revision", async () => {
      const r = keyRecord();
      await store.insertKey(r);
      const updated = await store.updateKey(r.id, 0, {
        scopes: ["leads:read"],
        expiresAt: null,
        updatedAt: at(5),
      });
      expect(updated).toEqual({
        ...r,
        scopes: ["leads:read"],
        expiresAt: null,
        updatedAt: at(5),
        revision: 1,
      });
      expect(await store.findKeyById(r.id)).toEqual(updated);
      expect(
        await store.updateKey("key_000000000000000000000000" as KeyId, 0, {
          name: "x",
          updatedAt: at(5),
        }),
      ).toBeNull();
    });

    it("compare-and-set: a write at a stale revision changes nothing", async () => {
      const r = keyRecord();
      await store.insertKey(r);
      const first = await store.updateKey(r.id, 0, {
        revokedAt: at(2),
        revokeReason: "compromised",
        updatedAt: at(2),
      });
      expect(first).toMatchObject({ revokedAt: at(2), revision: 1 });
      expect(
        await store.updateKey(r.id, 0, {
          successorId: "key_111111111111111111111111" as KeyId,
          retiresAt: at(99),
          updatedAt: at(3),
        }),
      ).toBeNull();
      expect(await store.findKeyById(r.id)).toEqual(first);
    });

    it("of concurrent writes at one revision, exactly one lands", async () => {
      const r = keyRecord();
      await store.insertKey(r);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.updateKey(r.id, 0, { name: `writer ${i}`, updatedAt: at(i) }),
        ),
      );
      const landed = results.filter((x) => x !== null);
      expect(landed).toHaveLength(1);
      expect((await store.findKeyById(r.id))?.name).toBe(landed[0]?.name);
    });

    it("discards only a key never changed, and frees its digest", async () => {
      const unused = keyRecord();
      const changed = keyRecord();
      await store.insertKeys([unused, changed]);
      await store.updateKey(changed.id, 0, { name: "changed", updatedAt: at(1) });
      expect(await store.discardKey(unused.id)).toBe(true);
      expect(await store.findKeyById(unused.id)).toBeNull();
      expect(await store.findKeyByDigest(unused.keyDigest)).toBeNull();
      expect(await store.discardKey(unused.id)).toBe(false);
      // A key that has been changed was handed out and may be in use: never removed.
      expect(await store.discardKey(changed.id)).toBe(false);
      expect((await store.findKeyById(changed.id))?.name).toBe("changed");
      await store.insertKey(keyRecord({ keyDigest: unused.keyDigest }));
    });

    it("records usage without moving last_used_at backwards", async () => {
      const a = keyRecord();
      const b = keyRecord();
      await store.insertKey(a);
      await store.insertKey(b);
      await store.recordUsage(
        new Map([
          [a.id, at(100)],
          [b.id, at(50)],
        ]),
      );
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

    it("pages the keys used since an instant, most recently used first, without gaps or repeats", async () => {
      const records = Array.from({ length: 7 }, (_, i) => keyRecord({ name: `k${i}` }));
      await store.insertKeys(records);
      await store.insertKey(keyRecord({ name: "never used" }));
      // k0 used long ago; k1..k6 since; k5 and k6 at one instant (ordered by id then).
      const usedAt = [at(0), at(500), at(600), at(700), at(800), at(900), at(900)];
      await store.recordUsage(new Map(records.map((r, i) => [r.id, usedAt[i]!])));
      await store.updateKey(records[3]!.id, 0, { revokedAt: at(1), updatedAt: at(1) });
      const seen: { name: string; usedAt: number }[] = [];
      let after = null;
      for (let page = 0; page < 10; page++) {
        const { records: got, next } = await store.recentlyUsedKeys({
          since: at(500),
          limit: 2,
          after,
        });
        seen.push(...got.map((r) => ({ name: r.name, usedAt: r.lastUsedAt!.getTime() })));
        if (next === null) break;
        after = next;
      }
      const tied = [records[5]!, records[6]!].sort((a, b) => (a.id < b.id ? 1 : -1));
      expect(seen.map((s) => s.name)).toEqual([...tied.map((r) => r.name), "k4", "k3", "k2", "k1"]);
      expect(seen.map((s) => s.usedAt)).toEqual([900, 900, 800, 700, 600, 500].map(at).map(Number));
      const first = await store.recentlyUsedKeys({ since: at(850), limit: 10, after: null });
      expect(first.records.map((r) => r.id).sort()).toEqual(tied.map((r) => r.id).sort());
      expect(first.next).toBeNull();
      // A revoked key comes as it is stored: the cache answers it the same way.
      const revoked = (await store.recentlyUsedKeys({ since: at(700), limit: 10, after: null }))
        .records;
      expect(revoked.find((r) => r.name === "k3")?.revokedAt).toEqual(at(1));
    });

    it("never loses a change to a usage flush running at the same time", async () => {
      // FerretDB 1.24 writes an updated document back whole: a usage flush that read a key
      // before a revoke landed used to write the un-revoked key back over it.
      const records = Array.from({ length: 150 }, () => keyRecord());
      await store.insertKeys(records);
      let flushing = true;
      // One flusher, as a replica runs them (UsageRecorder): FerretDB 1.24 can deadlock on concurrent bulk writes.
      const flusher = (async () => {
        for (let n = 0; flushing; n++)
          await store.recordUsage(new Map(records.map((r) => [r.id, at(60_000 + n)])));
      })();
      const revoker = async (first: number) => {
        for (let i = first; i < records.length; i += 3) {
          const written = await store.updateKey(records[i]!.id, 0, {
            revokedAt: at(5),
            revokeReason: "race",
            updatedAt: at(5),
          });
          expect(written?.revokedAt).toEqual(at(5));
        }
      };
      await Promise.all([0, 1, 2].map(revoker)).finally(() => (flushing = false));
      await flusher;
      const lost: string[] = [];
      for (const r of records) {
        const stored = await store.findKeyById(r.id);
        if (stored?.revokedAt === null || stored?.revision !== 1) lost.push(r.id);
      }
      expect(lost).toEqual([]);
      expect(
        (await store.findKeyById(records[0]!.id))?.lastUsedAt?.getTime(),
      ).toBeGreaterThanOrEqual(at(60_000).getTime());
    });

    it("lists newest first, filtered by workspace, paged by cursor without gaps or repeats", async () => {
      const records = Array.from({ length: 7 }, (_, i) =>
        keyRecord({ workspace: "acme", createdAt: at(Math.floor(i / 2)) }),
      );
      await Promise.all(records.map((r) => store.insertKey(r)));
      await store.insertKey(keyRecord({ workspace: "other" }));
      const seen: string[] = [];
      let after = null;
      for (;;) {
        const page = await store.listKeys({
          workspace: "acme",
          status: null,
          now: at(0),
          limit: 3,
          after,
        });
        seen.push(...page.map((r) => r.id));
        const last = page[page.length - 1];
        if (page.length < 3 || !last) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      const expected = [...records]
        .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1))
        .map((r) => r.id);
      expect(seen).toEqual(expected);
      expect(
        (
          await store.listKeys({
            workspace: null,
            status: null,
            now: at(0),
            limit: 100,
            after: null,
          })
        ).length,
      ).toBe(8);
    });

    it("filters by status as of the given instant", async () => {
      const now = at(1000);
      const active = keyRecord({ expiresAt: at(2000) });
      const graced = keyRecord({ retiresAt: at(1500) });
      const retired = keyRecord({ retiresAt: at(900) });
      // Revoked is a fact, not a time compared with a clock: even a revoked_at "in the future" is revoked.
      const revoked = keyRecord({ revokedAt: at(5000), expiresAt: at(100) });
      const expired = keyRecord({ expiresAt: at(900) });
      await Promise.all([active, graced, retired, revoked, expired].map((r) => store.insertKey(r)));
      const ids = async (status: KeyStatus) =>
        (await store.listKeys({ workspace: "acme", status, now, limit: 10, after: null }))
          .map((r) => r.id)
          .sort();
      expect(await ids("active")).toEqual([active.id, graced.id].sort());
      expect(await ids("revoked")).toEqual([retired.id, revoked.id].sort());
      expect(await ids("expired")).toEqual([expired.id]);
    });

    it("reports inserts and changes in its own order, not by any field a replica wrote", async () => {
      expect(await store.latestChange()).toBeNull();
      const a = keyRecord({ updatedAt: at(1_000_000) });
      const b = keyRecord({ updatedAt: at(1) });
      await store.insertKey(a);
      await store.insertKey(b);
      const start = await store.latestChange();
      expect(start).not.toBeNull();
      const all = await store.changesSince(new Date(0));
      expect(all.changes.map((c) => c.digest).sort()).toEqual([a.keyDigest, b.keyDigest].sort());
      expect(all.latest).toEqual(start);
      // b's updated_at claims the distant past; its change is still seen after a's.
      // A sleep must stay: MongoDB stamps changes with its own clock ($currentDate, in ms), which a test can
      // neither inject nor read, so real time passes for the change below to fall in a later millisecond.
      await new Promise((r) => setTimeout(r, 5));
      const changed = await store.updateKey(b.id, 0, { name: "changed", updatedAt: at(0) });
      const after = await store.changesSince(new Date(start!.getTime() + 1));
      expect(after.changes).toEqual([{ digest: b.keyDigest, revision: changed!.revision }]);
      expect(after.latest!.getTime()).toBeGreaterThan(start!.getTime());
      expect(await store.latestChange()).toEqual(after.latest);
    });

    it("usage is not a change", async () => {
      const r = keyRecord();
      await store.insertKey(r);
      const mark = await store.latestChange();
      // Real time passes on the database's clock (see above), so a usage write taken for a change would move the mark.
      await new Promise((r) => setTimeout(r, 5));
      await store.recordUsage(new Map([[r.id, at(7)]]));
      expect(await store.latestChange()).toEqual(mark);
      expect((await store.findKeyById(r.id))?.revision).toBe(0);
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
      const rest = await store.listAudit({
        workspace: "acme",
        limit: 2,
        after: { createdAt: at(2), id: "evt_2" },
      });
      expect(rest.map((e) => e.id)).toEqual(["evt_1"]);
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
