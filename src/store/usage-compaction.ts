/**
 * Folding usage documents, safe on every replica at once. A group (one key's
 * closed hour of flushes, or its old day of hours) is final once closed, so its
 * sum is inserted under an id only that group can have, and only then are its
 * parts deleted: a crash or a second replica at any step neither loses nor
 * double-counts (readers prefer the folded document, resolvePeriods).
 */
import { DAY_MS, dayStart, HOUR_MS, HOURLY_DOMAIN_CAP, sumCounts } from "../domain/usage.js";
import {
  USAGE_HOUR_CLOSES_AFTER_MS,
  type UsageCompaction,
  type UsageRetention,
} from "./key-store.js";
import type { PeriodCollection } from "./period-collection.js";
import { countsOf, foldedId, type PeriodDoc, periodOf, toPeriodDoc } from "./usage-documents.js";

/** Documents read per step: bounds the memory one step holds. */
const BATCH = 2000;
/**
 * A call starts no new step after this long, so it ends well within the store's
 * deadline for background work; a backlog drains over the next calls.
 */
const BUDGET_MS = 20_000;

export interface CompactionLimits {
  batch: number;
  /** performance.now() after which no step starts. */
  stopAfter: number;
}

interface Fold {
  from: "flush" | "hour";
  into: "hour" | "day";
  unit: number;
  domainCap: number;
}

const HOURS: Fold = { from: "flush", into: "hour", unit: HOUR_MS, domainCap: HOURLY_DOMAIN_CAP };
const DAYS: Fold = { from: "hour", into: "day", unit: DAY_MS, domainCap: Number.POSITIVE_INFINITY };

export async function compactPeriods(
  col: PeriodCollection,
  now: Date,
  retention: UsageRetention,
  limits: CompactionLimits = { batch: BATCH, stopAfter: performance.now() + BUDGET_MS },
): Promise<UsageCompaction> {
  const t = now.getTime();
  const removed = await col.deleteBefore(new Date(dayStart(t - retention.dailyDays * DAY_MS)));
  // An hour starting before this is closed: start + the grace ≤ now.
  const hoursClosed = new Date(t - USAGE_HOUR_CLOSES_AFTER_MS + 1);
  // A day is rolled only when it is old enough and every hour of it is closed (folded just above).
  const daysOld = new Date(
    dayStart(t - Math.max(retention.hourlyDays * DAY_MS, USAGE_HOUR_CLOSES_AFTER_MS)),
  );
  const folded =
    (await foldAll(col, HOURS, hoursClosed, limits)) + (await foldAll(col, DAYS, daysOld, limits));
  return { folded, removed };
}

/** Folds every group of `fold.from` documents starting before `before`; returns how many documents were folded. */
async function foldAll(
  col: PeriodCollection,
  fold: Fold,
  before: Date,
  limits: CompactionLimits,
): Promise<number> {
  let folded = 0;
  while (performance.now() < limits.stopAfter) {
    const docs = await col.find({ kinds: [fold.from], before }, { limit: limits.batch });
    if (docs.length === 0) break;
    const groups = await completeGroups(col, fold, before, docs, docs.length === limits.batch);
    // Every sum is stored before any of its parts goes: a crash in between leaves both, and readers take the sum.
    await col.insertNew(groups.map((group) => foldedDoc(fold, group)));
    const parts = groups.flat().map((d) => d._id);
    await col.deleteIds(parts);
    folded += parts.length;
  }
  return folded;
}

function groupStart(doc: PeriodDoc, unit: number): number {
  return Math.floor(doc.start.getTime() / unit) * unit;
}

/**
 * Groups a batch (sorted by key, then start) by key and period. When the batch
 * was cut by its limit, its last group may be incomplete: it waits for the next
 * batch, unless it is the only one, which is then read whole.
 */
async function completeGroups(
  col: PeriodCollection,
  fold: Fold,
  before: Date,
  docs: PeriodDoc[],
  cut: boolean,
): Promise<PeriodDoc[][]> {
  const groups: PeriodDoc[][] = [];
  let last: PeriodDoc | undefined;
  for (const doc of docs) {
    const same =
      last !== undefined &&
      last.key_id === doc.key_id &&
      groupStart(last, fold.unit) === groupStart(doc, fold.unit);
    if (same) groups[groups.length - 1]!.push(doc);
    else groups.push([doc]);
    last = doc;
  }
  if (!cut) return groups;
  const tail = groups.pop()!;
  if (groups.length > 0) return groups;
  const start = groupStart(tail[0]!, fold.unit);
  const end = new Date(Math.min(start + fold.unit, before.getTime()));
  const whole = await col.find({
    keyIds: [tail[0]!.key_id],
    kinds: [fold.from],
    from: new Date(start),
    before: end,
  });
  // Another compactor may have folded and deleted the group meanwhile: nothing left to do.
  return whole.length > 0 ? [whole] : [];
}

/** A taken id means another replica folded the same final set first: its document stands (insertNew skips ours). */
function foldedDoc(fold: Fold, parts: PeriodDoc[]): PeriodDoc {
  const first = parts[0]!;
  const start = new Date(groupStart(first, fold.unit));
  const sum = sumCounts(parts.map(countsOf), fold.domainCap);
  const period = { ...periodOf(first, sum), start, granularity: fold.into };
  return toPeriodDoc(foldedId(first.key_id, fold.into, start), fold.into, period);
}
