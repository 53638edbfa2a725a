import { createSecureContext } from "node:tls";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { type AuthorizeResponse, AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";

export {
  type AuthorizeResponse,
  AuthorizeService,
  Reason,
} from "../../gen/keyward/v1/authorize_pb.js";
export { Environment, KeyAdminService, KeyStatus } from "../../gen/keyward/v1/key_admin_pb.js";

export const DEFAULT_URL = "http://127.0.0.1:50051";

/** PEM text or its bytes, as read from a file. */
export type Pem = string | Buffer;

/** TLS material for an `https://` URL: `ca` to trust a private CA, `cert` and `key` for mTLS (TLS_CLIENT_CA_FILE on the server). */
export interface KeywardTlsOptions {
  /** The CA (or CAs) that signed keyward's server certificate; default: the system's trusted CAs. */
  ca?: Pem | Pem[];
  /** This client's certificate chain, for a keyward that requires client certificates. */
  cert?: Pem;
  /** The private key of `cert`. */
  key?: Pem;
}

export interface KeywardClientOptions extends KeywardTlsOptions {
  /** keyward's gRPC port: `http://host:50051`, `https://` for TLS. Default: KEYWARD_URL, else http://127.0.0.1:50051. */
  url?: string;
  /** Sent as `authorization: Bearer …` on KeyAdmin calls. Default: KEYWARD_ADMIN_KEY. */
  adminKey?: string;
  /** Deadline of an Authorize call (default 500 ms: it sits in front of every request). */
  authorizeTimeoutMs?: number;
  /** Deadline of a KeyAdmin call (default 10 s). */
  adminTimeoutMs?: number;
}

export interface AuthorizeOptions {
  workspace?: string;
  domain?: string;
  timeoutMs?: number;
}

export interface KeywardClient {
  readonly url: string;
  /** Typed clients for both services, over gRPC. */
  readonly authorizeService: Client<typeof AuthorizeService>;
  readonly admin: Client<typeof KeyAdminService>;
  /** The decision for one key; a deny is an answer, not an error (errors mean keyward could not decide). */
  authorize(
    key: string,
    scopes?: readonly string[],
    options?: AuthorizeOptions,
  ): Promise<AuthorizeResponse>;
}

/** Throws an error naming the setting, so a typo in KEYWARD_URL says how to fix it. */
export function keywardUrl(url: string | undefined, source = "url"): string {
  const value = url ?? process.env.KEYWARD_URL ?? DEFAULT_URL;
  const named =
    url !== undefined
      ? source
      : process.env.KEYWARD_URL !== undefined
        ? "KEYWARD_URL"
        : "the default";
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(
      `keyward: ${named} ${JSON.stringify(value)} is not a URL; expected http://host:50051 (or https:// for TLS)`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(
      `keyward: ${named} ${JSON.stringify(value)} must start with http:// or https:// (keyward's gRPC port, e.g. http://127.0.0.1:50051)`,
    );
  }
  return value.replace(/\/+$/, "");
}

/**
 * Node's TLS options from the client's; throws naming the option (as `labels` call it: the CLI
 * names its flags) when the material cannot work.
 */
export function tlsOptions(
  url: string,
  options: KeywardTlsOptions,
  labels: Record<keyof KeywardTlsOptions, string> = { ca: "ca", cert: "cert", key: "key" },
): KeywardTlsOptions {
  const given = (["ca", "cert", "key"] as const).filter((name) => options[name] !== undefined);
  if (given.length === 0) return {};
  const named = given.map((name) => labels[name]).join(", ");
  if (new URL(url).protocol !== "https:") {
    throw new Error(
      `keyward: ${named} given but the URL ${JSON.stringify(url)} is not https://: TLS material is only used over TLS; use https://`,
    );
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    const [has, lacks] =
      options.cert === undefined ? [labels.key, labels.cert] : [labels.cert, labels.key];
    throw new Error(`keyward: ${has} given without ${lacks}: a client certificate needs both`);
  }
  for (const name of given) {
    const values = ([] as Pem[]).concat(options[name]!);
    if (
      values.length === 0 ||
      values.some((v) =>
        typeof v === "string" ? v.trim() === "" : !Buffer.isBuffer(v) || v.length === 0,
      )
    ) {
      throw new Error(
        `keyward: ${labels[name]} is empty: expected PEM text or a Buffer read from a .pem file`,
      );
    }
  }
  const material = { ca: options.ca, cert: options.cert, key: options.key };
  try {
    // Parsed now, so a wrong file fails at start naming the option, not on every call as UNAVAILABLE.
    createSecureContext(material);
  } catch (err) {
    throw new Error(
      `keyward: ${named} cannot be used (${(err as Error).message}): expected PEM certificates in ${[labels.ca, labels.cert].join(" and ")} and the PEM private key of ${labels.cert} in ${labels.key}`,
    );
  }
  return material;
}

export function createKeywardClient(options: KeywardClientOptions = {}): KeywardClient {
  const url = keywardUrl(options.url);
  const nodeOptions = tlsOptions(url, options);
  const adminKey = options.adminKey ?? process.env.KEYWARD_ADMIN_KEY;
  const withAdminKey: Interceptor = (next) => (req) => {
    if (adminKey && !req.header.has("authorization"))
      req.header.set("authorization", `Bearer ${adminKey}`);
    return next(req);
  };
  const transport = createGrpcTransport({
    baseUrl: url,
    nodeOptions,
    defaultTimeoutMs: options.authorizeTimeoutMs ?? 500,
  });
  const adminTransport = createGrpcTransport({
    baseUrl: url,
    nodeOptions,
    defaultTimeoutMs: options.adminTimeoutMs ?? 10_000,
    interceptors: [withAdminKey],
  });
  const authorizeService = createClient(AuthorizeService, transport);
  return {
    url,
    authorizeService,
    admin: createClient(KeyAdminService, adminTransport),
    authorize(key, scopes = [], opts = {}) {
      return authorizeService.authorize(
        {
          credential: key ? { case: "apiKey", value: key } : { case: undefined },
          requiredScopes: [...scopes],
          workspace: opts.workspace ?? "",
          domain: opts.domain ?? "",
        },
        opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
      );
    },
  };
}
