/**
 * The bench's load generators and neighbours, each in a process of its own as
 * keyward is: ghz (gRPC), autocannon (HTTP/1.1), the floor server and nginx.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { create, type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { file_keyward_v1_authorize } from "../gen/keyward/v1/authorize_pb.js";
import { startGateway } from "../test/support/gateways.js";
import { goTool } from "../test/support/go-tools.js";
import { freePort } from "../test/support/mongo-provider.js";
import { ROOT } from "../test/support/paths.js";

let ghzBinary: string | undefined;

export const AUTHORIZE = "keyward.v1.AuthorizeService/Authorize";
export const CHECK = "grpc.health.v1.Health/Check";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  ok: number;
  /** Non-OK answers, excluding calls cut off by the end of a timed run. */
  errors: number;
  /** Those errors by message, so a row's errors can be told apart. */
  errorKinds: Record<string, number>;
}

/** ghz reads message types from this instead of reflection, which the floor does not serve. */
export function writeProtoset(path: string): void {
  const files = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (files.has(f.name)) return;
    for (const d of f.dependencies) visit(d);
    files.set(f.name, f);
  };
  visit(file_keyward_v1_authorize);
  visit(file_grpc_health_v1_health);
  writeFileSync(
    path,
    toBinary(
      FileDescriptorSetSchema,
      create(FileDescriptorSetSchema, { file: [...files.values()].map((f) => f.proto) }),
    ),
  );
}

export type GhzData = { inline: unknown } | { file: string };

/** Runs ghz without blocking this process (its own gRPC clients must keep answering pings). */
export function ghz(
  protoset: string,
  port: number,
  call: string,
  data: GhzData,
  extra: string[],
): Promise<LoadResult> {
  const dataArgs = "inline" in data ? ["-d", JSON.stringify(data.inline)] : ["-D", data.file];
  ghzBinary ??= goTool("ghz", "GHZ_BIN");
  const child = spawn(ghzBinary, [
    "--insecure",
    "--protoset",
    protoset,
    "--call",
    call,
    ...dataArgs,
    "-O",
    "json",
    ...extra,
    `127.0.0.1:${port}`,
  ]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("close", () => {
      try {
        const out = JSON.parse(stdout) as {
          rps: number;
          statusCodeDistribution: Record<string, number>;
          errorDistribution?: Record<string, number>;
          details?: { latency: number; status: string }[];
        };
        const lat = (out.details ?? [])
          .filter((d) => d.status === "OK")
          .map((d) => d.latency)
          .sort((a, b) => a - b);
        const pct = (p: number) =>
          lat.length ? lat[Math.max(0, Math.ceil(lat.length * p) - 1)]! / 1e6 : NaN; // nearest rank
        const ok = out.statusCodeDistribution.OK ?? 0;
        const total = Object.values(out.statusCodeDistribution).reduce((a, b) => a + b, 0);
        // ghz cancels the calls still in flight when -z runs out (the message depends on the moment it
        // closes its connection); they are not failures of the server.
        const kinds = Object.entries(out.errorDistribution ?? {});
        const isCutOff = (msg: string) =>
          /transport is closing|context canceled|client connection is closing/.test(msg);
        const cutOff = kinds.filter(([msg]) => isCutOff(msg)).reduce((a, [, n]) => a + n, 0);
        const errorKinds = Object.fromEntries(kinds.filter(([msg]) => !isCutOff(msg)));
        resolve({
          rps: out.rps,
          p50: pct(0.5),
          p99: pct(0.99),
          p999: pct(0.999),
          ok,
          errors: total - ok - cutOff,
          errorKinds,
        });
      } catch {
        reject(new Error(`ghz failed: ${stderr || stdout.slice(0, 500)}`));
      }
    });
  });
}

/** autocannon (an HTTP/1.1 load generator from npm). */
export function autocannon(
  url: string,
  headers: Record<string, string>,
  extra: string[],
  seconds: number,
): Promise<LoadResult> {
  const bin = join(ROOT, "node_modules/.bin/autocannon");
  const child = spawn(bin, [
    "-j",
    "-d",
    String(seconds),
    ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]),
    ...extra,
    url,
  ]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.on("close", () => {
      try {
        const out = JSON.parse(stdout) as {
          requests: { average: number };
          latency: Record<string, number>;
          errors: number;
          non2xx: number;
          timeouts: number;
          "2xx": number;
        };
        const errorKinds = Object.fromEntries(
          Object.entries({
            "connection errors": out.errors,
            "non-2xx": out.non2xx,
            timeouts: out.timeouts,
          }).filter(([, n]) => n > 0),
        );
        resolve({
          rps: out.requests.average,
          p50: out.latency.p50!,
          p99: out.latency.p99!,
          p999: out.latency.p99_9!,
          ok: out["2xx"],
          errors: out.errors + out.non2xx + out.timeouts,
          errorKinds,
        });
      } catch {
        reject(new Error(`autocannon failed: ${stderr || stdout.slice(0, 500)}`));
      }
    }),
  );
}

/** One line per measurement as it lands, so a later failure does not lose it. */
export function brief(r: LoadResult): string {
  const kinds = Object.entries(r.errorKinds).map(([msg, n]) => `${n} × ${msg}`);
  return `${r.rps.toFixed(0)} req/s, p50/p99/p99.9 ${r.p50.toFixed(2)}/${r.p99.toFixed(2)}/${r.p999.toFixed(2)} ms, ${r.ok} OK, ${r.errors} errors${kinds.length ? ` (${kinds.join("; ")})` : ""}`;
}

export function median(results: LoadResult[]): LoadResult {
  return [...results].sort((x, y) => x.rps - y.rps)[Math.floor(results.length / 2)]!;
}

/** The floor (bench/floor-server.ts). */
export async function startFloor(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/floor-server.ts", String(port)],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stderr!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return { port, child };
}

/** nginx with the tested configuration of test/gateways/, in front of a trivial upstream. */
export async function startNginx(
  keywardHttpPort: number,
  dir: string,
): Promise<{ url: string; child: ChildProcess; upstream: http.Server }> {
  const upstream = http.createServer((_, res) => res.end("ok"));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  mkdirSync(dir, { recursive: true });
  const gateway = await startGateway(
    "nginx",
    dir,
    keywardHttpPort,
    (upstream.address() as AddressInfo).port,
  );
  return { url: gateway.url, child: gateway.child, upstream };
}
