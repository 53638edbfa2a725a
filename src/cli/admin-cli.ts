import { parseArgs, type ParseArgsConfig } from "node:util";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { createKeywardClient, type KeywardClient } from "../client/index.js";

/** Exit codes, the same for every admin command. */
export const EXIT = { ok: 0, request: 1, usage: 2, auth: 3, server: 4 } as const;

export const CONNECTION_HELP = `Connection (every command):
  --url URL          keyward's gRPC port (default: KEYWARD_URL, else http://127.0.0.1:50051)
  --admin-key KEY    an admin key (default: KEYWARD_ADMIN_KEY)
  --json             machine-readable output
  -h, --help         this text

Exit codes: 0 ok, 1 request refused (invalid, not found, precondition),
2 usage, 3 authentication or permission, 4 keyward unreachable or failing.`;

export class UsageError extends Error {}

export const CONNECTION_OPTIONS = {
  url: { type: "string" },
  "admin-key": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** The parsed flags, typed from their spec (spelled out so the declarations need no unexported node type). */
export type Flags<T extends OptionSpec> = {
  [K in keyof T]?: T[K] extends { type: "boolean" } ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

export function parse<T extends OptionSpec>(args: string[], options: T): { values: Flags<T & typeof CONNECTION_OPTIONS>; positionals: string[] } {
  try {
    return parseArgs({ args, options: { ...CONNECTION_OPTIONS, ...options }, allowPositionals: true, strict: true }) as never;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function connect(values: { url?: string; "admin-key"?: string }): KeywardClient {
  const adminKey = values["admin-key"] ?? process.env.KEYWARD_ADMIN_KEY;
  if (!adminKey) throw new UsageError("no admin key: set KEYWARD_ADMIN_KEY or pass --admin-key (make one with `keyward bootstrap-admin`)");
  try {
    return createKeywardClient({ url: values.url, adminKey });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^keyward: /, ""));
  }
}

/** "30d", "24h", "90m", "45s", "0" → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 30d, 24h, 90m or 45s, got ${JSON.stringify(value)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "s"];
  return Number(m[1]) * unit;
}

export function parseDate(value: string, flag: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} must be a date like 2027-01-31 or 2027-01-31T12:00:00Z, got ${JSON.stringify(value)}`);
  return d;
}

export function date(ts: Timestamp | undefined): string {
  return ts ? timestampDate(ts).toISOString().replace(/\.\d{3}Z$/, "Z").replace("T", " ") : "—";
}

/** A plain-text table, columns padded to their widest cell (cells cut at `max`). */
export function table(headers: string[], rows: string[][], max = 48): string {
  const cut = (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const cells = [headers, ...rows.map((r) => r.map(cut))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One line on stderr naming the problem and how to fix it, and the exit code for its kind. */
export function fail(command: string, err: unknown, url: string | undefined): number {
  if (err instanceof UsageError) {
    process.stderr.write(`${command}: ${err.message} (see ${command} --help)\n`);
    return EXIT.usage;
  }
  const e = ConnectError.from(err);
  const where = url ?? process.env.KEYWARD_URL ?? "http://127.0.0.1:50051";
  switch (e.code) {
    case Code.Unauthenticated:
      process.stderr.write(`${command}: the admin key was refused (${e.rawMessage}); check KEYWARD_ADMIN_KEY or --admin-key\n`);
      return EXIT.auth;
    case Code.PermissionDenied:
      process.stderr.write(`${command}: permission denied: ${e.rawMessage}\n`);
      return EXIT.auth;
    case Code.InvalidArgument:
    case Code.NotFound:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.Aborted:
      process.stderr.write(`${command}: ${e.rawMessage}\n`);
      return EXIT.request;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      process.stderr.write(`${command}: keyward at ${where} is unreachable or not answering (${e.rawMessage}); is it running? set KEYWARD_URL or --url\n`);
      return EXIT.server;
    default:
      process.stderr.write(`${command}: keyward failed: ${Code[e.code]}: ${e.rawMessage}\n`);
      return EXIT.server;
  }
}
