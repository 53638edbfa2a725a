import { LOG_LEVELS } from "../config.js";

/**
 * Every environment variable keyward reads, in one place: name, default,
 * meaning. docs/operations.md carries the same table (a test compares them).
 */
export const CONFIG_VARIABLES: ReadonlyArray<{ name: string; default: string; meaning: string }> = [
  {
    name: "PORT",
    default: "50051",
    meaning: "gRPC port (HTTP/2, @grpc/grpc-js): the hot path, grpcurl, Envoy",
  },
  {
    name: "HTTP_PORT",
    default: "8080",
    meaning:
      "Connect port (connect-node): Connect JSON for curl, gRPC-web and gRPC, over HTTP/1.1 and h2c",
  },
  { name: "HOST", default: "0.0.0.0", meaning: "address to listen on (dev mode: 127.0.0.1)" },
  {
    name: "MONGODB_URI",
    default: "(required)",
    meaning:
      "MongoDB connection string; only dev mode (npm start, keyward dev, KEYWARD_DEV=1) runs without it, in memory",
  },
  {
    name: "KEYWARD_DEV",
    default: "(unset)",
    meaning:
      "1 lets the production entry run dev mode when MONGODB_URI is unset; refused with NODE_ENV=production",
  },
  { name: "MONGODB_DB", default: "keyward", meaning: "database name" },
  {
    name: "MONGODB_TIMEOUT_MS",
    default: "2000",
    meaning: "deadline of every database operation; past it the call answers UNAVAILABLE",
  },
  {
    name: "KEY_PEPPER",
    default: "(required with MONGODB_URI)",
    meaning: "secret HMAC key for key hashes, at least 32 bytes; never stored in the database",
  },
  {
    name: "KEY_PREFIX",
    default: "kw",
    meaning: "key prefix, `[a-z][a-z0-9]{0,15}`: keys look like `kw_live_…`",
  },
  { name: "SCOPES_FILE", default: "config/scopes.json", meaning: "scope catalog (JSON)" },
  {
    name: "LOG_LEVEL",
    default: "info",
    meaning: `${LOG_LEVELS.join(", ")}; debug logs one line per RPC`,
  },
  {
    name: "METRICS_PORT",
    default: "(unset: off)",
    meaning: "port of the Prometheus /metrics endpoint",
  },
  {
    name: "TLS_CERT_FILE",
    default: "(unset: cleartext)",
    meaning: "PEM certificate chain; with TLS_KEY_FILE serves TLS",
  },
  { name: "TLS_KEY_FILE", default: "(unset)", meaning: "PEM private key" },
  {
    name: "TLS_CLIENT_CA_FILE",
    default: "(unset)",
    meaning: "PEM CA; when set, clients must present a certificate it signed (mTLS)",
  },
  {
    name: "USAGE_FLUSH_MS",
    default: "10000",
    meaning:
      "how often each replica writes the usage it counted (and last_used_at); a crash loses at most this long of one replica's counts",
  },
  {
    name: "USAGE_RECORDING",
    default: "on",
    meaning:
      "off records no usage and no last_used_at (GetKeyUsage, findings and cache warming then see none); for operators who keep none, and the cost A/B",
  },
  {
    name: "LAST_USED_FLUSH_MS",
    default: "(unset)",
    meaning: "deprecated alias of USAGE_FLUSH_MS, read only when USAGE_FLUSH_MS is unset",
  },
  {
    name: "USAGE_HOURLY_DAYS",
    default: "35",
    meaning: "days usage is kept per hour; older hours are rolled into days",
  },
  {
    name: "USAGE_DAILY_DAYS",
    default: "400",
    meaning: "days usage is kept per day; older days are removed",
  },
  {
    name: "USAGE_COMPACT_MS",
    default: "300000",
    meaning:
      "how often the background sweep folds, rolls up and removes usage (safe on every replica at once)",
  },
  {
    name: "FINDINGS_UNUSED_DAYS",
    default: "30",
    meaning: "ListFindings: a key or scope with no call in this many days is unused",
  },
  {
    name: "FINDINGS_EXPIRING_DAYS",
    default: "7",
    meaning: "ListFindings: a key expiring within this many days is expiring soon",
  },
  {
    name: "FINDINGS_DENIALS_PER_DAY",
    default: "100",
    meaning:
      "ListFindings: this many workspace, domain or scope denials of one key in 24 h are unexpected",
  },
  {
    name: "SHUTDOWN_TIMEOUT_MS",
    default: "10000",
    meaning: "how long in-flight calls may take to finish on SIGTERM",
  },
  { name: "MAX_MESSAGE_BYTES", default: "65536", meaning: "largest request message accepted" },
  {
    name: "CACHE_MAX_ENTRIES",
    default: "100000",
    meaning:
      "keys held in the in-process cache (0 turns it off); also bounds the cache warm at start (the keys used in the last hour)",
  },
  {
    name: "CACHE_TTL_MS",
    default: "60000",
    meaning:
      "staleness bound: a cached key is re-read at least this often (a key in use, in the background once 3/4 of it has passed, so no caller waits), and during a database outage is served at most this long after its last read",
  },
  {
    name: "CACHE_NEGATIVE_MAX_ENTRIES",
    default: "10000",
    meaning:
      "unknown key digests remembered, in a cache of their own (a flood of unknown keys never evicts known ones)",
  },
  {
    name: "CACHE_NEGATIVE_TTL_MS",
    default: "5000",
    meaning: "how long an unknown key digest is remembered",
  },
  {
    name: "IDLE_TIMEOUT_MS",
    default: "300000",
    meaning:
      "idle keep-alive connections and HTTP/2 sessions with no open stream are closed after this long",
  },
  {
    name: "MAX_CONNECTIONS",
    default: "10000",
    meaning: "connections per port; past it new connections are refused at once",
  },
  {
    name: "STORE_MAX_CONCURRENT_LOOKUPS",
    default: "64",
    meaning:
      "database lookups of uncached keys in flight at once; refreshes of known keys go first",
  },
  {
    name: "FORWARD_AUTH_TRUST_HEADERS",
    default: "false",
    meaning:
      "true lets /v1/check read X-Keyward-Scopes/-Workspace/-Domain from the request (only behind a gateway that sets or clears them); default: the query only",
  },
  {
    name: "LEAK_REPORT_KEYS_FILE",
    default: "(unset: off)",
    meaning:
      "public keys (GitHub's secret-scanning key list shape) whose signed reports to POST /v1/leak-reports revoke leaked keys",
  },
  {
    name: "WEBHOOK_URL_ALLOWLIST",
    default: "(unset: off)",
    meaning:
      "comma-separated URL prefixes webhooks may call, e.g. `https://hooks.example.com/`; unset: CreateWebhook answers FAILED_PRECONDITION",
  },
  {
    name: "WEBHOOK_POLL_MS",
    default: "1000",
    meaning:
      "how often the replica holding the delivery lease looks for new events and due retries; also the first retry's delay, doubled each time",
  },
  {
    name: "CONSOLE_ENABLED",
    default: "true",
    meaning: "serve the web console at /console/ on HTTP_PORT (files built by `npm run build`)",
  },
  {
    name: "INVALIDATION_POLL_MS",
    default: "250",
    meaning: "how often changes made by other replicas are polled (bounds revocation propagation)",
  },
];
