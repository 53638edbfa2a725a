import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { type Gateway, startGateway } from "../support/gateways.js";
import { bearer, startTestServer, type TestServer, waitFor } from "../support/harness.js";

describe("keyward behind a real nginx (auth_request) and a real Caddy (forward_auth)", () => {
  let server: TestServer;
  let upstream: http.Server;
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  const gateways: Gateway[] = [];
  let dir: string;
  let reader: { key: string; id: string };
  let leadsOnly: string;
  let domainRestricted: string;

  beforeAll(async () => {
    server = await startTestServer();
    const admin = server.client(KeyAdminService);
    const root = bearer(server.rootKey);
    const r = await admin.createKey(
      { name: "reader", workspace: "acme", scopes: ["campaigns:read"] },
      root,
    );
    reader = { key: r.key, id: r.apiKey!.id };
    leadsOnly = (
      await admin.createKey({ name: "leads", workspace: "acme", scopes: ["leads:read"] }, root)
    ).key;
    domainRestricted = (
      await admin.createKey(
        {
          name: "domain",
          workspace: "acme",
          scopes: ["campaigns:read"],
          allowedDomains: ["app.acme.com"],
        },
        root,
      )
    ).key;
    upstream = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ upstream: "campaigns", headers: req.headers }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    const httpPort = Number(new URL(server.httpUrl).port);
    dir = mkdtempSync(join(tmpdir(), "keyward-gateways-"));
    for (const name of ["nginx", "caddy"] as const) {
      const gdir = join(dir, name);
      mkdirSync(gdir, { recursive: true });
      gateways.push(await startGateway(name, gdir, httpPort, upstreamPort));
    }
  }, 60_000);

  afterAll(async () => {
    for (const g of gateways) {
      g.child.kill("SIGTERM");
      await new Promise((r) => (g.child.exitCode !== null ? r(null) : g.child.once("exit", r)));
    }
    await new Promise((r) => upstream?.close(r));
    await server?.stop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const each = (fn: (g: Gateway) => Promise<void>) => async () => {
    for (const g of gateways) await fn(g);
  };

  it(
    "no key: 401 with WWW-Authenticate: Bearer and a JSON body, the upstream never reached",
    each(async (g) => {
      const before = seen.length;
      const res = await fetch(`${g.url}/campaigns`);
      expect(res.status, g.name).toBe(401);
      expect(res.headers.get("www-authenticate"), g.name).toBe("Bearer");
      expect(await res.json(), g.name).toMatchObject({ statusCode: 401, reason: "KEY_MISSING" });
      expect(seen.length).toBe(before);
    }),
  );

  it(
    "an unknown key: 401",
    each(async (g) => {
      const res = await fetch(`${g.url}/campaigns`, {
        headers: { "x-api-key": `kw_live_${"B".repeat(49)}` },
      });
      expect(res.status, g.name).toBe(401);
    }),
  );

  it(
    "a key without the route's scope: 403, and the client sees which scope is missing",
    each(async (g) => {
      const res = await fetch(`${g.url}/campaigns`, {
        headers: { authorization: `Bearer ${leadsOnly}`, "x-keyward-scopes": "leads:read" },
      });
      expect(res.status, g.name).toBe(403);
      const body = (await res.json()) as { message: string };
      expect(body, g.name).toMatchObject({ statusCode: 403, reason: "SCOPE_MISSING" });
      expect(body.message, g.name).toContain("campaigns:read");
    }),
  );

  it(
    "a client naming its key's allowed domain itself, in X-Keyward-* headers or the query, is refused and never reaches the upstream",
    each(async (g) => {
      const before = seen.length;
      const headers = {
        "x-api-key": domainRestricted,
        "x-keyward-domain": "app.acme.com",
        "x-keyward-scopes": "",
        "x-keyward-workspace": "acme",
      };
      const res = await fetch(`${g.url}/campaigns?domain=app.acme.com&scopes=`, { headers });
      expect(res.status, g.name).toBe(403);
      expect(await res.json(), g.name).toMatchObject({ reason: "DOMAIN_NOT_ALLOWED" });
      expect(seen.length, g.name).toBe(before);
    }),
  );

  it(
    "a valid key: 200 from the upstream, which sees X-Keyward-Key-Id and X-Keyward-Workspace (a forged one replaced)",
    each(async (g) => {
      const res = await fetch(`${g.url}/campaigns`, {
        headers: { "x-api-key": reader.key, "x-keyward-key-id": "forged" },
      });
      expect(res.status, g.name).toBe(200);
      const body = (await res.json()) as { upstream: string; headers: Record<string, string> };
      expect(body.upstream).toBe("campaigns");
      expect(body.headers["x-keyward-key-id"], g.name).toBe(reader.id);
      expect(body.headers["x-keyward-workspace"], g.name).toBe("acme");
      expect(body.headers["x-keyward-scopes"], g.name).toBe("campaigns:read");
    }),
  );

  it("a key revoked through KeyAdmin is refused through both gateways within 1 s", async () => {
    const start = Date.now();
    await server
      .client(KeyAdminService)
      .revokeKey({ id: reader.id, reason: "gateway test" }, bearer(server.rootKey));
    for (const g of gateways) {
      await waitFor(
        async () =>
          (await fetch(`${g.url}/campaigns`, { headers: { "x-api-key": reader.key } })).status ===
          401,
        1000 - (Date.now() - start),
        `${g.name} refuses the revoked key`,
      );
    }
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it("keyward stopped: each gateway answers 5xx, never the upstream's 200", async () => {
    const admin = server.client(KeyAdminService);
    const live = (
      await admin.createKey(
        { name: "live", workspace: "acme", scopes: ["campaigns:read"] },
        bearer(server.rootKey),
      )
    ).key;
    for (const g of gateways)
      expect((await fetch(`${g.url}/campaigns`, { headers: { "x-api-key": live } })).status).toBe(
        200,
      );
    await server.stop();
    const before = seen.length;
    for (const g of gateways) {
      const res = await fetch(`${g.url}/campaigns`, { headers: { "x-api-key": live } });
      expect(res.status, `${g.name}: ${g.output().slice(-300)}`).toBeGreaterThanOrEqual(500);
    }
    expect(seen.length).toBe(before);
  });
});
