import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  apiKeyFromHeaders,
  type DenialBody,
  denialBody,
  denialHeaders,
  type HeaderReader,
} from "../protocol/http.js";
import {
  type AuthorizeResponse,
  createKeywardClient,
  type KeywardClient,
  type KeywardTlsOptions,
  Reason,
} from "./index.js";

export type { DenialBody } from "../protocol/http.js";

/** What an allowed request carries: `req.keyward` (Express) or `request.keyward` (Fastify). */
export interface KeywardIdentity {
  keyId: string;
  workspace: string;
  scopes: string[];
  expiresAt: Date | null;
}

export type FromRequest<Req> = string | ((req: Req) => string | undefined);

export interface RequireScopesOptions<Req, Res = unknown> {
  /** A client to share between routes; else one is made from `url` and `tls`. */
  client?: KeywardClient;
  /** keyward's gRPC URL; default KEYWARD_URL. */
  url?: string;
  /** TLS material for the client made from `url` (an `https://` URL): `ca`, and `cert` with `key` for mTLS. */
  tls?: KeywardTlsOptions;
  /** The workspace the route belongs to (checked), or a function of the request. */
  workspace?: FromRequest<Req>;
  /** The domain the request is for (checked against a key's allowed domains). */
  domain?: FromRequest<Req>;
  /** Where the key is read; default X-API-Key, else Authorization: Bearer. */
  key?: (req: Req) => string | undefined;
  /**
   * Answers a denied request instead of the default (the decision's status and the JSON body of
   * forward auth). It must answer before it returns (or before its promise settles); if it
   * answers nothing, or throws, or rejects, the default denial is sent. A denied request never
   * reaches the route, whatever onDeny does.
   */
  onDeny?: (denial: Denial, req: Req, res: Res) => unknown;
}

/** A refusal, ready to send: the decision's status, headers and the forward-auth JSON body. */
export interface Denial {
  status: 401 | 403 | 503;
  headers: Record<string, string>;
  /** The same JSON body as forward auth's. */
  body: DenialBody;
  /** The decision, or null when keyward could not be reached in time. */
  decision: AuthorizeResponse | null;
}

export type Outcome =
  | { allowed: true; identity: KeywardIdentity }
  | { allowed: false; denial: Denial };

/** `requireScopes("a:b", "c:d")` or `requireScopes(["a:b"], options)`. */
export function scopesAndOptions<Req, Res>(
  args: unknown[],
): { scopes: string[]; options: RequireScopesOptions<Req, Res> } {
  if (Array.isArray(args[0]))
    return {
      scopes: args[0] as string[],
      options: (args[1] ?? {}) as RequireScopesOptions<Req, Res>,
    };
  for (const [i, a] of args.entries()) {
    if (typeof a !== "string")
      throw new TypeError(
        `requireScopes: argument ${i + 1} must be a scope string; pass options as requireScopes([scopes], options)`,
      );
  }
  return { scopes: args as string[], options: {} };
}

function denial(
  status: 401 | 403 | 503,
  reason: string,
  message: string,
  required: string[],
  granted: string[],
  decision: AuthorizeResponse | null,
): Denial {
  return {
    status,
    headers: denialHeaders(status, reason),
    body: denialBody(status, reason, message, required, granted),
    decision,
  };
}

/** What the Express and Fastify adapters know how to do with their framework's response. */
export interface Responder {
  /** Something was answered (at least headers, or a send the framework now owns). */
  answered(): boolean;
  /** The answer will complete without us. */
  complete(): boolean;
  sendDefault(denial: Denial): void;
  destroy(): void;
  /** onDeny or the default answer failed: the app's logger or a warning, never the client. */
  report(err: unknown): void;
}

/**
 * Answers a denial: onDeny if set, else (or when onDeny answered nothing or failed) the default
 * denial. Never throws and never lets the request go on: a broken onDeny must not turn into an
 * allow, nor into an unhandled rejection that takes the process down.
 */
export async function answerDenial(
  denial: Denial,
  onDeny: (() => unknown) | undefined,
  response: Responder,
  self?: unknown,
): Promise<void> {
  let failed = false;
  if (onDeny) {
    try {
      const result = onDeny();
      // A Fastify reply is thenable and settles only once the response ends: awaiting one that
      // onDeny returned without sending would wait forever.
      if (result !== self && isThenable(result)) await result;
    } catch (err) {
      failed = true;
      response.report(err);
    }
  }
  try {
    if (!response.answered()) response.sendDefault(denial);
    else if (failed && !response.complete()) response.destroy();
  } catch (err) {
    response.report(err);
    response.destroy();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** The shared core of the Express and Fastify middleware: one Authorize call, mapped to allow or a ready denial. */
export function createGuard<Req>(
  scopes: readonly string[],
  options: RequireScopesOptions<Req, never>,
  header: (req: Req) => HeaderReader,
) {
  const client = options.client ?? createKeywardClient({ url: options.url, ...options.tls });
  const optionValue = (from: FromRequest<Req> | undefined, req: Req) =>
    (typeof from === "function" ? from(req) : from) ?? "";
  return async (req: Req): Promise<Outcome> => {
    const credential = options.key ? options.key(req) : apiKeyFromHeaders(header(req));
    let d: AuthorizeResponse;
    try {
      d = await client.authorize(credential ?? "", scopes, {
        workspace: optionValue(options.workspace, req),
        domain: optionValue(options.domain, req),
      });
    } catch {
      // Unreachable, past its deadline, or refused the request: never an allow.
      return {
        allowed: false,
        denial: denial(
          503,
          "UNAVAILABLE",
          "Authorization service unavailable; retry later",
          [...scopes],
          [],
          null,
        ),
      };
    }
    if (d.allowed) {
      return {
        allowed: true,
        identity: {
          keyId: d.keyId,
          workspace: d.workspace,
          scopes: d.grantedScopes,
          expiresAt: d.expiresAt ? timestampDate(d.expiresAt) : null,
        },
      };
    }
    const status = d.httpStatus === 401 ? 401 : 403;
    return {
      allowed: false,
      denial: denial(
        status,
        Reason[d.reason] ?? "UNSPECIFIED",
        d.message,
        [...scopes],
        d.grantedScopes,
        d,
      ),
    };
  };
}
