import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/mongo-provider.js";
import { startTestServer, waitFor, type TestServer } from "../support/harness.js";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;

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

  it("npm pack, installed into an empty project, imports keyward/client, keyward/express and keyward/fastify by name", { timeout: 300_000 }, async () => {
    // prepack compiles dist/ first, as `npm publish` would.
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: ROOT, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    const tarball = join(dir, packed.stdout.trim().split("\n").pop()!);
    const app = join(dir, "consumer");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(join(app, "consumer.mjs"), CONSUMER);
    await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball, "express@5", "fastify@5"], { cwd: app, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    const { stdout } = await run(process.execPath, ["consumer.mjs", server.baseUrl], { cwd: app, encoding: "utf8" });
    expect(JSON.parse(stdout)).toEqual({ reason: "KEY_MISSING", express: "function", fastify: "function" });
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

  it("`npm run example` starts keyward and the API; a demo key reads campaigns and is refused creating one", { timeout: 120_000 }, async () => {
    const [apiPort, grpcPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    child = spawn("npm", ["run", "--silent", "example"], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, API_PORT: String(apiPort), KEYWARD_PORT: String(grpcPort), KEYWARD_HTTP_PORT: String(httpPort) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d));
    child.stderr!.on("data", (d: Buffer) => (out += d));
    await waitFor(() => /demo key .*: (kw_(?:live|test)_\w+)/.test(out) || child!.exitCode !== null, 90_000, "the example to start");
    const demoKey = /demo key .*: (kw_(?:live|test)_\w+)/.exec(out)?.[1];
    expect(demoKey, out).toBeDefined();
    const base = `http://127.0.0.1:${apiPort}`;
    const list = await fetch(`${base}/campaigns`, { headers: { "x-api-key": demoKey! } });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual([]);
    const create = await fetch(`${base}/campaigns`, { method: "POST", headers: { "x-api-key": demoKey!, "content-type": "application/json" }, body: "{}" });
    expect(create.status).toBe(403);
    expect(await create.json()).toMatchObject({ reason: "SCOPE_MISSING", required: ["campaigns:create"] });
  });
});
