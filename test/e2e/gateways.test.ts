import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authorization, CheckRequestSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { goTool } from "../support/go-tools.js";
import { grpcJsClient, grpcJsUnary } from "../support/grpc-js-client.js";
import { bearer, startTestServer, type TestServer } from "../support/harness.js";
import { create, toJson } from "@bufbuild/protobuf";

const execFileAsync = promisify(execFile);

interface CurlAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** curl over HTTP/1.1, as nginx and Caddy talk to an auth service. */
async function curl(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<CurlAnswer> {
  const args = ["-sS", "--http1.1", "-X", method, "-D", "-", ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]), url];
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
  let key: string;
  let keyId: string;
  let domainKey: string;
  let revokedKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    const admin = server.client(KeyAdminService);
    const root = bearer(server.rootKey);
    const created = await admin.createKey({ name: "gw", workspace: "acme", scopes: ["campaigns:read", "leads:all"] }, root);
    key = created.key;
    keyId = created.apiKey!.id;
    domainKey = (await admin.createKey({ name: "gw domain", workspace: "acme", scopes: ["campaigns:read"], allowedDomains: ["app.acme.com"] }, root)).key;
    const revoked = await admin.createKey({ name: "gw revoked", workspace: "acme", scopes: ["campaigns:read"] }, root);
    await admin.revokeKey({ id: revoked.apiKey!.id }, root);
    revokedKey = revoked.key;
  });
  afterAll(async () => server?.stop());

  describe("/v1/check", () => {
    const check = (headers: Record<string, string>, query = "", method = "GET") => curl(`${server.httpUrl}/v1/check${query}`, headers, method);

    it("allows: 200 with X-Keyward-Key-Id, -Workspace and -Scopes, whether the key comes as X-API-Key or Bearer", async () => {
      for (const auth of [{ "X-API-Key": key }, { Authorization: `Bearer ${key}` }] as Record<string, string>[]) {
        const r = await check({ ...auth, "X-Keyward-Scopes": "campaigns:read, leads:read" });
        expect(r.status).toBe(200);
        expect(r.headers).toMatchObject({ "x-keyward-key-id": keyId, "x-keyward-workspace": "acme", "x-keyward-scopes": "campaigns:read,leads:all" });
      }
    });

    it("takes scopes, workspace and domain from the query too, and accepts any method", async () => {
      expect((await check({ "X-API-Key": domainKey }, "?scopes=campaigns:read&workspace=acme&domain=app.acme.com", "POST")).status).toBe(200);
      expect((await check({ "X-API-Key": domainKey }, "?scopes=campaigns:read&domain=evil.com", "PUT")).status).toBe(403);
    });

    it.each([
      ["no key", {}, "", 401, "KEY_MISSING"],
      ["a malformed key", { "X-API-Key": "kw_live_nope" }, "", 401, "KEY_MALFORMED"],
      ["an unknown key", { "X-API-Key": "kw_live_" + "A".repeat(49) }, "", 401, "KEY_MALFORMED"],
      ["a revoked key", { "X-API-Key": "REVOKED" }, "", 401, "KEY_REVOKED"],
      ["another workspace", { "X-API-Key": "KEY" }, "?workspace=globex", 403, "WORKSPACE_MISMATCH"],
      ["a domain not allowed", { "X-API-Key": "DOMAIN_KEY" }, "?domain=evil.com", 403, "DOMAIN_NOT_ALLOWED"],
      ["a missing scope", { "X-API-Key": "KEY" }, "?scopes=campaigns:write", 403, "SCOPE_MISSING"],
    ])("denies %s with its status, reason headers and the JSON body", async (_name, h, query, status, reason) => {
      const headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v === "KEY" ? key : v === "REVOKED" ? revokedKey : v === "DOMAIN_KEY" ? domainKey : v]));
      const r = await check(headers, query);
      expect(r.status).toBe(status);
      expect(r.headers["x-keyward-reason"]).toBe(reason);
      expect(r.headers["x-keyward-message"]).toBeTruthy();
      expect(r.headers["www-authenticate"]).toBe(status === 401 ? "Bearer" : undefined);
      const body = JSON.parse(r.body);
      expect(body).toMatchObject({ statusCode: status, error: status === 401 ? "Unauthorized" : "Forbidden", reason });
      expect(body.detail).toBe(body.message);
      expect(Array.isArray(body.required) && Array.isArray(body.granted)).toBe(true);
      if (reason === "SCOPE_MISSING") expect(body).toMatchObject({ message: "Missing required scopes: campaigns:write", required: ["campaigns:write"], granted: ["campaigns:read", "leads:all"] });
    });

    it("the gateway's query wins over a client's own X-Keyward-* headers", async () => {
      const r = await check({ "X-API-Key": key, "X-Keyward-Scopes": "campaigns:read", "X-Keyward-Workspace": "acme" }, "?scopes=campaigns:write&workspace=globex");
      expect(r.status).toBe(403);
      expect(r.headers["x-keyward-reason"]).toBe("WORKSPACE_MISMATCH");
    });

    it("answers 400 naming the header when the gateway's scopes are not scopes", async () => {
      const r = await check({ "X-API-Key": key, "X-Keyward-Scopes": "Campaigns:Read" });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body).message).toContain("X-Keyward-Scopes");
    });

    it("serves /healthz for load balancers", async () => {
      const r = await curl(`${server.httpUrl}/healthz`);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ status: "SERVING" });
    });
  });

  describe("envoy.service.auth.v3.Authorization/Check", () => {
    const envoyCheck = async (headers: Record<string, string>, ext: Record<string, string> = {}) => {
      const client = grpcJsClient(server.port);
      try {
        return await grpcJsUnary(client, Authorization.method.check, {
          attributes: { request: { http: { method: "GET", path: "/campaigns", host: "api.acme.com", headers: { ":authority": "api.acme.com", ...headers } } }, contextExtensions: ext },
        });
      } finally {
        client.close();
      }
    };

    it("allows with OK and the X-Keyward-* headers in ok_response, overwriting what the client sent", async () => {
      const res = await envoyCheck({ "x-api-key": key, "x-keyward-key-id": "forged" }, { "keyward.scopes": "campaigns:read", "keyward.workspace": "acme" });
      expect(res.status?.code).toBe(0);
      expect(res.httpResponse.case).toBe("okResponse");
      const headers = res.httpResponse.case === "okResponse" ? res.httpResponse.value.headers : [];
      expect(Object.fromEntries(headers.map((h) => [h.header!.key, h.header!.value]))).toEqual({ "X-Keyward-Key-Id": keyId, "X-Keyward-Workspace": "acme", "X-Keyward-Scopes": "campaigns:read,leads:all" });
      expect(headers.every((h) => h.appendAction === 2 /* OVERWRITE_IF_EXISTS_OR_ADD */)).toBe(true);
    });

    it("never takes scopes, workspace or domain from the client's headers, only from the route", async () => {
      const res = await envoyCheck({ "x-api-key": key, "x-keyward-scopes": "campaigns:read", "x-keyward-workspace": "acme" }, { "keyward.scopes": "campaigns:write" });
      expect(res.status?.code).toBe(Code.PermissionDenied);
      const bypass = await envoyCheck({ "x-api-key": domainKey, "x-keyward-domain": "app.acme.com" }, { "keyward.domain": "evil.com" });
      expect(bypass.status?.code).toBe(Code.PermissionDenied);
    });

    it.each([
      ["no key", {}, {}, 401, Code.Unauthenticated, "KEY_MISSING"],
      ["a malformed key", { authorization: "Bearer nope" }, {}, 401, Code.Unauthenticated, "KEY_MALFORMED"],
      ["a revoked key", { "x-api-key": "REVOKED" }, {}, 401, Code.Unauthenticated, "KEY_REVOKED"],
      ["another workspace", { "x-api-key": "KEY" }, { "keyward.workspace": "globex" }, 403, Code.PermissionDenied, "WORKSPACE_MISMATCH"],
      ["a domain not allowed", { "x-api-key": "DOMAIN_KEY" }, { "keyward.domain": "evil.com" }, 403, Code.PermissionDenied, "DOMAIN_NOT_ALLOWED"],
      ["a missing scope", { "x-api-key": "KEY" }, { "keyward.scopes": "campaigns:write" }, 403, Code.PermissionDenied, "SCOPE_MISSING"],
      ["scopes that are not scopes", { "x-api-key": "KEY" }, { "keyward.scopes": "Bad Scope" }, 400, Code.InvalidArgument, "INVALID_ARGUMENT"],
    ])("denies %s with denied_response %i, the matching gRPC status and the JSON body", async (_name, h, ext, status, code, reason) => {
      const headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v === "KEY" ? key : v === "REVOKED" ? revokedKey : v === "DOMAIN_KEY" ? domainKey : v]));
      const res = await envoyCheck(headers, ext);
      expect(res.status?.code).toBe(code);
      expect(res.httpResponse.case).toBe("deniedResponse");
      if (res.httpResponse.case !== "deniedResponse") return;
      expect(res.httpResponse.value.status?.code).toBe(status);
      expect(JSON.parse(res.httpResponse.value.body)).toMatchObject({ statusCode: status, reason });
      const headerMap = Object.fromEntries(res.httpResponse.value.headers.map((x) => [x.header!.key, x.header!.value]));
      expect(headerMap["X-Keyward-Reason"]).toBe(reason);
      expect(headerMap["WWW-Authenticate"]).toBe(status === 401 ? "Bearer" : undefined);
    });

    it("counts gateway decisions under their own source label", async () => {
      await envoyCheck({ "x-api-key": key });
      await curl(`${server.httpUrl}/v1/check`, { "x-api-key": key });
      const text = await server.app.metrics.registry.getSingleMetricAsString("keyward_authorize_decisions_total");
      expect(text).toMatch(/keyward_authorize_decisions_total\{reason="OK",source="ext_authz"\} [1-9]/);
      expect(text).toMatch(/keyward_authorize_decisions_total\{reason="OK",source="forward_auth"\} [1-9]/);
    });

    it("is visible over reflection and answers grpcurl", async () => {
      const grpcurl = goTool("grpcurl", "GRPCURL_BIN");
      const target = `127.0.0.1:${server.port}`;
      const list = (await execFileAsync(grpcurl, ["-plaintext", target, "list"], { encoding: "utf8" })).stdout;
      expect(list).toContain("envoy.service.auth.v3.Authorization");
      const request = toJson(CheckRequestSchema, create(CheckRequestSchema, { attributes: { request: { http: { headers: { "x-api-key": key } } }, contextExtensions: { "keyward.scopes": "campaigns:write" } } }));
      const { stdout } = await execFileAsync(grpcurl, ["-plaintext", "-d", JSON.stringify(request), target, "envoy.service.auth.v3.Authorization/Check"], { encoding: "utf8" });
      const res = JSON.parse(stdout);
      expect(res.status.code).toBe(Code.PermissionDenied);
      expect(res.deniedResponse.status.code).toBe("Forbidden");
      expect(JSON.parse(res.deniedResponse.body).required).toEqual(["campaigns:write"]);
    });
  });
});
