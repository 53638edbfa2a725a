import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { bootstrapAdmin } from "../../src/admin/bootstrap.js";
import { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import {
  bearer,
  startTestServer,
  TEST_PEPPER,
  type TestServer,
  testConfig,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";
import { spawnKeyward } from "../support/keyward-process.js";
import { freePort } from "../support/mongo-provider.js";
import { WebhookReceiver } from "../support/webhook-receiver.js";

const ALLOW = "http://127.0.0.1:";
/** The key events: these tests count what arrives, and finding.opened scans are tested apart. */
const KEY_EVENTS = [
  "key.created",
  "key.updated",
  "key.revoked",
  "key.rotated",
  "key.leaked",
  "key.expiring",
];
const FAST = { WEBHOOK_URL_ALLOWLIST: ALLOW, WEBHOOK_POLL_MS: "100", INVALIDATION_POLL_MS: "100" };

/** A scanner key pair and the key list keyward trusts, for a signed leak report. */
const scanner = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const keysFile = join(mkdtempSync(join(tmpdir(), "keyward-webhooks-")), "keys.json");
writeFileSync(
  keysFile,
  JSON.stringify({
    public_keys: [
      {
        key_identifier: "scanner",
        key: scanner.publicKey.export({ type: "spki", format: "pem" }).toString(),
        is_current: true,
      },
    ],
  }),
);

async function reportLeak(server: TestServer, token: string): Promise<void> {
  const body = JSON.stringify([
    {
      token,
      type: "keyward_api_key",
      url: "https://github.com/acme/app/blob/abc/.env",
      source: "content",
    },
  ]);
  const signature = sign("sha256", Buffer.from(body), {
    key: scanner.privateKey,
    dsaEncoding: "der",
  }).toString("base64");
  const res = await fetch(`${server.httpUrl}/v1/leak-reports`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "Github-Public-Key-Identifier": "scanner",
      "Github-Public-Key-Signature": signature,
    },
  });
  expect(res.status).toBe(200);
}

async function newReceiver(): Promise<WebhookReceiver> {
  const receiver = new WebhookReceiver(await freePort());
  await receiver.start();
  return receiver;
}

