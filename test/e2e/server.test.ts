import { execFile } from "node:child_process";
import { getEventListeners } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { HTTP2_LIMITS } from "../../src/transport/connect-server.js";
import { GRPC_LIMITS } from "../../src/transport/grpc/grpc-server.js";
import { goTool } from "../support/go-tools.js";
import { grpcJsClient, grpcJsUnary } from "../support/grpc-js-client.js";
import { startTestServer, TEST_PEPPER, type TestServer, waitFor } from "../support/harness.js";
import { spawnKeyward } from "../support/keyward-process.js";

const execFileAsync = promisify(execFile);

describe("server on a real socket", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.stop());

  it("reports SERVING to a grpc-js client", async () => {
    const client = grpcJsClient(server.port);
    try {
      const res = await grpcJsUnary(client, Health.method.check, { service: "" });
      expect(res.status).toBe(Status.SERVING);
      const authz = await grpcJsUnary(client, Health.method.check, {
        service: "keyward.v1.AuthorizeService",
      });
      expect(authz.status).toBe(Status.SERVING);
    } finally {
      client.close();
    }
  });

  it("reports SERVING to a Connect client and NOT_FOUND for an unknown service", async () => {
    const health = server.client(Health);
    expect((await health.check({ service: "keyward.v1.KeyAdminService" })).status).toBe(
      Status.SERVING,
    );
    await expect(health.check({ service: "nope.v1.Nothing" })).rejects.toMatchObject({ code: 5 });
  });

  it("streams the current status on Watch", async () => {
    const health = server.client(Health);
    const abort = new AbortController();
    const stream = health.watch({ service: "" }, { signal: abort.signal });
    const first = await stream[Symbol.asyncIterator]().next();
    expect(server.app.health.listenerCount).toBeGreaterThanOrEqual(1);
    abort.abort();
    expect(first.value?.status).toBe(Status.SERVING);
  });

  it("a Watch that ends releases what it registered (keyward's own Health, on HTTP_PORT)", async () => {
    const { createGrpcTransport } = await import("@connectrpc/connect-node");
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.httpUrl }));
    const baseline = server.app.health.listenerCount;
    const onShutdown = () => getEventListeners(server.app.shutdownSignal, "abort").length;
    const shutdownBaseline = onShutdown();
    for (let i = 0; i < 20; i++) {
      const abort = new AbortController();
      const stream = health.watch({ service: "" }, { signal: abort.signal });
      await stream[Symbol.asyncIterator]().next();
      abort.abort();
    }
    await waitFor(
      () => server.app.health.listenerCount === baseline && onShutdown() === shutdownBaseline,
      5000,
      "Watch listeners released",
    );
  });

  async function settingsOf(url: string): Promise<http2.Settings> {
    const session = http2.connect(url);
    try {
      return await new Promise<http2.Settings>((resolve, reject) => {
        session.once("remoteSettings", resolve);
        session.once("error", reject);
      });
    } finally {
      session.close();
    }
  }

  it("announces HTTP/2 limits on both ports: bounded concurrent streams (and header list size on HTTP_PORT)", async () => {
    expect((await settingsOf(server.baseUrl)).maxConcurrentStreams).toBe(
      GRPC_LIMITS.maxConcurrentStreams,
    );
    const http = await settingsOf(server.httpUrl);
    expect(http.maxConcurrentStreams).toBe(HTTP2_LIMITS.settings.maxConcurrentStreams);
    expect(http.maxHeaderListSize).toBe(HTTP2_LIMITS.settings.maxHeaderListSize);
  });

  it("lists keyward, health and reflection services through reflection v1 and v1alpha", async () => {
    for (const service of [ServerReflection, ServerReflectionV1alpha]) {
      const client = createClient(service as typeof ServerReflection, server.transport);
      async function* requests() {
        yield create(ServerReflectionRequestSchema, {
          messageRequest: { case: "listServices", value: "*" },
        });
      }
      const names: string[] = [];
      for await (const res of client.serverReflectionInfo(requests())) {
        if (res.messageResponse.case === "listServicesResponse")
          names.push(...res.messageResponse.value.service.map((s) => s.name));
      }
      expect(names).toEqual(
        expect.arrayContaining([
          "keyward.v1.AuthorizeService",
          "keyward.v1.KeyAdminService",
          "grpc.health.v1.Health",
        ]),
      );
    }
  });

  it("works with the real grpcurl binary: list, describe and a call, with no proto files", async () => {
    const grpcurl = goTool("grpcurl", "GRPCURL_BIN");
    const target = `127.0.0.1:${server.port}`;
    // Async: the server runs in this process, a blocking spawn would starve it.
    const run = async (...args: string[]) =>
      (
        await execFileAsync(grpcurl, ["-plaintext", "-max-time", "10", ...args], {
          encoding: "utf8",
        })
      ).stdout;
    expect((await run(target, "list")).split("\n")).toEqual(
      expect.arrayContaining([
        "keyward.v1.AuthorizeService",
        "keyward.v1.KeyAdminService",
        "grpc.health.v1.Health",
      ]),
    );
    expect(await run(target, "describe", "keyward.v1.AuthorizeRequest")).toContain(
      "required_scopes",
    );
    const res = JSON.parse(
      await run(
        "-d",
        '{"api_key":"kw_live_nope","required_scopes":["campaigns:read"]}',
        target,
        "keyward.v1.AuthorizeService/Authorize",
      ),
    );
    expect(res).toMatchObject({
      reason: "REASON_KEY_MALFORMED",
      httpStatus: 401,
      message: "Invalid API key",
    });
    expect(res.allowed).toBeUndefined();
  });

  it("answers Connect clients on HTTP_PORT over HTTP/1.1 and h2c, and gRPC there too", async () => {
    const { createConnectTransport, createGrpcTransport, createGrpcWebTransport } = await import(
      "@connectrpc/connect-node"
    );
    for (const transport of [
      createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "1.1" }),
      createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "2" }),
      createGrpcWebTransport({ baseUrl: server.httpUrl, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: server.httpUrl }),
    ]) {
      const res = await createClient(AuthorizeService, transport).authorize({});
      expect(res.reason).toBe(2 /* KEY_MISSING */);
    }
  });

  it("answers curl's Connect JSON over HTTP/1.1", async () => {
    const { stdout } = await execFileAsync(
      "curl",
      [
        "-sS",
        "--http1.1",
        "-H",
        "content-type: application/json",
        "-d",
        '{"api_key":"kw_live_nope","required_scopes":["campaigns:read"]}',
        `${server.httpUrl}/keyward.v1.AuthorizeService/Authorize`,
      ],
      { encoding: "utf8" },
    );
    expect(JSON.parse(stdout)).toMatchObject({
      reason: "REASON_KEY_MALFORMED",
      httpStatus: 401,
      message: "Invalid API key",
    });
  });
});

