import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCounter, HotHistogram } from "../../src/observability/hot-metrics.js";

/** The same observations through prom-client's own metric and the hot one must scrape to the same text. */
describe("hot-path metrics scrape exactly as prom-client's own", () => {
  const buckets = [0.001, 0.01, 0.1];
  const values = [0.0005, 0.001, 0.002, 0.01, 0.05, 0.1, 0.5, 3, 0.0001];

  it("histogram: buckets (le inclusive), +Inf, sum and count", async () => {
    const own = new Registry();
    const hot = new Registry();
    const reference = new Histogram({ name: "h_seconds", help: "h", buckets, registers: [own] });
    const histogram = new HotHistogram("h_seconds", "h", buckets, hot);
    for (const v of values) {
      reference.observe(v);
      histogram.observe(v);
    }
    const text = await hot.metrics();
    expect(text).toBe(await own.metrics());
    expect(text).toContain('h_seconds_bucket{le="0.001"} 3');
    expect(text).toContain("h_seconds_count 9");
    histogram.reset();
    expect(await hot.metrics()).toContain("h_seconds_count 0");
  });

  it("counter: one sample per label set that was counted", async () => {
    const own = new Registry();
    const hot = new Registry();
    const reference = new Counter({
      name: "c_total",
      help: "c",
      labelNames: ["reason", "source"],
      registers: [own],
    });
    const counter = new HotCounter("c_total", "c", ["reason", "source"], hot);
    const ok = counter.labels({ reason: "OK", source: "grpc" });
    counter.labels({ reason: "KEY_REVOKED", source: "grpc" });
    for (let i = 0; i < 3; i++) {
      ok.inc();
      reference.inc({ reason: "OK", source: "grpc" });
    }
    counter.labels({ source: "connect", reason: "OK" }).inc();
    reference.inc({ reason: "OK", source: "connect" });
    expect(counter.labels({ reason: "OK", source: "grpc" })).toBe(ok);
    const text = await hot.metrics();
    expect(text).toBe(await own.metrics());
    expect(text).toContain('c_total{reason="OK",source="grpc"} 3');
    expect(text).not.toContain("KEY_REVOKED");
  });
});
