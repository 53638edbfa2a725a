import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { FindingKind, UsageGranularity } from "../../gen/keyward/v1/usage_pb.js";
import { DAY_MS, HOUR_MS } from "../../src/domain/usage.js";
import {
  bearer,
  startTestServer,
  TEST_PEPPER,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";
import { type KeywardProcess, spawnKeyward } from "../support/keyward-process.js";

type Source = "grpc" | "connect" | "forward_auth" | "ext_authz";
const SOURCES: Source[] = ["grpc", "connect", "forward_auth", "ext_authz"];

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => expect.unreachable("expected the call to fail"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  return err as ConnectError;
}

/** One Authorize through one entry point of one replica; answers the reason name (X-Keyward-Reason). */
function asker(proc: { port: number; httpPort: number }) {
  const grpc = createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.port}` });
  const authz = createClient(AuthorizeService, grpc);
  const connect = createClient(
    AuthorizeService,
    createConnectTransport({ baseUrl: `http://127.0.0.1:${proc.httpPort}`, httpVersion: "1.1" }),
  );
  const envoy = createClient(Authorization, grpc);
  return async (
    source: Source,
    key: string,
    scopes: string[],
    workspace: string,
    domain: string,
  ): Promise<string> => {
    if (source === "grpc" || source === "connect") {
      const r = await (source === "grpc" ? authz : connect).authorize({
        credential: { case: "apiKey", value: key },
        requiredScopes: scopes,
        workspace,
        domain,
      });
      return Reason[r.reason];
    }
    if (source === "forward_auth") {
      const q = new URLSearchParams({ scopes: scopes.join(","), workspace, domain });
      const res = await fetch(`http://127.0.0.1:${proc.httpPort}/v1/check?${q}`, {
        headers: { "x-api-key": key },
      });
      await res.arrayBuffer();
      return (
        res.headers.get("x-keyward-reason") ?? (res.status === 200 ? "OK" : `HTTP ${res.status}`)
      );
    }
    const ext = {
      "keyward.scopes": scopes.join(","),
      "keyward.workspace": workspace,
      "keyward.domain": domain,
    };
    const r = await envoy.check({
      attributes: {
        request: { http: { method: "GET", path: "/", headers: { "x-api-key": key } } },
        contextExtensions: ext,
      },
    });
    if (r.httpResponse.case !== "deniedResponse") return "OK";
    return (
      r.httpResponse.value.headers.find((h) => h.header?.key === "X-Keyward-Reason")?.header
        ?.value ?? "?"
    );
  };
}

const asMap = (o: Record<string, bigint>) => Object.fromEntries(Object.entries(o));

