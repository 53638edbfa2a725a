import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { UsageError } from "./usage-error.js";

// Every admin command imports its toolkit from here: the connection and the error type included.
export { type ConnectionFlags, connect } from "./connection.js";
export { UsageError } from "./usage-error.js";

/** Exit codes, the same for every admin command. */
export const EXIT = { ok: 0, request: 1, usage: 2, auth: 3, server: 4 } as const;

export const CONNECTION_HELP = `Connection (every command):
  --url URL               keyward's gRPC port (default: KEYWARD_URL, else http://127.0.0.1:50051);
                          https:// for TLS
  --admin-key-file PATH   read the admin key from PATH, or from standard input with "-"
                          (e.g. \`pass show keyward | keyward keys list --admin-key-file -\`)
  --admin-key KEY         the admin key itself: visible to other users in \`ps\` and kept in
                          shell history; prefer --admin-key-file or KEYWARD_ADMIN_KEY
  --ca-file PATH          PEM CA that signed keyward's certificate (default: KEYWARD_CA_FILE,
                          else the system's CAs)
  --cert-file PATH        PEM client certificate, for a keyward that requires one
                          (TLS_CLIENT_CA_FILE) (default: KEYWARD_CERT_FILE)
  --key-file PATH         PEM private key of --cert-file (default: KEYWARD_KEY_FILE)
  --json                  machine-readable output
  -h, --help              this text

The admin key: --admin-key-file, else --admin-key, else KEYWARD_ADMIN_KEY.

Exit codes: 0 ok, 1 request refused (invalid, not found, precondition),
2 usage, 3 authentication or permission, 4 keyward unreachable or failing.`;

export const CONNECTION_OPTIONS = {
  url: { type: "string" },
  "admin-key": { type: "string" },
  "admin-key-file": { type: "string" },
  "ca-file": { type: "string" },
  "cert-file": { type: "string" },
  "key-file": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** The parsed flags, typed from their spec (spelled out so the declarations need no unexported node type). */
export type Flags<T extends OptionSpec> = {
  [K in keyof T]?: T[K] extends { type: "boolean" }
    ? boolean
    : T[K] extends { multiple: true }
      ? string[]
      : string;
};

export function parse<T extends OptionSpec>(
  args: string[],
  options: T,
): { values: Flags<T & typeof CONNECTION_OPTIONS>; positionals: string[] } {
  try {
    return parseArgs({
      args,
      options: { ...CONNECTION_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    }) as never;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** "30d", "24h", "90m", "45s", "0" → milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m)
    throw new UsageError(
      `${flag} must be a duration like 30d, 24h, 90m or 45s, got ${JSON.stringify(value)}`,
    );
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "s") as "s"];
  return Number(m[1]) * unit;
}

export function parseDate(value: string, flag: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(
      `${flag} must be a date like 2027-01-31 or 2027-01-31T12:00:00Z, got ${JSON.stringify(value)}`,
    );
  return d;
}

export function date(ts: Timestamp | undefined): string {
  return ts
    ? timestampDate(ts)
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z")
        .replace("T", " ")
    : "—";
}

/** A plain-text table, columns padded to their widest cell (cells cut at `max`). */
export function table(headers: string[], rows: string[][], max = 48): string {
  const cut = (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const cells = [headers, ...rows.map((r) => r.map(cut))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
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
  const tls = tlsFailure(e, where);
  if (tls) {
    process.stderr.write(`${command}: ${tls.message}\n`);
    return tls.exit;
  }
  switch (e.code) {
    case Code.Unauthenticated:
      process.stderr.write(
        `${command}: the admin key was refused (${e.rawMessage}); check --admin-key-file, --admin-key or KEYWARD_ADMIN_KEY\n`,
      );
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
      process.stderr.write(
        `${command}: keyward at ${where} is unreachable or not answering (${e.rawMessage}); is it running? set KEYWARD_URL or --url\n`,
      );
      return EXIT.server;
    default:
      process.stderr.write(`${command}: keyward failed: ${Code[e.code]}: ${e.rawMessage}\n`);
      return EXIT.server;
  }
}

/**
 * A TLS handshake failure, said as what to change: node reports them as bare OpenSSL codes
 * ("tlsv13 alert certificate required", SELF_SIGNED_CERT_IN_CHAIN) that name no flag.
 */
function tlsFailure(e: ConnectError, where: string): { message: string; exit: number } | undefined {
  const codes: string[] = [];
  const messages: string[] = [e.rawMessage];
  for (let c: unknown = e.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    codes.push(String((c as NodeJS.ErrnoException).code ?? ""));
    messages.push(c.message);
  }
  const said = (re: RegExp) => codes.some((c) => re.test(c)) || messages.some((m) => re.test(m));
  if (said(/ALERT_CERTIFICATE_REQUIRED|alert certificate required/i)) {
    return {
      exit: EXIT.auth,
      message: `keyward at ${where} requires a client certificate (TLS_CLIENT_CA_FILE): pass --cert-file and --key-file (or set KEYWARD_CERT_FILE and KEYWARD_KEY_FILE)`,
    };
  }
  if (
    said(
      /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN)|alert (bad certificate|unknown ca|certificate unknown)/i,
    )
  ) {
    return {
      exit: EXIT.auth,
      message: `keyward at ${where} refused this client certificate: use one signed by the CA of keyward's TLS_CLIENT_CA_FILE (--cert-file, --key-file)`,
    };
  }
  if (said(/^ERR_TLS_CERT_ALTNAME_INVALID$/)) {
    return {
      exit: EXIT.server,
      message: `keyward's certificate does not name the host of ${where} (${messages.at(-1)}): use a host name the certificate was made for in --url or KEYWARD_URL`,
    };
  }
  if (
    said(
      /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED)$/,
    )
  ) {
    return {
      exit: EXIT.server,
      message: `keyward's certificate at ${where} is not trusted (${messages.at(-1)}): pass --ca-file with the CA that signed it (or set KEYWARD_CA_FILE)`,
    };
  }
  if (said(/^CERT_HAS_EXPIRED$|^CERT_NOT_YET_VALID$/)) {
    return {
      exit: EXIT.server,
      message: `keyward's certificate at ${where} is not valid now (${messages.at(-1)}): renew keyward's TLS_CERT_FILE, or check this machine's clock`,
    };
  }
  if (said(/WRONG_VERSION_NUMBER|wrong version number/i)) {
    return {
      exit: EXIT.server,
      message: `keyward at ${where} does not speak TLS: use http:// in --url or KEYWARD_URL`,
    };
  }
  return undefined;
}
