import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { hashKey } from "../../src/domain/keys.js";
import { bearer, startTestServer, TEST_PEPPER, type TestServer } from "../support/harness.js";

/** Every string anywhere in a document (values and nested values), as the thief would scan it. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === "object" && !(value instanceof Date))
    for (const v of Object.values(value)) strings(v, out);
  return out;
}

describe("a stolen copy of the database grants nothing", () => {
  let server: TestServer;
  const secrets: string[] = [];
  let webhookSecret = "";

  beforeAll(async () => {
    server = await startTestServer({
      env: { WEBHOOK_URL_ALLOWLIST: "https://hooks.example.com/" },
    });
    const admin = server.client(KeyAdminService);
    const root = bearer(server.rootKey);
    secrets.push(server.rootKey);
    webhookSecret = (
      await admin.createWebhook({ workspace: "acme", url: "https://hooks.example.com/k" }, root)
    ).secret;
    for (const scopes of [["leads:read"], ["*"], ["keyward:all"]]) {
      const r = await admin.createKey(
        { name: "victim", workspace: "acme", scopes, metadata: { note: "x" } },
        root,
      );
      secrets.push(r.key);
    }
    const toRotate = await admin.createKey(
      { name: "rotated", workspace: "acme", scopes: ["campaigns:all"] },
      root,
    );
    const rotated = await admin.rotateKey(
      { id: toRotate.apiKey!.id, gracePeriod: durationFromMs(3_600_000) },
      root,
    );
    secrets.push(toRotate.key, rotated.key);
    await admin.updateKey(
      { apiKey: { id: rotated.apiKey!.id, name: "renamed" }, updateMask: { paths: ["name"] } },
      root,
    );
    const authz = server.client(AuthorizeService);
    for (const key of secrets)
      expect(
        (await authz.authorize({ credential: { case: "apiKey", value: key } })).allowed,
        "setup: every key works",
      ).toBe(true);
    await server.app.usage.flush();
  });
  afterAll(async () => server?.stop());

  async function storedStrings(): Promise<{ collections: string[]; stored: string[] }> {
    const client = new MongoClient(server.config.mongodbUri!);
    try {
      const db = client.db(server.config.mongodbDb);
      const collections = (await db.listCollections().toArray()).map((c) => c.name);
      const stored: string[] = [];
      for (const name of collections)
        for (const doc of await db.collection(name).find({}).toArray())
          stored.push(...strings(doc));
      return { collections, stored };
    } finally {
      await client.close();
    }
  }

  it("no stored field is a usable webhook secret: sealed under a key derived from KEY_PEPPER", async () => {
    const { collections, stored } = await storedStrings();
    expect(collections).toContain("webhooks");
    expect(webhookSecret).toMatch(/^whsec_/);
    expect(stored.filter((s) => s.includes("whsec_"))).toEqual([]);
    expect(stored.some((s) => s.includes(webhookSecret.slice("whsec_".length)))).toBe(false);
    expect(
      stored.some((s) => s.startsWith("sealed:v1:")),
      "the sealed secret is there",
    ).toBe(true);
  });

  it("no hex string in any stored document is accepted as key_hash, and no key's hash is stored", async () => {
    const client = new MongoClient(server.config.mongodbUri!);
    try {
      const db = client.db(server.config.mongodbDb);
      const collections = await db.listCollections().toArray();
      expect(collections.map((c) => c.name)).toEqual(
        expect.arrayContaining(["api_keys", "audit_events"]),
      );
      const stored: string[] = [];
      for (const { name } of collections) {
        for (const doc of await db.collection(name).find({}).toArray())
          stored.push(...strings(doc));
      }
      const hexes = [...new Set(stored.flatMap((s) => s.match(/[0-9a-fA-F]{32,}/g) ?? []))];
      // The digests are there (one per key), so the scan is looking at the right data.
      expect(hexes.filter((h) => h.length === 64).length).toBeGreaterThanOrEqual(secrets.length);

      const hashes = secrets.map((k) => hashKey(k as never, TEST_PEPPER));
      for (const h of hashes)
        expect(
          stored.some((s) => s.includes(h)),
          "a key's hash is stored",
        ).toBe(false);
      for (const k of secrets)
        expect(
          stored.some((s) => s.includes(k)),
          "a key is stored",
        ).toBe(false);

      const authz = server.client(AuthorizeService);
      for (const hex of hexes) {
        for (const candidate of [
          hex.toLowerCase(),
          ...(hex.length > 64
            ? [hex.slice(0, 64).toLowerCase(), hex.slice(-64).toLowerCase()]
            : []),
        ]) {
          const res = await authz.authorize({ credential: { case: "keyHash", value: candidate } });
          expect(res.allowed, `stored ${candidate.slice(0, 12)}… authorizes`).toBe(false);
        }
      }
      // ...while the real hashes (which only pepper holders can compute) still work.
      for (const h of hashes)
        expect((await authz.authorize({ credential: { case: "keyHash", value: h } })).allowed).toBe(
          true,
        );
    } finally {
      await client.close();
    }
  });
});
