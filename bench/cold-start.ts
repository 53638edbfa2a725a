/**
 * First-call latency after a restart, with and without cache warming: keys
 * used through one keyward, which is then stopped (its usage flushed); then
 * keyward restarted on the same database, alternately with warming off and
 * on, and the first Authorize of each used key timed, one at a time. On
 * FerretDB a cache miss is a full scan of the keys, so the database holds
 * more keys than are used.
 *
 *   npm run bench:cold-start -- [--used 200] [--keys 5000] [--rounds 2]
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { AuthorizeService } from "../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../gen/keyward/v1/key_admin_pb.js";
import { bootstrapAdmin } from "../src/admin/bootstrap.js";
import { type RunningApp, startApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { provideMongo } from "../test/support/mongo-provider.js";
import { keyRecord } from "../test/support/records.js";

const USAGE = `Usage: npm run bench:cold-start -- [options]

Times the first Authorize of each recently used key after a restart, with the
cache warm off and on (FerretDB or MongoDB from test/support/mongo-provider.ts).

Options:
  --used N     keys used before the restart (default 200)
  --keys N     keys in the database in all (default 2000; the rest are never used)
  --rounds N   restarts per mode, alternating off and on (default 2)
  -h, --help
`;
const { values } = parseArgs({
  options: {
    used: { type: "string", default: "200" },
    keys: { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const USED = Number(values.used);
const KEYS = Math.max(USED, Number(values.keys));
const ROUNDS = Number(values.rounds);
const log = (msg: string) => process.stderr.write(`[cold-start] ${msg}\n`);

const mongo = await provideMongo();
const env = {
  MONGODB_URI: mongo.uri,
  MONGODB_DB: `kw_cold_${randomBytes(4).toString("hex")}`,
  KEY_PEPPER: randomBytes(32).toString("base64url"),
  HOST: "127.0.0.1",
  PORT: "0",
  HTTP_PORT: "0",
  LOG_LEVEL: "silent",
  // Latency is measured here, not deadlines: a loaded machine must not turn a slow miss into an error.
  MONGODB_TIMEOUT_MS: "30000",
};
const config = loadConfig(env);

async function start(warmCache: boolean): Promise<{ app: RunningApp; servingMs: number }> {
  const t0 = performance.now();
  const app = await startApp(config, pino({ level: "silent" }), { warmCache });
  while (app.health.get("") !== "SERVING") await new Promise((r) => setTimeout(r, 5));
  return { app, servingMs: performance.now() - t0 };
}

const authorizeOf = (app: RunningApp) =>
  createClient(AuthorizeService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${app.port}` }));

/** Keys used once through a first keyward, which then stops (and flushes their usage). */
async function seed(): Promise<string[]> {
  const { app } = await start(false);
  // In batches: one insert of thousands of keys outlasts the operation deadline on FerretDB.
  for (let n = USED; n < KEYS; n += 500)
    await app.store.insertKeys(Array.from({ length: Math.min(500, KEYS - n) }, () => keyRecord()));
  const root = await bootstrapAdmin(
    app.store,
    { catalog: config.catalog, pepper: config.keyPepper!, prefix: config.keyPrefix },
    { workspace: "*", name: "bench root", scopes: ["keyward:all"], environment: "test" },
  );
  const admin = createClient(
    KeyAdminService,
    createGrpcTransport({ baseUrl: `http://127.0.0.1:${app.port}` }),
  );
  const auth = { headers: { authorization: `Bearer ${root.key}` } };
  const keys: string[] = [];
  for (let i = 0; i < USED; i++)
    keys.push(
      (
        await admin.createKey(
          { name: `cold ${i}`, workspace: "bench", scopes: ["leads:read"] },
          auth,
        )
      ).key,
    );
  log(`${USED} keys created; using each once`);
  const authz = authorizeOf(app);
  for (const key of keys) await authz.authorize({ credential: { case: "apiKey", value: key } });
  await app.stop();
  return keys;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function restartAndTime(keys: string[], warm: boolean): Promise<string> {
  const { app, servingMs } = await start(warm);
  const warmed = await app.cacheWarm();
  const authz = authorizeOf(app);
  const times: number[] = [];
  for (const key of keys) {
    const t = performance.now();
    const r = await authz.authorize({ credential: { case: "apiKey", value: key } });
    times.push(performance.now() - t);
    if (!r.allowed) throw new Error(`a used key was denied: ${r.reason}`);
  }
  await app.stop();
  const sum = times.reduce((a, b) => a + b, 0);
  return `warm ${warm ? "on " : "off"}: SERVING after ${servingMs.toFixed(0)} ms (${warmed ? `${warmed.keys} keys warmed in ${warmed.ms} ms` : "no warm"}); first Authorize of ${keys.length} keys: median ${pct(times, 50).toFixed(2)} ms, p90 ${pct(times, 90).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms, all ${sum.toFixed(0)} ms`;
}

try {
  log(`${mongo.source}; ${KEYS} keys in the database, ${USED} used before the restart`);
  const keys = await seed();
  for (let r = 1; r <= ROUNDS; r++)
    for (const warm of [false, true]) process.stdout.write(`${await restartAndTime(keys, warm)}\n`);
} finally {
  await mongo.stop();
}
