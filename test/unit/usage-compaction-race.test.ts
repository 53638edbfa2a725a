import { describe, expect, it } from "vitest";
import type { KeyId } from "../../src/domain/types.js";
import { countCall, emptyCounts, HOUR_MS } from "../../src/domain/usage.js";
import { MemoryPeriodCollection } from "../../src/store/memory-usage.js";
import type { PeriodFilter } from "../../src/store/period-collection.js";
import { compactPeriods } from "../../src/store/usage-compaction.js";
import { toPeriodDoc } from "../../src/store/usage-documents.js";

const H = Date.UTC(2026, 9, 14, 10);

/** A collection whose group re-read finds the group gone: another replica folded it in between. */
class RacedCollection extends MemoryPeriodCollection {
  finds = 0;
  override async find(filter: PeriodFilter, options?: { limit?: number }) {
    if (++this.finds === 2)
      await this.deleteIds((await super.find({ kinds: ["flush"] })).map((d) => d._id));
    return super.find(filter, options);
  }
}

describe("compaction beside another compactor", () => {
  it("a group folded and deleted by another replica between two reads is skipped, not crashed on", async () => {
    const col = new RacedCollection();
    const flush = (i: number) => {
      const counts = countCall(
        emptyCounts(),
        {
          at: H + i,
          reason: "OK",
          source: "grpc",
          requiredScopes: [],
          missingScopes: [],
          domain: null,
        },
        () => "",
      );
      return toPeriodDoc(`f${i}`, "flush", {
        keyId: "key_a" as KeyId,
        workspace: "acme",
        start: new Date(H),
        granularity: "hour",
        counts,
      });
    };
    await col.insertNew([flush(1), flush(2), flush(3)]);
    // A batch of 1 cuts the only group, so it is read again whole: that read finds nothing.
    const result = await compactPeriods(
      col,
      new Date(H + 3 * HOUR_MS),
      { hourlyDays: 35, dailyDays: 400 },
      { batch: 1, stopAfter: performance.now() + 5000 },
    );
    expect(result.folded).toBe(0);
    expect(await col.find({ kinds: ["flush", "hour"] })).toEqual([]);
  });
});
