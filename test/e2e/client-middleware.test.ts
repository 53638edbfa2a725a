import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { type Denial, requireScopes as expressScopes } from "../../src/client/express.js";
import { requireScopes as fastifyScopes } from "../../src/client/fastify.js";
import { createKeywardClient, type KeywardClient, keywardUrl } from "../../src/client/index.js";
import { makeCertificates } from "../support/certificates.js";
import { bearer, startTestServer, type TestServer } from "../support/harness.js";
import { freePort } from "../support/mongo-provider.js";

interface App {
  name: string;
  url: string;
  close(): Promise<void>;
}

/** The same three routes in Express and in Fastify, guarded by keyward's middleware. */
async function expressApp(client: KeywardClient, down: KeywardClient): Promise<App> {
  const app = express();
  app.get(
    "/campaigns",
    expressScopes(["campaigns:read"], { client }),
    (req, res) => void res.json({ keyward: req.keyward }),
  );
  app.post(
    "/campaigns/:id/pause",
    expressScopes(["campaigns:pause"], {
      client,
      workspace: (req) => req.get("x-workspace"),
      domain: "app.acme.com",
    }),
    (_req, res) => void res.json({ paused: true }),
  );
  app.get(
    "/down",
    expressScopes(["campaigns:read"], { client: down }),
    (_req, res) => void res.json({ reached: true }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return {
    name: "express",
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function fastifyApp(client: KeywardClient, down: KeywardClient): Promise<App> {
  const app: FastifyInstance = Fastify();
  app.get(
    "/campaigns",
    { preHandler: fastifyScopes(["campaigns:read"], { client }) },
    async (request) => ({ keyward: request.keyward }),
  );
  app.post(
    "/campaigns/:id/pause",
    {
      preHandler: fastifyScopes(["campaigns:pause"], {
        client,
        workspace: (r) => r.headers["x-workspace"] as string | undefined,
        domain: "app.acme.com",
      }),
    },
    async () => ({ paused: true }),
  );
  app.get(
    "/down",
    { preHandler: fastifyScopes(["campaigns:read"], { client: down }) },
    async () => ({ reached: true }),
  );
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { name: "fastify", url, close: () => app.close() };
}

describe("keyward/express and keyward/fastify in front of a real keyward", () => {
  let server: TestServer;
  const apps: App[] = [];
  const keys: Record<string, { key: string; id: string }> = {};

  beforeAll(async () => {
    server = await startTestServer();
    const admin = server.client(KeyAdminService);
    const root = bearer(server.rootKey);
    const make = async (name: string, init: { scopes: string[]; allowedDomains?: string[] }) => {
      const r = await admin.createKey({ name, workspace: "acme", ...init }, root);
      keys[name] = { key: r.key, id: r.apiKey!.id };
    };
    await make("reader", { scopes: ["campaigns:read"] });
    await make("writer", { scopes: ["campaigns:write"], allowedDomains: ["app.acme.com"] });
    await make("elsewhere", { scopes: ["campaigns:all"], allowedDomains: ["other.example.com"] });
    await make("revoked", { scopes: ["campaigns:all"] });
    await admin.revokeKey({ id: keys.revoked!.id }, root);
    const client = createKeywardClient({ url: server.baseUrl });
    // Nothing listens there: keyward "stopped".
    const down = createKeywardClient({ url: `http://127.0.0.1:${await freePort()}` });
    apps.push(await expressApp(client, down), await fastifyApp(client, down));
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await server?.stop();
  });

  const each = (fn: (a: App) => Promise<void>) => async () => {
    for (const a of apps) await fn(a);
  };

  it(
    "allow: the handler runs with req.keyward (keyId, workspace, scopes, expiresAt)",
    each(async (a) => {
      for (const headers of [
        { "x-api-key": keys.reader!.key },
        { authorization: `Bearer ${keys.reader!.key}` },
      ] as Record<string, string>[]) {
        const res = await fetch(`${a.url}/campaigns`, { headers });
        expect(res.status, a.name).toBe(200);
        expect(await res.json(), a.name).toEqual({
          keyward: {
            keyId: keys.reader!.id,
            workspace: "acme",
            scopes: ["campaigns:read"],
            expiresAt: null,
          },
        });
      }
      const pause = await fetch(`${a.url}/campaigns/7/pause`, {
        method: "POST",
        headers: { "x-api-key": keys.writer!.key, "x-workspace": "acme" },
      });
      expect(pause.status, a.name).toBe(200);
    }),
  );

  it.each([
    ["no key", "/campaigns", {}, 401, "KEY_MISSING"],
    ["a malformed key", "/campaigns", { "x-api-key": "kw_live_nope" }, 401, "KEY_MALFORMED"],
    [
      "an unknown key",
      "/campaigns",
      { "x-api-key": `kw_live_${"C".repeat(49)}` },
      401,
      "KEY_MALFORMED",
    ],
    ["a revoked key", "/campaigns", { "x-api-key": "revoked" }, 401, "KEY_REVOKED"],
    [
      "another workspace",
      "/campaigns/7/pause",
      { "x-api-key": "writer", "x-workspace": "globex" },
      403,
      "WORKSPACE_MISMATCH",
    ],
    [
      "a domain not allowed",
      "/campaigns/7/pause",
      { "x-api-key": "elsewhere", "x-workspace": "acme" },
      403,
      "DOMAIN_NOT_ALLOWED",
    ],
    [
      "a missing scope",
      "/campaigns/7/pause",
      { "x-api-key": "reader", "x-workspace": "acme" },
      403,
      "SCOPE_MISSING",
    ],
  ])(
    "deny (%s): the decision's status and the forward-auth JSON body",
    async (_name, path, h, status, reason) => {
      const headers = Object.fromEntries(
        Object.entries(h).map(([k, v]) => [k, keys[v] ? keys[v]!.key : v]),
      );
      for (const a of apps) {
        const res = await fetch(`${a.url}${path}`, {
          method: path.endsWith("pause") ? "POST" : "GET",
          headers,
        });
        expect(res.status, a.name).toBe(status);
        expect(res.headers.get("www-authenticate"), a.name).toBe(status === 401 ? "Bearer" : null);
        expect(res.headers.get("x-keyward-reason"), a.name).toBe(reason);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body, a.name).toMatchObject({
          statusCode: status,
          error: status === 401 ? "Unauthorized" : "Forbidden",
          reason,
        });
        expect(body.detail).toBe(body.message);
        expect(body.required).toEqual([
          path.endsWith("pause") ? "campaigns:pause" : "campaigns:read",
        ]);
        if (reason === "SCOPE_MISSING")
          expect(body).toMatchObject({
            message: "Missing required scopes: campaigns:pause",
            granted: ["campaigns:read"],
          });
      }
    },
  );

  it(
    "keyward unreachable: 503, and the handler never runs",
    each(async (a) => {
      const res = await fetch(`${a.url}/down`, { headers: { "x-api-key": keys.reader!.key } });
      expect(res.status, a.name).toBe(503);
      expect(await res.json(), a.name).toMatchObject({ statusCode: 503, reason: "UNAVAILABLE" });
    }),
  );

  it("the client: authorize() answers decisions, the admin client carries the admin key, a bad URL is named", async () => {
    const client = createKeywardClient({ url: server.baseUrl, adminKey: server.rootKey });
    expect(
      (await client.authorize(keys.reader!.key, ["campaigns:read"], { workspace: "acme" })).allowed,
    ).toBe(true);
    expect((await client.authorize(keys.reader!.key, ["campaigns:write"])).missingScopes).toEqual([
      "campaigns:write",
    ]);
    expect((await client.admin.getKey({ id: keys.reader!.id })).apiKey?.name).toBe("reader");
    expect(() => keywardUrl("localhost:50051")).toThrow(/must start with http:\/\/ or https:\/\//);
    expect(() => keywardUrl("http://")).toThrow(/not a URL/);
  });
});

/** A request that gets no answer (the old fail-open and hang paths) fails the test instead of hanging it. */
const get = (url: string, init: RequestInit = {}) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(3000) });

/** The response was cut short (the connection closed mid-answer): a failure to read it that is not our own timeout. */
const cut = (url: string) =>
  get(url)
    .then((r) => r.text())
    .then(
      () => false,
      (err: Error) => err.name !== "TimeoutError",
    );

/** The ways an app's onDeny can behave; each route's handler counts the requests that reached it. */
const ON_DENY = [
  "nothing",
  "throws",
  "rejects",
  "answers",
  "answers-later",
  "partial-then-throws",
] as const;
type OnDenyKind = (typeof ON_DENY)[number];

function expressOnDeny(
  kind: OnDenyKind,
): (d: Denial, req: express.Request, res: express.Response) => unknown {
  switch (kind) {
    case "nothing":
      return () => {};
    case "throws":
      return () => {
        throw new Error("onDeny bug");
      };
    case "rejects":
      return async () => {
        throw new Error("onDeny bug");
      };
    case "answers":
      return (d, _req, res) => void res.status(d.status).json({ error: { code: d.body.reason } });
    case "answers-later":
      return async (d, _req, res) => {
        await new Promise((r) => setImmediate(r));
        res.status(d.status).json({ error: { code: d.body.reason } });
      };
    case "partial-then-throws":
      return (_d, _req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("partial");
        throw new Error("onDeny bug after writing");
      };
  }
}

function fastifyOnDeny(
  kind: OnDenyKind,
): (d: Denial, req: FastifyRequest, reply: FastifyReply) => unknown {
  switch (kind) {
    case "answers":
      return (d, _req, reply) => void reply.code(d.status).send({ error: { code: d.body.reason } });
    case "answers-later":
      return async (d, _req, reply) => {
        await new Promise((r) => setImmediate(r));
        return reply.code(d.status).send({ error: { code: d.body.reason } });
      };
    case "partial-then-throws":
      return (_d, _req, reply) => {
        reply.raw.writeHead(200, { "content-type": "text/plain" });
        reply.raw.write("partial");
        throw new Error("onDeny bug after writing");
      };
    default:
      return expressOnDeny(kind) as never;
  }
}

describe("onDeny on both frameworks: a denied request never reaches the route", () => {
  let server: TestServer;
  const apps: App[] = [];
  const reached: Record<string, number> = { express: 0, fastify: 0 };
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => void rejections.push(reason);
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) =>
    void (w.code === "KEYWARD_DENY_FAILED" && warnings.push(w.message));

  beforeAll(async () => {
    process.on("unhandledRejection", onRejection);
    process.on("uncaughtException", onRejection);
    process.on("warning", onWarning);
    server = await startTestServer({ store: "memory" });
    const client = createKeywardClient({ url: server.baseUrl });
    const down = createKeywardClient({ url: `http://127.0.0.1:${await freePort()}` });

    const e = express();
    // Fastify answers an async onSend hook's reply later than send() returns: the case where "sent" is not yet "ended".
    const f: FastifyInstance = Fastify();
    f.addHook("onSend", async (_req, _reply, payload) => {
      await new Promise((r) => setImmediate(r));
      return payload;
    });
    for (const kind of ON_DENY) {
      e.get(
        `/${kind}`,
        expressScopes(["campaigns:read"], { client, onDeny: expressOnDeny(kind) }),
        (_q, r) => {
          reached.express!++;
          r.json({ reached: true });
        },
      );
      f.get(
        `/${kind}`,
        { preHandler: fastifyScopes(["campaigns:read"], { client, onDeny: fastifyOnDeny(kind) }) },
        async () => {
          reached.fastify!++;
          return { reached: true };
        },
      );
    }
    // An app whose res.json throws (here its JSON replacer): the default denial itself fails.
    const brokenJson = express();
    brokenJson.set("json replacer", () => {
      throw new Error("res.json bug");
    });
    brokenJson.get("/", expressScopes(["campaigns:read"], { client }), (_q, r) => {
      reached.express!++;
      r.end();
    });
    e.use("/broken-json", brokenJson);
    e.get(
      "/down",
      expressScopes(["campaigns:read"], { client: down, onDeny: () => {} }),
      (_q, r) => {
        reached.express!++;
        r.json({ reached: true });
      },
    );
    f.get(
      "/down",
      { preHandler: fastifyScopes(["campaigns:read"], { client: down, onDeny: () => {} }) },
      async () => {
        reached.fastify!++;
        return { reached: true };
      },
    );
    const es: Server = await new Promise((resolve) => {
      const s = e.listen(0, "127.0.0.1", () => resolve(s));
    });
    apps.push({
      name: "express",
      url: `http://127.0.0.1:${(es.address() as AddressInfo).port}`,
      close: () => new Promise((r) => es.close(() => r())),
    });
    apps.push({
      name: "fastify",
      url: await f.listen({ port: 0, host: "127.0.0.1" }),
      close: () => f.close(),
    });
  });
  afterAll(async () => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onRejection);
    process.off("warning", onWarning);
    for (const a of apps) await a.close();
    await server?.stop();
  });

  it.each(["nothing", "throws", "rejects"] as const)(
    "onDeny %s: the default denial is sent",
    async (kind) => {
      for (const a of apps) {
        const res = await get(`${a.url}/${kind}`);
        expect(res.status, a.name).toBe(401);
        expect(res.headers.get("x-keyward-reason"), a.name).toBe("KEY_MISSING");
        expect(await res.json(), a.name).toMatchObject({
          statusCode: 401,
          reason: "KEY_MISSING",
          required: ["campaigns:read"],
        });
      }
    },
  );

  it.each(["answers", "answers-later"] as const)(
    "onDeny %s itself: its answer is kept",
    async (kind) => {
      for (const a of apps) {
        const res = await get(`${a.url}/${kind}`, { headers: { "x-api-key": "kw_live_nope" } });
        expect(res.status, a.name).toBe(401);
        expect(await res.json(), a.name).toEqual({ error: { code: "KEY_MALFORMED" } });
      }
    },
  );

  it("onDeny that throws after writing part of an answer: the response is cut, not completed", async () => {
    for (const a of apps) {
      expect(await cut(`${a.url}/partial-then-throws`), a.name).toBe(true);
    }
  });

  it("Express whose res.json throws: the response is cut and the process carries on", async () => {
    expect(await cut(`${apps[0]!.url}/broken-json/`)).toBe(true);
  });

  it("keyward unreachable and an onDeny that answers nothing: 503", async () => {
    for (const a of apps) {
      const res = await get(`${a.url}/down`, {
        headers: { "x-api-key": `kw_live_${"C".repeat(49)}` },
      });
      expect(res.status, a.name).toBe(503);
      expect(await res.json(), a.name).toMatchObject({ statusCode: 503, reason: "UNAVAILABLE" });
    }
  });

  it("no route handler ran, the process saw no unhandled rejection, and a failing Express onDeny was reported", async () => {
    // Last in the file: every request above has been answered, so any rejection has had its turn.
    await new Promise((r) => setImmediate(r));
    expect(reached).toEqual({ express: 0, fastify: 0 });
    expect(rejections).toEqual([]);
    // Fastify reports through request.log; Express has no logger, so a process warning, once per route.
    expect(warnings).toHaveLength(4);
    expect(warnings.join("\n")).toContain("onDeny bug");
  });
});