describe("usage across two replicas on one database (FerretDB)", () => {
  const db = uniqueDbName();
  /** Reads (GetKeyUsage) and administers; the two replicas below only answer Authorize. */
  let reader: TestServer;
  let admin: Client<typeof KeyAdminService>;
  const root = () => bearer(reader.rootKey);
  const FLUSH_MS = 100;
  const mongoEnv = () => ({
    MONGODB_URI: inject("mongoUri"),
    MONGODB_DB: db,
    KEY_PEPPER: TEST_PEPPER,
  });

  beforeAll(async () => {
    reader = await startTestServer({ env: { MONGODB_DB: db } });
    admin = reader.client(KeyAdminService);
  });
  afterAll(async () => reader?.stop());

  it("counts every decision exactly once: totals, reasons, scopes, sources and domains equal what was sent through all four entry points, after SIGTERM", async () => {
    const k = await admin.createKey(
      {
        name: "main",
        workspace: "acme",
        scopes: ["campaigns:read", "leads:all"],
        allowedDomains: ["app.acme.com", "api.acme.com"],
      },
      root(),
    );
    const revoked = await admin.createKey(
      { name: "revoked", workspace: "acme", scopes: ["campaigns:read"] },
      root(),
    );
    await admin.revokeKey({ id: revoked.apiKey!.id }, root());
    const replicas: KeywardProcess[] = await Promise.all(
      [0, 1].map(() => spawnKeyward({ env: { ...mongoEnv(), USAGE_FLUSH_MS: String(FLUSH_MS) } })),
    );
    // Created once the replicas serve, so it is still valid for its first calls.
    const expiresAt = new Date(Date.now() + 3000);
    const expiring = await admin.createKey(
      {
        name: "expiring",
        workspace: "acme",
        scopes: ["campaigns:read"],
        expiresAt: timestampFromDate(expiresAt),
      },
      root(),
    );
    const asks = replicas.map(asker);
    // [key, required scopes, workspace, domain, expected reason, times] per replica and source.
    const plan: Array<[string, string[], string, string, string, number]> = [
      [k.key, ["campaigns:read"], "acme", "app.acme.com", "OK", 3],
      [k.key, ["leads:read", "leads:create"], "acme", "api.acme.com", "OK", 2],
      [k.key, ["campaigns:write"], "acme", "app.acme.com", "SCOPE_MISSING", 1],
      [k.key, ["campaigns:read"], "globex", "app.acme.com", "WORKSPACE_MISMATCH", 1],
      [k.key, ["campaigns:read"], "acme", "evil.com", "DOMAIN_NOT_ALLOWED", 1],
      [revoked.key, ["campaigns:read"], "acme", "", "KEY_REVOKED", 2],
      // Names no key: counted nowhere.
      ["kw_live_not-a-key", ["campaigns:read"], "acme", "", "KEY_MALFORMED", 1],
    ];
    const run = async (rows: typeof plan) => {
      for (const ask of asks)
        for (const source of SOURCES)
          for (const [key, scopes, workspace, domain, reason, times] of rows)
            for (let i = 0; i < times; i++)
              expect(await ask(source, key, scopes, workspace, domain), `${source} ${reason}`).toBe(
                reason,
              );
    };
    await run([[expiring.key, ["campaigns:read"], "acme", "", "OK", 1]]);
    await run(plan);
    await waitFor(() => Date.now() > expiresAt.getTime() + 50, 10_000, "the key's expiry");
    await run([[expiring.key, ["campaigns:read"], "acme", "", "KEY_EXPIRED", 1]]);
    expect(await Promise.all(replicas.map((r) => r.stop()))).toEqual([0, 0]);

    const n = 2 * SOURCES.length; // each row ran once per replica and source
    const usage = await admin.getKeyUsage({ id: k.apiKey!.id }, root());
    expect(usage.keyId).toBe(k.apiKey!.id);
    expect(usage.allowed).toBe(BigInt(5 * n));
    expect(usage.denied).toBe(BigInt(3 * n));
    expect(asMap(usage.deniedByReason)).toEqual({
      SCOPE_MISSING: BigInt(n),
      WORKSPACE_MISMATCH: BigInt(n),
      DOMAIN_NOT_ALLOWED: BigInt(n),
    });
    expect(asMap(usage.bySource)).toEqual(
      Object.fromEntries(SOURCES.map((s) => [s, BigInt(2 * 8)])),
    );
    expect(usage.scopes.map((s) => [s.scope, s.allowed, s.denied, s.grantedBy])).toEqual([
      ["campaigns:read", BigInt(3 * n), 0n, "campaigns:read"],
      ["campaigns:write", 0n, BigInt(n), ""],
      ["leads:create", BigInt(2 * n), 0n, "leads:all"],
      ["leads:read", BigInt(2 * n), 0n, "leads:all"],
    ]);
    expect(usage.domains.map((d) => [d.domain, d.calls])).toEqual([
      ["app.acme.com", BigInt(5 * n)],
      ["api.acme.com", BigInt(2 * n)],
      ["evil.com", BigInt(n)],
    ]);
    expect(usage.buckets.reduce((sum, b) => sum + b.allowed + b.denied, 0n)).toBe(BigInt(8 * n));
    expect(usage.unusedScopes).toEqual([]);

    const retired = await admin.getKeyUsage({ id: revoked.apiKey!.id }, root());
    expect([retired.allowed, asMap(retired.deniedByReason)]).toEqual([
      0n,
      { KEY_REVOKED: BigInt(2 * n) },
    ]);
    const expired = await admin.getKeyUsage({ id: expiring.apiKey!.id }, root());
    expect([expired.allowed, asMap(expired.deniedByReason), asMap(expired.bySource)]).toEqual([
      BigInt(n),
      { KEY_EXPIRED: BigInt(n) },
      Object.fromEntries(SOURCES.map((s) => [s, 4n])),
    ]);
    // last_used_at comes from the same flush: the last allowed call.
    expect((await admin.getKey({ id: k.apiKey!.id }, root())).apiKey!.lastUsedAt).toBeDefined();
  }, 60_000);

  it("a SIGKILL loses at most one flush interval of that replica (plus the write under way): every call answered before kill − (USAGE_FLUSH_MS + 500 ms) is counted, none twice", async () => {
    const KILL_FLUSH_MS = 500;
    const WRITE_ALLOWANCE_MS = 500;
    const key = await admin.createKey(
      { name: "crash", workspace: "acme", scopes: ["campaigns:read"] },
      root(),
    );
    const replica = await spawnKeyward({
      env: { ...mongoEnv(), USAGE_FLUSH_MS: String(KILL_FLUSH_MS) },
    });
    const ask = asker(replica);
    const answeredAt: number[] = [];
    const until = Date.now() + 4 * KILL_FLUSH_MS;
    while (Date.now() < until) {
      expect(await ask("grpc", key.key, ["campaigns:read"], "acme", "")).toBe("OK");
      answeredAt.push(Date.now());
      await new Promise((r) => setTimeout(r, 2));
    }
    const killedAt = Date.now();
    replica.child.kill("SIGKILL");
    await replica.exited;
    const mustHave = answeredAt.filter(
      (t) => t < killedAt - KILL_FLUSH_MS - WRITE_ALLOWANCE_MS,
    ).length;
    const counted = Number((await admin.getKeyUsage({ id: key.apiKey!.id }, root())).allowed);
    expect(mustHave).toBeGreaterThan(0);
    expect(counted).toBeGreaterThanOrEqual(mustHave);
    expect(counted).toBeLessThanOrEqual(answeredAt.length);
  }, 30_000);
});

