import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { runCli } from "../support/cli.js";
import { bearer, startTestServer, type TestServer, waitFor } from "../support/harness.js";

/** `keyward keys usage` and `keyward findings` against a real keyward on FerretDB, usage flushed quickly. */
describe("the usage and findings CLI", () => {
  let server: TestServer;
  let env: Record<string, string>;
  let id: string;
  const root = () => bearer(server.rootKey);

  /** 5 allowed (3 campaigns:read, 2 campaigns:pause), 1 SCOPE_MISSING, 1 DOMAIN_NOT_ALLOWED; 5 over gRPC, 2 over Connect. */
  async function drive(secret: string): Promise<void> {
    const grpc = server.client(AuthorizeService);
    const connect = createClient(
      AuthorizeService,
      createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "1.1" }),
    );
    const calls: [typeof grpc, string, string, string][] = [
      [grpc, "campaigns:read", "app.acme.com", "OK"],
      [grpc, "campaigns:read", "app.acme.com", "OK"],
      [grpc, "campaigns:read", "app.acme.com", "OK"],
      [connect, "campaigns:pause", "app.acme.com", "OK"],
      [connect, "campaigns:pause", "app.acme.com", "OK"],
      [grpc, "invoices:read", "app.acme.com", "SCOPE_MISSING"],
      [grpc, "campaigns:read", "evil.example", "DOMAIN_NOT_ALLOWED"],
    ];
    for (const [client, scope, domain, reason] of calls) {
      const r = await client.authorize({
        credential: { case: "apiKey", value: secret },
        requiredScopes: [scope],
        workspace: "acme",
        domain,
      });
      expect(Reason[r.reason]).toBe(reason);
    }
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { USAGE_FLUSH_MS: "50" } });
    env = { KEYWARD_URL: server.baseUrl, KEYWARD_ADMIN_KEY: server.rootKey };
    const admin = server.client(KeyAdminService);
    const k = await admin.createKey(
      {
        name: "backend",
        workspace: "acme",
        scopes: ["campaigns:all", "leads:read"],
        allowedDomains: ["app.acme.com"],
      },
      root(),
    );
    id = k.apiKey!.id;
    await drive(k.key);
    await waitFor(
      async () => {
        const u = await admin.getKeyUsage({ id }, root());
        return u.allowed === 5n && u.denied === 2n;
      },
      10_000,
      "the calls flushed",
    );
  });
  afterAll(async () => server?.stop());

  it("keys usage draws the chart, then totals, scopes, domains, unused scopes and the command that applies the suggestion; no colour off a terminal", async () => {
    const r = await runCli(["keys", "usage", id, "--since", "48h"], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain(`${id} (backend, workspace acme)`);
    expect(out).toMatch(/^allowed per hour \(highest 5\)$/m);
    expect(out).toMatch(/^denied per hour \(highest 2\)$/m);
    expect(out).toMatch(/^5 ┤ *█/m);
    expect(out).not.toContain("\x1b[");
    expect(out).toMatch(/allowed +5\n/);
    expect(out).toMatch(/denied +2 \(DOMAIN_NOT_ALLOWED 1, SCOPE_MISSING 1\)/);
    expect(out).toMatch(/by source +grpc 5, connect 2/);
    expect(out).toMatch(/SCOPE +ALLOWED +DENIED +LAST USED +GRANTED BY/);
    expect(out).toMatch(/campaigns:pause +2 +0 +\d{4}-\d\d-\d\d [\d:]+Z +campaigns:all/);
    expect(out).toMatch(/campaigns:read +3 +0 +\S+ \S+ +campaigns:all/);
    expect(out).toMatch(/invoices:read +0 +1 +— +\(missing\)/);
    expect(out).toMatch(/app\.acme\.com +6 /);
    expect(out).toMatch(/evil\.example +1 /);
    expect(out).toContain("Unused scopes: leads:read");
    const command = `keyward keys update ${id} --scope campaigns:pause --scope campaigns:read`;
    expect(out).toContain(command);

    // The suggested command, run as printed, grants exactly what was used.
    const applied = await runCli(command.split(" ").slice(1), { env });
    expect(applied.code, applied.stderr).toBe(0);
    const after = await server.client(KeyAdminService).getKey({ id }, root());
    expect(after.apiKey!.scopes.toSorted()).toEqual(["campaigns:pause", "campaigns:read"]);
    const again = await runCli(["keys", "usage", id, "--since", "48h"], { env });
    expect(again.stdout).toContain("Suggestion: none");
  });

  it("keys usage --json is GetKeyUsageResponse, with the numbers", async () => {
    const r = await runCli(["keys", "usage", id, "--since", "2d", "--by", "hour", "--json"], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.keyId).toBe(id);
    expect(json.allowed).toBe("5");
    expect(json.denied).toBe("2");
    expect(json.deniedByReason).toEqual({ DOMAIN_NOT_ALLOWED: "1", SCOPE_MISSING: "1" });
    expect(json.bySource).toEqual({ grpc: "5", connect: "2" });
    expect(json.buckets.length).toBeGreaterThanOrEqual(48);
    expect(
      json.buckets.reduce((n: number, b: { allowed?: string }) => n + Number(b.allowed ?? 0), 0),
    ).toBe(5);
    const read = json.scopes.find((s: { scope: string }) => s.scope === "campaigns:read");
    expect(read).toMatchObject({ allowed: "3", grantedBy: "campaigns:all" });
  });

  it("keys usage refuses bad input with how to fix it, and the exit codes of the other commands", async () => {
    const bad = async (args: string[], code: number, message: RegExp) => {
      const r = await runCli(["keys", "usage", ...args], { env });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
      expect(r.stderr.split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    };
    // One of each path (flag refused before connecting, no id, refused by keyward); every range rule is in test/unit/cli-usage.test.ts.
    await bad(
      [id, "--since", "3x"],
      2,
      /--since must be a time back from now \(7d, 48h.*\) or a date \(2026-11-01.*got "3x"/,
    );
    await bad(
      [id, "--since", "40d", "--by", "hour"],
      2,
      /--by hour covers at most 800 hours: use --by day/,
    );
    await bad([], 2, /expected one key id/);
    await bad(["key_000000000000000000000000"], 1, /no key with id key_000000000000000000000000/);
    const help = await runCli(["keys", "usage", "--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: keyward keys usage ID \[--since T\]/);
    expect((await runCli(["keys", "--help"], { env })).stdout).toMatch(/usage ID/);
  });

  it("findings lists every kind found as a table with what to do; --kind filters; --json parses", async () => {
    const admin = server.client(KeyAdminService);
    const wild = await admin.createKey(
      { name: "wild", workspace: "findings", scopes: ["*"] },
      root(),
    );
    const wid = wild.apiKey!.id;
    const r = await runCli(["findings", "--workspace", "findings"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^KEY +NAME +KIND +SINCE +DETAIL +SUGGESTION$/m);
    expect(r.stdout).toMatch(new RegExp(`^${wid} +wild +wildcard +\\d{4}-.*Holds \\*`, "m"));
    expect(r.stdout).toMatch(
      new RegExp(
        `^${wid} +wild +no-expiry .*Never expires.*keyward keys update ${wid} --expires-in 90d$`,
        "m",
      ),
    );
    expect(r.stdout).not.toContain("\x1b[");

    const only = await runCli(["findings", "--workspace", "findings", "--kind", "no-expiry"], {
      env,
    });
    expect(only.code, only.stderr).toBe(0);
    expect(only.stdout).toContain("no-expiry");
    expect(only.stdout).not.toContain("wildcard");

    const json = await runCli(
      [
        "findings",
        "--workspace",
        "findings",
        "--kind",
        "FINDING_KIND_WILDCARD,no-expiry",
        "--json",
      ],
      { env },
    );
    expect(json.code, json.stderr).toBe(0);
    const kinds = JSON.parse(json.stdout).findings.map((f: { keyId: string; kind: string }) => [
      f.keyId,
      f.kind,
    ]);
    expect(kinds).toEqual([
      [wid, "FINDING_KIND_WILDCARD"],
      [wid, "FINDING_KIND_NO_EXPIRY"],
    ]);
    const none = await runCli(["findings", "--workspace", "findings", "--kind", "expiring-soon"], {
      env,
    });
    expect(none.stdout).toBe("no findings\n");
  });

  it("findings reads every page, and --limit stops early and says so", async () => {
    const admin = server.client(KeyAdminService);
    // 120 findings: more than one page of the CLI's 100.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        admin.createKey(
          { name: `wild ${i}`, workspace: "paging", scopes: ["campaigns:all"] },
          root(),
        ),
      ),
    );
    const all = await runCli(["findings", "--workspace", "paging", "--json"], { env });
    expect(all.code, all.stderr).toBe(0);
    const found = JSON.parse(all.stdout).findings as { keyId: string; kind: string }[];
    expect(found).toHaveLength(120);
    expect(new Set(found.map((f) => `${f.keyId} ${f.kind}`)).size).toBe(120);
    const some = await runCli(["findings", "--workspace", "paging", "--limit", "3"], { env });
    expect(some.code, some.stderr).toBe(0);
    expect(some.stdout.split("\n").filter((l) => l.startsWith("key_"))).toHaveLength(3);
    expect(some.stdout).toContain("raise --limit");
  });

  it("findings refuses an unknown kind listing the valid ones; another workspace is refused with exit 3", async () => {
    const r = await runCli(["findings", "--kind", "stale"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /unknown --kind "stale"; the kinds are never-used, unused, unused-scopes, wildcard, no-expiry, expiring-soon, retired-key-in-use, unexpected-denials/,
    );
    const acmeAdmin = await server
      .client(KeyAdminService)
      .createKey({ name: "acme admin", workspace: "acme", scopes: ["keyward:read"] }, root());
    const other = await runCli(["findings", "--workspace", "globex"], {
      env: { KEYWARD_URL: server.baseUrl, KEYWARD_ADMIN_KEY: acmeAdmin.key },
    });
    expect(other.code, other.stderr).toBe(3);
    expect(other.stderr).toMatch(/permission denied/);
    const help = await runCli(["findings", "--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/retired-key-in-use +revoked, rotated out or expired/);
  });
});
