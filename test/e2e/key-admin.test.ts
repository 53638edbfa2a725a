import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { AuditAction, KeyAdminService, KeyStatus } from "../../gen/keyward/v1/key_admin_pb.js";
import { digestOfHash, hashKey } from "../../src/domain/keys.js";
import type { KeyHash } from "../../src/domain/types.js";
import { runCli } from "../support/cli.js";
import {
  bearer,
  startTestServer,
  TEST_PEPPER,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";
import { legacyKey, seedKeyDocuments } from "../support/legacy-keys.js";

async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => expect.unreachable("expected the call to fail"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

describe("KeyAdmin over gRPC against MongoDB", () => {
  let server: TestServer;
  let admin: Client<typeof KeyAdminService>;
  let authz: Client<typeof AuthorizeService>;
  let clockOffsetMs = 0;
  const root = () => bearer(server.rootKey);
  const allowed = async (key: string, requiredScopes: string[] = []) =>
    (await authz.authorize({ credential: { case: "apiKey", value: key }, requiredScopes })).allowed;

  beforeAll(async () => {
    server = await startTestServer({
      env: { LAST_USED_FLUSH_MS: "50" },
      overrides: { now: () => new Date(Date.now() + clockOffsetMs) },
    });
    admin = server.client(KeyAdminService);
    authz = server.client(AuthorizeService);
  });
  afterAll(async () => server?.stop());

  it("creates a key shown once, with a record that has every field but the secret", async () => {
    const res = await admin.createKey(
      {
        name: "acme prod",
        workspace: "acme",
        scopes: ["campaigns:read"],
        allowedDomains: ["App.Example.com."],
        metadata: { team: "growth" },
      },
      root(),
    );
    const r = res.apiKey!;
    expect(res.key).toMatch(/^kw_live_[0-9A-Za-z]{49}$/);
    expect(r).toMatchObject({
      name: "acme prod",
      workspace: "acme",
      scopes: ["campaigns:read"],
      allowedDomains: ["app.example.com"],
      status: KeyStatus.ACTIVE,
      metadata: { team: "growth" },
    });
    expect(r.keyPreview).toBe(`${res.key.slice(0, 8)}…${res.key.slice(-4)}`);
    expect(r.id).toMatch(/^key_[0-9a-f]{24}$/);
    expect(r.createdAt).toBeDefined();
    const got = (await admin.getKey({ id: r.id }, root())).apiKey!;
    expect(got).toEqual(r);
  });

  it("update, rotate and revoke take effect on the next Authorize", async () => {
    const { key, apiKey } = await admin.createKey(
      { name: "life", workspace: "acme", scopes: ["campaigns:read"] },
      root(),
    );
    const id = apiKey!.id;
    expect(await allowed(key, ["leads:read"])).toBe(false);

    const updated = await admin.updateKey(
      {
        apiKey: { id, scopes: ["leads:read"], name: "ignored" },
        updateMask: { paths: ["scopes"] },
      },
      root(),
    );
    expect(updated.apiKey).toMatchObject({ scopes: ["leads:read"], name: "life" });
    expect(await allowed(key, ["leads:read"])).toBe(true);
    expect(await allowed(key, ["campaigns:read"])).toBe(false);

    const rotated = await admin.rotateKey({ id, gracePeriod: durationFromMs(60_000) }, root());
    expect(rotated.key).not.toBe(key);
    expect(rotated.apiKey).toMatchObject({
      scopes: ["leads:read"],
      name: "life",
      workspace: "acme",
      status: KeyStatus.ACTIVE,
    });
    expect(rotated.previousApiKey?.revokeReason).toBe(`rotated to ${rotated.apiKey!.id}`);
    expect(await allowed(key, ["leads:read"])).toBe(true);
    expect(await allowed(rotated.key, ["leads:read"])).toBe(true);
    clockOffsetMs = 61_000;
    try {
      const old = await authz.authorize({ credential: { case: "apiKey", value: key } });
      expect(Reason[old.reason]).toBe("KEY_REVOKED");
      expect(await allowed(rotated.key, ["leads:read"])).toBe(true);
      expect((await admin.getKey({ id }, root())).apiKey?.status).toBe(KeyStatus.REVOKED);
    } finally {
      clockOffsetMs = 0;
    }

    const revoked = await admin.revokeKey({ id: rotated.apiKey!.id, reason: "offboarded" }, root());
    expect(revoked.apiKey).toMatchObject({ status: KeyStatus.REVOKED, revokeReason: "offboarded" });
    expect(await allowed(rotated.key)).toBe(false);
    const again = await admin.revokeKey({ id: rotated.apiKey!.id, reason: "again" }, root());
    const { revokedAt, revokeReason, updatedAt, status } = revoked.apiKey!;
    expect(again.apiKey).toMatchObject({ revokedAt, revokeReason, updatedAt, status });
  });

  it("rotation with a zero grace period refuses the old key at once; grace over 30 days is invalid", async () => {
    const { key, apiKey } = await admin.createKey(
      { name: "r", workspace: "acme", scopes: ["leads:read"] },
      root(),
    );
    await admin.rotateKey({ id: apiKey!.id, gracePeriod: durationFromMs(0) }, root());
    expect(await allowed(key)).toBe(false);
    const other = await admin.createKey(
      { name: "r2", workspace: "acme", scopes: ["leads:read"] },
      root(),
    );
    const err = await rpcError(
      admin.rotateKey(
        { id: other.apiKey!.id, gracePeriod: durationFromMs(31 * 24 * 3600_000) },
        root(),
      ),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("grace_period");
  });

  it("records last_used_at in batches after use", async () => {
    const { key, apiKey } = await admin.createKey(
      { name: "used", workspace: "acme", scopes: ["leads:read"] },
      root(),
    );
    expect(apiKey!.lastUsedAt).toBeUndefined();
    await allowed(key);
    await waitFor(
      async () => (await admin.getKey({ id: apiKey!.id }, root())).apiKey?.lastUsedAt !== undefined,
      5000,
      "last_used_at",
    );
  });

  it("pages through 250 keys newest first with no duplicates or gaps, and filters by status", async () => {
    const created: string[] = [];
    for (let i = 0; i < 250; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, (_, j) =>
          admin.createKey(
            { name: `bulk ${i + j}`, workspace: "paging", scopes: ["leads:read"] },
            root(),
          ),
        ),
      );
      created.push(...batch.map((b) => b.apiKey!.id));
    }
    await admin.revokeKey({ id: created[0]! }, root());
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await admin.listKeys({ workspace: "paging", pageSize: 40, pageToken }, root());
      seen.push(...res.keys.map((k) => k.id));
      pageToken = res.nextPageToken;
      pages++;
    } while (pageToken !== "");
    expect(pages).toBe(7);
    expect(new Set(seen).size).toBe(250);
    expect([...seen].sort()).toEqual([...created].sort());
    const times = [];
    for (let t = "", first = true; first || t !== ""; first = false) {
      const res = await admin.listKeys(
        { workspace: "paging", pageSize: 1000, pageToken: t },
        root(),
      );
      times.push(
        ...res.keys.map((k) => Number(k.createdAt!.seconds) * 1000 + k.createdAt!.nanos / 1e6),
      );
      t = res.nextPageToken;
    }
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const revoked = await admin.listKeys(
      { workspace: "paging", status: KeyStatus.REVOKED },
      root(),
    );
    expect(revoked.keys.map((k) => k.id)).toEqual([created[0]]);
    const active = await admin.listKeys(
      { workspace: "paging", status: KeyStatus.ACTIVE, pageSize: 1000 },
      root(),
    );
    expect(active.keys).toHaveLength(249);
  });

  it("no serialized response carries the hash, and only Create/Rotate carry the secret", async () => {
    const created = await admin.createKey(
      { name: "bytes", workspace: "acme", scopes: ["leads:read"] },
      root(),
    );
    const id = created.apiKey!.id;
    const secrets = [created.key];
    const check = <D extends DescMessage>(
      schema: D,
      msg: MessageShape<D>,
      allowedSecret?: string,
    ) => {
      const bytes = Buffer.from(toBinary(schema, msg)).toString("latin1");
      for (const s of secrets) {
        const count = bytes.split(s).length - 1;
        expect(count, `${schema.typeName} carries a secret`).toBe(s === allowedSecret ? 1 : 0);
        expect(bytes, `${schema.typeName} carries a hash`).not.toContain(
          hashKey(s as never, TEST_PEPPER),
        );
        expect(bytes, `${schema.typeName} carries a hash`).not.toContain(
          Buffer.from(hashKey(s as never, TEST_PEPPER), "hex").toString("latin1"),
        );
      }
    };
    const m = KeyAdminService.method;
    check(m.createKey.output, created, created.key);
    check(m.getKey.output, await admin.getKey({ id }, root()));
    check(m.listKeys.output, await admin.listKeys({ workspace: "acme", pageSize: 1000 }, root()));
    check(
      m.updateKey.output,
      await admin.updateKey(
        { apiKey: { id, name: "bytes 2" }, updateMask: { paths: ["name"] } },
        root(),
      ),
    );
    check(m.listScopes.output, await admin.listScopes({}, root()));
    const rotated = await admin.rotateKey({ id }, root());
    secrets.push(rotated.key);
    check(m.rotateKey.output, rotated, rotated.key);
    check(m.revokeKey.output, await admin.revokeKey({ id: rotated.apiKey!.id }, root()));
    check(
      m.listAuditEvents.output,
      await admin.listAuditEvents({ workspace: "acme", pageSize: 1000 }, root()),
    );
    check(
      AuthorizeService.method.authorize.output,
      await authz.authorize({ credential: { case: "apiKey", value: created.key } }),
    );
  });

  it("audits every mutation with actor, target and changes", async () => {
    const wsAdmin = await admin.createKey(
      { name: "ws admin", workspace: "audited", scopes: ["keyward:read", "keyward:write"] },
      root(),
    );
    const as = bearer(wsAdmin.key);
    const { apiKey } = await admin.createKey({ name: "a", scopes: ["leads:read"] }, as);
    const id = apiKey!.id;
    await admin.updateKey({ apiKey: { id, name: "b" }, updateMask: { paths: ["name"] } }, as);
    const rotated = await admin.rotateKey({ id }, as);
    await admin.revokeKey({ id: rotated.apiKey!.id, reason: "done" }, as);
    const { events } = await admin.listAuditEvents({}, as);
    const mine = events.filter((e) => e.actorKeyId === wsAdmin.apiKey!.id);
    expect(mine.map((e) => AuditAction[e.action])).toEqual([
      "REVOKE",
      "ROTATE",
      "UPDATE",
      "CREATE",
    ]);
    expect(mine.map((e) => e.targetKeyId)).toEqual([rotated.apiKey!.id, id, id, id]);
    expect(mine[2]!.changes).toMatchObject([{ field: "name", before: '"a"', after: '"b"' }]);
    expect(events.every((e) => e.workspace === "audited")).toBe(true);
  });

  describe("admin authentication", () => {
    it("UNAUTHENTICATED without a credential, with a bad one, or with a revoked one", async () => {
      expect((await rpcError(admin.listScopes({}))).code).toBe(Code.Unauthenticated);
      expect((await rpcError(admin.listScopes({}, bearer("kw_live_garbage")))).code).toBe(
        Code.Unauthenticated,
      );
      expect(
        (await rpcError(admin.listScopes({}, { headers: { authorization: "Basic abc" } }))).code,
      ).toBe(Code.Unauthenticated);
      const a = await admin.createKey(
        { name: "soon revoked", workspace: "acme", scopes: ["keyward:read"] },
        root(),
      );
      await admin.revokeKey({ id: a.apiKey!.id }, root());
      expect((await rpcError(admin.listScopes({}, bearer(a.key)))).code).toBe(Code.Unauthenticated);
    });

    it("PERMISSION_DENIED for a key without the admin scope the method needs", async () => {
      const plain = await admin.createKey(
        { name: "plain", workspace: "acme", scopes: ["campaigns:all"] },
        root(),
      );
      expect((await rpcError(admin.listScopes({}, bearer(plain.key)))).code).toBe(
        Code.PermissionDenied,
      );
      const reader = await admin.createKey(
        { name: "reader", workspace: "acme", scopes: ["keyward:read"] },
        root(),
      );
      expect((await admin.listScopes({}, bearer(reader.key))).scopes.length).toBeGreaterThan(0);
      const err = await rpcError(
        admin.createKey({ name: "x", scopes: ["leads:read"] }, bearer(reader.key)),
      );
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toContain("keyward:write");
    });

    it("an admin of workspace A cannot see or touch workspace B; NOT_FOUND does not leak existence", async () => {
      const a = await admin.createKey(
        { name: "A admin", workspace: "ws-a", scopes: ["keyward:read", "keyward:write"] },
        root(),
      );
      const bKey = await admin.createKey(
        { name: "B key", workspace: "ws-b", scopes: ["leads:read"] },
        root(),
      );
      const as = bearer(a.key);
      const id = bKey.apiKey!.id;
      const missing = "key_000000000000000000000000";
      for (const call of [
        (i: string) => admin.getKey({ id: i }, as),
        (i: string) => admin.revokeKey({ id: i }, as),
        (i: string) => admin.rotateKey({ id: i }, as),
        (i: string) =>
          admin.updateKey({ apiKey: { id: i, name: "x" }, updateMask: { paths: ["name"] } }, as),
      ]) {
        const other = await rpcError(call(id));
        const absent = await rpcError(call(missing));
        expect(other.code).toBe(Code.NotFound);
        expect(absent.code).toBe(Code.NotFound);
        expect(other.rawMessage.replace(id, "ID")).toBe(absent.rawMessage.replace(missing, "ID"));
      }
      expect(await allowed(bKey.key)).toBe(true);
      expect((await rpcError(admin.listKeys({ workspace: "ws-b" }, as))).code).toBe(
        Code.PermissionDenied,
      );
      expect(
        (
          await rpcError(
            admin.createKey({ name: "x", workspace: "ws-b", scopes: ["leads:read"] }, as),
          )
        ).code,
      ).toBe(Code.PermissionDenied);
      expect((await rpcError(admin.listAuditEvents({ workspace: "ws-b" }, as))).code).toBe(
        Code.PermissionDenied,
      );
      expect((await admin.listKeys({}, as)).keys.every((k) => k.workspace === "ws-a")).toBe(true);
      const escalate = await rpcError(
        admin.createKey({ name: "root?", workspace: "*", scopes: ["keyward:read"] }, as),
      );
      expect(escalate.code).toBe(Code.PermissionDenied);
    });
  });

  describe("RevokeKey on a key already revoked checks authority first", () => {
    it("out of reach: NOT_FOUND; without keyward:write or amplifying: PERMISSION_DENIED; no record in any answer", async () => {
      const writer = await admin.createKey(
        { name: "R writer", workspace: "ws-r", scopes: ["keyward:read", "keyward:write"] },
        root(),
      );
      const reader = await admin.createKey(
        { name: "R reader", workspace: "ws-r", scopes: ["keyward:read"] },
        root(),
      );
      const strongerAdmin = await admin.createKey(
        { name: "R all", workspace: "ws-r", scopes: ["keyward:all"] },
        root(),
      );
      const product = await admin.createKey(
        { name: "R product", workspace: "ws-r", scopes: ["leads:read"] },
        root(),
      );
      const elsewhere = await admin.createKey(
        { name: "S product", workspace: "ws-s", scopes: ["leads:read"] },
        root(),
      );
      for (const k of [strongerAdmin, product, elsewhere])
        await admin.revokeKey({ id: k.apiKey!.id, reason: "gone" }, root());

      const revokeAs = (who: { key: string }, target: { apiKey?: { id: string } }) =>
        admin.revokeKey({ id: target.apiKey!.id }, bearer(who.key));
      const otherWs = await rpcError(revokeAs(writer, elsewhere));
      expect(otherWs.code).toBe(Code.NotFound);
      expect(otherWs.rawMessage).not.toContain("gone");
      expect((await rpcError(revokeAs(reader, product))).code).toBe(Code.PermissionDenied);
      const amplified = await rpcError(revokeAs(writer, strongerAdmin));
      expect(amplified.code).toBe(Code.PermissionDenied);
      expect(amplified.rawMessage).toContain("keyward:all");
      // Within its authority, the repeat is answered with the record, as before.
      expect((await revokeAs(writer, product)).apiKey).toMatchObject({
        status: KeyStatus.REVOKED,
        revokeReason: "gone",
      });
    });
  });

  describe("validation: INVALID_ARGUMENT naming the field", () => {
    const past = timestampFromDate(new Date(Date.now() - 60_000));
    it.each([
      ["empty name", { name: "" }, "name"],
      ["over-long name", { name: "n".repeat(201) }, "name"],
      ["malformed scope", { scopes: ["Campaigns:Read", "campaigns:read"] }, "Campaigns:Read"],
      [
        "unknown scopes, all listed",
        { scopes: ["campaigns:export", "invoices:read"] },
        "campaigns:export, invoices:read",
      ],
      ["no scopes", { scopes: [] }, "scopes"],
      ["too many scopes", { scopes: Array.from({ length: 101 }, () => "leads:read") }, "scopes"],
      ["malformed domain", { allowedDomains: ["https://example.com"] }, "allowed_domains"],
      [
        "too many domains",
        { allowedDomains: Array.from({ length: 51 }, (_, i) => `d${i}.example.com`) },
        "allowed_domains",
      ],
      ["expires_at in the past", { expiresAt: past }, "expires_at"],
      [
        "expires_at after 9999-12-31",
        { expiresAt: { seconds: 253_402_300_800n, nanos: 0 } },
        "expires_at: must be a timestamp from 0001",
      ],
      [
        "expires_at before 0001-01-01",
        { expiresAt: { seconds: -62_135_596_801n, nanos: 0 } },
        "expires_at: must be a timestamp from 0001",
      ],
      ["bad workspace", { workspace: "$where" }, "workspace"],
      [
        "a scope of the reserved keyward resource it does not define",
        { scopes: ["keyward:delete"] },
        "keyward:delete",
      ],
      ["bad metadata key", { metadata: { $set: "x" } }, "metadata"],
    ])("CreateKey: %s", async (_name, init, mention) => {
      const err = await rpcError(
        admin.createKey(
          { name: "valid", workspace: "acme", scopes: ["leads:read"], ...init },
          root(),
        ),
      );
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(mention);
    });

    it.each([
      ["unknown id format", () => admin.getKey({ id: '{"$ne":null}' }, root()), "id"],
      ["page_size over the maximum", () => admin.listKeys({ pageSize: 1001 }, root()), "page_size"],
      [
        "forged page_token",
        () => admin.listKeys({ pageToken: "not-a-token" }, root()),
        "page_token",
      ],
      [
        "update without a mask",
        () => admin.updateKey({ apiKey: { id: "key_000000000000000000000000" } }, root()),
        "update_mask",
      ],
      [
        "update of a field that cannot change",
        () =>
          admin.updateKey(
            {
              apiKey: { id: "key_000000000000000000000000" },
              updateMask: { paths: ["workspace"] },
            },
            root(),
          ),
        "update_mask",
      ],
      [
        "revoke reason too long",
        () =>
          admin.revokeKey({ id: "key_000000000000000000000000", reason: "r".repeat(501) }, root()),
        "reason",
      ],
    ])("%s", async (_name, call, mention) => {
      const err = await rpcError(call());
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(mention);
    });

    it("UpdateKey refuses a timestamp past 9999, naming api_key.expires_at", async () => {
      const { apiKey } = await admin.createKey(
        { name: "far", workspace: "acme", scopes: ["leads:read"] },
        root(),
      );
      const err = await rpcError(
        admin.updateKey(
          {
            apiKey: { id: apiKey!.id, expiresAt: { seconds: 999_999_999_999n, nanos: 0 } },
            updateMask: { paths: ["expires_at"] },
          },
          root(),
        ),
      );
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain("api_key.expires_at");
    });

    it("UpdateKey validates the masked fields and names them", async () => {
      const { apiKey } = await admin.createKey(
        { name: "v", workspace: "acme", scopes: ["leads:read"] },
        root(),
      );
      const err = await rpcError(
        admin.updateKey(
          {
            apiKey: {
              id: apiKey!.id,
              scopes: ["nope:read"],
              expiresAt: timestampFromDate(new Date(0)),
            },
            updateMask: { paths: ["scopes", "expires_at"] },
          },
          root(),
        ),
      );
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain("api_key.scopes");
      expect(err.rawMessage).toContain("api_key.expires_at");
      expect((await admin.getKey({ id: apiKey!.id }, root())).apiKey?.scopes).toEqual([
        "leads:read",
      ]);
    });
  });

  it("bootstrap-admin writes a working admin key to MongoDB: the key alone on stdout", async () => {
    const result = await runCli(
      [
        "bootstrap-admin",
        "--workspace",
        "boot",
        "--name",
        "ops",
        "--scopes",
        "keyward:read,keyward:write",
      ],
      {
        env: {
          MONGODB_URI: server.config.mongodbUri!,
          MONGODB_DB: server.config.mongodbDb,
          KEY_PEPPER: TEST_PEPPER,
        },
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kw_live_[0-9A-Za-z]{49}\n$/);
    expect(result.stderr).toContain("workspace boot");
    const key = result.stdout.trim();
    const list = await admin.listKeys({}, bearer(key));
    expect(list.keys.map((k) => k.name)).toEqual(["ops"]);
    const { events } = await admin.listAuditEvents({}, bearer(key));
    expect(events[0]).toMatchObject({ actorKeyId: "bootstrap", action: AuditAction.CREATE });
  });
});

describe("keys rotated by keyward 0.1 stay retired after the upgrade", () => {
  const hour = 3600_000;
  const db = uniqueDbName();
  const successor = legacyKey(TEST_PEPPER);
  const inGraceSuccessor = legacyKey(TEST_PEPPER);
  // 0.1's RotateKey: the grace end in revoked_at, the successor named only in the reason.
  const retired = legacyKey(TEST_PEPPER, {
    revoked_at: new Date(Date.now() - 24 * hour),
    revoke_reason: `rotated to ${successor.id}`,
  });
  const inGrace = legacyKey(TEST_PEPPER, {
    revoked_at: new Date(Date.now() + hour),
    revoke_reason: `rotated to ${inGraceSuccessor.id}`,
  });
  // A key the pre-fix migration left with retires_at and no successor it could name.
  const orphan = legacyKey(TEST_PEPPER);
  const { key_hash: orphanHash, ...orphanFields } = orphan.doc;
  const orphanDoc = {
    ...orphanFields,
    key_digest: digestOfHash(orphanHash as KeyHash),
    revoke_reason: "rotated to a vault",
    retires_at: new Date(Date.now() - hour),
    revision: 0,
  };
  let server: TestServer;

  beforeAll(async () => {
    await seedKeyDocuments(inject("mongoUri"), db, [
      successor.doc,
      inGraceSuccessor.doc,
      retired.doc,
      inGrace.doc,
      orphanDoc,
    ]);
    // The server migrates at start, as an upgraded deployment does.
    server = await startTestServer({ env: { MONGODB_DB: db } });
  });
  afterAll(async () => server?.stop());

  it("refuses RotateKey and UpdateKey on a retiring or retired key, and the retired secret stays refused", async () => {
    const admin = server.client(KeyAdminService);
    const authz = server.client(AuthorizeService);
    const root = bearer(server.rootKey);
    const reason = async (key: string) =>
      Reason[(await authz.authorize({ credential: { case: "apiKey", value: key } })).reason];

    for (const { id, expected } of [
      { id: retired.id, expected: `rotated to ${successor.id}` },
      { id: inGrace.id, expected: `rotated to ${inGraceSuccessor.id}` },
      { id: orphan.id, expected: "rotated out" },
    ]) {
      const before = (await admin.getKey({ id }, root)).apiKey!;
      for (const call of [
        () => admin.rotateKey({ id, gracePeriod: durationFromMs(30 * 24 * hour) }, root),
        () =>
          admin.updateKey(
            {
              apiKey: { id, expiresAt: timestampFromDate(new Date(Date.now() + 24 * hour)) },
              updateMask: { paths: ["expires_at"] },
            },
            root,
          ),
      ]) {
        const err = await rpcError(call());
        expect(Code[err.code], `${id}: ${err.rawMessage}`).toBe("FailedPrecondition");
        expect(err.rawMessage).toContain(expected);
      }
      expect((await admin.getKey({ id }, root)).apiKey).toEqual(before);
    }
    expect(await reason(retired.key)).toBe("KEY_REVOKED");
    expect(await reason(orphan.key)).toBe("KEY_REVOKED");
    expect(await reason(inGrace.key)).toBe("OK");
    expect(await reason(successor.key)).toBe("OK");
    // The successor carries on as any key does.
    const next = await admin.rotateKey({ id: successor.id, gracePeriod: durationFromMs(0) }, root);
    expect(await reason(next.key)).toBe("OK");
    expect(await reason(successor.key)).toBe("KEY_REVOKED");
  });
});