describe("shutdown with connections that never sent a request", () => {
  it("stop() finishes promptly though raw sockets sit idle or half-spoken on both ports", async () => {
    const server = await startTestServer({ store: "memory" });
    const sockets = [
      server.port,
      server.port,
      Number(new URL(server.httpUrl).port),
      Number(new URL(server.httpUrl).port),
    ].map((port, i) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("error", () => {});
      if (i % 2 === 1) socket.write("PRI * HTTP/2.0\r\n"); // half an HTTP/2 preface, then silence
      return socket;
    });
    await Promise.all(
      sockets.map(
        (s) => new Promise((r) => (s.readyState === "open" ? r(null) : s.once("connect", r))),
      ),
    );
    const start = Date.now();
    await server.stop();
    // SHUTDOWN_TIMEOUT_MS (10 s) is for calls in flight; there are none here.
    expect(Date.now() - start).toBeLessThan(3000);
    for (const s of sockets) s.destroy();
  });
});

describe("the keyward process", () => {
  /**
   * The production entry's source with `env` as an operator's shell would hold it: HOST and LOG_LEVEL
   * unset, so keyward's own defaults are what is asserted. `args: ["--dev"]` runs it as `npm start` does.
   */
  const run = async (
    env: Record<string, string>,
    timeoutMs = 20_000,
    args: string[] = ["--dev"],
  ) => {
    const proc = await spawnKeyward({
      env: { HOST: undefined, LOG_LEVEL: undefined, ...env },
      args,
      waitServing: false,
    });
    const code = await proc.exitWithin(timeoutMs);
    return { code, stderr: proc.stderr(), stdout: proc.stdout() };
  };

  it.each([
    [{ MONGODB_URI: "mongodb://127.0.0.1:1", KEY_PEPPER: "too-short" }, "KEY_PEPPER"],
    [{ MONGODB_URI: "mongodb://127.0.0.1:1" }, "KEY_PEPPER"],
    [{ PORT: "http" }, "PORT"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ KEY_PREFIX: "Bad_Prefix" }, "KEY_PREFIX"],
    [{ SCOPES_FILE: "/nonexistent/scopes.json" }, "SCOPES_FILE"],
    [{ TLS_CERT_FILE: "/nonexistent.pem" }, "TLS_CERT_FILE"],
  ])("refuses bad configuration %j with one line naming %s", async (env, variable) => {
    const r = await run(env);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const lines = r.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("npm warn"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
  });

  it.each([
    [{}, "MONGODB_URI", "npm start"],
    [{ KEYWARD_DEV: "1", NODE_ENV: "production" }, "MONGODB_URI", "NODE_ENV=production"],
    [{ MONGODB_URI: "mongodb://127.0.0.1:1" }, "KEY_PEPPER", "openssl rand"],
  ])(
    "the production entry with %j exits 2 with one line naming %s and how to fix it",
    async (env, variable, fix) => {
      const r = await run(env, 20_000, []);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(variable);
      expect(lines[0]).toContain(fix);
      expect(r.stdout).not.toContain("keyward started");
    },
  );

  it("npm start (--dev) is refused under NODE_ENV=production too", async () => {
    const r = await run({ NODE_ENV: "production" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("NODE_ENV=production");
  });

  it("starts in dev mode on 127.0.0.1, prints a root key once outside the logs, and exits 0 on SIGTERM", async () => {
    // HOST and LOG_LEVEL unset: the default host and the info-level start line are what is checked.
    const proc = await spawnKeyward({
      env: { HOST: undefined, LOG_LEVEL: undefined, KEY_PEPPER: TEST_PEPPER },
      args: ["--dev"],
    });
    await waitFor(() => /kw_test_\w+/.test(proc.stderr()), 5000, "the dev root key on stderr");
    const stderr = proc.stderr();
    const key = /kw_test_\w+/.exec(stderr)?.[0];
    expect(key).toBeDefined();
    expect(stderr).toContain("DEV MODE");
    expect(stderr.split(key!).length - 1).toBe(1);
    const health = createClient(
      Health,
      (await import("@connectrpc/connect-node")).createGrpcTransport({
        baseUrl: `http://127.0.0.1:${proc.port}`,
      }),
    );
    expect((await health.check({})).status).toBe(Status.SERVING);
    expect(await proc.stop()).toBe(0);
    expect(
      proc.stderr().split(key!).length - 1,
      "the key is printed once, over the whole run",
    ).toBe(1);
    const stdout = proc.stdout();
    expect(stdout).toContain('"msg":"keyward started"');
    expect(stdout).toContain('"keyPepper":"[redacted]"');
    expect(stdout).toContain('"host":"127.0.0.1"');
    expect(stdout).not.toContain(key!);
    expect(stdout).not.toContain(TEST_PEPPER);
  });
});
