import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  boolean,
  ConfigError,
  type Env,
  integer,
  loadCatalog,
  optional,
  readableFile,
} from "./config/readers.js";
import type { FindingThresholds } from "./domain/findings.js";
import { PREFIX_PATTERN } from "./domain/keys.js";
import type { ScopeCatalog } from "./domain/scopes.js";

export { ConfigError, loadCatalog } from "./config/readers.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  clientCaFile: string | null;
}

export interface Config {
  /** "dev": in-memory store, nothing kept; only when asked for (npm start, keyward dev, KEYWARD_DEV=1). */
  mode: "dev" | "mongodb";
  host: string;
  port: number;
  httpPort: number;
  /** null = dev mode: in-memory store, nothing kept. */
  mongodbUri: string | null;
  mongodbDb: string;
  mongodbTimeoutMs: number;
  /** null in dev mode until main generates one. */
  keyPepper: string | null;
  keyPrefix: string;
  scopesFile: string;
  catalog: ScopeCatalog;
  logLevel: LogLevel;
  metricsPort: number | null;
  tls: TlsConfig | null;
  /** DESIGN "Usage": recording, retention and the background sweep. */
  usage: UsageConfig;
  /** ListFindings' thresholds. */
  findings: FindingThresholds;
  shutdownTimeoutMs: number;
  maxMessageBytes: number;
  cache: { maxEntries: number; ttlMs: number; negativeMaxEntries: number; negativeTtlMs: number };
  invalidationPollMs: number;
  /** What one client can hold on either port (DESIGN "Connections"). */
  connections: {
    idleTimeoutMs: number;
    maxConnections: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    silentSocketTimeoutMs: number;
  };
  /** Store lookups of unknown digests in flight at once; refreshes of known keys go first. */
  storeMaxConcurrentLookups: number;
  /** Forward auth reads X-Keyward-Scopes/-Workspace/-Domain from the request only when this is true. */
  forwardAuthTrustHeaders: boolean;
  /** Public keys trusted to sign leak reports (GitHub's key-list shape); null turns /v1/leak-reports off. */
  leakReportKeysFile: string | null;
  /** URL prefixes a webhook may call; null turns webhooks off. */
  webhookUrlAllowlist: string[] | null;
  webhookPollMs: number;
  /** Serve the web console at /console/ on HTTP_PORT. */
  consoleEnabled: boolean;
}

/** How the process was started: dev mode is asked for, never fallen into. */
export interface StartOptions {
  /** `npm start` and `keyward dev` ask for dev mode when MONGODB_URI is unset. */
  devRequested?: boolean;
}

