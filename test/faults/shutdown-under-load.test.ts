import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { bootstrapAdmin } from "../../src/admin/bootstrap.js";
import { loadCatalog } from "../../src/config.js";
import { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import { goTool } from "../support/go-tools.js";
import { TEST_PEPPER, uniqueDbName, waitFor } from "../support/harness.js";
import { spawnKeyward } from "../support/keyward-process.js";
import { freePort } from "../support/mongo-provider.js";
import { ROOT } from "../support/paths.js";

interface GhzDetail {
  timestamp: string;
  latency: number;
  status: string;
  error: string;
}

/** Allowed Authorize calls so far, from the server's own /metrics. */
async function okDecisions(metricsPort: number): Promise<number> {
  // Refused until the metrics listener is up: no calls counted yet.
  const body = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
    (r) => r.text(),
    () => "",
  );
  const line = body
    .split("\n")
    .find((l) => l.startsWith('keyward_authorize_decisions_total{reason="OK",source="grpc"} '));
  return line ? Number(line.split(" ")[1]) : 0;
}

describe("SIGTERM during a ghz run", () => {
  const db = uniqueDbName();
  const store = MongoKeyStore.create({ uri: inject("mongoUri"), dbName: db });
  afterAll(() => store.close());

  it("finishes in-flight calls, fails none before the listener closes, flushes last_used_at and exits 0", async () => {
    const { key, record } = await bootstrapAdmin(
      store,
      { catalog: loadCatalog(join(ROOT, "config/scopes.json")), pepper: TEST_PEPPER, prefix: "kw" },
      { workspace: "acme", name: "load", scopes: ["*"], environment: "live" },
    );
    const metricsPort = await freePort();
    const server = await spawnKeyward({
      env: {
        METRICS_PORT: String(metricsPort),
        MONGODB_URI: inject("mongoUri"),
        MONGODB_DB: db,
        KEY_PEPPER: TEST_PEPPER,
        // Only the shutdown flush can write last_used_at within this test.
        LAST_USED_FLUSH_MS: "600000",
        SHUTDOWN_TIMEOUT_MS: "10000",
      },
    });
    const port = server.port;

    const ghz = spawn(goTool("ghz", "GHZ_BIN"), [
      "--insecure",
      "--call",
      "keyward.v1.AuthorizeService/Authorize",
      "-d",
      JSON.stringify({ api_key: key, required_scopes: ["leads:read"] }),
      "-c",
      "20",
      "--connections",
      "2",
      "-z",
      "5s",
      "-O",
      "json",
      `127.0.0.1:${port}`,
    ]);
    let out = "";
    ghz.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const ghzDone = new Promise<void>((resolve) => ghz.on("close", () => resolve()));

    // SIGTERM once the load is steady: well past the calls the assertions below need before it.
    await waitFor(
      async () => (await okDecisions(metricsPort)) >= 1000,
      4000,
      "1,000 allowed calls under ghz",
    );
    const sigtermAt = Date.now();
    const code = await server.stop();
    await ghzDone;

    expect(code, server.output()).toBe(0);
    const report = JSON.parse(out) as { details: GhzDetail[] };
    const calls = report.details.map((d) => ({
      start: Date.parse(d.timestamp),
      status: d.status,
      error: d.error,
    }));
    const before = calls.filter((c) => c.start < sigtermAt - 50);
    expect(before.length).toBeGreaterThan(100);
    const failedBefore = before.filter((c) => c.status !== "OK");
    expect(failedBefore, "calls started before SIGTERM must all complete").toEqual([]);
    // After the listener closes the only failure a caller may see is UNAVAILABLE (retry elsewhere).
    for (const c of calls.filter((x) => x.status !== "OK"))
      expect(["Unavailable", "Canceled"]).toContain(c.status);

    const stored = await store.findKeyById(record.id);
    expect(stored?.lastUsedAt).toBeInstanceOf(Date);
    expect(stored!.lastUsedAt!.getTime()).toBeGreaterThan(sigtermAt - 5000);
  }, 60_000);
});
