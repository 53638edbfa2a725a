/**
 * The usage flush's own cost at many distinct active keys: one decision for
 * each of N keys recorded into a UsageRecorder over a real store (wrapped as
 * the app wraps it: operation deadlines), then one flush timed. Prints the
 * recording cost per call (a key's first call in the hour, and a call for a
 * key already seen), the flush's wall time and the documents it wrote.
 *
 *   npm run bench:usage-flush -- [--keys 100000] [--mongo]
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { DEFAULT_MAX_PENDING, UsageRecorder } from "../src/authorize/usage-recorder.js";
import { loadCatalog } from "../src/config.js";
import type { Decision } from "../src/domain/decision.js";
import type { KeyRecord } from "../src/domain/types.js";
import { withDeadline } from "../src/store/instrumented-key-store.js";
import type { KeyStore } from "../src/store/key-store.js";
import { MemoryKeyStore } from "../src/store/memory-key-store.js";
import { MongoKeyStore } from "../src/store/mongo/mongo-key-store.js";
import { withStoreErrors } from "../src/store/mongo/store-errors.js";
import { USAGE_PERIODS_COLLECTION } from "../src/store/mongo/usage-periods.js";
import { provideMongo } from "../test/support/mongo-provider.js";
import { keyRecord } from "../test/support/records.js";

const USAGE = `Usage: npm run bench:usage-flush -- [options]

Records one decision for each of N distinct keys into a UsageRecorder, then
times one flush (usage documents and last_used_at) and reports the documents
written and the recording cost per call.

Options:
  --keys N         distinct active keys in the interval (default 100000)
  --mongo          a real database (MONGODB_URI, testcontainers or FerretDB, as the tests find one); default: the memory store
  --timeout-ms N   the operation deadline the app would apply (MONGODB_TIMEOUT_MS, default 2000)
  -h, --help
`;
const { values } = parseArgs({
  options: {
    keys: { type: "string", default: "100000" },
    mongo: { type: "boolean", default: false },
    "timeout-ms": { type: "string", default: "2000" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const N = Number(values.keys);
const TIMEOUT_MS = Number(values["timeout-ms"]);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(TIMEOUT_MS) || TIMEOUT_MS < 1) {
  process.stderr.write("usage-flush: --keys and --timeout-ms must be positive integers\n");
  process.exit(2);
}

interface Opened {
  store: KeyStore;
  /** Usage documents in the database, for a check of what was written. */
  periodDocs: () => Promise<number | null>;
  close: () => Promise<void>;
}

async function open(records: readonly KeyRecord[]): Promise<Opened> {
  if (!values.mongo) {
    const memory = new MemoryKeyStore();
    await memory.insertKeys(records);
    return { store: memory, periodDocs: async () => null, close: async () => {} };
  }
  const mongo = await provideMongo();
  process.stderr.write(`[usage-flush] ${mongo.source}\n`);
  const dbName = `kw_flush_${Date.now()}`;
  const raw = MongoKeyStore.create({ uri: mongo.uri, dbName, timeoutMs: TIMEOUT_MS });
  await raw.ensureIndexes();
  const { MongoClient } = await import("mongodb");
  const client = new MongoClient(mongo.uri);
  return {
    store: withStoreErrors(raw),
    periodDocs: () => client.db(dbName).collection(USAGE_PERIODS_COLLECTION).countDocuments(),
    close: async () => {
      await Promise.all([raw.close(), client.close()]);
      await mongo.stop();
    },
  };
}

/** Counts what each write carries: one document per key-hour appended, one last_used_at per key. */
function counted(store: KeyStore) {
  const written = { usageDocs: 0, lastUsedDocs: 0, appendCalls: 0, lastUsedCalls: 0 };
  const wrapped = Object.create(store) as KeyStore;
  wrapped.appendUsage = (flush, id) => {
    written.appendCalls++;
    written.usageDocs += flush.filter((p) => p.counts.allowed + p.counts.denied > 0).length;
    return store.appendUsage(flush, id);
  };
  wrapped.recordUsage = (usage) => {
    written.lastUsedCalls++;
    written.lastUsedDocs += usage.size;
    return store.recordUsage(usage);
  };
  return { store: wrapped, written };
}

const records = Array.from({ length: N }, () =>
  keyRecord({ scopes: ["campaigns:read", "leads:all"] }),
);
const decisions: Decision[] = records.map((key) => ({
  allowed: true,
  reason: "OK",
  httpStatus: 200,
  message: "",
  missingScopes: [],
  key,
}));
const opened = await open(records);
const { store, written } = counted(withDeadline(opened.store, TIMEOUT_MS));
const failures: string[] = [];
const log = pino({ level: "warn" }, { write: (line: string) => void failures.push(line.trim()) });
const recorder = new UsageRecorder({
  store,
  catalog: loadCatalog(new URL("../config/scopes.json", import.meta.url).pathname),
  intervalMs: 3_600_000,
  maxPending: Math.max(DEFAULT_MAX_PENDING, N),
  log,
});
const required = ["campaigns:read"];

/** ns per record() over every key once. */
function recordAll(): number {
  const at = new Date();
  const t0 = process.hrtime.bigint();
  for (const d of decisions) recorder.record(d, at, required, "app.example.com", "grpc");
  return Number(process.hrtime.bigint() - t0) / N;
}

try {
  const heap0 = process.memoryUsage().heapUsed;
  const firstNs = recordAll();
  const heldBytes = process.memoryUsage().heapUsed - heap0;
  const seenNs = recordAll();
  const t0 = performance.now();
  await recorder.flush();
  const flushMs = performance.now() - t0;
  const inDb = await opened.periodDocs();
  const lines = [
    `keys: ${N} distinct, one hour, ${values.mongo ? "database" : "memory store"}`,
    `record(): ${firstNs.toFixed(0)} ns per call for a key's first call in the hour, ${seenNs.toFixed(0)} ns for a key already seen`,
    `pending state: ~${(heldBytes / N).toFixed(0)} bytes per key-hour (heap growth over the first pass)`,
    `flush: ${flushMs.toFixed(0)} ms wall; ${written.usageDocs} usage documents in ${written.appendCalls} appendUsage call(s), ${written.lastUsedDocs} last_used_at documents in ${written.lastUsedCalls} recordUsage call(s)${inDb === null ? "" : `; ${inDb} usage documents in the database`}`,
    `still pending after the flush: ${recorder.pending} key-hours; dropped: ${recorder.droppedCalls}`,
    ...failures.map((f) => `flush failure logged: ${f}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await opened.close();
}
