import { type ChildProcess, spawn } from "node:child_process";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { freePort } from "./mongo-provider.js";
import { ROOT } from "./paths.js";

export interface KeywardProcess {
  child: ChildProcess;
  /** gRPC (grpc-js). */
  port: number;
  /** Connect (connect-node). */
  httpPort: number;
  /** The last 16 KiB the process wrote to stderr (and stdout, when captured), interleaved. */
  output(): string;
  /** What the process wrote to stdout (empty with `inheritStdout`), up to its last 1 MiB. */
  stdout(): string;
  /** What the process wrote to stderr, up to its last 1 MiB. */
  stderr(): string;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** The exit code; a process still running after `timeoutMs` is killed (SIGKILL), and the answer is null. */
  exitWithin(timeoutMs: number): Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** How the Dockerfile starts the server (its CMD); `compiled: true` runs it the same way. */
export const PRODUCTION_NODE_ARGS = ["--max-semi-space-size=64"];

export interface SpawnOptions {
  /**
   * Added to a minimal environment (PATH, HOST, PORT, HTTP_PORT, LOG_LEVEL=warn);
   * a variable set to undefined is left out, so keyward's own default applies.
   */
  env?: Record<string, string | undefined>;
  /** Run dist/src/main.js (after `npm run build`) as in production, instead of the TypeScript source. */
  compiled?: boolean;
  /** Arguments after the entry script; by default `--dev` for the source without MONGODB_URI, else none. */
  args?: string[];
  /** Wait for Health/Check SERVING on PORT (default); false returns once spawned. */
  waitServing?: boolean;
  /** Show keyward's stdout here instead of capturing it. */
  inheritStdout?: boolean;
  /** Another checkout to run (the bench's A/B builds an older commit in a worktree); default this one. */
  root?: string;
  /** Options for node itself, e.g. ["--cpu-prof"] (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
}

const SERVING_WITHIN_MS = 20_000;

/** The one way tests and the bench start a keyward process: free ports, a bounded wait for SERVING. */
export async function spawnKeyward(options: SpawnOptions = {}): Promise<KeywardProcess> {
  const port = await freePort();
  const httpPort = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOST: "127.0.0.1",
    PORT: String(port),
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: "warn",
    ...options.env,
  };
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entryArgs(options)], {
    cwd: options.root ?? ROOT,
    // Node skips undefined values: those variables stay unset.
    env,
    stdio: ["ignore", options.inheritStdout ? "inherit" : "pipe", "pipe"],
  });
  const proc = processOf(child, port, httpPort);
  if (options.waitServing !== false) await untilServing(proc);
  return proc;
}

function entryArgs(options: SpawnOptions): string[] {
  // Without a database the source runs as `npm start` does (--dev); the compiled entry needs KEYWARD_DEV=1.
  if (options.compiled)
    return [...PRODUCTION_NODE_ARGS, "dist/src/main.js", ...(options.args ?? [])];
  return [
    "--import",
    "tsx",
    "src/main.ts",
    ...(options.args ?? (options.env?.MONGODB_URI ? [] : ["--dev"])),
  ];
}

function processOf(child: ChildProcess, port: number, httpPort: number): KeywardProcess {
  const text = { output: "", stdout: "", stderr: "" };
  const keep = (stream: "stdout" | "stderr") => (d: Buffer) => {
    text.output = (text.output + d.toString()).slice(-16_384);
    text[stream] = (text[stream] + d.toString()).slice(-1_048_576);
  };
  child.stdout?.on("data", keep("stdout"));
  child.stderr?.on("data", keep("stderr"));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return {
    child,
    port,
    httpPort,
    output: () => text.output,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    exited,
    exitWithin(timeoutMs) {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      return exited.finally(() => clearTimeout(timer));
    },
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

async function untilServing(proc: KeywardProcess): Promise<void> {
  const health = createClient(
    Health,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${proc.port}` }),
  );
  const deadline = Date.now() + SERVING_WITHIN_MS;
  for (;;) {
    const status = await health.check({}, { timeoutMs: 1000 }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 1) return;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(
        `keyward exited (${proc.child.exitCode ?? proc.child.signalCode}) before serving:\n${proc.output()}`,
      );
    if (Date.now() > deadline) {
      proc.child.kill("SIGKILL");
      throw new Error(
        `keyward did not become SERVING within ${SERVING_WITHIN_MS / 1000} s:\n${proc.output()}`,
      );
    }
    // A poll, not a wait for time to pass: Health answers as soon as the listener is up.
    await new Promise((r) => setTimeout(r, 100));
  }
}
