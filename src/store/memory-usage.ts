/** The memory store's PeriodCollection: the documents MongoDB would hold, in a Map (dev mode, one process). */
import type { FindOptions, PeriodCollection, PeriodFilter } from "./period-collection.js";
import type { PeriodDoc } from "./usage-documents.js";

function matches(d: PeriodDoc, f: PeriodFilter): boolean {
  const t = d.start.getTime();
  return (
    (f.keyIds === undefined || f.keyIds.includes(d.key_id)) &&
    (f.kinds === undefined || f.kinds.includes(d.kind)) &&
    (f.from === undefined || t >= f.from.getTime()) &&
    (f.before === undefined || t < f.before.getTime()) &&
    (f.at === undefined || t === f.at.getTime()) &&
    (!f.allowedOnly || d.last_allowed_at !== null)
  );
}

function byKeyThenStart(a: PeriodDoc, b: PeriodDoc): number {
  return a.key_id < b.key_id ? -1 : a.key_id > b.key_id ? 1 : a.start.getTime() - b.start.getTime();
}

/** Copies in and out, as a database would: callers never share a stored document. */
export class MemoryPeriodCollection implements PeriodCollection {
  private readonly docs = new Map<string, PeriodDoc>();

  async insertNew(docs: readonly PeriodDoc[]): Promise<number> {
    let n = 0;
    for (const d of docs) {
      if (this.docs.has(d._id)) continue;
      this.docs.set(d._id, structuredClone(d));
      n++;
    }
    return n;
  }

  async find(filter: PeriodFilter, options: FindOptions = {}): Promise<PeriodDoc[]> {
    const found = [...this.docs.values()].filter((d) => matches(d, filter));
    found.sort(
      options.newestFirst ? (a, b) => b.start.getTime() - a.start.getTime() : byKeyThenStart,
    );
    return found.slice(0, options.limit ?? found.length).map((d) => structuredClone(d));
  }

  async deleteIds(ids: readonly string[]): Promise<number> {
    let n = 0;
    for (const id of ids) if (this.docs.delete(id)) n++;
    return n;
  }

  async deleteBefore(before: Date): Promise<number> {
    let n = 0;
    for (const [id, d] of this.docs) if (d.start < before && this.docs.delete(id)) n++;
    return n;
  }
}
