import { spawn, type ChildProcess } from "node:child_process";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { freePort } from "./mongo-provider.js";

const ROOT = new URL("../../", import.meta.url).pathname;

export interface KeywardProcess {
  child: ChildProcess;
  /** gRPC (grpc-js). */
  port: number;
  /** Connect (connect-node). */
  httpPort: number;
  /** The last 16 KiB the process wrote to stderr (and stdout, when captured). */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** How the Dockerfile starts the server (its CMD); `compiled: true` runs it the same way. */
export const PRODUCTION_NODE_ARGS = ["--max-semi-space-size=64"];

export interface SpawnOptions {
  /** Added to a minimal environment (PATH, HOST, PORT, HTTP_PORT, LOG_LEVEL=warn). */
  env?: Record<string, string>;
  /** Run dist/src/main.js (after `npm run build`) as in production, instead of the TypeScript source. */
  compiled?: boolean;
  /** Wait for Health/Check SERVING on PORT (default); false returns once spawned. */
  waitServing?: boolean;
  /** Show keyward's stdout here instead of capturing it. */
  inheritStdout?: boolean;
  /** Another checkout to run (the bench's A/B builds an older commit in a worktree); default this one. */
  root?: string;
  /** Options for node itself, e.g. ["--cpu-prof"] (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
}

/** The one way tests and the bench start a keyward process: free ports, a bounded wait for SERVING. */
export async function spawnKeyward(options: SpawnOptions = {}): Promise<KeywardProcess> {
  const port = await freePort();
  const httpPort = await freePort();
  // Without a database the source runs as `npm start` does (--dev); the compiled entry needs KEYWARD_DEV=1.
  const entry = options.compiled ? [...PRODUCTION_NODE_ARGS, "dist/src/main.js"] : ["--import", "tsx", "src/main.ts", ...(options.env?.MONGODB_URI ? [] : ["--dev"])];
  const args = [...(options.nodeArgs ?? []), ...entry];
  const child = spawn(process.execPath, args, {
    cwd: options.root ?? ROOT,
    env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: String(port), HTTP_PORT: String(httpPort), LOG_LEVEL: "warn", ...options.env },
    stdio: ["ignore", options.inheritStdout ? "inherit" : "pipe", "pipe"],
  });
  let output = "";
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-16_384));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const proc: KeywardProcess = {
    child,
    port,
    httpPort,
    output: () => output,
    exited,
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  if (options.waitServing === false) return proc;
  const health = createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await health.check({}, { timeoutMs: 1000 }).then((r) => r.status, () => 0);
    if (status === 1) return proc;
    if (child.exitCode !== null) throw new Error(`keyward exited with ${child.exitCode} before serving:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`keyward did not become SERVING within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
