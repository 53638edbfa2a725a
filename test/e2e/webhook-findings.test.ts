import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { FINDINGS_SCAN_MS } from "../../src/domain/finding-events.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";
import { freePort } from "../support/mongo-provider.js";
import { FAST_WEBHOOKS as FAST, WebhookReceiver } from "../support/webhook-receiver.js";

describe("finding.opened with an injected clock, two replicas", () => {
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  let c: TestServer;
  let d: TestServer;
  let receiver: WebhookReceiver;
  let webhookId = "";

  beforeAll(async () => {
    const env = { ...FAST, MONGODB_DB: uniqueDbName() };
    [c, d] = await Promise.all([
      startTestServer({ env, overrides: { now } }),
      startTestServer({ env, overrides: { now } }),
    ]);
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    const r = await c
      .client(KeyAdminService)
      .createWebhook(
        { workspace: "acme", url: receiver.url, events: ["finding.opened", "key.updated"] },
        bearer(c.rootKey),
      );
    receiver.secret = r.secret;
    webhookId = r.webhook!.id;
  });
  afterAll(async () => {
    await Promise.all([c?.stop(), d?.stop(), receiver?.stop()]);
  });

  /** Moves the clock past the next pass, renames the key, and waits until that tick's events are delivered. */
  async function scanAgain(id: string, name: string): Promise<void> {
    offset += FINDINGS_SCAN_MS + 1000;
    await d
      .client(KeyAdminService)
      .updateKey({ apiKey: { id, name }, updateMask: { paths: ["name"] } }, bearer(d.rootKey));
    // The tick that reads this update's audit event scans the findings after it, then fans both out.
    await waitFor(
      () => receiver.received.some((r) => r.type === "key.updated" && r.body.includes(name)),
      10_000,
      `key.updated (${name})`,
    );
    const pending = async () =>
      (
        await c.client(KeyAdminService).listWebhooks({ workspace: "acme" }, bearer(c.rootKey))
      ).webhooks.find((w) => w.id === webhookId)!.pending;
    await waitFor(async () => (await pending()) === 0n, 10_000, "nothing pending");
  }

  it("a key holding * opens one WILDCARD finding; later scans, and a change of the key, open none", async () => {
    const created = await c.client(KeyAdminService).createKey(
      {
        name: "wild",
        workspace: "acme",
        scopes: ["*"],
        expiresAt: { seconds: BigInt(Math.floor(Date.now() / 1000) + 90 * 86_400) },
      },
      bearer(c.rootKey),
    );
    const id = created.apiKey!.id;
    offset += FINDINGS_SCAN_MS + 1000;
    await waitFor(
      () => receiver.received.some((r) => r.type === "finding.opened"),
      10_000,
      "finding.opened",
    );
    // A changed updated_at moves the WILDCARD finding's `since`: still the same finding.
    await scanAgain(id, "wild-2");
    await scanAgain(id, "wild-3");

    const opened = receiver.received.filter((r) => r.type === "finding.opened");
    expect(opened).toHaveLength(1);
    expect(opened[0]!.id).toMatch(new RegExp(`^finding\\|${id}\\|WILDCARD\\|`));
    expect(opened[0]!.payload.data.key).toMatchObject({ id, workspace: "acme", scopes: ["*"] });
    expect(opened[0]!.payload.data.finding).toMatchObject({
      keyId: id,
      kind: "FINDING_KIND_WILDCARD",
      workspace: "acme",
    });
    expect(receiver.unverified).toEqual([]);
    expect(receiver.duplicates()).toEqual([]);
    expect(opened[0]!.body).not.toContain(created.key);
  });
});