async function subscribe(
  server: TestServer,
  receiver: WebhookReceiver,
  workspace: string,
  admin = server.rootKey,
): Promise<string> {
  const r = await server
    .client(KeyAdminService)
    .createWebhook({ workspace, url: receiver.url, events: KEY_EVENTS }, bearer(admin));
  expect(r.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  receiver.secret = r.secret;
  return r.webhook!.id;
}

describe("webhooks: every key event, signed, delivered once per webhook by two replicas", () => {
  const db = uniqueDbName();
  let a: TestServer;
  let b: TestServer;
  let acme: WebhookReceiver;
  let all: WebhookReceiver;

  beforeAll(async () => {
    const env = { ...FAST, MONGODB_DB: db, LEAK_REPORT_KEYS_FILE: keysFile };
    [a, b] = await Promise.all([startTestServer({ env }), startTestServer({ env })]);
    [acme, all] = await Promise.all([newReceiver(), newReceiver()]);
    await subscribe(a, acme, "acme");
    await subscribe(b, all, "*");
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), acme?.stop(), all?.stop()]);
  });

  it("a scripted lifecycle: created, updated, rotated, revoked, leaked arrive verified, in reach, each once", async () => {
    const admin = a.client(KeyAdminService);
    const created = await admin.createKey(
      { name: "ci", workspace: "acme", scopes: ["campaigns:read"] },
      bearer(a.rootKey),
    );
    const id = created.apiKey!.id;
    await b
      .client(KeyAdminService)
      .updateKey(
        { apiKey: { id, name: "ci-renamed" }, updateMask: { paths: ["name"] } },
        bearer(b.rootKey),
      );
    const rotated = await admin.rotateKey(
      { id, gracePeriod: { seconds: 3600n } },
      bearer(a.rootKey),
    );
    await admin.revokeKey({ id: rotated.apiKey!.id, reason: "done" }, bearer(a.rootKey));
    await reportLeak(b, created.key);
    await admin.createKey(
      { name: "elsewhere", workspace: "other", scopes: ["campaigns:read"] },
      bearer(a.rootKey),
    );

    const expected = ["key.created", "key.updated", "key.rotated", "key.revoked", "key.leaked"];
    await waitFor(
      () => acme.received.length >= 5 && all.received.length >= 6,
      15_000,
      "every event at both receivers",
    );
    expect(acme.types().sort()).toEqual([...expected].sort());
    expect(all.types().filter((t) => t === "key.created")).toHaveLength(2);
    expect(acme.unverified).toEqual([]);
    expect(acme.duplicates()).toEqual([]);
    expect(all.duplicates()).toEqual([]);
    // One webhook-id per event, the same at every webhook: receivers can de-duplicate.
    for (const r of acme.received)
      expect(all.received.find((x) => x.id === r.id)?.body).toBe(r.body);
    const leaked = acme.received.find((r) => r.type === "key.leaked")!;
    expect(leaked.payload.data.key).toMatchObject({
      id,
      status: "KEY_STATUS_REVOKED",
      workspace: "acme",
    });
    expect(
      acme.received.find((r) => r.type === "key.rotated")!.payload.data.successor,
    ).toMatchObject({ id: rotated.apiKey!.id });
    // Never a secret or a hash.
    for (const r of acme.received) {
      expect(r.body).not.toContain(created.key);
      expect(r.body).not.toContain(rotated.key);
      expect(r.body).not.toMatch(/digest|hash/i);
    }
  });

  it("a receiver down for a while gets every event once it is up, none twice; ListWebhooks shows the state", async () => {
    acme.status = 503;
    const before = acme.received.length;
    const admin = a.client(KeyAdminService);
    for (const name of ["down-1", "down-2", "down-3"])
      await admin.createKey(
        { name, workspace: "acme", scopes: ["campaigns:read"] },
        bearer(a.rootKey),
      );
    const state = async () =>
      (await admin.listWebhooks({ workspace: "acme" }, bearer(a.rootKey))).webhooks[0]!;
    await waitFor(
      async () => (await state()).pending === 3n && (await state()).lastFailure === "HTTP 503",
      10_000,
      "3 pending after HTTP 503",
    );
    acme.status = 204;
    await waitFor(
      async () => acme.received.length === before + 3 && (await state()).pending === 0n,
      15_000,
      "the retries delivered",
    );
    expect(acme.duplicates()).toEqual([]);
    expect((await state()).lastSuccessAt).toBeDefined();
  });

  it("a URL outside WEBHOOK_URL_ALLOWLIST is FAILED_PRECONDITION", async () => {
    const err = await a
      .client(KeyAdminService)
      .createWebhook({ workspace: "acme", url: "http://10.0.0.1/hooks" }, bearer(a.rootKey))
      .catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.FailedPrecondition);
    expect(ConnectError.from(err).rawMessage).toContain("WEBHOOK_URL_ALLOWLIST");
  });

  it("a redirecting receiver is not followed", async () => {
    const target = await newReceiver();
    const redirecting = await newReceiver();
    try {
      redirecting.redirectTo = target.url;
      const id = await subscribe(a, redirecting, "redirects");
      target.secret = redirecting.secret;
      await a
        .client(KeyAdminService)
        .createKey(
          { name: "r", workspace: "redirects", scopes: ["campaigns:read"] },
          bearer(a.rootKey),
        );
      const hook = async () =>
        (
          await a
            .client(KeyAdminService)
            .listWebhooks({ workspace: "redirects" }, bearer(a.rootKey))
        ).webhooks.find((w) => w.id === id)!;
      await waitFor(
        async () => (await hook()).lastFailure.includes("redirect not followed"),
        10_000,
        "the redirect refused",
      );
      expect(target.received).toEqual([]);
    } finally {
      await Promise.all([target.stop(), redirecting.stop()]);
    }
  });
});

describe("webhooks: off unless allowed", () => {
  it("ListWebhooks needs keyward:read, as DESIGN says, not keyward:write", async () => {
    const server = await startTestServer({ store: "memory" });
    try {
      const admin = server.client(KeyAdminService);
      const reader = await admin.createKey(
        { name: "reader", workspace: "acme", scopes: ["keyward:read"] },
        bearer(server.rootKey),
      );
      const listed = await admin.listWebhooks({}, bearer(reader.key));
      expect(listed.webhooks).toEqual([]);
      const err = await admin
        .deleteWebhook({ id: "wh_000000000000000000000000" }, bearer(reader.key))
        .catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.PermissionDenied);
    } finally {
      await server.stop();
    }
  });

  it("CreateWebhook answers FAILED_PRECONDITION 'webhooks are off' without WEBHOOK_URL_ALLOWLIST", async () => {
    const server = await startTestServer({ store: "memory" });
    try {
      const err = await server
        .client(KeyAdminService)
        .createWebhook({ url: "http://127.0.0.1:1/" }, bearer(server.rootKey))
        .catch((e: unknown) => e);
      expect(ConnectError.from(err).code).toBe(Code.FailedPrecondition);
      expect(ConnectError.from(err).rawMessage).toContain("webhooks are off");
    } finally {
      await server.stop();
    }
  });
});