describe("the client and the middleware's url option against a keyward that requires client certificates", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyward-client-tls-"));
  const read = (name: string) => readFileSync(join(dir, name));
  let server: TestServer;
  let url: string;
  let key: string;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    makeCertificates(dir);
    server = await startTestServer({
      store: "memory",
      env: {
        TLS_CERT_FILE: join(dir, "server.pem"),
        TLS_KEY_FILE: join(dir, "server.key"),
        TLS_CLIENT_CA_FILE: join(dir, "ca.pem"),
      },
    });
    url = `https://127.0.0.1:${server.port}`;
    const admin = createKeywardClient({
      url,
      adminKey: server.rootKey,
      ca: read("ca.pem"),
      cert: read("client.pem"),
      key: read("client.key"),
    });
    key = (
      await admin.admin.createKey({ name: "reader", workspace: "acme", scopes: ["campaigns:read"] })
    ).key;
  }, 30_000);
  afterAll(async () => {
    for (const close of closers) await close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("createKeywardClient with ca, cert and key (PEM strings or Buffers) is answered; without a client certificate it is refused", async () => {
    const pemStrings = createKeywardClient({
      url,
      ca: read("ca.pem").toString(),
      cert: read("client.pem").toString(),
      key: read("client.key").toString(),
    });
    expect((await pemStrings.authorize(key, ["campaigns:read"])).allowed).toBe(true);
    await expect(
      createKeywardClient({ url, ca: read("ca.pem") }).authorize(key, ["campaigns:read"]),
    ).rejects.toThrow(/certificate required/);
  });

  it("requireScopes({ url, tls }) on both frameworks: allowed with the client certificate; without it, 503 and the route never runs", async () => {
    const tls = { ca: read("ca.pem"), cert: read("client.pem"), key: read("client.key") };
    let reached = 0;
    const e = express();
    e.get("/with", expressScopes(["campaigns:read"], { url, tls }), (req, res) => {
      reached++;
      res.json(req.keyward);
    });
    e.get(
      "/without",
      expressScopes(["campaigns:read"], { url, tls: { ca: tls.ca } }),
      (_req, res) => {
        reached++;
        res.json({});
      },
    );
    const es: Server = await new Promise((resolve) => {
      const s = e.listen(0, "127.0.0.1", () => resolve(s));
    });
    closers.push(() => new Promise((r) => es.close(() => r())));
    const f = Fastify();
    f.get(
      "/with",
      { preHandler: fastifyScopes(["campaigns:read"], { url, tls }) },
      async (request) => {
        reached++;
        return request.keyward;
      },
    );
    f.get(
      "/without",
      { preHandler: fastifyScopes(["campaigns:read"], { url, tls: { ca: tls.ca } }) },
      async () => {
        reached++;
        return {};
      },
    );
    closers.push(() => f.close());
    for (const base of [
      `http://127.0.0.1:${(es.address() as AddressInfo).port}`,
      await f.listen({ port: 0, host: "127.0.0.1" }),
    ]) {
      const ok = await get(`${base}/with`, { headers: { "x-api-key": key } });
      expect(ok.status, base).toBe(200);
      expect(await ok.json(), base).toMatchObject({
        workspace: "acme",
        scopes: ["campaigns:read"],
      });
      const refused = await get(`${base}/without`, { headers: { "x-api-key": key } });
      expect(refused.status, base).toBe(503);
    }
    expect(reached).toBe(2);
  });

  it("TLS material that cannot work is refused when the client is made, naming the option", () => {
    expect(() =>
      createKeywardClient({ url: `http://127.0.0.1:${server.port}`, ca: read("ca.pem") }),
    ).toThrow(/ca given but the URL .* is not https:\/\//);
    expect(() => createKeywardClient({ url, cert: read("client.pem") })).toThrow(
      /cert given without key/,
    );
    expect(() => createKeywardClient({ url, ca: "" })).toThrow(/ca is empty/);
    expect(() =>
      createKeywardClient({ url, cert: read("client.pem"), key: read("server.key") }),
    ).toThrow(/cert, key cannot be used/);
    expect(() =>
      expressScopes(["campaigns:read"], {
        url: `http://127.0.0.1:${server.port}`,
        tls: { ca: read("ca.pem") },
      }),
    ).toThrow(/not https:\/\//);
  });
});
