/**
 * What the usage algorithms (usage-periods.ts, usage-compaction.ts) need of a
 * collection of PeriodDocs, so that MongoDB and the memory store share one
 * algorithm and pass one contract; and the rule that reads them.
 */
import {
  DAY_MS,
  HOUR_MS,
  HOURLY_DOMAIN_CAP,
  sumCounts,
  type UsagePeriod,
} from "../domain/usage.js";
import { countsOf, type PeriodDoc, type PeriodKind, periodOf } from "./usage-documents.js";

export interface PeriodFilter {
  keyIds?: readonly string[];
  kinds?: readonly PeriodKind[];
  /** start ≥ from */
  from?: Date;
  /** start < before */
  before?: Date;
  /** start = at */
  at?: Date;
  /** Only documents with an allowed call (last_allowed_at set). */
  allowedOnly?: boolean;
}

export interface FindOptions {
  /** By start, newest first (meant for one key); otherwise by key_id, then start. */
  newestFirst?: boolean;
  limit?: number;
}

export interface PeriodCollection {
  /**
   * Inserts each document whose _id is free and skips the others: an _id names
   * one content (a retried flush, a fold another replica wrote first), so a taken
   * one already holds it. Returns how many were inserted.
   */
  insertNew(docs: readonly PeriodDoc[]): Promise<number>;
  find(filter: PeriodFilter, options?: FindOptions): Promise<PeriodDoc[]>;
  deleteIds(ids: readonly string[]): Promise<number>;
  /** Removes every document, of any kind, starting before `before`. */
  deleteBefore(before: Date): Promise<number>;
}

/**
 * Turns one or more keys' documents into summed, non-overlapping periods, oldest
 * first. A day document stands for its whole day and an hour document for its
 * hour: the documents they were folded from may not be deleted yet, and are
 * ignored. An hour without one is the sum of its flushes, under the domain cap.
 */
export function resolvePeriods(docs: readonly PeriodDoc[]): UsagePeriod[] {
  const days = new Set<string>();
  const hours = new Set<string>();
  for (const d of docs) {
    if (d.kind === "day") days.add(`${d.key_id}|${d.start.getTime()}`);
    if (d.kind === "hour") hours.add(`${d.key_id}|${d.start.getTime()}`);
  }
  const dayOf = (d: PeriodDoc) => `${d.key_id}|${Math.floor(d.start.getTime() / DAY_MS) * DAY_MS}`;
  const hourOf = (d: PeriodDoc) =>
    `${d.key_id}|${Math.floor(d.start.getTime() / HOUR_MS) * HOUR_MS}`;
  const periods: UsagePeriod[] = [];
  const flushes = new Map<string, PeriodDoc[]>();
  for (const d of docs) {
    if (d.kind === "day") periods.push(periodOf(d));
    else if (days.has(dayOf(d))) continue;
    else if (d.kind === "hour") periods.push(periodOf(d));
    else if (!hours.has(hourOf(d))) {
      const parts = flushes.get(hourOf(d));
      if (parts === undefined) flushes.set(hourOf(d), [d]);
      else parts.push(d);
    }
  }
  for (const parts of flushes.values()) {
    periods.push(periodOf(parts[0]!, sumCounts(parts.map(countsOf), HOURLY_DOMAIN_CAP)));
  }
  return periods.sort((a, b) =>
    a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.start.getTime() - b.start.getTime(),
  );
}
