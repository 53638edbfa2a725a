import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";

/** A MongoDB-protocol server for tests, and how to stop it. */
export interface ProvidedMongo {
  uri: string;
  source: string;
  stop(): Promise<void>;
}

const log = (msg: string) => process.stderr.write(`[test-mongo] ${msg}\n`);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForMongo(uri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500 });
    try {
      await client.db("admin").command({ ping: 1 });
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.close().catch(() => {});
    }
  }
  throw new Error(`MongoDB at ${uri} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

function containerEngineAnswers(): boolean {
  if (process.env.DOCKER_HOST) return true;
  return ["/var/run/docker.sock", join(process.env.HOME ?? "", ".docker/run/docker.sock")].some(
    (p) => existsSync(p),
  );
}

async function fromContainer(): Promise<ProvidedMongo> {
  const { MongoDBContainer } = await import("@testcontainers/mongodb");
  const container = await new MongoDBContainer("mongo:7").start();
  return {
    uri: `${container.getConnectionString()}?directConnection=true`,
    source: "testcontainers mongo:7",
    stop: async () => void (await container.stop()),
  };
}

function goBin(): string | null {
  const go = spawnSync("go", ["env", "GOPATH"], { encoding: "utf8" });
  return go.status === 0 ? join(go.stdout.trim(), "bin") : null;
}

export function ferretdbBinary(): string | null {
  if (process.env.FERRETDB_BIN && existsSync(process.env.FERRETDB_BIN))
    return process.env.FERRETDB_BIN;
  const bin = goBin();
  if (bin && existsSync(join(bin, "ferretdb"))) return join(bin, "ferretdb");
  const onPath = spawnSync("sh", ["-c", "command -v ferretdb"], { encoding: "utf8" });
  return onPath.status === 0 ? onPath.stdout.trim() : null;
}

/** A FerretDB process (SQLite handler, loopback only) that can be stopped and started again on the same data. */
export class FerretDb {
  private child: ChildProcess | null = null;
  readonly uri: string;

  private constructor(
    readonly binary: string,
    readonly port: number,
    readonly dir: string,
  ) {
    this.uri = `mongodb://127.0.0.1:${port}/`;
  }

  static async start(binary: string): Promise<FerretDb> {
    const db = new FerretDb(
      binary,
      await freePort(),
      mkdtempSync(join(tmpdir(), "keyward-ferretdb-")),
    );
    await db.startProcess();
    return db;
  }

  async startProcess(): Promise<void> {
    const child = spawn(
      this.binary,
      [
        "--handler=sqlite",
        `--sqlite-url=file:${this.dir}/`,
        `--state-dir=${this.dir}`,
        `--listen-addr=127.0.0.1:${this.port}`,
        "--telemetry=disable",
        "--debug-addr=-",
        "--log-level=error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    this.child = child;
    try {
      await waitForMongo(this.uri, 20_000);
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\nferretdb stderr:\n${stderr}`);
    }
  }

  /** Freezes the server: connections stay open and nothing answers (a hung database, not a down one). */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  resume(): void {
    this.child?.kill("SIGCONT");
  }

  async stopProcess(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const INSTALL_SCRIPT = fileURLToPath(new URL("../../scripts/install-go-tools.sh", import.meta.url));

/** First that works: MONGODB_URI; testcontainers when a container engine answers; a local FerretDB. Never a silent skip. */
export async function provideMongo(): Promise<ProvidedMongo> {
  if (process.env.MONGODB_URI) {
    await waitForMongo(process.env.MONGODB_URI, 10_000);
    return { uri: process.env.MONGODB_URI, source: "MONGODB_URI", stop: async () => {} };
  }
  if (containerEngineAnswers()) {
    try {
      return await fromContainer();
    } catch (err) {
      log(
        `container engine found but MongoDB container failed (${(err as Error).message}); trying FerretDB`,
      );
    }
  }
  let binary = ferretdbBinary();
  if (binary === null && goBin() !== null) {
    log("ferretdb not found; building it with scripts/install-go-tools.sh (a few minutes, once)");
    const r = spawnSync("bash", [INSTALL_SCRIPT], { stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) throw new Error("building FerretDB failed; see the output above");
    binary = ferretdbBinary();
  }
  if (binary === null) {
    throw new Error(
      "No MongoDB for the tests. Provide one of: MONGODB_URI=mongodb://127.0.0.1:27017 (a running MongoDB); " +
        "a Docker engine (testcontainers starts mongo:7); or Go 1.22+ so `bash scripts/install-go-tools.sh` can build FerretDB.",
    );
  }
  const ferret = await FerretDb.start(binary);
  return {
    uri: ferret.uri,
    source: `ferretdb (${binary}, port ${ferret.port})`,
    stop: () => ferret.stop(),
  };
}
