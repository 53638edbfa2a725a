import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { create, toJson } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Authorization,
  CheckRequestSchema,
} from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { goTool } from "../support/go-tools.js";
import { grpcJsClient, grpcJsUnary } from "../support/grpc-js-client.js";
import { bearer, startTestServer, type TestServer } from "../support/harness.js";

const execFileAsync = promisify(execFile);

interface CurlAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** curl over HTTP/1.1, as nginx and Caddy talk to an auth service. */
async function curl(
  url: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<CurlAnswer> {
  const args = [
    "-sS",
    "--http1.1",
    "-X",
    method,
    "-D",
    "-",
    ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
    url,
  ];
  const { stdout } = await execFileAsync("curl", args, { encoding: "utf8" });
  const [head, ...rest] = stdout.split("\r\n\r\n");
  const lines = head!.split("\r\n");
  const status = Number(lines[0]!.split(" ")[1]);
  const parsed: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    parsed[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers: parsed, body: rest.join("\r\n\r\n") };
}

describe("gateways: forward auth on HTTP_PORT and Envoy ext_authz on PORT", () => {
  let server: TestServer;
  /** FORWARD_AUTH_TRUST_HEADERS=true, its own keys (memory store). */
  let trusting: TestServer;
  let trustingKey: string;
  let trustingDomainKey: string;
  let key: string;
  let keyId: string;
  let domainKey: string;
  let revokedKey: string;
  let expiredKey: string;
  /** Moved forward once the expiring key exists, so it expires without a sleep. */
  let clockSkewMs = 0;

  beforeAll(async () => {
    [server, trusting] = await Promise.all([
      startTestServer({ overrides: { now: () => new Date(Date.now() + clockSkewMs) } }),
      startTestServer({ store: "memory", env: { FORWARD_AUTH_TRUST_HEADERS: "true" } }),
    ]);
    const admin = server.client(KeyAdminService);
    const root = bearer(server.rootKey);
    const created = await admin.createKey(
      { name: "gw", workspace: "acme", scopes: ["campaigns:read", "leads:all"] },
      root,
    );
    key = created.key;
    keyId = created.apiKey!.id;
    domainKey = (
      await admin.createKey(
        {
          name: "gw domain",
          workspace: "acme",
          scopes: ["campaigns:read"],
          allowedDomains: ["app.acme.com"],
        },
        root,
      )
    ).key;
    const revoked = await admin.createKey(
      { name: "gw revoked", workspace: "acme", scopes: ["campaigns:read"] },
      root,
    );
    await admin.revokeKey({ id: revoked.apiKey!.id }, root);
    revokedKey = revoked.key;
    const expiring = await admin.createKey(
      {
        name: "gw expiring",
        workspace: "acme",
        scopes: ["campaigns:read"],
        expiresAt: timestampFromDate(new Date(Date.now() + 60_000)),
      },
      root,
    );
    expiredKey = expiring.key;
    clockSkewMs = 120_000;
    const trustingAdmin = trusting.client(KeyAdminService);
    trustingKey = (
      await trustingAdmin.createKey(
        { name: "gw", workspace: "acme", scopes: ["campaigns:read"] },
        bearer(trusting.rootKey),
      )
    ).key;
    trustingDomainKey = (
      await trustingAdmin.createKey(
        {
          name: "gw domain",
          workspace: "acme",
          scopes: ["campaigns:read"],
          allowedDomains: ["app.acme.com"],
        },
        bearer(trusting.rootKey),
      )
    ).key;
  });
  afterAll(async () => Promise.all([server?.stop(), trusting?.stop()]));

  const keyFor = (v: string) =>
    ({ KEY: key, REVOKED: revokedKey, EXPIRED: expiredKey, DOMAIN_KEY: domainKey })[v] ?? v;

  describe("/v1/check", () => {
    const check = (headers: Record<string, string>, query = "", method = "GET") =>
      curl(`${server.httpUrl}/v1/check${query}`, headers, method);

    it("allows: 200 with X-Keyward-Key-Id, -Workspace and -Scopes, whether the key comes as X-API-Key or Bearer", async () => {
      for (const auth of [{ "X-API-Key": key }, { Authorization: `Bearer ${key}` }] as Record<
        string,
        string
      >[]) {
        const r = await check(auth, "?scopes=campaigns:read,%20leads:read");
        expect(r.status).toBe(200);
        expect(r.headers).toMatchObject({
          "x-keyward-key-id": keyId,
          "x-keyward-workspace": "acme",
          "x-keyward-scopes": "campaigns:read,leads:all",
        });
      }
    });

    it("takes scopes, workspace and domain from the query too, and accepts any method", async () => {
      expect(
        (
          await check(
            { "X-API-Key": domainKey },
            "?scopes=campaigns:read&workspace=acme&domain=app.acme.com",
            "POST",
          )
        ).status,
      ).toBe(200);
      expect(
        (await check({ "X-API-Key": domainKey }, "?scopes=campaigns:read&domain=evil.com", "PUT"))
          .status,
      ).toBe(403);
    });

    it.each([
      ["no key", {}, "", 401, "KEY_MISSING"],
      ["a malformed key", { "X-API-Key": "kw_live_nope" }, "", 401, "KEY_MALFORMED"],
      ["an unknown key", { "X-API-Key": `kw_live_${"A".repeat(49)}` }, "", 401, "KEY_MALFORMED"],
      ["a revoked key", { "X-API-Key": "REVOKED" }, "", 401, "KEY_REVOKED"],
      ["an expired key", { "X-API-Key": "EXPIRED" }, "", 401, "KEY_EXPIRED"],
      ["another workspace", { "X-API-Key": "KEY" }, "?workspace=globex", 403, "WORKSPACE_MISMATCH"],
      [
        "a domain not allowed",
        { "X-API-Key": "DOMAIN_KEY" },
        "?domain=evil.com",
        403,
        "DOMAIN_NOT_ALLOWED",
      ],
      ["a missing scope", { "X-API-Key": "KEY" }, "?scopes=campaigns:write", 403, "SCOPE_MISSING"],
    ])(
      "denies %s with its status, reason headers and the JSON body",
      async (_name, h, query, status, reason) => {
        const headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, keyFor(v)]));
        const r = await check(headers, query);
        expect(r.status).toBe(status);
        expect(r.headers["x-keyward-reason"]).toBe(reason);
        expect(r.headers["x-keyward-message"]).toBeTruthy();
        expect(r.headers["www-authenticate"]).toBe(status === 401 ? "Bearer" : undefined);
        const body = JSON.parse(r.body);
        expect(body).toMatchObject({
          statusCode: status,
          error: status === 401 ? "Unauthorized" : "Forbidden",
          reason,
        });
        expect(body.detail).toBe(body.message);
        expect(Array.isArray(body.required) && Array.isArray(body.granted)).toBe(true);
        if (reason === "SCOPE_MISSING")
          expect(body).toMatchObject({
            message: "Missing required scopes: campaigns:write",
            required: ["campaigns:write"],
            granted: ["campaigns:read", "leads:all"],
          });
      },
    );

    it("the gateway's query wins over a client's own X-Keyward-* headers", async () => {
      for (const [target, k] of [
        [server, key],
        [trusting, trustingKey],
      ] as const) {
        const r = await curl(`${target.httpUrl}/v1/check?scopes=campaigns:write&workspace=globex`, {
          "X-API-Key": k,
          "X-Keyward-Scopes": "campaigns:read",
          "X-Keyward-Workspace": "acme",
        });
        expect(r.status).toBe(403);
        expect(r.headers["x-keyward-reason"]).toBe("WORKSPACE_MISMATCH");
      }
    });

    it("by default ignores a client's X-Keyward-Domain, -Workspace and -Scopes: a domain-restricted key cannot name its own domain", async () => {
      const forgedDomain = await check({
        "X-API-Key": domainKey,
        "X-Keyward-Domain": "app.acme.com",
      });
      // Not read, and not answered as if the route required nothing: refused, naming the setting.
      expect(forgedDomain.status).toBe(400);
      expect(forgedDomain.body).toContain("FORWARD_AUTH_TRUST_HEADERS");
      const forgedScopes = await check({
        "X-API-Key": key,
        "X-Keyward-Scopes": "campaigns:write",
        "X-Keyward-Workspace": "globex",
      });
      expect(forgedScopes.status).toBe(400);
      expect(forgedScopes.headers["x-keyward-reason"]).toBe("INVALID_ARGUMENT");
    });

    it("with FORWARD_AUTH_TRUST_HEADERS=true reads X-Keyward-Domain, -Workspace and -Scopes where the query is silent", async () => {
      const trusted = (headers: Record<string, string>, path = "/v1/check") =>
        curl(`${trusting.httpUrl}${path}`, headers);
      expect(
        (await trusted({ "X-API-Key": trustingDomainKey, "X-Keyward-Domain": "app.acme.com" }))
          .status,
      ).toBe(200);
      expect(
        (await trusted({ "X-API-Key": trustingDomainKey, "X-Keyward-Domain": "evil.example" }))
          .headers["x-keyward-reason"],
      ).toBe("DOMAIN_NOT_ALLOWED");
      expect(
        (await trusted({ "X-API-Key": trustingKey, "X-Keyward-Scopes": "campaigns:write" }))
          .headers["x-keyward-reason"],
      ).toBe("SCOPE_MISSING");
      expect(
        (await trusted({ "X-API-Key": trustingKey, "X-Keyward-Workspace": "globex" })).headers[
          "x-keyward-reason"
        ],
      ).toBe("WORKSPACE_MISMATCH");
      // Envoy's HTTP ext_authz sets them with headers_to_add behind /v1/check/<client path>.
      expect(
        (
          await trusted(
            { "X-API-Key": trustingKey, "X-Keyward-Scopes": "campaigns:write" },
            "/v1/check/campaigns?scopes=campaigns:read",
          )
        ).headers["x-keyward-reason"],
      ).toBe("SCOPE_MISSING");
    });

    it("answers /v1/check/<client path> (Envoy's HTTP ext_authz), taking nothing from the client's path or query", async () => {
      const allowed = await check({ "X-API-Key": key }, "/some/path?x");
      expect(allowed.status).toBe(200);
      expect(allowed.headers["x-keyward-key-id"]).toBe(keyId);
      expect((await check({}, "/some/path?x")).status).toBe(401);
      // The client wrote this query: it neither loosens (domain) nor is taken as the route's requirement (scopes, workspace).
      const loosened = await check({ "X-API-Key": domainKey }, "/campaigns?domain=app.acme.com");
      expect(loosened.status).toBe(403);
      expect(loosened.headers["x-keyward-reason"]).toBe("DOMAIN_NOT_ALLOWED");
      expect(
        (
          await check(
            { "X-API-Key": key },
            "/campaigns?scopes=campaigns:write&workspace=globex",
            "POST",
          )
        ).status,
      ).toBe(200);
      // Envoy's headers_to_add without FORWARD_AUTH_TRUST_HEADERS: refused, not answered as if the route required nothing.
      expect(
        (await check({ "X-API-Key": key, "X-Keyward-Scopes": "campaigns:write" }, "/")).status,
      ).toBe(400);
      // Only /v1/check and /v1/check/…: a look-alike path is not forward auth.
      expect((await check({ "X-API-Key": key }, "s")).status).toBe(404);
    });

    it("answers 400 naming where the scopes came from when the gateway's scopes are not scopes", async () => {
      const fromQuery = await check({ "X-API-Key": key }, "?scopes=Campaigns:Read");
      expect(fromQuery.status).toBe(400);
      expect(JSON.parse(fromQuery.body).message).toContain("?scopes=");
      const fromHeader = await curl(`${trusting.httpUrl}/v1/check`, {
        "X-API-Key": trustingKey,
        "X-Keyward-Scopes": "Campaigns:Read",
      });
      expect(fromHeader.status).toBe(400);
      expect(JSON.parse(fromHeader.body).message).toContain("X-Keyward-Scopes");
    });

    it("serves /healthz for load balancers", async () => {
      const r = await curl(`${server.httpUrl}/healthz`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ status: "SERVING" });
    });
  });

  describe("envoy.service.auth.v3.Authorization/Check", () => {
    const envoyCheck = async (
      headers: Record<string, string>,
      ext: Record<string, string> = {},
    ) => {
      const client = grpcJsClient(server.port);
      try {
        return await grpcJsUnary(client, Authorization.method.check, {
          attributes: {
            request: {
              http: {
                method: "GET",
                path: "/campaigns",
                host: "api.acme.com",
                headers: { ":authority": "api.acme.com", ...headers },
              },
            },
            contextExtensions: ext,
          },
        });
      } finally {
        client.close();
      }
    };

    it("allows with OK and the X-Keyward-* headers in ok_response, overwriting what the client sent", async () => {
      const res = await envoyCheck(
        { "x-api-key": key, "x-keyward-key-id": "forged" },
        { "keyward.scopes": "campaigns:read", "keyward.workspace": "acme" },
      );
      expect(res.status?.code).toBe(0);
      expect(res.httpResponse.case).toBe("okResponse");
      const headers = res.httpResponse.case === "okResponse" ? res.httpResponse.value.headers : [];
      expect(Object.fromEntries(headers.map((h) => [h.header!.key, h.header!.value]))).toEqual({
        "X-Keyward-Key-Id": keyId,
        "X-Keyward-Workspace": "acme",
        "X-Keyward-Scopes": "campaigns:read,leads:all",
      });
      expect(headers.every((h) => h.appendAction === 2 /* OVERWRITE_IF_EXISTS_OR_ADD */)).toBe(
        true,
      );
    });

    it("never takes scopes, workspace or domain from the client's headers, only from the route", async () => {
      const res = await envoyCheck(
        { "x-api-key": key, "x-keyward-scopes": "campaigns:read", "x-keyward-workspace": "acme" },
        { "keyward.scopes": "campaigns:write" },
      );
      expect(res.status?.code).toBe(Code.PermissionDenied);
      const bypass = await envoyCheck(
        { "x-api-key": domainKey, "x-keyward-domain": "app.acme.com" },
        { "keyward.domain": "evil.com" },
      );
      expect(bypass.status?.code).toBe(Code.PermissionDenied);
    });

    it.each([
      ["no key", {}, {}, 401, Code.Unauthenticated, "KEY_MISSING"],
      [
        "a malformed key",
        { authorization: "Bearer nope" },
        {},
        401,
        Code.Unauthenticated,
        "KEY_MALFORMED",
      ],
      ["a revoked key", { "x-api-key": "REVOKED" }, {}, 401, Code.Unauthenticated, "KEY_REVOKED"],
      ["an expired key", { "x-api-key": "EXPIRED" }, {}, 401, Code.Unauthenticated, "KEY_EXPIRED"],
      [
        "another workspace",
        { "x-api-key": "KEY" },
        { "keyward.workspace": "globex" },
        403,
        Code.PermissionDenied,
        "WORKSPACE_MISMATCH",
      ],
      [
        "a domain not allowed",
        { "x-api-key": "DOMAIN_KEY" },
        { "keyward.domain": "evil.com" },
        403,
        Code.PermissionDenied,
        "DOMAIN_NOT_ALLOWED",
      ],
      [
        "a missing scope",
        { "x-api-key": "KEY" },
        { "keyward.scopes": "campaigns:write" },
        403,
        Code.PermissionDenied,
        "SCOPE_MISSING",
      ],
      [
        "scopes that are not scopes",
        { "x-api-key": "KEY" },
        { "keyward.scopes": "Bad Scope" },
        400,
        Code.InvalidArgument,
        "INVALID_ARGUMENT",
      ],
    ])(
      "denies %s with its denied_response status, the matching gRPC status and the JSON body",
      async (_name, h, ext, status, code, reason) => {
        const headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, keyFor(v)]));
        const res = await envoyCheck(headers, ext);
        expect(res.status?.code).toBe(code);
        expect(res.httpResponse.case).toBe("deniedResponse");
        if (res.httpResponse.case !== "deniedResponse") return;
        expect(res.httpResponse.value.status?.code).toBe(status);
        expect(JSON.parse(res.httpResponse.value.body)).toMatchObject({
          statusCode: status,
          reason,
        });
        const headerMap = Object.fromEntries(
          res.httpResponse.value.headers.map((x) => [x.header!.key, x.header!.value]),
        );
        expect(headerMap["X-Keyward-Reason"]).toBe(reason);
        expect(headerMap["WWW-Authenticate"]).toBe(status === 401 ? "Bearer" : undefined);
      },
    );

    it("counts gateway decisions under their own source label", async () => {
      await envoyCheck({ "x-api-key": key });
      await curl(`${server.httpUrl}/v1/check`, { "x-api-key": key });
      const text = await server.app.metrics.registry.getSingleMetricAsString(
        "keyward_authorize_decisions_total",
      );
      expect(text).toMatch(
        /keyward_authorize_decisions_total\{reason="OK",source="ext_authz"\} [1-9]/,
      );
      expect(text).toMatch(
        /keyward_authorize_decisions_total\{reason="OK",source="forward_auth"\} [1-9]/,
      );
    });

    it("is visible over reflection and answers grpcurl", async () => {
      const grpcurl = goTool("grpcurl", "GRPCURL_BIN");
      const target = `127.0.0.1:${server.port}`;
      const list = (
        await execFileAsync(grpcurl, ["-plaintext", target, "list"], { encoding: "utf8" })
      ).stdout;
      expect(list).toContain("envoy.service.auth.v3.Authorization");
      const request = toJson(
        CheckRequestSchema,
        create(CheckRequestSchema, {
          attributes: {
            request: { http: { headers: { "x-api-key": key } } },
            contextExtensions: { "keyward.scopes": "campaigns:write" },
          },
        }),
      );
      const { stdout } = await execFileAsync(
        grpcurl,
        [
          "-plaintext",
          "-d",
          JSON.stringify(request),
          target,
          "envoy.service.auth.v3.Authorization/Check",
        ],
        { encoding: "utf8" },
      );
      const res = JSON.parse(stdout);
      expect(res.status.code).toBe(Code.PermissionDenied);
      expect(res.deniedResponse.status.code).toBe("Forbidden");
      expect(JSON.parse(res.deniedResponse.body).required).toEqual(["campaigns:write"]);
    });
  });

  /**
   * Traefik and Envoy are not installed where the tests run, so these replay
   * what each sends keyward, from the very files docs/gateways.md shows.
   */
  describe("the documented Traefik and Envoy configs, replayed as those gateways send them", () => {
    const config = (name: string, values: Record<string, string | number> = {}) =>
      Object.entries(values).reduce(
        (text, [k, v]) => text.replaceAll(`{{${k}}}`, String(v)),
        readFileSync(new URL(`../gateways/${name}`, import.meta.url), "utf8"),
      );
    const list = (text: string, field: string) =>
      [...new RegExp(`${field}: \\[([^\\]]*)\\]`).exec(text)![1]!.matchAll(/"([^"]+)"/g)].map(
        (m) => m[1]!,
      );
    /** A client holding a domain-restricted key, naming the allowed domain itself and loosening the route. */
    const forged = {
      "X-Keyward-Domain": "app.acme.com",
      "X-Keyward-Scopes": "",
      "X-Keyward-Workspace": "acme",
    };

    it("Traefik ForwardAuth: the address as written, only the key headers of the client", async () => {
      const traefik = config("traefik.yml", { KEYWARD: new URL(server.httpUrl).port, UPSTREAM: 1 });
      const address = /address: "([^"]+)"/.exec(traefik)![1]!;
      const passed = list(traefik, "authRequestHeaders").map((h) => h.toLowerCase());
      expect(passed.sort()).toEqual(["authorization", "x-api-key"]);
      expect(list(traefik, "authResponseHeaders")).toEqual([
        "X-Keyward-Key-Id",
        "X-Keyward-Workspace",
        "X-Keyward-Scopes",
      ]);
      const send = (client: Record<string, string>) =>
        curl(address, {
          ...Object.fromEntries(
            Object.entries(client).filter(([h]) => passed.includes(h.toLowerCase())),
          ),
          "X-Forwarded-Uri": "/campaigns?domain=app.acme.com",
        });
      const bypass = await send({ "X-API-Key": domainKey, ...forged });
      expect(bypass.headers["x-keyward-reason"]).toBe("DOMAIN_NOT_ALLOWED");
      const ok = await send({ Authorization: `Bearer ${key}`, ...forged });
      expect(ok.status).toBe(200);
      expect(ok.headers["x-keyward-key-id"]).toBe(keyId);
      // Why authRequestHeaders: Traefik's default passes every header on, and a keyward told to trust them is then bypassed.
      const { pathname, search } = new URL(address);
      expect(
        (
          await curl(`${trusting.httpUrl}${pathname}${search}`, {
            "X-API-Key": trustingDomainKey,
            ...forged,
          })
        ).status,
      ).toBe(200);
    });

    it("Envoy HTTP ext_authz: path_prefix then the client's path and query, Authorization and allowed_headers, headers_to_add over the client's", async () => {
      const envoy = config("envoy-http.yaml", { KEYWARD: new URL(trusting.httpUrl).port });
      const prefix = /path_prefix: (\S+)/.exec(envoy)![1]!;
      expect(prefix).toBe("/v1/check");
      const allowed = [
        .../allowed_headers:\s+patterns: \[([^\]]*)\]/
          .exec(envoy)![1]!
          .matchAll(/exact: ([\w-]+)/g),
      ].map((m) => m[1]!);
      expect(allowed).toEqual(["x-api-key"]);
      const added = Object.fromEntries(
        [...envoy.matchAll(/\{ key: ([\w-]+), value: "([^"]*)" \}/g)].map((m) => [m[1]!, m[2]!]),
      );
      expect(added).toEqual({
        "x-keyward-scopes": "campaigns:read",
        "x-keyward-workspace": "acme",
      });
      const send = (client: Record<string, string>, path: string) => {
        const passed = Object.fromEntries(
          Object.entries(client).filter(([h]) =>
            ["authorization", ...allowed].includes(h.toLowerCase()),
          ),
        );
        return curl(`${trusting.httpUrl}${prefix}${path}`, { ...passed, ...added });
      };
      const ok = await send(
        { "x-api-key": trustingKey, "x-keyward-workspace": "globex" },
        "/campaigns?scopes=campaigns:write",
      );
      expect(ok.status).toBe(200);
      expect(ok.headers["x-keyward-workspace"]).toBe("acme");
      const bypass = await send(
        { "x-api-key": trustingDomainKey, ...forged },
        "/campaigns?domain=app.acme.com",
      );
      expect(bypass.headers["x-keyward-reason"]).toBe("DOMAIN_NOT_ALLOWED");
    });

    it("Envoy gRPC ext_authz: the route's context_extensions, every client header", async () => {
      const envoy = config("envoy-grpc.yaml");
      expect(envoy).toMatch(/failure_mode_allow: false/);
      const ext = Object.fromEntries(
        [
          .../context_extensions: \{([^}]*)\}/.exec(envoy)![1]!.matchAll(/([\w.]+): "([^"]*)"/g),
        ].map((m) => [m[1]!, m[2]!]),
      );
      expect(ext).toEqual({ "keyward.scopes": "campaigns:read", "keyward.workspace": "acme" });
      const client = grpcJsClient(server.port);
      try {
        const send = (headers: Record<string, string>) =>
          grpcJsUnary(client, Authorization.method.check, {
            attributes: {
              request: { http: { method: "GET", path: "/campaigns?domain=app.acme.com", headers } },
              contextExtensions: ext,
            },
          });
        expect(
          (await send({ "x-api-key": key, "x-keyward-workspace": "globex" })).status?.code,
        ).toBe(0);
        const bypass = await send({ "x-api-key": domainKey, "x-keyward-domain": "app.acme.com" });
        expect(bypass.status?.code).toBe(Code.PermissionDenied);
        expect(
          bypass.httpResponse.case === "deniedResponse" &&
            JSON.parse(bypass.httpResponse.value.body).reason,
        ).toBe("DOMAIN_NOT_ALLOWED");
      } finally {
        client.close();
      }
    });
  });

  describe("a 401 tells whoever presents a revoked or expired key nothing about it", () => {
    const cases = [
      ["revoked", () => revokedKey, Reason.KEY_REVOKED],
      ["expired", () => expiredKey, Reason.KEY_EXPIRED],
    ] as const;

    it.each(cases)(
      "%s: Authorize over gRPC (PORT) and Connect (HTTP_PORT) answers the reason, status and message only",
      async (_name, k, reason) => {
        const client = grpcJsClient(server.port);
        try {
          const overGrpc = await grpcJsUnary(client, AuthorizeService.method.authorize, {
            credential: { case: "apiKey", value: k() },
            requiredScopes: ["campaigns:read"],
          });
          const connect = createClient(
            AuthorizeService,
            createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "1.1" }),
          );
          const overConnect = await connect.authorize({
            credential: { case: "apiKey", value: k() },
            requiredScopes: ["campaigns:read"],
          });
          for (const res of [overGrpc, overConnect]) {
            expect(res).toMatchObject({
              allowed: false,
              reason,
              httpStatus: 401,
              keyId: "",
              workspace: "",
              grantedScopes: [],
              missingScopes: [],
            });
            expect(res.message).toMatch(/^API key has (been revoked|expired)$/);
            expect(res.expiresAt).toBeUndefined();
          }
        } finally {
          client.close();
        }
      },
    );

    it.each(cases)(
      "%s: forward auth and ext_authz answer no key id, workspace or granted scopes",
      async (_name, k, reason) => {
        const r = await curl(`${server.httpUrl}/v1/check?scopes=campaigns:read`, {
          "X-API-Key": k(),
        });
        expect(r.status).toBe(401);
        expect(
          Object.keys(r.headers)
            .filter((h) => h.startsWith("x-keyward-"))
            .sort(),
        ).toEqual(["x-keyward-message", "x-keyward-reason"]);
        expect(JSON.parse(r.body)).toMatchObject({ reason: Reason[reason], granted: [] });
        expect(r.body).not.toContain("acme");
        const client = grpcJsClient(server.port);
        try {
          const res = await grpcJsUnary(client, Authorization.method.check, {
            attributes: {
              request: { http: { headers: { "x-api-key": k() } } },
              contextExtensions: { "keyward.scopes": "campaigns:read" },
            },
          });
          expect(res.httpResponse.case).toBe("deniedResponse");
          if (res.httpResponse.case !== "deniedResponse") return;
          expect(res.httpResponse.value.headers.map((h) => h.header!.key).sort()).toEqual([
            "Content-Type",
            "WWW-Authenticate",
            "X-Keyward-Message",
            "X-Keyward-Reason",
          ]);
          expect(JSON.parse(res.httpResponse.value.body)).toMatchObject({
            reason: Reason[reason],
            granted: [],
          });
        } finally {
          client.close();
        }
      },
    );
  });

  it("CreateKey refuses a name with a control character, naming the field, the character and where it is", async () => {
    const attempt = server
      .client(KeyAdminService)
      .createKey(
        { name: "billing\u001b[2J", workspace: "acme", scopes: ["campaigns:read"] },
        bearer(server.rootKey),
      );
    await expect(attempt).rejects.toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: expect.stringContaining(
        "name: contains a control character (U+001B) at position 7",
      ),
    });
  });
});