describe("GetKeyUsage and ListFindings: authority, findings, ranges", () => {
  let server: TestServer;
  let admin: Client<typeof KeyAdminService>;
  let authz: Client<typeof AuthorizeService>;
  const root = () => bearer(server.rootKey);
  /** The server's clock: moved forward instead of sleeping. */
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);
  const keys: Record<string, { key: string; id: string }> = {};
  const make = async (
    name: string,
    workspace: string,
    scopes: string[],
    expiresInMs: number | null = 60 * DAY_MS,
  ) => {
    const r = await admin.createKey(
      {
        name,
        workspace,
        scopes,
        expiresAt:
          expiresInMs === null
            ? undefined
            : timestampFromDate(new Date(now().getTime() + expiresInMs)),
      },
      root(),
    );
    keys[name] = { key: r.key, id: r.apiKey!.id };
    return keys[name]!;
  };
  const call = async (name: string, scopes: string[], times = 1) => {
    for (let i = 0; i < times; i++)
      await authz.authorize({
        credential: { case: "apiKey", value: keys[name]!.key },
        requiredScopes: scopes,
      });
  };
  /** Key names with a finding of `kind` in workspace "finds", after a flush. */
  const withFinding = async (kind: FindingKind): Promise<string[]> => {
    await server.app.usage.flush();
    const { findings } = await admin.listFindings(
      { workspace: "finds", kinds: [kind], pageSize: 100 },
      root(),
    );
    return findings.map((f) => f.keyName).sort();
  };

  beforeAll(async () => {
    server = await startTestServer({
      store: "memory",
      env: { FINDINGS_DENIALS_PER_DAY: "5" },
      overrides: { now },
    });
    admin = server.client(KeyAdminService);
    authz = server.client(AuthorizeService);
    await make("acme reader", "acme", ["keyward:read"]);
    await make("acme writer", "acme", ["keyward:write"]);
    await make("acme product", "acme", ["campaigns:read"], null);
    await make("acme star", "acme", ["*"]);
    await make("globex product", "globex", ["campaigns:read"], null);
  });
  afterAll(async () => server?.stop());

  it("keyward:read suffices in its own workspace; another workspace's key is NOT_FOUND (as a missing one) and its findings PERMISSION_DENIED; product * and keyward:write alone are refused, on both ports", async () => {
    const connect = createClient(
      KeyAdminService,
      createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "1.1" }),
    );
    for (const client of [admin, connect]) {
      const reader = bearer(keys["acme reader"]!.key);
      expect((await client.getKeyUsage({ id: keys["acme product"]!.id }, reader)).keyId).toBe(
        keys["acme product"]!.id,
      );
      const own = (await client.listFindings({}, reader)).findings;
      expect(own.length).toBeGreaterThan(0);
      expect(own.every((f) => f.workspace === "acme")).toBe(true);
      const other = await failure(client.getKeyUsage({ id: keys["globex product"]!.id }, reader));
      const missing = await failure(
        client.getKeyUsage({ id: "key_000000000000000000000000" }, reader),
      );
      expect([other.code, missing.code]).toEqual([Code.NotFound, Code.NotFound]);
      expect(other.rawMessage).toBe(`no key with id ${keys["globex product"]!.id}`);
      expect((await failure(client.listFindings({ workspace: "globex" }, reader))).code).toBe(
        Code.PermissionDenied,
      );
      for (const refused of ["acme star", "acme writer"]) {
        const as = bearer(keys[refused]!.key);
        expect(
          (await failure(client.getKeyUsage({ id: keys["acme product"]!.id }, as))).code,
          refused,
        ).toBe(Code.PermissionDenied);
        expect((await failure(client.listFindings({}, as))).code, refused).toBe(
          Code.PermissionDenied,
        );
      }
      // The root admin reaches every workspace.
      expect(
        (await client.listFindings({ workspace: "globex" }, root())).findings.length,
      ).toBeGreaterThan(0);
    }
  });

  it("defaults to the last 30 days, daily; refused ranges name the field", async () => {
    const at = now().getTime();
    const usage = await admin.getKeyUsage({ id: keys["acme product"]!.id }, root());
    const first = Math.floor((at - 30 * DAY_MS) / DAY_MS) * DAY_MS;
    expect(Number(usage.buckets[0]!.startTime!.seconds) * 1000).toBe(first);
    expect(usage.buckets.length).toBe(Math.ceil((at - first) / DAY_MS));
    expect(
      usage.buckets.every((b, i) => Number(b.startTime!.seconds) * 1000 === first + i * DAY_MS),
    ).toBe(true);
    const hourly = await admin.getKeyUsage(
      { id: keys["acme product"]!.id, startTime: timestampFromDate(new Date(at - 6 * HOUR_MS)) },
      root(),
    );
    expect(
      Number(hourly.buckets[1]!.startTime!.seconds - hourly.buckets[0]!.startTime!.seconds),
    ).toBe(3600);
    const refused = async (req: Parameters<typeof admin.getKeyUsage>[0]) => {
      const err = await failure(
        admin.getKeyUsage({ id: keys["acme product"]!.id, ...req }, root()),
      );
      expect(err.code).toBe(Code.InvalidArgument);
      return err.rawMessage;
    };
    const t = (ms: number) => timestampFromDate(new Date(at + ms));
    expect(await refused({ startTime: t(0), endTime: t(-HOUR_MS) })).toContain(
      "start_time: must be before end_time",
    );
    expect(await refused({ startTime: t(-401 * DAY_MS) })).toContain(
      "start_time: the range is at most 400 days",
    );
    expect(
      await refused({ startTime: t(-40 * DAY_MS), granularity: UsageGranularity.HOUR }),
    ).toContain("granularity:");
    expect(await refused({ granularity: 9 as UsageGranularity })).toContain("granularity:");
    expect(await refused({ id: "nope" })).toContain("id:");
    expect(
      (await failure(admin.listFindings({ kinds: [FindingKind.UNSPECIFIED] }, root()))).rawMessage,
    ).toContain("kinds[0]:");
  });

  it("each finding kind appears for its scenario and not without it", async () => {
    await make("never", "finds", ["campaigns:read"]);
    await make("idle", "finds", ["campaigns:read"]);
    await make("trim", "finds", ["campaigns:read", "leads:read"]);
    await make("fit", "finds", ["campaigns:read"]);
    await make("star", "finds", ["*"]);
    await make("forever", "finds", ["campaigns:read"], null);
    await make("soon", "finds", ["campaigns:read"], 34 * DAY_MS);
    await make("revoked used", "finds", ["campaigns:read"]);
    await make("revoked quiet", "finds", ["campaigns:read"]);
    await make("denied", "finds", ["campaigns:read"]);
    await make("denied few", "finds", ["campaigns:read"]);
    await admin.revokeKey({ id: keys["revoked used"]!.id }, root());
    await admin.revokeKey({ id: keys["revoked quiet"]!.id }, root());
    await call("idle", ["campaigns:read"]);
    // Day 0: too young to be unused, used just now, expiry 34 days away.
    expect(await withFinding(FindingKind.NEVER_USED)).toEqual([]);
    expect(await withFinding(FindingKind.UNUSED)).toEqual([]);
    expect(await withFinding(FindingKind.UNUSED_SCOPES)).toEqual([]);
    expect(await withFinding(FindingKind.EXPIRING_SOON)).toEqual([]);
    expect(await withFinding(FindingKind.RETIRED_KEY_IN_USE)).toEqual([]);
    expect(await withFinding(FindingKind.WILDCARD)).toEqual(["star"]);
    expect(await withFinding(FindingKind.NO_EXPIRY)).toEqual(["forever"]);

    offsetMs = 30.5 * DAY_MS;
    await call("trim", ["campaigns:read"]);
    await call("fit", ["campaigns:read"]);
    offsetMs = 31 * DAY_MS;
    await call("revoked used", ["campaigns:read"]);
    await call("denied", ["campaigns:write"], 5);
    await call("denied few", ["campaigns:write"], 4);
    expect(await withFinding(FindingKind.NEVER_USED)).toEqual(["forever", "never", "soon", "star"]);
    expect(await withFinding(FindingKind.UNUSED)).toEqual(["idle"]);
    expect(await withFinding(FindingKind.UNUSED_SCOPES)).toEqual(["trim"]);
    expect(await withFinding(FindingKind.EXPIRING_SOON)).toEqual(["soon"]);
    expect(await withFinding(FindingKind.RETIRED_KEY_IN_USE)).toEqual(["revoked used"]);
    expect(await withFinding(FindingKind.UNEXPECTED_DENIALS)).toEqual(["denied"]);
    const trim = (
      await admin.listFindings({ workspace: "finds", kinds: [FindingKind.UNUSED_SCOPES] }, root())
    ).findings[0]!;
    expect([trim.suggestedScopes, trim.detail]).toEqual([
      ["campaigns:read"],
      expect.stringContaining("leads:read"),
    ]);

    // Paging: small pages add up to the one big page, in the same order.
    const all = (
      await admin.listFindings({ workspace: "finds", pageSize: 100 }, root())
    ).findings.map((f) => `${f.keyId} ${f.kind}`);
    const paged: string[] = [];
    let pageToken = "";
    do {
      const page = await admin.listFindings({ workspace: "finds", pageSize: 3, pageToken }, root());
      expect(page.findings.length).toBeLessThanOrEqual(3);
      paged.push(...page.findings.map((f) => `${f.keyId} ${f.kind}`));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(paged).toEqual(all);
    expect(
      (
        await failure(
          admin.listFindings(
            {
              workspace: "acme",
              pageSize: 3,
              pageToken: (
                await admin.listFindings({ workspace: "finds", pageSize: 3 }, root())
              ).nextPageToken,
            },
            root(),
          ),
        )
      ).rawMessage,
    ).toContain("page_token");
  });
});
