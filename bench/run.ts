/**
 * npm run bench — load scenarios against real keyward processes (compiled,
 * as in production) on a real MongoDB-protocol server, driven by ghz, next to
 * a bare node:http2 gRPC no-op (the floor) measured in the same run.
 * Prints a table and writes bench/results.md.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { create, toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { AuthorizeService, file_keyward_v1_authorize, Reason } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { bootstrapAdmin } from "../src/admin/bootstrap.js";
import { loadCatalog } from "../src/config.js";
import { generateKey, digestOfHash, hashKey, keyPreview, newKeyId } from "../src/domain/keys.js";
import type { KeyRecord } from "../src/domain/types.js";
import { MongoKeyStore } from "../src/store/mongo/mongo-key-store.js";
import { startGateway } from "../test/support/gateways.js";
import { goTool } from "../test/support/go-tools.js";
import { PRODUCTION_NODE_ARGS, spawnKeyward, type KeywardProcess } from "../test/support/keyward-process.js";
import { freePort, provideMongo } from "../test/support/mongo-provider.js";

const USAGE = `Usage: npm run bench [-- options]

Runs the load scenarios on this machine and writes bench/results.md: a bare
node:http2 gRPC no-op (the floor), keyward's Health/Check and cached Authorize on
PORT (grpc-js) and on HTTP_PORT (connect-node), fixed rates next to the floor,
uncached lookups and revocation propagation. Ratios compare runs of this one
invocation; absolute numbers move from run to run on a shared machine.

Options:
  --duration SECONDS     length of each timed run (default 10)
  --concurrency N        concurrent calls for the throughput runs (default 50)
  --rounds N             alternating floor/Check/Authorize rounds; the median is reported (default 3)
  --rates LIST           fixed rates for the latency runs, c=10 (default 1000,2000,5000)
  --many-keys N          stored keys for the cache-miss scenario (default 100000 on MongoDB;
                         5000 on FerretDB/SQLite, which scans the whole collection per lookup)
  -h, --help             this text

Environment: GHZ_BIN (path to ghz), MONGODB_URI (use this database), BENCH_SERVER_LOGS=1 (show keyward's logs).
`;

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    concurrency: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    rates: { type: "string", default: "1000,2000,5000" },
    "many-keys": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`bench: --${name} must be a positive integer, got "${value}"\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}
const DURATION = positive("duration", args.duration);
const CONCURRENCY = positive("concurrency", args.concurrency);
const ROUNDS = positive("rounds", args.rounds);
const RATES = args.rates!.split(",").map((r) => positive("rates", r.trim()));
const MANY_KEYS_GIVEN = args["many-keys"] !== undefined;
let MANY_KEYS = MANY_KEYS_GIVEN ? positive("many-keys", args["many-keys"]) : 100_000;
const ROOT = new URL("../", import.meta.url).pathname;
const PEPPER = "bench-pepper-0123456789-abcdefghijklmnopqrstuvwxyz";
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

const GHZ = goTool("ghz", "GHZ_BIN");

function startKeyward(mongoUri: string, db: string, env: Record<string, string> = {}): Promise<KeywardProcess> {
  return spawnKeyward({ compiled: true, env: { MONGODB_URI: mongoUri, MONGODB_DB: db, KEY_PEPPER: PEPPER, ...env }, inheritStdout: !!process.env.BENCH_SERVER_LOGS });
}

/** The floor in a process of its own, as keyward is. */
async function startFloor(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "bench/floor-server.ts", String(port)], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return { port, child };
}

/** autocannon (an HTTP/1.1 load generator from npm) in a process of its own, like ghz. */
function autocannon(url: string, headers: Record<string, string>, extra: string[], seconds = DURATION): Promise<GhzResult> {
  const bin = join(ROOT, "node_modules/.bin/autocannon");
  const child = spawn(bin, ["-j", "-d", String(seconds), ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]), ...extra, url]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.on("close", () => {
      try {
        const out = JSON.parse(stdout) as { requests: { average: number }; latency: Record<string, number>; errors: number; non2xx: number; timeouts: number; "2xx": number };
        resolve({ rps: out.requests.average, p50: out.latency.p50!, p99: out.latency.p99!, p999: out.latency.p99_9!, ok: out["2xx"], errors: out.errors + out.non2xx + out.timeouts });
      } catch {
        reject(new Error(`autocannon failed: ${stderr || stdout.slice(0, 500)}`));
      }
    }),
  );
}

