import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { newWebhookSecret } from "../../src/webhooks/signing.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";
import { freePort } from "../support/mongo-provider.js";
import { FAST_WEBHOOKS as FAST, WebhookReceiver } from "../support/webhook-receiver.js";

describe("webhook secrets at rest: sealed under KEY_PEPPER, an older plain one still works", () => {
  let server: TestServer;
  let mongo: MongoClient;
  let sealed: WebhookReceiver;
  let legacy: WebhookReceiver;

  beforeAll(async () => {
    server = await startTestServer({ env: { ...FAST, MONGODB_DB: uniqueDbName() } });
    mongo = new MongoClient(server.config.mongodbUri!);
    [sealed, legacy] = [
      new WebhookReceiver(await freePort()),
      new WebhookReceiver(await freePort()),
    ];
    await Promise.all([sealed.start(), legacy.start()]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), mongo?.close(), sealed?.stop(), legacy?.stop()]);
  });

  it("the stored document holds no whsec_ string, and deliveries to both verify", async () => {
    const webhooks = mongo.db(server.config.mongodbDb).collection<{ _id: string }>("webhooks");
    const created = await server
      .client(KeyAdminService)
      .createWebhook({ workspace: "acme", url: sealed.url }, bearer(server.rootKey));
    sealed.secret = created.secret;
    const stored = JSON.stringify(await webhooks.findOne({ _id: created.webhook!.id }));
    expect(stored).not.toContain("whsec_");
    expect(stored).not.toContain(created.secret.slice("whsec_".length));
    expect(stored).toContain("sealed:v1:");

    // A webhook as the previous version stored it: the secret in the clear.
    legacy.secret = newWebhookSecret();
    await mongo
      .db(server.config.mongodbDb)
      .collection("webhooks")
      .insertOne({
        _id: "wh_legacy" as never,
        workspace: "acme",
        url: legacy.url,
        events: [],
        secret: legacy.secret,
        created_at: new Date(Date.now() - 60_000),
        last_success_at: null,
        last_failure_at: null,
        last_failure: "",
      });
    await server
      .client(KeyAdminService)
      .createKey(
        { name: "k", workspace: "acme", scopes: ["campaigns:read"] },
        bearer(server.rootKey),
      );
    await waitFor(
      () => sealed.types().includes("key.created") && legacy.types().includes("key.created"),
      10_000,
      "key.created at both receivers",
    );
    expect(sealed.unverified).toEqual([]);
    expect(legacy.unverified).toEqual([]);
  });
});
