import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { inject } from "vitest";
import { bootstrapAdmin } from "../../src/admin/bootstrap.js";
import { type AppOverrides, type RunningApp, startApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import type { RawKey } from "../../src/domain/types.js";

export const TEST_PEPPER = "test-pepper-0123456789-abcdefghijklmnopqrstuvwxyz";

/** A database name of its own for each test file (and each server that asks). */
export function uniqueDbName(): string {
  return `kw_test_${randomBytes(6).toString("hex")}`;
}

export interface TestServer {
  app: RunningApp;
  config: Config;
  port: number;
  /** gRPC on PORT (grpc-js). */
  baseUrl: string;
  /** Connect on HTTP_PORT (connect-node). */
  httpUrl: string;
  /** The root admin: workspace `*`, keyward:all. */
  rootKey: RawKey;
  transport: Transport;
  client<S extends DescService>(service: S): Client<S>;
  stop(): Promise<void>;
}

export function testConfig(
  env: Record<string, string> = {},
  store: "mongo" | "memory" = "mongo",
): Config {
  return loadConfig(
    {
      HOST: "127.0.0.1",
      PORT: "0",
      HTTP_PORT: "0",
      LOG_LEVEL: "silent",
      ...(store === "mongo"
        ? { MONGODB_URI: inject("mongoUri"), MONGODB_DB: uniqueDbName(), KEY_PEPPER: TEST_PEPPER }
        : {}),
      ...env,
    },
    { devRequested: store === "memory" },
  );
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts the real server on a free port, against the test MongoDB unless told "memory". */
export async function startTestServer(
  options: {
    store?: "mongo" | "memory";
    env?: Record<string, string>;
    overrides?: AppOverrides;
    /** Connection bounds a test cannot reach through the environment (the fixed 10 s / 30 s ones), at small values. */
    connections?: Partial<Config["connections"]>;
  } = {},
): Promise<TestServer> {
  const base = testConfig(options.env, options.store ?? "mongo");
  const config = options.connections
    ? { ...base, connections: { ...base.connections, ...options.connections } }
    : base;
  const app = await startApp(config, pino({ level: "silent" }), options.overrides);
  await waitFor(() => app.health.get("") === "SERVING", 15_000, "health SERVING");
  const rootKey =
    app.devRootKey ??
    (
      await bootstrapAdmin(
        app.store,
        { catalog: config.catalog, pepper: config.keyPepper!, prefix: config.keyPrefix },
        { workspace: "*", name: "test root", scopes: ["keyward:all"], environment: "test" },
      )
    ).key;
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const transport = createGrpcTransport({ baseUrl });
  return {
    app,
    config,
    port: app.port,
    baseUrl,
    httpUrl: `http://127.0.0.1:${app.httpPort}`,
    rootKey,
    transport,
    client: (service) => createClient(service, transport),
    stop: () => app.stop(),
  };
}

export function bearer(key: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${key}` } };
}
