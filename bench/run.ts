/**
 * npm run bench — load scenarios against real keyward processes (compiled,
 * as in production) on a real MongoDB-protocol server, driven by ghz, next to
 * a bare node:http2 gRPC no-op (the floor) measured in the same run.
 * Prints a table and writes bench/results.md.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthorizeService, Reason } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { bootstrapAdmin } from "../src/admin/bootstrap.js";
import { generateKey, newKeyId } from "../src/admin/key-material.js";
import { loadCatalog } from "../src/config.js";
import { digestOfHash, hashKey, keyPreview } from "../src/domain/keys.js";
import type { KeyRecord } from "../src/domain/types.js";
import { MongoKeyStore } from "../src/store/mongo/mongo-key-store.js";
import {
  type KeywardProcess,
  PRODUCTION_NODE_ARGS,
  spawnKeyward,
} from "../test/support/keyward-process.js";
import { provideMongo } from "../test/support/mongo-provider.js";
import { ROOT } from "../test/support/paths.js";
import {
  AUTHORIZE,
  autocannon,
  brief,
  CHECK,
  type GhzData,
  type LoadResult,
  ghz as runGhz,
  startFloor,
  startNginx,
  writeProtoset,
} from "./load.js";
import { report, type Target } from "./report.js";

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
const PEPPER = "bench-pepper-0123456789-abcdefghijklmnopqrstuvwxyz";
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

function startKeyward(
  mongoUri: string,
  db: string,
  env: Record<string, string> = {},
): Promise<KeywardProcess> {
  return spawnKeyward({
    compiled: true,
    env: { MONGODB_URI: mongoUri, MONGODB_DB: db, KEY_PEPPER: PEPPER, ...env },
    inheritStdout: !!process.env.BENCH_SERVER_LOGS,
  });
}

log("compiling keyward (npm run build) so the servers run as in production");
const build = spawnSync(
  process.execPath,
  [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
  { cwd: ROOT, stdio: "inherit" },
);
if (build.status !== 0) throw new Error("npm run build failed");

const mongo = await provideMongo();
log(`database: ${mongo.source}`);
const FERRET_SCANS = mongo.source.startsWith("ferretdb");
if (FERRET_SCANS && !MANY_KEYS_GIVEN) {
  MANY_KEYS = 5000;
  log(
    "FerretDB/SQLite answers every key_hash lookup with a full collection scan: scenario 3 stores 5,000 keys, not 100,000 (set MONGODB_URI for a real MongoDB, or pass --many-keys)",
  );
}
const db = `kw_bench_${Date.now()}`;
const scratch = mkdtempSync(join(tmpdir(), "keyward-bench-"));
let a: KeywardProcess | null = null;
let b: KeywardProcess | null = null;
let c: KeywardProcess | null = null;
let floor: { port: number; child: ChildProcess } | null = null;
let nginxChild: ChildProcess | null = null;
try {
  const protoset = join(scratch, "keyward.protoset");
  writeProtoset(protoset);
  const ghz = (port: number, call: string, data: GhzData, extra: string[]) =>
    runGhz(protoset, port, call, data, extra);
  floor = await startFloor();
  a = await startKeyward(mongo.uri, db);
  const store = MongoKeyStore.create({ uri: mongo.uri, dbName: db });
  const catalog = loadCatalog(join(ROOT, "config/scopes.json"));
  const { key: rootKey } = await bootstrapAdmin(
    store,
    { catalog, pepper: PEPPER, prefix: "kw" },
    { workspace: "*", name: "bench root", scopes: ["keyward:all"], environment: "test" },
  );
  const auth = { headers: { authorization: `Bearer ${rootKey}` } };
  const adminA = createClient(
    KeyAdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${a.port}` }),
  );
  const authzA = createClient(
    AuthorizeService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${a.port}` }),
  );

  log("creating 100 keys through KeyAdmin");
  const keys = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      adminA.createKey(
        { name: `bench ${i}`, workspace: "bench", scopes: ["campaigns:read", "leads:all"] },
        auth,
      ),
    ),
  );
  const mixed = keys.flatMap((k) => [
    { api_key: k.key, required_scopes: ["campaigns:read"], workspace: "bench" },
    { api_key: k.key, required_scopes: ["campaigns:write"], workspace: "bench" },
  ]);
  const timed = (seconds: number) => [
    "-c",
    String(CONCURRENCY),
    "-z",
    `${seconds}s`,
    "--connections",
    "2",
  ];

  const fixedRate = (rps: number) => [
    "--rps",
    String(rps),
    "-c",
    "10",
    "-z",
    `${DURATION}s`,
    "--connections",
    "1",
  ];
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

  const runs: Record<Target, LoadResult[]> = { floor: [], check: [], grpc: [], connect: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    for (const [name, run] of Object.entries(targets) as [
      keyof typeof targets,
      () => Promise<LoadResult>,
    ][]) {
      log(`round ${r}/${ROUNDS}: ${name}, c=${CONCURRENCY}, ${DURATION}s`);
      const result = await run();
      runs[name].push(result);
      log(`   ${brief(result)}`);
    }
  }

  const fixed: Array<{ rps: number; floor: LoadResult; authorize: LoadResult }> = [];
  for (const rps of RATES) {
    log(
      `fixed rate ${rps.toLocaleString("en")} req/s, c=10: floor, then cached Authorize on PORT, ${DURATION}s each`,
    );
    const atRate = {
      rps,
      floor: await ghz(floor.port, CHECK, { inline: {} }, fixedRate(rps)),
      authorize: await ghz(a.port, AUTHORIZE, { inline: mixed }, fixedRate(rps)),
    };
    log(`   floor ${brief(atRate.floor)} · Authorize ${brief(atRate.authorize)}`);
    fixed.push(atRate);
  }

  log(
    "forward auth: /v1/check directly and through nginx (auth_request), autocannon over HTTP/1.1",
  );
  const gw = await startNginx(a.httpPort, join(scratch, "nginx"));
  nginxChild = gw.child;
  const keyHeader = { "x-api-key": keys[0]!.key };
  const checkUrl = `http://127.0.0.1:${a.httpPort}/v1/check?scopes=campaigns:read`;
  await autocannon(checkUrl, keyHeader, ["-c", "10"], 3);
  const forward = {
    direct: await autocannon(checkUrl, keyHeader, ["-c", String(CONCURRENCY)], DURATION),
    nginx: await autocannon(
      `${gw.url}/campaigns`,
      keyHeader,
      ["-c", String(CONCURRENCY)],
      DURATION,
    ),
    direct1k: await autocannon(checkUrl, keyHeader, ["-c", "10", "-R", "1000"], DURATION),
    nginx1k: await autocannon(
      `${gw.url}/campaigns`,
      keyHeader,
      ["-c", "10", "-R", "1000"],
      DURATION,
    ),
  };
  gw.child.kill("SIGTERM");
  gw.upstream.close();

  // Replica B runs for this scenario only: the throughput and latency rows measure replica A with
  // the neighbours production has (its database), not with a second keyward polling beside it.
  log(
    "5. revocation propagation: 100 revokes through replica B (started now), each timed until replica A refuses the key",
  );
  b = await startKeyward(mongo.uri, db);
  const adminB = createClient(
    KeyAdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${b.port}` }),
  );
  const lags: number[] = [];
  let propagationError = "";
  try {
    for (const k of keys) {
      const ask = () =>
        authzA.authorize({ credential: { case: "apiKey", value: k.key } }, { timeoutMs: 5000 });
      if ((await ask()).allowed !== true)
        throw new Error("bench key not allowed before its revoke");
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
    log(
      `   ${done.toLocaleString("en")} / ${MANY_KEYS.toLocaleString("en")} stored (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  for (let i = many.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [many[i], many[j]] = [many[j], many[i]];
  }
  writeFileSync(manyFile, JSON.stringify(many));
  log(
    `3. Authorize over ${MANY_KEYS.toLocaleString("en")} keys in shuffled order (each call a cache miss until the list wraps), c=${CONCURRENCY}, ${DURATION}s`,
  );
  const cold = await ghz(c.port, AUTHORIZE, { file: manyFile }, timed(DURATION));

  await manyStore.close();
  await store.close();
  const settings = {
    duration: DURATION,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    rates: RATES,
    manyKeys: MANY_KEYS,
    database: mongo.source,
    ferretScans: FERRET_SCANS,
    nodeArgs: PRODUCTION_NODE_ARGS,
  };
  const { rows, summary, markdown } = report(settings, {
    runs,
    fixed,
    forward,
    cold,
    lags,
    propagationError,
  });
  writeFileSync(join(ROOT, "bench/results.md"), markdown);
  process.stdout.write(
    `\n${rows.join("\n")}\n\n${summary.join("\n")}\n\nwritten to bench/results.md\n`,
  );
} finally {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  floor?.child.kill("SIGTERM");
  nginxChild?.kill("SIGTERM");
  rmSync(scratch, { recursive: true, force: true });
  await mongo.stop();
}
