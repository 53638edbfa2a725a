import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer, waitFor } from "../support/harness.js";
import { freePort } from "../support/mongo-provider.js";
import { ROOT } from "../support/paths.js";

const run = promisify(execFile);

/** What a user's app does after `npm install keyward`: import by package name, call keyward. */
const CONSUMER = `
import { createKeywardClient, Reason } from "keyward/client";
import { requireScopes as expressScopes } from "keyward/express";
import { requireScopes as fastifyScopes } from "keyward/fastify";
const client = createKeywardClient({ url: process.argv[2] });
const res = await client.authorize("", ["campaigns:read"]);
console.log(JSON.stringify({
  reason: Reason[res.reason],
  express: typeof expressScopes("campaigns:read"),
  fastify: typeof fastifyScopes(["campaigns:read"], { client }),
}));
`;

/**
 * What an app does after `npm install @keyward/client`: one route behind the Express middleware,
 * called with the key (a real Authorize call, allowed) and without (the shared deny body).
 */
const CLIENT_CONSUMER = `
import { once } from "node:events";
import express from "express";
import { createKeywardClient, Reason } from "@keyward/client";
import { requireScopes as expressScopes } from "@keyward/client/express";
import { requireScopes as fastifyScopes } from "@keyward/client/fastify";
const [url, key] = process.argv.slice(2);
const client = createKeywardClient({ url });
const app = express();
app.get("/keys", expressScopes(["keyward:all"], { client }), (req, res) => res.json(req.keyward));
const server = app.listen(0, "127.0.0.1");
await once(server, "listening");
const base = "http://127.0.0.1:" + server.address().port;
const allowed = await fetch(base + "/keys", { headers: { authorization: "Bearer " + key } });
const denied = await fetch(base + "/keys");
server.close();
console.log(JSON.stringify({
  allowed: { status: allowed.status, body: await allowed.json() },
  denied: { status: denied.status, reason: denied.headers.get("x-keyward-reason"), body: await denied.json() },
  reason: Reason[Reason.KEY_MISSING],
  fastify: typeof fastifyScopes(["keyward:all"], { client }),
}));
`;

/** What @keyward/client may ship: the client, the HTTP contract it shares with the gateways, the generated messages. */
const CLIENT_FILES =
  /^(package\.json|README\.md|dist\/(src\/client|src\/protocol|gen\/keyward\/v1)\/[\w.-]+\.(js|d\.ts))$/;

const npmInstall = (cwd: string, specs: string[]) =>
  run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...specs],
    { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );

/** An empty project: a package.json and one script. */
function emptyProject(dir: string, name: string, script: string): string {
  const app = join(dir, name);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  writeFileSync(join(app, "consumer.mjs"), script);
  return app;
}

// One file, so its tests run one after the other: both build dist/ (npm pack's prepack, npm run example).
describe("the published package", () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer({ store: "memory" });
    dir = mkdtempSync(join(tmpdir(), "keyward-pack-"));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("npm pack, installed into an empty project, imports keyward/client, keyward/express and keyward/fastify by name", {
    timeout: 300_000,
  }, async () => {
    // prepack compiles dist/ first, as `npm publish` would.
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--silent"], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = join(dir, packed.stdout.trim().split("\n").pop()!);
    const app = emptyProject(dir, "consumer", CONSUMER);
    await npmInstall(app, [tarball, "express@5", "fastify@5"]);
    const { stdout } = await run(process.execPath, ["consumer.mjs", server.baseUrl], {
      cwd: app,
      encoding: "utf8",
    });
    expect(JSON.parse(stdout)).toEqual({
      reason: "KEY_MISSING",
      express: "function",
      fastify: "function",
    });
  });

  it("@keyward/client, packed and installed into an empty project, calls keyward with no server dependency in its tree", {
    timeout: 300_000,
  }, async () => {
    // The workspace's prepack compiles packages/client/dist from src/client, src/protocol and gen/keyward/v1.
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--json"], {
      cwd: join(ROOT, "packages/client"),
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    });
    const [{ filename, files }] = JSON.parse(packed.stdout) as [
      { filename: string; files: { path: string }[] },
    ];
    expect(files.map((f) => f.path).filter((path) => !CLIENT_FILES.test(path))).toEqual([]);
    const app = emptyProject(dir, "client-consumer", CLIENT_CONSUMER);
    // No fastify here: fastify itself depends on pino, and /fastify needs only its types, not the module.
    await npmInstall(app, [join(dir, filename), "express@5"]);
    const { stdout } = await run(
      process.execPath,
      ["consumer.mjs", server.baseUrl, server.rootKey],
      { cwd: app, encoding: "utf8" },
    );
    expect(JSON.parse(stdout)).toEqual({
      allowed: {
        status: 200,
        body: {
          keyId: expect.any(String),
          workspace: "*",
          scopes: ["keyward:all"],
          expiresAt: null,
        },
      },
      denied: {
        status: 401,
        reason: "KEY_MISSING",
        body: {
          statusCode: 401,
          error: "Unauthorized",
          message: expect.any(String),
          detail: expect.any(String),
          reason: "KEY_MISSING",
          required: ["keyward:all"],
          granted: [],
        },
      },
      reason: "KEY_MISSING",
      fastify: "function",
    });
    for (const name of ["mongodb", "pino", "prom-client", "keyward"]) {
      expect(existsSync(join(app, "node_modules", name)), `${name} in the client's tree`).toBe(
        false,
      );
    }
  });
});

describe("examples/coldsend-api: the README's one command", () => {
  let child: ChildProcess | null = null;
  afterAll(async () => {
    if (child?.pid && child.exitCode === null) {
      // npm → tsx → node: stop the whole process group.
      process.kill(-child.pid, "SIGTERM");
      await new Promise((r) => child!.once("exit", r));
    }
  });

  it("`npm run example` starts keyward and the API; a demo key reads campaigns and is refused creating one", {
    timeout: 120_000,
  }, async () => {
    const [apiPort, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    child = spawn("npm", ["run", "--silent", "example"], {
      cwd: ROOT,
      detached: true,
      env: {
        ...process.env,
        API_PORT: String(apiPort),
        KEYWARD_PORT: String(grpcPort),
        KEYWARD_HTTP_PORT: String(httpPort),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d));
    child.stderr!.on("data", (d: Buffer) => (out += d));
    await waitFor(
      () => /demo key .*: (kw_(?:live|test)_\w+)/.test(out) || child!.exitCode !== null,
      90_000,
      "the example to start",
    );
    const demoKey = /demo key .*: (kw_(?:live|test)_\w+)/.exec(out)?.[1];
    expect(demoKey, out).toBeDefined();
    const base = `http://127.0.0.1:${apiPort}`;
    const list = await fetch(`${base}/campaigns`, { headers: { "x-api-key": demoKey! } });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
    const create = await fetch(`${base}/campaigns`, {
      method: "POST",
      headers: { "x-api-key": demoKey!, "content-type": "application/json" },
      body: "{}",
    });
    expect(create.status).toBe(403);
    expect(await create.json()).toMatchObject({
      reason: "SCOPE_MISSING",
      required: ["campaigns:create"],
    });
  });
});
