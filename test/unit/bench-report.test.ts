import { describe, expect, it } from "vitest";
import type { LoadResult } from "../../bench/load.js";
import { type BenchSettings, report } from "../../bench/report.js";

const result = (rps: number, extra: Partial<LoadResult> = {}): LoadResult => ({
  rps,
  p50: 1,
  p99: 2,
  p999: 3,
  ok: rps * 10,
  errors: 0,
  errorKinds: {},
  ...extra,
});
const settings: BenchSettings = {
  duration: 10,
  concurrency: 50,
  rounds: 3,
  rates: [2000],
  manyKeys: 5000,
  database: "ferretdb (/x)",
  ferretScans: true,
  nodeArgs: ["--flag"],
};

describe("the bench report", () => {
  const { rows, summary, markdown } = report(settings, {
    runs: {
      floor: [result(20_000), result(24_000), result(22_000)],
      check: [result(16_000), result(20_000), result(18_000)],
      grpc: [result(12_000), result(15_000), result(14_400)],
      connect: [result(3_000), result(3_100), result(2_900)],
    },
    fixed: [
      {
        rps: 2000,
        floor: result(2000, { p99: 1.2 }),
        authorize: result(2000, { p99: 2.4, ok: 19_900 }),
      },
    ],
    forward: {
      direct: result(30_000),
      nginx: result(5_000),
      direct1k: result(1_000),
      nginx1k: result(1_000),
    },
    cold: result(11),
    lags: [300, 100, 200],
    propagationError: "",
  });

  it("compares medians, target by target, and shows each round's own ratio", () => {
    expect(summary.join("\n")).toContain("Cached Authorize on PORT / floor: **65.5%**"); // 14,400 / 22,000
    expect(summary.join("\n")).toContain("/ keyward's own Health/Check: **80.0%**"); // 14,400 / 18,000
    expect(summary.join("\n")).toContain("Authorize / Check, round by round: 75.0%, 75.0%, 80.0%");
  });

  it("reports what was served at a fixed rate, and the p99 against the floor's", () => {
    expect(rows.find((r) => r.startsWith("| Authorize on PORT at fixed 2,000"))).toContain(
      "| 99.5% |",
    );
    expect(summary.join("\n")).toContain(
      "Authorize p99 **2.40 ms** (target < 3 ms) = **2.0×** the floor's 1.20 ms",
    );
  });

  it("takes the propagation p99 and max from the lags, whatever their order", () => {
    expect(summary.join("\n")).toContain("p99 **300 ms**, max **300 ms**");
    expect(markdown).toContain(
      "database: ferretdb, keyward compiled (node --flag dist/src/main.js",
    );
  });
});
