import { fromBinary } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeResponseSchema, AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { generateKey } from "../../src/admin/key-material.js";
import { countingStore } from "../support/counting-store.js";
import { grpcJsClient } from "../support/grpc-js-client.js";
import { bearer, startTestServer, type TestServer } from "../support/harness.js";
import { decisionOutcome, failureOutcome, type Outcome, outcomeOf } from "../support/outcomes.js";

/** Hostile answers allowed by issue 6: a deny or INVALID_ARGUMENT (RESOURCE_EXHAUSTED for oversized messages, see README). */
function expectRefused(o: Outcome, what: string): void {
  const ok = o.startsWith("DENY:") || o === "InvalidArgument" || o === "ResourceExhausted";
  expect(ok, `${what}: ${o}`).toBe(true);
}

const OPERATOR_SHAPED = [
  '{"$ne": null}',
  "$where",
  "{ $gt: '' }",
  "$regex",
  "this.scopes.length > 0",
  "'; return true; //",
  "key_hash.$ne",
];

/** A protobuf string field (wire type 2) with raw, possibly invalid, UTF-8 bytes. */
function field(number: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

function rawAuthorize(client: grpc.Client, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      "/keyward.v1.AuthorizeService/Authorize",
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) =>
        resolve(
          err
            ? failureOutcome(err, { withMessage: true })
            : decisionOutcome(fromBinary(AuthorizeResponseSchema, res!)),
        ),
    );
  });
}