function defaultScopesFile(): string {
  // Resolved from this module so it works from src/ (tsx) and from dist/src/ (compiled).
  for (const rel of ["../config/scopes.json", "../../config/scopes.json"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return "config/scopes.json";
}

/** Dev mode only when asked for, never under NODE_ENV=production; otherwise MONGODB_URI is required. */
function operatingMode(
  env: Env,
  mongodbUri: string | null,
  options: StartOptions,
): "dev" | "mongodb" {
  if (mongodbUri !== null) return "mongodb";
  const asked = options.devRequested === true || boolean(env, "KEYWARD_DEV", false);
  if (!asked) {
    throw new ConfigError(
      "MONGODB_URI",
      "is required: set it to your MongoDB (e.g. mongodb://db:27017) with KEY_PEPPER, or run `npm start` / `keyward dev` (KEYWARD_DEV=1) for an in-memory keyward that keeps nothing",
    );
  }
  if (env.NODE_ENV === "production") {
    throw new ConfigError(
      "MONGODB_URI",
      "is unset and NODE_ENV=production refuses dev mode (an in-memory store that keeps nothing): set MONGODB_URI and KEY_PEPPER",
    );
  }
  return "dev";
}

export interface UsageConfig {
  /** USAGE_RECORDING: false records no usage and no last_used_at. */
  recording: boolean;
  flushMs: number;
  hourlyDays: number;
  dailyDays: number;
  compactMs: number;
}

/** USAGE_* and FINDINGS_*; LAST_USED_FLUSH_MS stays accepted for USAGE_FLUSH_MS. */
function usageAndFindings(env: Env): Pick<Config, "usage" | "findings"> {
  const flushVar = env.USAGE_FLUSH_MS
    ? "USAGE_FLUSH_MS"
    : env.LAST_USED_FLUSH_MS
      ? "LAST_USED_FLUSH_MS"
      : "USAGE_FLUSH_MS";
  const hourlyDays = integer(env, "USAGE_HOURLY_DAYS", 35, 1, 400);
  const dailyDays = integer(env, "USAGE_DAILY_DAYS", 400, 1, 3650);
  if (dailyDays < hourlyDays)
    throw new ConfigError(
      "USAGE_DAILY_DAYS",
      `must be at least USAGE_HOURLY_DAYS (${hourlyDays}), got ${dailyDays}`,
    );
  const recording = env.USAGE_RECORDING || "on";
  if (recording !== "on" && recording !== "off")
    throw new ConfigError("USAGE_RECORDING", `must be on or off, got ${JSON.stringify(recording)}`);
  return {
    usage: {
      recording: recording === "on",
      flushMs: integer(env, flushVar, 10_000, 10, 3_600_000),
      hourlyDays,
      dailyDays,
      compactMs: integer(env, "USAGE_COMPACT_MS", 300_000, 1000, 86_400_000),
    },
    findings: {
      unusedDays: integer(env, "FINDINGS_UNUSED_DAYS", 30, 1, 400),
      expiringDays: integer(env, "FINDINGS_EXPIRING_DAYS", 7, 1, 400),
      denialsPerDay: integer(env, "FINDINGS_DENIALS_PER_DAY", 100, 1, 1_000_000_000),
    },
  };
}

function mongodbUriOf(env: Env): string | null {
  const uri = optional(env, "MONGODB_URI");
  if (uri !== null && !/^mongodb(\+srv)?:\/\//.test(uri))
    throw new ConfigError("MONGODB_URI", "must start with mongodb:// or mongodb+srv://");
  return uri;
}

/** Required with a database; at least 32 bytes, as an HMAC key should be. */
function pepperOf(env: Env, mongodbUri: string | null): string | null {
  const pepper = optional(env, "KEY_PEPPER");
  if (mongodbUri !== null && pepper === null) {
    throw new ConfigError(
      "KEY_PEPPER",
      "is required when MONGODB_URI is set: a secret of at least 32 bytes, e.g. `openssl rand -base64 48`",
    );
  }
  if (pepper !== null && Buffer.byteLength(pepper, "utf8") < 32) {
    throw new ConfigError(
      "KEY_PEPPER",
      `must be at least 32 bytes, got ${Buffer.byteLength(pepper, "utf8")}; generate one with \`openssl rand -base64 48\``,
    );
  }
  return pepper;
}

function keyPrefixOf(env: Env): string {
  const keyPrefix = env.KEY_PREFIX || "kw";
  if (!PREFIX_PATTERN.test(keyPrefix)) {
    throw new ConfigError(
      "KEY_PREFIX",
      `must match [a-z][a-z0-9]{0,15} (e.g. "cs"), got ${JSON.stringify(keyPrefix)}`,
    );
  }
  return keyPrefix;
}

function logLevelOf(env: Env): LogLevel {
  const logLevel = (env.LOG_LEVEL || "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(
      "LOG_LEVEL",
      `must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(logLevel)}`,
    );
  return logLevel;
}

function mongodbDbOf(env: Env): string {
  const mongodbDb = env.MONGODB_DB || "keyward";
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(mongodbDb))
    throw new ConfigError("MONGODB_DB", "must be 1-63 characters of [A-Za-z0-9_-]");
  return mongodbDb;
}

/** TLS needs a certificate and its key together; mutual TLS also needs TLS. */
function tlsOf(env: Env): TlsConfig | null {
  const certFile = readableFile(env, "TLS_CERT_FILE");
  const keyFile = readableFile(env, "TLS_KEY_FILE");
  const clientCaFile = readableFile(env, "TLS_CLIENT_CA_FILE");
  if ((certFile === null) !== (keyFile === null)) {
    throw new ConfigError(
      certFile === null ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
      `must be set together with ${certFile === null ? "TLS_KEY_FILE" : "TLS_CERT_FILE"}`,
    );
  }
  if (clientCaFile !== null && certFile === null)
    throw new ConfigError(
      "TLS_CLIENT_CA_FILE",
      "needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS runs over TLS)",
    );
  return certFile !== null && keyFile !== null ? { certFile, keyFile, clientCaFile } : null;
}

function cacheOf(env: Env): Config["cache"] {
  return {
    maxEntries: integer(env, "CACHE_MAX_ENTRIES", 100_000, 0, 100_000_000),
    ttlMs: integer(env, "CACHE_TTL_MS", 60_000, 0, 86_400_000),
    negativeMaxEntries: integer(env, "CACHE_NEGATIVE_MAX_ENTRIES", 10_000, 0, 100_000_000),
    negativeTtlMs: integer(env, "CACHE_NEGATIVE_TTL_MS", 5_000, 0, 3_600_000),
  };
}

function connectionsOf(env: Env): Config["connections"] {
  return {
    idleTimeoutMs: integer(env, "IDLE_TIMEOUT_MS", 300_000, 1000, 86_400_000),
    maxConnections: integer(env, "MAX_CONNECTIONS", 10_000, 1, 1_000_000),
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    silentSocketTimeoutMs: 10_000,
  };
}

/** Reads and validates the environment; throws ConfigError on the first problem (in the order below). */
export function loadConfig(env: Env = process.env, options: StartOptions = {}): Config {
  const mongodbUri = mongodbUriOf(env);
  const mode = operatingMode(env, mongodbUri, options);
  const keyPepper = pepperOf(env, mongodbUri);
  const keyPrefix = keyPrefixOf(env);
  const logLevel = logLevelOf(env);
  const mongodbDb = mongodbDbOf(env);
  const tls = tlsOf(env);
  const scopesFile = env.SCOPES_FILE || defaultScopesFile();
  const metricsPort = env.METRICS_PORT ? integer(env, "METRICS_PORT", 0, 0, 65535) : null;
  return {
    mode,
    host: env.HOST || (mode === "dev" ? "127.0.0.1" : "0.0.0.0"),
    port: integer(env, "PORT", 50051, 0, 65535),
    httpPort: integer(env, "HTTP_PORT", 8080, 0, 65535),
    mongodbUri,
    mongodbDb,
    mongodbTimeoutMs: integer(env, "MONGODB_TIMEOUT_MS", 2000, 50, 600_000),
    keyPepper,
    keyPrefix,
    scopesFile,
    catalog: loadCatalog(scopesFile),
    logLevel,
    metricsPort,
    tls,
    ...usageAndFindings(env),
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    maxMessageBytes: integer(env, "MAX_MESSAGE_BYTES", 65_536, 1024, 16 * 1024 * 1024),
    cache: cacheOf(env),
    invalidationPollMs: integer(env, "INVALIDATION_POLL_MS", 250, 10, 60_000),
    connections: connectionsOf(env),
    storeMaxConcurrentLookups: integer(env, "STORE_MAX_CONCURRENT_LOOKUPS", 64, 1, 10_000),
    forwardAuthTrustHeaders: boolean(env, "FORWARD_AUTH_TRUST_HEADERS", false),
    leakReportKeysFile: readableFile(env, "LEAK_REPORT_KEYS_FILE"),
    webhookUrlAllowlist: env.WEBHOOK_URL_ALLOWLIST
      ? env.WEBHOOK_URL_ALLOWLIST.split(",")
          .map((p) => p.trim())
          .filter((p) => p !== "")
      : null,
    webhookPollMs: integer(env, "WEBHOOK_POLL_MS", 1000, 10, 600_000),
    consoleEnabled: boolean(env, "CONSOLE_ENABLED", true),
  };
}
