import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { newKeyId } from "../../src/admin/key-material.js";
import type { KeyId } from "../../src/domain/types.js";
import { DAY_MS, HOUR_MS, sumCounts, type UsageCounts } from "../../src/domain/usage.js";
import type { KeyStore } from "../../src/store/key-store.js";
import type { PeriodCollection } from "../../src/store/period-collection.js";
import { compactPeriods } from "../../src/store/usage-compaction.js";
import { foldedId, type PeriodKind, toPeriodDoc } from "../../src/store/usage-documents.js";
import {
  call,
  countsOf,
  emptyTally,
  period,
  randomCounts,
  rng,
  type Tally,
  tallyOf,
} from "./usage-fixtures.js";

/** A store, and a handle on the documents it keeps usage in (to stage what a crash leaves behind). */
export interface UsageFixture {
  store: KeyStore;
  periods: PeriodCollection;
  close(): Promise<void>;
}

/** Old on purpose: time is a parameter, never the clock. */
const T0 = Date.UTC(2024, 0, 1);
const RETENTION = { hourlyDays: 35, dailyDays: 400 };
const id = () => newKeyId() as KeyId;
const key = (k: KeyId, h: number) => `${k}|${h}`;

/** The behaviour of appendUsage, readUsage, usageSummaries and compactUsage on every store. */
export function usageStoreContract(name: string, fresh: () => Promise<UsageFixture>) {
  describe(`KeyStore usage contract: ${name}`, () => {
    let f: UsageFixture;
    let store: KeyStore;
    const opened: UsageFixture[] = [];
    beforeEach(async () => {
      f = await fresh();
      store = f.store;
      opened.push(f);
    });
    afterAll(async () => {
      await Promise.all(opened.map((o) => o.close()));
    });

    /** Every hour of `k` in [from, to) read back, against what the test added up. */
    async function expectHours(
      k: KeyId,
      expected: Map<string, Tally>,
      hours: readonly number[],
    ): Promise<void> {
      const read = await store.readUsage(
        k,
        new Date(Math.min(...hours)),
        new Date(Math.max(...hours) + HOUR_MS),
      );
      // Periods never overlap: two for one hour would be a double count, however their sums look.
      expect(new Set(read.map((p) => p.start.getTime())).size).toBe(read.length);
      const got = new Map(read.map((p) => [key(k, p.start.getTime()), tallyOf(p)]));
      for (const h of hours)
        expect(got.get(key(k, h)) ?? emptyTally(), `${k} at ${new Date(h).toISOString()}`).toEqual(
          expected.get(key(k, h)) ?? emptyTally(),
        );
    }

    async function kinds(k: KeyId): Promise<Map<number, PeriodKind[]>> {
      const out = new Map<number, PeriodKind[]>();
      for (const d of await f.periods.find({ keyIds: [k] }))
        out.set(d.start.getTime(), [...(out.get(d.start.getTime()) ?? []), d.kind]);
      return out;
    }

    it("appendUsage then readUsage: exact sums per hour, one key's only, oldest first", async () => {
      const [a, b] = [id(), id()];
      const [h1, h2] = [T0 + 5 * HOUR_MS, T0 + 6 * HOUR_MS];
      const at = (h: number, m: number) => h + m * 60_000;
      await store.appendUsage(
        [
          period(
            a,
            h1,
            countsOf(call(at(h1, 1), "OK", "grpc", ["campaigns:read"], "api.example.com")),
          ),
          period(b, h1, countsOf(call(at(h1, 2), "OK", "grpc", [], null))),
        ],
        randomUUID(),
      );
      await store.appendUsage(
        [
          period(
            a,
            h1,
            countsOf(
              call(at(h1, 9), "SCOPE_MISSING", "connect", ["campaigns:write"], "api.example.com"),
            ),
          ),
          period(a, h2, countsOf(call(at(h2, 3), "OK", "ext_authz", ["campaigns:read"], null))),
        ],
        randomUUID(),
      );
      const read = await store.readUsage(a, new Date(h1), new Date(h2 + HOUR_MS));
      expect(read.map((p) => [p.start.getTime(), p.granularity, p.keyId, p.workspace])).toEqual([
        [h1, "hour", a, "acme"],
        [h2, "hour", a, "acme"],
      ]);
      const first = read[0]!.counts;
      expect(tallyOf(read[0]!)).toEqual({
        allowed: 1,
        denied: 1,
        reasons: { SCOPE_MISSING: 1 },
        sources: { grpc: 1, connect: 1 },
        scopesAllowed: { "campaigns:read": 1 },
      });
      expect({ ...first.scopes["campaigns:write"] }).toEqual({
        allowed: 0,
        denied: 1,
        lastUsedAt: null,
        grantedBy: "",
      });
      expect({ ...first.domains["api.example.com"] }).toEqual({ calls: 2, lastSeenAt: at(h1, 9) });
      expect([first.lastCallAt, first.lastAllowedAt]).toEqual([at(h1, 9), at(h1, 1)]);
      // The range is half-open: an hour starting at `end` is not in it.
      expect(await store.readUsage(a, new Date(h1), new Date(h2))).toHaveLength(1);
    });

    it("a flush sent again under its id adds nothing; another flush with the same counts adds", async () => {
      const k = id();
      const flush = [period(k, T0, countsOf(call(T0 + 1, "OK", "grpc", ["x:y"], null)))];
      const flushId = randomUUID();
      await store.appendUsage(flush, flushId);
      await store.appendUsage(flush, flushId);
      await store.appendUsage(flush, randomUUID());
      expect(
        (await store.readUsage(k, new Date(T0), new Date(T0 + HOUR_MS)))[0]?.counts.allowed,
      ).toBe(2);
    });

    it("4 replicas appending 50 flushes each for the same keys and hours lose and double-count nothing", async () => {
      const keys = [id(), id(), id()];
      const hours = [T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS];
      const expected = new Map<string, Tally>();
      const replica = async (seed: number) => {
        const r = rng(seed);
        for (let i = 0; i < 50; i++) {
          const flush = keys.flatMap((k) =>
            hours
              .filter(() => r() < 0.5)
              .map((h) => {
                const tally = expected.get(key(k, h)) ?? emptyTally();
                expected.set(key(k, h), tally);
                return period(k, h, randomCounts(r, h, 1 + Math.floor(r() * 5), tally));
              }),
          );
          await store.appendUsage(flush, randomUUID());
        }
      };
      await Promise.all([1, 2, 3, 4].map(replica));
      for (const k of keys) await expectHours(k, expected, hours);
    });

    it("3 concurrent compactions while other hours keep being appended keep every total exact, and leave one hour document per closed hour", async () => {
      const keys = [id(), id()];
      const closed = [0, 1, 2, 3].map((i) => T0 + i * HOUR_MS);
      const open = [T0 + 9 * HOUR_MS, T0 + 10 * HOUR_MS];
      const now = new Date(T0 + 10 * HOUR_MS + 30 * 60_000);
      const expected = new Map<string, Tally>();
      const r = rng(7);
      const flushOf = (hours: readonly number[]) =>
        keys.flatMap((k) =>
          hours.map((h) => {
            const tally = expected.get(key(k, h)) ?? emptyTally();
            expected.set(key(k, h), tally);
            return period(k, h, randomCounts(r, h, 3, tally));
          }),
        );
      for (let i = 0; i < 10; i++) await store.appendUsage(flushOf(closed), randomUUID());
      const appending = (async () => {
        for (let i = 0; i < 20; i++) await store.appendUsage(flushOf(open), randomUUID());
      })();
      // One of them reads in batches of 3, so groups are cut at batch ends.
      const compacting = Promise.all([
        store.compactUsage(now, RETENTION),
        store.compactUsage(now, RETENTION),
        compactPeriods(f.periods, now, RETENTION, {
          batch: 3,
          stopAfter: Number.POSITIVE_INFINITY,
        }),
      ]);
      let done = false;
      void compacting.finally(() => (done = true));
      // Readers meanwhile see every closed hour exact: each sum is stored before its parts go.
      do for (const k of keys) await expectHours(k, expected, closed);
      while (!done);
      await Promise.all([compacting, appending]);
      for (const k of keys) {
        await expectHours(k, expected, [...closed, ...open]);
        const stored = await kinds(k);
        for (const h of closed) expect(stored.get(h)).toEqual(["hour"]);
        for (const h of open) expect(stored.get(h)?.every((kind) => kind === "flush")).toBe(true);
      }
    });

    it("a compaction reading in batches that cut an hour's flushes apart folds each hour whole", async () => {
      const keys = [id(), id()];
      const hours = [0, 1, 2, 3].map((i) => T0 + i * HOUR_MS);
      const expected = new Map<string, Tally>();
      const r = rng(5);
      for (let i = 0; i < 4; i++) {
        await store.appendUsage(
          keys.flatMap((k) =>
            hours.map((h) => {
              const tally = expected.get(key(k, h)) ?? emptyTally();
              expected.set(key(k, h), tally);
              return period(k, h, randomCounts(r, h, 2, tally));
            }),
          ),
          randomUUID(),
        );
      }
      const result = await compactPeriods(f.periods, new Date(T0 + DAY_MS), RETENTION, {
        batch: 3,
        stopAfter: Number.POSITIVE_INFINITY,
      });
      expect(result.folded).toBe(4 * keys.length * hours.length);
      for (const k of keys) {
        await expectHours(k, expected, hours);
        expect([...(await kinds(k)).values()]).toEqual(hours.map(() => ["hour"]));
      }
    });

    it("a compaction interrupted between its insert and its delete still reads exact, and the next one finishes it", async () => {
      const k = id();
      const expected = new Map<string, Tally>();
      const r = rng(11);
      const parts: UsageCounts[] = [];
      for (let i = 0; i < 5; i++) {
        const tally = expected.get(key(k, T0)) ?? emptyTally();
        expected.set(key(k, T0), tally);
        parts.push(randomCounts(r, T0, 4, tally));
        await store.appendUsage([period(k, T0, parts[i]!)], randomUUID());
      }
      // What a crash after step 2 leaves: the folded sum beside every flush it was folded from.
      await f.periods.insertNew([
        toPeriodDoc(foldedId(k, "hour", new Date(T0)), "hour", {
          ...period(k, T0, sumCounts(parts, 20)),
        }),
      ]);
      await expectHours(k, expected, [T0]);
      const { folded } = await store.compactUsage(new Date(T0 + 3 * HOUR_MS), RETENTION);
      expect(folded).toBe(5);
      await expectHours(k, expected, [T0]);
      expect((await kinds(k)).get(T0)).toEqual(["hour"]);
    });

    it("prefers a day document over that day's hours, and an hour document over that hour's flushes", async () => {
      const k = id();
      const one = (n: number) => ({
        ...countsOf(...Array.from({ length: n }, (_, i) => call(T0 + i, "OK", "grpc", [], null))),
      });
      const doc = (
        kind: PeriodKind,
        start: number,
        n: number,
        docId = foldedId(k, kind === "day" ? "day" : "hour", new Date(start)),
      ) =>
        toPeriodDoc(kind === "flush" ? randomUUID() : docId, kind, {
          ...period(k, start, one(n)),
          granularity: kind === "day" ? "day" : "hour",
        });
      const day2 = T0 + DAY_MS;
      await f.periods.insertNew([
        doc("day", T0, 100),
        doc("hour", T0 + HOUR_MS, 7),
        doc("flush", T0 + 2 * HOUR_MS, 5),
        doc("hour", day2, 10),
        doc("flush", day2, 3),
        doc("flush", day2 + HOUR_MS, 2),
        doc("flush", day2 + HOUR_MS, 4),
      ]);
      const read = await store.readUsage(k, new Date(T0), new Date(day2 + DAY_MS));
      expect(read.map((p) => [p.start.getTime() - T0, p.granularity, p.counts.allowed])).toEqual([
        [0, "day", 100],
        [DAY_MS, "hour", 10],
        [DAY_MS + HOUR_MS, "hour", 6],
      ]);
      // A day overlapping the range is returned whole; hours before the range are not.
      expect(
        (await store.readUsage(k, new Date(T0 + 5 * HOUR_MS), new Date(day2 + HOUR_MS))).map(
          (p) => p.counts.allowed,
        ),
      ).toEqual([100, 10]);
    });

    it("rolls hours older than hourlyDays into exact days, and removes days older than dailyDays", async () => {
      const k = id();
      const expectedDay = emptyTally();
      const r = rng(3);
      const hoursOfDay = Array.from({ length: 24 }, (_, i) => T0 + i * HOUR_MS);
      for (const h of hoursOfDay)
        await store.appendUsage([period(k, h, randomCounts(r, h, 2, expectedDay))], randomUUID());
      const recent = T0 + 36 * DAY_MS;
      await store.appendUsage(
        [period(k, recent, countsOf(call(recent + 1, "OK", "grpc", [], null)))],
        randomUUID(),
      );
      const now = new Date(recent + 5 * HOUR_MS);
      const first = await store.compactUsage(now, RETENTION);
      expect(first).toEqual({ folded: 24 + 1 + 24, removed: 0 });
      const read = await store.readUsage(k, new Date(T0), new Date(recent + HOUR_MS));
      expect(read.map((p) => [p.start.getTime(), p.granularity])).toEqual([
        [T0, "day"],
        [recent, "hour"],
      ]);
      expect(tallyOf(read[0]!)).toEqual(expectedDay);
      expect([...(await kinds(k)).values()]).toEqual([["day"], ["hour"]]);
      // Idempotent: nothing left to fold.
      expect(await store.compactUsage(now, RETENTION)).toEqual({ folded: 0, removed: 0 });
      expect(await store.compactUsage(new Date(T0 + 437 * DAY_MS), RETENTION)).toEqual({
        folded: 0,
        removed: 2,
      });
      expect(await store.readUsage(k, new Date(T0), new Date(T0 + 437 * DAY_MS))).toEqual([]);
    });

    it("a day rolled up while its hours were still there reads exact, and the next compaction removes them", async () => {
      const k = id();
      const parts = [0, 1, 2].map((i) =>
        countsOf(call(T0 + i * HOUR_MS, "OK", "grpc", ["s"], null)),
      );
      for (const [i, c] of parts.entries())
        await store.appendUsage([period(k, T0 + i * HOUR_MS, c)], randomUUID());
      const now = new Date(T0 + 40 * DAY_MS);
      await compactPeriods(f.periods, now, { hourlyDays: 400, dailyDays: 400 }); // hours folded, not rolled
      await f.periods.insertNew([
        toPeriodDoc(foldedId(k, "day", new Date(T0)), "day", {
          ...period(k, T0, sumCounts(parts)),
          granularity: "day",
        }),
      ]);
      expect(
        (await store.readUsage(k, new Date(T0), new Date(T0 + DAY_MS))).map((p) => [
          p.granularity,
          p.counts.allowed,
        ]),
      ).toEqual([["day", 3]]);
      expect(await store.compactUsage(now, RETENTION)).toEqual({ folded: 3, removed: 0 });
      expect(
        (await store.readUsage(k, new Date(T0), new Date(T0 + DAY_MS))).map((p) => [
          p.granularity,
          p.counts.allowed,
        ]),
      ).toEqual([["day", 3]]);
    });

    it("domains with dots and scopes named like Object properties survive a round trip and a compaction", async () => {
      const k = id();
      const names = ["constructor", "toString", "__proto__", "hasOwnProperty"];
      const calls = names.map((s, i) =>
        call(T0 + i, "OK", "grpc", [s], i % 2 === 0 ? "api.eu.example.com" : "constructor"),
      );
      await store.appendUsage([period(k, T0, countsOf(...calls))], randomUUID());
      const check = async () => {
        const [p] = await store.readUsage(k, new Date(T0), new Date(T0 + HOUR_MS));
        for (const s of names)
          expect(Object.hasOwn(p!.counts.scopes, s) && p!.counts.scopes[s]!.allowed, s).toBe(1);
        expect(Object.keys(p!.counts.domains).sort()).toEqual([
          "api.eu.example.com",
          "constructor",
        ]);
        expect(p!.counts.domains["api.eu.example.com"]?.calls).toBe(2);
      };
      await check();
      await store.compactUsage(new Date(T0 + 3 * HOUR_MS), RETENTION);
      await check();
    });

    it("usageSummaries: last calls as far back as kept, scopes used in the window, denials of the last 24 h", async () => {
      const [busy, idle, deniedOnly, none] = [id(), id(), id(), id()];
      const now = T0 + 100 * DAY_MS + 30 * 60_000;
      const ago = (ms: number) => now - ms;
      const flush = (k: KeyId, at: number, ...calls: ReturnType<typeof call>[]) =>
        store.appendUsage(
          [period(k, Math.floor(at / HOUR_MS) * HOUR_MS, countsOf(...calls))],
          randomUUID(),
        );
      await flush(
        busy,
        ago(40 * DAY_MS),
        call(ago(40 * DAY_MS), "OK", "grpc", ["old:scope"], null),
      );
      await flush(
        busy,
        ago(5 * DAY_MS),
        call(ago(5 * DAY_MS), "OK", "grpc", ["campaigns:read", "constructor"], null),
      );
      await flush(
        busy,
        ago(25 * HOUR_MS),
        call(ago(25 * HOUR_MS), "SCOPE_MISSING", "grpc", ["x:y"], null),
      );
      await flush(
        busy,
        ago(2 * HOUR_MS),
        call(ago(2 * HOUR_MS), "KEY_REVOKED", "grpc", [], null),
        call(ago(2 * HOUR_MS) + 5, "KEY_REVOKED", "connect", [], null),
      );
      await flush(
        busy,
        ago(10 * 60_000),
        call(ago(10 * 60_000), "WORKSPACE_MISMATCH", "grpc", [], null),
      );
      await flush(
        idle,
        ago(60 * DAY_MS),
        call(ago(60 * DAY_MS), "OK", "grpc", ["a:b"], null),
        call(ago(60 * DAY_MS) + 7, "KEY_EXPIRED", "grpc", [], null),
      );
      await flush(idle, ago(60 * DAY_MS), call(ago(60 * DAY_MS) + 3, "OK", "grpc", ["a:b"], null));
      await flush(deniedOnly, ago(50 * DAY_MS), call(ago(50 * DAY_MS), "OK", "grpc", [], null));
      await flush(
        deniedOnly,
        ago(HOUR_MS),
        call(ago(HOUR_MS), "DOMAIN_NOT_ALLOWED", "grpc", [], "evil.example"),
      );
      // The same answers before and after compaction folds and rolls what it can.
      for (const compact of [false, true]) {
        if (compact) await store.compactUsage(new Date(now), RETENTION);
        const got = await store.usageSummaries(
          [busy, idle, deniedOnly, none, busy],
          new Date(now),
          30,
        );
        expect([...got.keys()].sort()).toEqual([busy, idle, deniedOnly].sort());
        expect(got.get(busy)).toEqual({
          lastCallAt: new Date(ago(10 * 60_000)),
          lastAllowedAt: new Date(ago(5 * DAY_MS)),
          scopesUsed: ["campaigns:read", "constructor"],
          deniedByReasonLast24h: expect.objectContaining({ KEY_REVOKED: 2, WORKSPACE_MISMATCH: 1 }),
        });
        expect(Object.keys(got.get(busy)!.deniedByReasonLast24h).sort()).toEqual([
          "KEY_REVOKED",
          "WORKSPACE_MISMATCH",
        ]);
        expect(got.get(idle)).toMatchObject({
          lastCallAt: new Date(ago(60 * DAY_MS) + 7),
          lastAllowedAt: new Date(ago(60 * DAY_MS) + 3),
          scopesUsed: [],
        });
        expect(got.get(deniedOnly)).toMatchObject({
          lastCallAt: new Date(ago(HOUR_MS)),
          lastAllowedAt: new Date(ago(50 * DAY_MS)),
          scopesUsed: [],
        });
        expect({ ...got.get(deniedOnly)!.deniedByReasonLast24h }).toEqual({
          DOMAIN_NOT_ALLOWED: 1,
        });
      }
    });
  });
}