/** nginx with the tested configuration of test/gateways/, in front of a trivial upstream. */
async function startNginx(keywardHttpPort: number, dir: string): Promise<{ url: string; child: ChildProcess; upstream: http.Server }> {
  const upstream = http.createServer((_, res) => res.end("ok"));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  mkdirSync(dir, { recursive: true });
  const gateway = await startGateway("nginx", dir, keywardHttpPort, (upstream.address() as AddressInfo).port);
  return { url: gateway.url, child: gateway.child, upstream };
}

/** ghz reads message types from this instead of reflection, which the floor does not serve. */
function writeProtoset(path: string): void {
  const files = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (files.has(f.name)) return;
    for (const d of f.dependencies) visit(d);
    files.set(f.name, f);
  };
  visit(file_keyward_v1_authorize);
  visit(file_grpc_health_v1_health);
  writeFileSync(path, toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: [...files.values()].map((f) => f.proto) })));
}

interface GhzResult {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  ok: number;
  /** Non-OK answers, excluding calls cut off by the end of a timed run. */
  errors: number;
}

/** Runs ghz without blocking this process (its own gRPC clients must keep answering pings). */
function ghz(port: number, call: string, data: { inline: unknown } | { file: string }, extra: string[]): Promise<GhzResult> {
  const dataArgs = "inline" in data ? ["-d", JSON.stringify(data.inline)] : ["-D", data.file];
  const child = spawn(GHZ, ["--insecure", "--protoset", PROTOSET, "--call", call, ...dataArgs, "-O", "json", ...extra, `127.0.0.1:${port}`]);
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
        const lat = (out.details ?? []).filter((d) => d.status === "OK").map((d) => d.latency).sort((a, b) => a - b);
        const pct = (p: number) => (lat.length ? lat[Math.max(0, Math.ceil(lat.length * p) - 1)]! / 1e6 : NaN); // nearest rank
        const ok = out.statusCodeDistribution.OK ?? 0;
        const total = Object.values(out.statusCodeDistribution).reduce((a, b) => a + b, 0);
        // ghz cancels the calls still in flight when -z runs out; they are not failures of keyward.
        const cutOff = Object.entries(out.errorDistribution ?? {})
          .filter(([msg]) => /transport is closing|context canceled/.test(msg))
          .reduce((a, [, n]) => a + n, 0);
        resolve({ rps: out.rps, p50: pct(0.5), p99: pct(0.99), p999: pct(0.999), ok, errors: total - ok - cutOff });
      } catch {
        reject(new Error(`ghz failed: ${stderr || stdout.slice(0, 500)}`));
      }
    });
  });
}

/** One line per measurement as it lands, so a later failure does not lose it. */
function brief(r: GhzResult): string {
  return `${r.rps.toFixed(0)} req/s, p50/p99/p99.9 ${r.p50.toFixed(2)}/${r.p99.toFixed(2)}/${r.p999.toFixed(2)} ms, ${r.ok} OK, ${r.errors} errors`;
}

function median(results: GhzResult[]): GhzResult {
  return [...results].sort((x, y) => x.rps - y.rps)[Math.floor(results.length / 2)]!;
}

const AUTHORIZE = "keyward.v1.AuthorizeService/Authorize";
let PROTOSET = "";
const CHECK = "grpc.health.v1.Health/Check";

log("compiling keyward (npm run build) so the servers run as in production");
const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
if (build.status !== 0) throw new Error("npm run build failed");

