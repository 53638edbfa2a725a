import { Code, ConnectError } from "@connectrpc/connect";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { WebhookDeliveryStatus } from "../../gen/keyward/v1/webhooks_pb.js";
import { HISTORY_RETENTION_MS } from "../../src/webhooks/prune-history.js";
import { runCli } from "../support/cli.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";
import { freePort } from "../support/mongo-provider.js";
import { FAST_WEBHOOKS as FAST, WebhookReceiver } from "../support/webhook-receiver.js";

describe("a webhook's recent events (ListWebhooks id + recent_deliveries, keyward webhooks events) and their pruning", () => {
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  let server: TestServer;
  let receiver: WebhookReceiver;
  let mongo: MongoClient;
  let id = "";
  const recent = async (admin: string = server.rootKey) =>
    (await server.client(KeyAdminService).listWebhooks({ id, recentDeliveries: 10 }, bearer(admin)))
      .webhooks[0]!;
  const createKey = (name: string) =>
    server
      .client(KeyAdminService)
      .createKey({ name, workspace: "acme", scopes: ["campaigns:read"] }, bearer(server.rootKey));

  beforeAll(async () => {
    server = await startTestServer({
      env: { ...FAST, MONGODB_DB: uniqueDbName() },
      overrides: { now },
    });
    mongo = new MongoClient(server.config.mongodbUri!);
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    const r = await server
      .client(KeyAdminService)
      .createWebhook(
        { workspace: "acme", url: receiver.url, events: ["key.created"] },
        bearer(server.rootKey),
      );
    receiver.secret = r.secret;
    id = r.webhook!.id;
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), receiver?.stop(), mongo?.close()]);
  });

  it("shows each event delivered or owed, newest first, with its attempts and last error", async () => {
    await createKey("one");
    await waitFor(async () => (await recent()).recentDeliveries.length === 1, 10_000, "one");
    await waitFor(async () => (await recent()).pending === 0n, 10_000, "delivered");
    receiver.status = 503;
    await createKey("two");
    await waitFor(
      async () => (await recent()).recentDeliveries[0]?.lastError === "HTTP 503",
      10_000,
      "a failed attempt",
    );
    const [owed, delivered] = (await recent()).recentDeliveries;
    expect(owed).toMatchObject({ type: "key.created", status: WebhookDeliveryStatus.PENDING });
    expect(owed!.attempts).toBeGreaterThanOrEqual(1);
    expect(owed!.deliveredAt).toBeUndefined();
    expect(delivered).toMatchObject({
      type: "key.created",
      status: WebhookDeliveryStatus.DELIVERED,
      attempts: 1,
      lastError: "",
    });
    expect(delivered!.deliveredAt).toBeDefined();
    expect(receiver.received[0]!.id).toBe(delivered!.eventId);

    const env = { KEYWARD_URL: server.baseUrl, KEYWARD_ADMIN_KEY: server.rootKey };
    const text = await runCli(["webhooks", "events", id, "--limit", "5"], { env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/EVENT ID +TYPE +CREATED +STATUS/);
    expect(text.stdout).toMatch(/key\.created .*pending .*HTTP 503/);
    expect(text.stdout).toMatch(/key\.created .*delivered/);
    const json = await runCli(["webhooks", "events", id, "--json"], { env });
    expect(JSON.parse(json.stdout).webhooks[0].recentDeliveries).toHaveLength(2);
    const tooMany = await runCli(["webhooks", "events", id, "--limit", "101"], { env });
    expect(tooMany.code).toBe(2);
  });

  it("another workspace's admin gets NOT_FOUND for the id; a bad count is INVALID_ARGUMENT", async () => {
    const other = await server
      .client(KeyAdminService)
      .createKey(
        { name: "other admin", workspace: "other", scopes: ["keyward:read"] },
        bearer(server.rootKey),
      );
    const err = await recent(other.key).catch((e: unknown) => e);
    expect(ConnectError.from(err).code, ConnectError.from(err).rawMessage).toBe(Code.NotFound);
    const bad = await server
      .client(KeyAdminService)
      .listWebhooks({ id, recentDeliveries: 1000 }, bearer(server.rootKey))
      .catch((e: unknown) => e);
    expect(ConnectError.from(bad).code).toBe(Code.InvalidArgument);
    expect(ConnectError.from(bad).rawMessage).toContain("recent_deliveries");
  });

  it(`deliveries, events and attempt claims older than ${HISTORY_RETENTION_MS / 86_400_000} days are pruned`, async () => {
    receiver.status = 204;
    await waitFor(async () => (await recent()).pending === 0n, 15_000, "all delivered");
    const db = mongo.db(server.config.mongodbDb);
    expect(await db.collection("webhook_attempts").countDocuments()).toBeGreaterThanOrEqual(2);
    offset += HISTORY_RETENTION_MS + 3_600_000;
    await waitFor(
      async () => (await recent()).recentDeliveries.length === 0,
      10_000,
      "the deliveries pruned",
    );
    await waitFor(
      async () =>
        (await db.collection("webhook_events").countDocuments({ type: "key.created" })) === 0 &&
        (await db.collection("webhook_attempts").countDocuments()) === 0,
      10_000,
      "the events and claims pruned",
    );
  });
});