describe("hostile input: every field, at and past its limits", () => {
  let server: TestServer;
  let authz: Client<typeof AuthorizeService>;
  let admin: Client<typeof KeyAdminService>;
  let validKey: string;
  let validId: string;
  let storeCalls: Map<string, number>;
  const lookups = () => storeCalls.get("findKeyByDigest") ?? 0;

  beforeAll(async () => {
    server = await startTestServer({
      overrides: {
        store: (inner) => {
          const c = countingStore(inner);
          storeCalls = c.calls;
          return c.store;
        },
      },
    });
    authz = server.client(AuthorizeService);
    admin = server.client(KeyAdminService);
    const created = await admin.createKey(
      { name: "target", workspace: "acme", scopes: ["leads:read"] },
      bearer(server.rootKey),
    );
    validKey = created.key;
    validId = created.apiKey!.id;
  });
  afterAll(() => server?.stop());

  const ask = (req: Parameters<typeof authz.authorize>[0]) => outcomeOf(authz.authorize(req));

  it("refuses messages over the size limit (64 KiB) and keeps serving", async () => {
    expectRefused(
      await ask({ credential: { case: "apiKey", value: "k".repeat(70 * 1024) } }),
      "70 KiB key",
    );
    const o = await ask({
      credential: { case: "apiKey", value: validKey },
      requiredScopes: Array.from({ length: 7000 }, () => "leads:read"),
    });
    expect(o).toBe("ResourceExhausted");
    expect(
      await ask({
        credential: { case: "apiKey", value: validKey },
        requiredScopes: ["leads:read"],
      }),
    ).toBe("ALLOW");
  });

  it("refuses more than 100 required scopes, keys over 512 characters, domains over 253", async () => {
    const tooMany = await ask({
      credential: { case: "apiKey", value: validKey },
      requiredScopes: Array.from({ length: 101 }, () => "leads:read"),
    });
    expect(tooMany).toBe("InvalidArgument");
    expectRefused(
      await ask({ credential: { case: "apiKey", value: validKey + "x".repeat(513) } }),
      "key over 512",
    );
    expectRefused(
      await ask({ credential: { case: "keyHash", value: "a".repeat(513) } }),
      "hash over 512",
    );
    const longDomain = await ask({
      credential: { case: "apiKey", value: validKey },
      domain: `${`${"a".repeat(60)}.`.repeat(4)}example.com`,
    });
    expect(longDomain).toBe("InvalidArgument");
  });

  it("refuses empty and operator-shaped strings in every Authorize field", async () => {
    expect(await ask({ credential: { case: "apiKey", value: "" } })).toBe("DENY:KEY_MISSING");
    expect(await ask({})).toBe("DENY:KEY_MISSING");
    for (const s of OPERATOR_SHAPED) {
      expectRefused(await ask({ credential: { case: "apiKey", value: s } }), `api_key ${s}`);
      expectRefused(await ask({ credential: { case: "keyHash", value: s } }), `key_hash ${s}`);
      expectRefused(
        await ask({ credential: { case: "apiKey", value: validKey }, requiredScopes: [s] }),
        `scope ${s}`,
      );
      expectRefused(
        await ask({ credential: { case: "apiKey", value: validKey }, domain: s }),
        `domain ${s}`,
      );
      expectRefused(
        await ask({ credential: { case: "apiKey", value: validKey }, workspace: s }),
        `workspace ${s}`,
      );
    }
    expectRefused(
      await ask({ credential: { case: "apiKey", value: validKey }, requiredScopes: [""] }),
      "empty scope",
    );
  });

  it("refuses invalid UTF-8 in every Authorize string field (sent as raw bytes by grpc-js)", async () => {
    const client = grpcJsClient(server.port);
    try {
      const bad = Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80]);
      const key = Buffer.from(validKey);
      const bodies: [string, Buffer, string][] = [
        ["api_key", field(1, bad), "api_key: is not valid UTF-8"],
        ["key_hash", field(2, bad), "key_hash: is not valid UTF-8"],
        [
          "required_scopes",
          Buffer.concat([field(1, key), field(3, Buffer.from("leads:read")), field(3, bad)]),
          "required_scopes[1]: is not valid UTF-8",
        ],
        ["domain", Buffer.concat([field(1, key), field(4, bad)]), "domain: is not valid UTF-8"],
        [
          "workspace",
          Buffer.concat([field(1, key), field(5, bad)]),
          "workspace: is not valid UTF-8",
        ],
        [
          "api_key with a valid key plus a bad byte",
          field(1, Buffer.concat([key, Buffer.from([0xff])])),
          "api_key: is not valid UTF-8",
        ],
      ];
      for (const [name, body, message] of bodies) {
        const o = await rawAuthorize(client, body);
        expect(o, name).toBe(`InvalidArgument: invalid request: ${message}`);
      }
    } finally {
      client.close();
    }
  });

  it("treats operator-shaped strings in KeyAdmin fields as data, never as queries", async () => {
    const auth = bearer(server.rootKey);
    for (const s of OPERATOR_SHAPED) {
      for (const call of [
        () => admin.getKey({ id: s }, auth),
        () => admin.revokeKey({ id: s, reason: s }, auth),
        () => admin.rotateKey({ id: s }, auth),
        () => admin.listKeys({ workspace: s, pageToken: s }, auth),
        () => admin.createKey({ name: "x", workspace: "acme", scopes: [s] }, auth),
        () =>
          admin.createKey(
            { name: "x", workspace: "acme", scopes: ["leads:read"], allowedDomains: [s] },
            auth,
          ),
        () =>
          admin.createKey(
            { name: "x", workspace: "acme", scopes: ["leads:read"], metadata: { [s]: "v" } },
            auth,
          ),
      ]) {
        expect(
          await call().then(
            () => "answered",
            (err: unknown) => failureOutcome(err),
          ),
          s,
        ).toBe("InvalidArgument");
      }
      // As a name or a metadata value it is just text, stored and returned as sent.
      const created = await admin.createKey(
        { name: s, workspace: "acme", scopes: ["leads:read"], metadata: { note: s } },
        auth,
      );
      expect((await admin.getKey({ id: created.apiKey!.id }, auth)).apiKey?.name).toBe(s);
    }
    // Nothing above touched the target key.
    expect((await admin.getKey({ id: validId }, auth)).apiKey?.revokedAt).toBeUndefined();
  });

  it("property: thousands of random Authorize requests are refused, never allowed, never INTERNAL", async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.constantFrom(
        ...OPERATOR_SHAPED,
        "",
        "*",
        "leads:read",
        "campaigns:all",
        "acme",
        "example.com",
        validKey.slice(0, 20),
      ),
      fc.string({ minLength: 500, maxLength: 700 }),
      fc.constant(null).map(() => generateKey("kw", "live")),
    );
    const request = fc.record({
      credential: fc.oneof(
        fc.record({ case: fc.constant("apiKey" as const), value: text }),
        fc.record({
          case: fc.constant("keyHash" as const),
          value: fc.oneof(text, fc.stringMatching(/^[0-9a-f]{64}$/)),
        }),
        fc.constant({ case: undefined }),
      ),
      requiredScopes: fc.array(text, { maxLength: 110 }),
      domain: text,
      workspace: text,
    });
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const o = await ask(req as Parameters<typeof authz.authorize>[0]);
        expect(o).not.toBe("ALLOW");
        if (!o.startsWith("DENY:")) expect(["InvalidArgument", "ResourceExhausted"]).toContain(o);
      }),
      { numRuns: 2500 },
    );
  });

  it("property: random KeyAdmin requests get a precise answer, never INTERNAL, and never reach another workspace", async () => {
    const auth = bearer(server.rootKey);
    const scoped = (
      await admin.createKey(
        { name: "ws admin", workspace: "other", scopes: ["keyward:read", "keyward:write"] },
        auth,
      )
    ).key;
    const text = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        ...OPERATOR_SHAPED,
        "",
        validId,
        "acme",
        "leads:read",
        "key_000000000000000000000000",
      ),
    );
    const call = fc.oneof(
      fc.record({ m: fc.constant("get" as const), id: text }),
      fc.record({
        m: fc.constant("list" as const),
        workspace: text,
        pageSize: fc.integer({ min: -5, max: 5000 }),
        pageToken: text,
      }),
      fc.record({ m: fc.constant("revoke" as const), id: text, reason: text }),
      fc.record({
        m: fc.constant("create" as const),
        name: text,
        workspace: text,
        scopes: fc.array(text, { maxLength: 4 }),
        domains: fc.array(text, { maxLength: 3 }),
      }),
    );
    const allowed = new Set([
      Code.InvalidArgument,
      Code.NotFound,
      Code.PermissionDenied,
      Code.FailedPrecondition,
    ]);
    await fc.assert(
      fc.asyncProperty(call, fc.boolean(), async (c, asScoped) => {
        const a = asScoped ? bearer(scoped) : auth;
        try {
          if (c.m === "get") {
            const r = await admin.getKey({ id: c.id }, a);
            if (asScoped) expect(r.apiKey?.workspace).toBe("other");
          } else if (c.m === "list") {
            const r = await admin.listKeys(
              { workspace: c.workspace, pageSize: c.pageSize, pageToken: c.pageToken },
              a,
            );
            if (asScoped) for (const k of r.keys) expect(k.workspace).toBe("other");
          } else if (c.m === "revoke") {
            // Only ever an id the property invented: the target key must survive it.
            if (c.id === validId && !asScoped) return;
            await admin.revokeKey({ id: c.id, reason: c.reason }, a);
          } else {
            await admin.createKey(
              { name: c.name, workspace: c.workspace, scopes: c.scopes, allowedDomains: c.domains },
              a,
            );
          }
        } catch (err) {
          const code = ConnectError.from(err).code;
          expect(allowed.has(code), `${c.m}: ${Code[code]} ${(err as Error).message}`).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
    expect((await admin.getKey({ id: validId }, auth)).apiKey?.revokedAt).toBeUndefined();
    expect(
      await ask({
        credential: { case: "apiKey", value: validKey },
        requiredScopes: ["leads:read"],
      }),
    ).toBe("ALLOW");
  });

  describe("brute force: unknown keys cost bounded store load and no path to a valid key", () => {
    async function flood(keys: string[], concurrency = 50): Promise<Outcome[]> {
      const out: Outcome[] = new Array(keys.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let i = next++; i < keys.length; i = next++)
            out[i] = await ask({ credential: { case: "apiKey", value: keys[i]! } });
        }),
      );
      return out;
    }

    it("10,000 random strings: all refused as missing or malformed, zero store calls", async () => {
      const before = lookups();
      const keys = fc.sample(fc.string({ minLength: 1, maxLength: 80 }), 9000).concat(
        Array.from({ length: 1000 }, () => {
          // A real key with one checksum character changed: the typo a checksum exists to catch.
          const k = generateKey("kw", "live");
          return k.slice(0, -1) + (k.endsWith("x") ? "y" : "x");
        }),
      );
      const results = await flood(keys);
      const odd = results
        .map((o, i) => [keys[i], o] as const)
        .filter(([, o]) => o !== "DENY:KEY_MALFORMED" && o !== "DENY:KEY_MISSING");
      expect(odd.slice(0, 3)).toEqual([]);
      expect(results.filter((o) => o === "DENY:KEY_MALFORMED").length).toBeGreaterThan(9900);
      expect(lookups() - before).toBe(0);
    });

    it("10,000 well-formed keys drawn from 100 guesses: one store call per guess per negative-cache period", async () => {
      const guesses = Array.from({ length: 100 }, () => generateKey("kw", "live"));
      const before = lookups();
      const started = Date.now();
      const results = await flood(Array.from({ length: 10_000 }, (_, i) => guesses[i % 100]!));
      const periods = 1 + Math.floor((Date.now() - started) / server.config.cache.negativeTtlMs);
      expect(results.every((o) => o === "DENY:KEY_NOT_FOUND")).toBe(true);
      const calls = lookups() - before;
      console.log(
        `[brute force] 10,000 calls over 100 guessed keys in ${Date.now() - started} ms: ${calls} store calls (bound ${100 * periods})`,
      );
      expect(calls).toBeGreaterThanOrEqual(100);
      expect(calls).toBeLessThanOrEqual(100 * periods);
    });

    it("2,000 distinct well-formed guesses: one store call each, the same answer as any other unknown key", async () => {
      const before = lookups();
      const results = await flood(Array.from({ length: 2000 }, () => generateKey("kw", "live")));
      expect(results.every((o) => o === "DENY:KEY_NOT_FOUND")).toBe(true);
      expect(lookups() - before).toBe(2000);
      // The valid key next to all of this still works; nothing about it leaked into the denials.
      expect(
        await ask({
          credential: { case: "apiKey", value: validKey },
          requiredScopes: ["leads:read"],
        }),
      ).toBe("ALLOW");
    });
  });
});