const mongo = await provideMongo();
log(`database: ${mongo.source}`);
const FERRET_SCANS = mongo.source.startsWith("ferretdb");
if (FERRET_SCANS && !MANY_KEYS_GIVEN) {
  MANY_KEYS = 5000;
  log("FerretDB/SQLite answers every key_hash lookup with a full collection scan: scenario 3 stores 5,000 keys, not 100,000 (set MONGODB_URI for a real MongoDB, or pass --many-keys)");
}
const db = `kw_bench_${Date.now()}`;
const scratch = mkdtempSync(join(tmpdir(), "keyward-bench-"));
let a: KeywardProcess | null = null;
let b: KeywardProcess | null = null;
let c: KeywardProcess | null = null;
let floor: { port: number; child: ChildProcess } | null = null;
let nginxChild: ChildProcess | null = null;
try {
  PROTOSET = join(scratch, "keyward.protoset");
  writeProtoset(PROTOSET);
  floor = await startFloor();
  a = await startKeyward(mongo.uri, db);
  const store = MongoKeyStore.create({ uri: mongo.uri, dbName: db });
  const catalog = loadCatalog(join(ROOT, "config/scopes.json"));
  const { key: rootKey } = await bootstrapAdmin(store, { catalog, pepper: PEPPER, prefix: "kw" }, { workspace: "*", name: "bench root", scopes: ["keyward:all"], environment: "test" });
  const auth = { headers: { authorization: `Bearer ${rootKey}` } };
  const adminA = createClient(KeyAdminService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${a.port}` }));
  const authzA = createClient(AuthorizeService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${a.port}` }));

  log("creating 100 keys through KeyAdmin");
  const keys = await Promise.all(
    Array.from({ length: 100 }, (_, i) => adminA.createKey({ name: `bench ${i}`, workspace: "bench", scopes: ["campaigns:read", "leads:all"] }, auth)),
  );
  const mixed = keys.flatMap((k) => [
    { api_key: k.key, required_scopes: ["campaigns:read"], workspace: "bench" },
    { api_key: k.key, required_scopes: ["campaigns:write"], workspace: "bench" },
  ]);
  const timed = (seconds: number) => ["-c", String(CONCURRENCY), "-z", `${seconds}s`, "--connections", "2"];

  const fixedRate = (rps: number) => ["--rps", String(rps), "-c", "10", "-z", `${DURATION}s`, "--connections", "1"];
  const targets = {
    floor: () => ghz(floor!.port, CHECK, { inline: {} }, timed(DURATION)),
    check: () => ghz(a!.port, CHECK, { inline: {} }, timed(DURATION)),
    grpc: () => ghz(a!.port, AUTHORIZE, { inline: mixed }, timed(DURATION)),
    connect: () => ghz(a!.httpPort, AUTHORIZE, { inline: mixed }, timed(DURATION)),
  };

  log("warming up (JIT, cache) for 3 s each");
  await ghz(floor.port, CHECK, { inline: {} }, timed(3));
  await ghz(a.port, CHECK, { inline: {} }, timed(3));
  await ghz(a.port, AUTHORIZE, { inline: mixed }, timed(3));
  await ghz(a.httpPort, AUTHORIZE, { inline: mixed }, timed(3));

  const runs: Record<keyof typeof targets, GhzResult[]> = { floor: [], check: [], grpc: [], connect: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, run] of Object.entries(targets) as [keyof typeof targets, () => Promise<GhzResult>][]) {
      log(`round ${r}/${ROUNDS}: ${name}, c=${CONCURRENCY}, ${DURATION}s`);
      const result = await run();
      runs[name].push(result);
      log(`   ${brief(result)}`);
    }
  }
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<keyof typeof targets, GhzResult>;

  const fixed: Array<{ rps: number; floor: GhzResult; authorize: GhzResult }> = [];
  for (const rps of RATES) {
    log(`fixed rate ${rps.toLocaleString("en")} req/s, c=10: floor, then cached Authorize on PORT, ${DURATION}s each`);
    const atRate = { rps, floor: await ghz(floor.port, CHECK, { inline: {} }, fixedRate(rps)), authorize: await ghz(a.port, AUTHORIZE, { inline: mixed }, fixedRate(rps)) };
    log(`   floor ${brief(atRate.floor)} · Authorize ${brief(atRate.authorize)}`);
    fixed.push(atRate);
  }

  log("forward auth: /v1/check directly and through nginx (auth_request), autocannon over HTTP/1.1");
  const gw = await startNginx(a.httpPort, join(scratch, "nginx"));
  nginxChild = gw.child;
  const keyHeader = { "x-api-key": keys[0]!.key };
  const checkUrl = `http://127.0.0.1:${a.httpPort}/v1/check?scopes=campaigns:read`;
  await autocannon(checkUrl, keyHeader, ["-c", "10"], 3);
  const forward = {
    direct: await autocannon(checkUrl, keyHeader, ["-c", String(CONCURRENCY)]),
    nginx: await autocannon(`${gw.url}/campaigns`, keyHeader, ["-c", String(CONCURRENCY)]),
    direct1k: await autocannon(checkUrl, keyHeader, ["-c", "10", "-R", "1000"]),
    nginx1k: await autocannon(`${gw.url}/campaigns`, keyHeader, ["-c", "10", "-R", "1000"]),
  };
  const authorize1k = fixed.find((x) => x.rps === 1000)?.authorize;
  gw.child.kill("SIGTERM");
  gw.upstream.close();

  // Replica B runs for this scenario only: the throughput and latency rows measure replica A with
  // the neighbours production has (its database), not with a second keyward polling beside it.
  log("5. revocation propagation: 100 revokes through replica B (started now), each timed until replica A refuses the key");
  b = await startKeyward(mongo.uri, db);
  const adminB = createClient(KeyAdminService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${b.port}` }));
  const lags: number[] = [];
  let propagationError = "";
  try {
    for (const k of keys) {
      const ask = () => authzA.authorize({ credential: { case: "apiKey", value: k.key } }, { timeoutMs: 5000 });
      if ((await ask()).allowed !== true) throw new Error("bench key not allowed before its revoke");
      const start = performance.now();
      await adminB.revokeKey({ id: k.apiKey!.id, reason: "bench" }, { ...auth, timeoutMs: 5000 });
      while ((await ask()).reason !== Reason.KEY_REVOKED) {
        if (performance.now() - start > 5000) throw new Error("revocation not seen within 5 s");
        await new Promise((r) => setTimeout(r, 5));
      }
      lags.push(performance.now() - start);
    }
  } catch (err) {
    propagationError = `${(err as Error).message} after ${lags.length} of 100 revokes`;
    log(`propagation scenario failed: ${propagationError}`);
  }
  // Its own database and replica: FerretDB's scans of a big collection must not slow the other scenarios.
  // A long deadline: this row measures lookups per second, not how many FerretDB scans outlast 2 s.
  c = await startKeyward(mongo.uri, `${db}_many`, { MONGODB_TIMEOUT_MS: "30000" });
  const manyStore = MongoKeyStore.create({ uri: mongo.uri, dbName: `${db}_many` });
  log(`3. storing ${MANY_KEYS.toLocaleString("en")} keys (bulk insert)`);
  const manyFile = join(scratch, "many-keys.json");
  const many: unknown[] = [];
  const t0 = Date.now();
  for (let done = 0; done < MANY_KEYS; ) {
    const batch: KeyRecord[] = [];
    for (let i = 0; i < 5000 && done + i < MANY_KEYS; i++) {
      const key = generateKey("kw", "live");
      const at = new Date();
      batch.push({
        id: newKeyId(),
        keyDigest: digestOfHash(hashKey(key, PEPPER)),
        name: `many ${done + i}`,
        workspace: `ws${(done + i) % 100}`,
        scopes: ["campaigns:read"],
        allowedDomains: [],
        environment: "live",
        keyPreview: keyPreview(key),
        metadata: {},
        createdAt: at,
        updatedAt: at,
        lastUsedAt: null,
        expiresAt: null,
        revokedAt: null,
        revokeReason: "",
        retiresAt: null,
        successorId: null,
        revision: 0,
      });
      many.push({ api_key: key, required_scopes: ["campaigns:read"] });
    }
    await manyStore.insertKeys(batch);
    done += batch.length;
    log(`   ${done.toLocaleString("en")} / ${MANY_KEYS.toLocaleString("en")} stored (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  for (let i = many.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [many[i], many[j]] = [many[j], many[i]];
  }
  writeFileSync(manyFile, JSON.stringify(many));
  log(`3. Authorize over ${MANY_KEYS.toLocaleString("en")} keys in shuffled order (each call a cache miss until the list wraps), c=${CONCURRENCY}, ${DURATION}s`);
  const cold = await ghz(c.port, AUTHORIZE, { file: manyFile }, timed(DURATION));

  await manyStore.close();
  await store.close();
  lags.sort((x, y) => x - y);
  const lagP99 = lags[Math.max(0, Math.ceil(lags.length * 0.99) - 1)] ?? NaN; // nearest rank
  const lagMax = lags[lags.length - 1] ?? NaN;

  const f = (n: number, d = 2) => (Number.isNaN(n) ? "–" : n.toFixed(d));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const row = (name: string, r: GhzResult, offered?: number) =>
    `| ${name} | ${f(r.rps, 0)} | ${offered ? pct(r.ok / (offered * DURATION)) : ""} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.p999)} | ${r.errors} |`;
  const medianOf = `c=${CONCURRENCY}, median of ${ROUNDS}`;
  const rows = [
    `| scenario | req/s | served | p50 ms | p99 ms | p99.9 ms | errors |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    row(`floor: bare node:http2 gRPC no-op (${medianOf})`, med.floor),
    row(`Health/Check on PORT, grpc-js (${medianOf})`, med.check),
    row(`Authorize, cached, 50% allow / 50% deny, on PORT, grpc-js (${medianOf})`, med.grpc),
    row(`Authorize, cached, on HTTP_PORT, connect-node, gRPC over h2c (${medianOf})`, med.connect),
    ...fixed.flatMap((x) => [row(`floor at fixed ${x.rps.toLocaleString("en")} req/s (c=10)`, x.floor, x.rps), row(`Authorize on PORT at fixed ${x.rps.toLocaleString("en")} req/s (c=10)`, x.authorize, x.rps)]),
    row(`forward auth: GET /v1/check on HTTP_PORT, HTTP/1.1 (autocannon, c=${CONCURRENCY})`, forward.direct),
    row(`forward auth through nginx auth_request → upstream (autocannon, c=${CONCURRENCY})`, forward.nginx),
    row("forward auth: /v1/check at fixed 1,000 req/s (c=10)", forward.direct1k),
    row("forward auth through nginx at fixed 1,000 req/s (c=10)", forward.nginx1k),
    row(`Authorize, ${MANY_KEYS.toLocaleString("en")} stored keys, uniform, uncached (c=${CONCURRENCY})`, cold),
  ];
  const at = (rps: number) => fixed.find((x) => x.rps === rps);
  const two = at(2000);
  const five = at(5000);
  const summary = [
    `Forward auth: /v1/check ${f(forward.direct.rps, 0)} req/s directly, ${f(forward.nginx.rps, 0)} req/s through nginx (Authorize on PORT: ${f(med.grpc.rps, 0)}); at 1,000 req/s p99 ${f(forward.direct1k.p99)} ms directly, ${f(forward.nginx1k.p99)} ms through nginx${authorize1k ? ` (Authorize on PORT: ${f(authorize1k.p99)} ms)` : ""}`,
    `Cached Authorize on PORT / floor: **${pct(med.grpc.rps / med.floor.rps)}** (target ≥ 50%); / keyward's own Health/Check: **${pct(med.grpc.rps / med.check.rps)}** (target ≥ 75%); on HTTP_PORT (connect-node) / PORT: ${pct(med.connect.rps / med.grpc.rps)}`,
    `Rounds (req/s): floor ${runs.floor.map((r) => f(r.rps, 0)).join(", ")} · Check ${runs.check.map((r) => f(r.rps, 0)).join(", ")} · Authorize PORT ${runs.grpc.map((r) => f(r.rps, 0)).join(", ")} · Authorize HTTP_PORT ${runs.connect.map((r) => f(r.rps, 0)).join(", ")}`,
    ...(two ? [`At 2,000 req/s: Authorize p99 **${f(two.authorize.p99)} ms** (target < 3 ms) = **${f(two.authorize.p99 / two.floor.p99, 1)}×** the floor's ${f(two.floor.p99)} ms (target < 2.5×)`] : []),
    ...(five ? [`At 5,000 req/s: Authorize served **${pct(five.authorize.ok / (5000 * DURATION))}** of the offered calls (target ≥ 97%), p50/p99/p99.9 ${f(five.authorize.p50)}/${f(five.authorize.p99)}/${f(five.authorize.p999)} ms (floor ${f(five.floor.p50)}/${f(five.floor.p99)}/${f(five.floor.p999)} ms)`] : []),
    propagationError
      ? `Revocation propagation across two replicas: FAILED (${propagationError}); measured p99 ${f(lagP99, 0)} ms, max ${f(lagMax, 0)} ms over ${lags.length} revokes`
      : `Revocation propagation across two replicas, 100 revokes (from the revoke call to the other replica's first refusal): p99 **${f(lagP99, 0)} ms**, max **${f(lagMax, 0)} ms** (target max < 1000 ms)`,
  ];
  const md = [
    "# keyward benchmark results",
    "",
    `Command: \`npm run bench -- --duration ${DURATION} --concurrency ${CONCURRENCY} --rounds ${ROUNDS} --rates ${RATES.join(",")}\`, ${new Date().toISOString()}, database: ${mongo.source.replace(/ \(.*/, "")}, keyward compiled (node ${PRODUCTION_NODE_ARGS.join(" ")} dist/src/main.js, as the Dockerfile runs it), ghz (throughput: 2 connections; fixed rates: 1 connection, c=10) and the servers on one 2-core machine; the second replica runs only for the propagation row. "served" = OK answers / calls offered at that rate. autocannon (forward auth rows) reports latency in whole milliseconds.`,
    "",
    ...rows,
    "",
    ...summary.map((x) => `- ${x}`),
    ...(FERRET_SCANS
      ? [
          "",
          `The uncached row measures the database, not keyward: FerretDB 1.24 on SQLite plans \`find({key_digest})\` as a full SCAN of the collection, so every cache miss costs a scan. Against a real MongoDB the unique index makes it one index probe: \`MONGODB_URI=mongodb://... npm run bench\`.`,
        ]
      : []),
    "",
  ].join("\n");
  writeFileSync(join(ROOT, "bench/results.md"), md);
  process.stdout.write(`\n${rows.join("\n")}\n\n${summary.join("\n")}\n\nwritten to bench/results.md\n`);
} finally {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  floor?.child.kill("SIGTERM");
  nginxChild?.kill("SIGTERM");
  rmSync(scratch, { recursive: true, force: true });
  await mongo.stop();
}
