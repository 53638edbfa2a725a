/**
 * The usage half of KeyStore (appendUsage, readUsage, usageSummaries,
 * compactUsage) over any PeriodCollection: MongoDB and the memory store run this
 * one algorithm, so one contract proves both.
 */
import { createHash } from "node:crypto";
import type { KeyUsageSummary } from "../domain/findings.js";
import type { KeyId } from "../domain/types.js";
import {
  DAY_MS,
  type Dict,
  dayStart,
  dict,
  HOUR_MS,
  hourStart,
  sumCounts,
  type UsagePeriod,
} from "../domain/usage.js";
import type { UsageCompaction, UsageRetention } from "./key-store.js";
import { type PeriodCollection, resolvePeriods } from "./period-collection.js";
import { compactPeriods } from "./usage-compaction.js";
import { countsOf, type PeriodDoc, toPeriodDoc } from "./usage-documents.js";

/** Documents per insert: one flush may carry every active key. */
const INSERT_BATCH = 1000;

function flushDocId(flushId: string, keyId: string, start: Date): string {
  return createHash("sha256")
    .update(`${flushId}|${keyId}|${start.toISOString()}`)
    .digest("base64url")
    .slice(0, 22);
}

const periodEnd = (p: UsagePeriod): number =>
  p.start.getTime() + (p.granularity === "day" ? DAY_MS : HOUR_MS);

export class UsagePeriods {
  constructor(private readonly col: PeriodCollection) {}

  /** Ids derive from (flushId, key, hour): the same flush sent again (after a timeout that hid a success) adds nothing. */
  async append(flush: readonly UsagePeriod[], flushId: string): Promise<void> {
    const byKeyHour = new Map<string, PeriodDoc>();
    for (const p of flush) {
      if (p.counts.allowed + p.counts.denied === 0) continue;
      const start = new Date(hourStart(p.start.getTime()));
      const id = flushDocId(flushId, p.keyId, start);
      const twice = byKeyHour.get(id);
      const counts = twice === undefined ? p.counts : sumCounts([countsOf(twice), p.counts]);
      byKeyHour.set(id, toPeriodDoc(id, "flush", { ...p, start, counts }));
    }
    const docs = [...byKeyHour.values()];
    for (let i = 0; i < docs.length; i += INSERT_BATCH)
      await this.col.insertNew(docs.slice(i, i + INSERT_BATCH));
  }

  async read(keyId: KeyId, start: Date, end: Date): Promise<UsagePeriod[]> {
    // A day document starts up to a day before the range and may still overlap it.
    const docs = await this.col.find({
      keyIds: [keyId],
      from: new Date(dayStart(start.getTime())),
      before: end,
    });
    return resolvePeriods(docs).filter((p) =>
      p.granularity === "day" ? periodEnd(p) > start.getTime() : p.start >= start,
    );
  }

  async summaries(
    keyIds: readonly KeyId[],
    now: Date,
    unusedDays: number,
  ): Promise<Map<KeyId, KeyUsageSummary>> {
    const t = now.getTime();
    const windowStart = t - unusedDays * DAY_MS;
    const deniedFrom = hourStart(t - DAY_MS);
    const from = new Date(dayStart(Math.min(windowStart, deniedFrom)));
    const recent = resolvePeriods(await this.col.find({ keyIds, from }));
    const byKey = new Map<KeyId, UsagePeriod[]>();
    for (const p of recent) {
      const periods = byKey.get(p.keyId);
      if (periods === undefined) byKey.set(p.keyId, [p]);
      else periods.push(p);
    }
    const out = new Map<KeyId, KeyUsageSummary>();
    for (const id of new Set(keyIds)) {
      const periods = byKey.get(id) ?? [];
      const lastCallAt =
        latest(periods, "lastCallAt") ?? (await this.latestBefore(id, from, false));
      if (lastCallAt === null) continue;
      out.set(id, {
        lastCallAt,
        lastAllowedAt:
          latest(periods, "lastAllowedAt") ?? (await this.latestBefore(id, from, true)),
        scopesUsed: scopesUsed(periods.filter((p) => periodEnd(p) > windowStart)),
        deniedByReasonLast24h: deniedByReason(
          periods.filter((p) => p.granularity === "hour" && p.start.getTime() >= deniedFrom),
        ),
      });
    }
    return out;
  }

  /**
   * A key idle over the window: its last (allowed) call is in the newest older
   * document that has one. Folded documents only cover their parts, so the
   * maximum needs no resolving; several flushes may share that start.
   */
  private async latestBefore(
    keyId: KeyId,
    before: Date,
    allowedOnly: boolean,
  ): Promise<Date | null> {
    const [newest] = await this.col.find(
      { keyIds: [keyId], before, allowedOnly },
      { newestFirst: true, limit: 1 },
    );
    if (newest === undefined) return null;
    const field: keyof PeriodDoc = allowedOnly ? "last_allowed_at" : "last_call_at";
    let max: Date | null = null;
    for (const d of await this.col.find({ keyIds: [keyId], at: newest.start })) {
      const at = d[field] as Date | null;
      if (at && (max === null || at > max)) max = at;
    }
    return max;
  }

  compact(now: Date, retention: UsageRetention): Promise<UsageCompaction> {
    return compactPeriods(this.col, now, retention);
  }
}

function latest(
  periods: readonly UsagePeriod[],
  field: "lastCallAt" | "lastAllowedAt",
): Date | null {
  let max: number | null = null;
  for (const p of periods) {
    const at = p.counts[field];
    if (at !== null && (max === null || at > max)) max = at;
  }
  return max === null ? null : new Date(max);
}

function scopesUsed(periods: readonly UsagePeriod[]): string[] {
  const used = new Set<string>();
  for (const p of periods)
    for (const [scope, s] of Object.entries(p.counts.scopes)) if (s.allowed > 0) used.add(scope);
  return [...used].sort();
}

function deniedByReason(periods: readonly UsagePeriod[]): Dict<number> {
  const denied = dict<number>();
  for (const p of periods)
    for (const [reason, n] of Object.entries(p.counts.deniedByReason))
      denied[reason] = (denied[reason] ?? 0) + n;
  return denied;
}