describe("webhooks: key.expiring with an injected clock", () => {
  it("a key expiring within 7 days gives one 7-day warning across two replicas", async () => {
    const day = 24 * 3600_000;
    let offset = 0;
    const now = () => new Date(Date.now() + offset);
    const env = { ...FAST, MONGODB_DB: uniqueDbName() };
    const [c, d] = await Promise.all([
      startTestServer({ env, overrides: { now } }),
      startTestServer({ env, overrides: { now } }),
    ]);
    const receiver = await newReceiver();
    try {
      await subscribe(c, receiver, "acme");
      const admin = c.client(KeyAdminService);
      const key = await admin.createKey(
        {
          name: "expiring",
          workspace: "acme",
          scopes: ["campaigns:read"],
          expiresAt: { seconds: BigInt(Math.floor((Date.now() + 10 * day) / 1000)) },
        },
        bearer(c.rootKey),
      );
      await waitFor(() => receiver.types().includes("key.created"), 10_000, "key.created");
      offset = 4 * day; // now the key expires in 6 days
      await waitFor(() => receiver.types().includes("key.expiring"), 10_000, "key.expiring");
      // A later event arrives only after more ticks of both replicas: none made a second warning.
      await admin.updateKey(
        { apiKey: { id: key.apiKey!.id, name: "still expiring" }, updateMask: { paths: ["name"] } },
        bearer(c.rootKey),
      );
      await waitFor(() => receiver.types().includes("key.updated"), 10_000, "key.updated");
      const warnings = receiver.received.filter((r) => r.type === "key.expiring");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.payload.data).toMatchObject({
        threshold: "7d",
        key: { id: key.apiKey!.id },
      });
      expect(receiver.unverified).toEqual([]);
    } finally {
      await Promise.all([c.stop(), d.stop(), receiver.stop()]);
    }
  });
});

describe("webhooks: keyward killed between a change and its delivery", () => {
  it("delivers after a restart (SIGKILL)", async () => {
    const dbName = uniqueDbName();
    const uri = inject("mongoUri");
    const config = testConfig({ MONGODB_DB: dbName });
    const store = MongoKeyStore.create({ uri, dbName });
    const { key: rootKey } = await bootstrapAdmin(
      store,
      { catalog: config.catalog, pepper: TEST_PEPPER, prefix: config.keyPrefix },
      { workspace: "*", name: "root", scopes: ["keyward:all"], environment: "test" },
    );
    await store.close();
    const env = { ...FAST, MONGODB_URI: uri, MONGODB_DB: dbName, KEY_PEPPER: TEST_PEPPER };
    const receiver = new WebhookReceiver(await freePort()); // not listening yet: every attempt fails
    let proc = await spawnKeyward({ env });
    try {
      const admin = () =>
        createClient(
          KeyAdminService,
          createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.port}` }),
        );
      receiver.secret = (
        await admin().createWebhook(
          { workspace: "acme", url: receiver.url, events: KEY_EVENTS },
          bearer(rootKey),
        )
      ).secret;
      const created = await admin().createKey(
        { name: "survivor", workspace: "acme", scopes: ["campaigns:read"] },
        bearer(rootKey),
      );
      const hook = async () =>
        (await admin().listWebhooks({ workspace: "acme" }, bearer(rootKey))).webhooks[0]!;
      await waitFor(
        async () =>
          (await hook()).pending === 1n &&
          (await hook()).lastFailure.startsWith("connection failed"),
        10_000,
        "the event pending",
      );
      proc.child.kill("SIGKILL");
      await proc.exited;
      await receiver.start();
      proc = await spawnKeyward({ env });
      await waitFor(() => receiver.received.length === 1, 15_000, "delivery after the restart");
      expect(receiver.received[0]!.payload.data.key).toMatchObject({ id: created.apiKey!.id });
    } finally {
      await proc.stop();
      await receiver.stop();
    }
  }, 60_000);
});
