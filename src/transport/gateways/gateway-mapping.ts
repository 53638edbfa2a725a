import { type Decision, disclosedKey } from "../../domain/decision.js";
import type { AuthorizeRequestFields } from "../../domain/validation.js";
import {
  apiKeyFromHeaders,
  type DenialStatus,
  denialBody,
  denialHeaders,
  type HeaderReader,
} from "../../protocol/http.js";

/**
 * What a gateway (nginx auth_request, Caddy forward_auth, Traefik ForwardAuth,
 * Envoy ext_authz) sends and receives, as pure functions: forward-auth.ts and
 * ext-authz.ts only read their wire format into these inputs and write these
 * outputs back. The key's headers and the deny body are the shared HTTP
 * contract (src/protocol/http.ts), which the client's middleware answers with too.
 */

/** What the gateway's own configuration says: the auth URL's query, or Envoy's `context_extensions`. */
export interface GatewayInputs {
  scopes?: string;
  workspace?: string;
  domain?: string;
}

function scopeList(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Gateways pass the client's own headers on to the auth service (Traefik all of
 * them unless authRequestHeaders says otherwise), so a client can send
 * X-Keyward-Domain itself. What the gateway's configuration says (`settings`)
 * therefore wins, and `X-Keyward-*` headers are read only where `settings` is
 * silent and the operator has said the gateway sets or clears them
 * (`trustHeaders`: FORWARD_AUTH_TRUST_HEADERS). Envoy's gRPC ext_authz passes
 * settings, never headers.
 */
export function authorizeFieldsOf(
  header: HeaderReader,
  settings: GatewayInputs,
  trustHeaders: boolean,
): AuthorizeRequestFields {
  const pick = (setting: string | undefined, name: string) =>
    setting ?? (trustHeaders ? header(name) : undefined);
  const key = apiKeyFromHeaders(header);
  return {
    credential: key === undefined ? { kind: "missing" } : { kind: "api_key", value: key },
    requiredScopes: scopeList(pick(settings.scopes, "x-keyward-scopes")),
    workspace: (pick(settings.workspace, "x-keyward-workspace") ?? "").trim(),
    domain: (pick(settings.domain, "x-keyward-domain") ?? "").trim(),
  };
}

/**
 * A requirement header the request carries but keyward will not read: the
 * auth URL is silent on that field and FORWARD_AUTH_TRUST_HEADERS is off. Either
 * the gateway's configuration relies on headers keyward ignores (every route
 * would then lose that requirement), or a client forged it; both are refused
 * rather than answered as if the route required nothing.
 */
export function ignoredRequirementHeader(
  header: HeaderReader,
  settings: GatewayInputs,
  trustHeaders: boolean,
): string | null {
  if (trustHeaders) return null;
  for (const field of ["scopes", "workspace", "domain"] as const) {
    const name = `x-keyward-${field}`;
    if (settings[field] === undefined && header(name) !== undefined) return name;
  }
  return null;
}

export const CHECK_PATH = "/v1/check";

/**
 * What a forward-auth URL says, or null when it is not `/v1/check`.
 * `/v1/check?…` is the auth URL as the gateway's configuration writes it
 * (nginx, Caddy and Traefik send it without the client's path or query), so
 * its query carries the route's requirements. `/v1/check/<rest>` is Envoy's
 * HTTP ext_authz, which sends path_prefix followed by the client's own path
 * and query: everything after `/v1/check`, query included, is the client's,
 * so none of it is read.
 */
export function checkUrlInputs(url: string): GatewayInputs | null {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  if (path.startsWith(`${CHECK_PATH}/`)) return {};
  if (path !== CHECK_PATH) return null;
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  return {
    scopes: query.get("scopes") ?? undefined,
    workspace: query.get("workspace") ?? undefined,
    domain: query.get("domain") ?? undefined,
  };
}

export interface GatewayAnswer {
  status: 200 | 400 | 401 | 403 | 503;
  /** Header names as gateways copy them (X-Keyward-*). */
  headers: Record<string, string>;
  /** JSON body for a deny; empty for an allow. */
  body: string;
}

/** A gateway's refusal carries the message too (ext-authz.ts makes it Envoy's gRPC status message), and the body's type. */
function refusalHeaders(
  status: DenialStatus,
  reason: string,
  message: string,
): Record<string, string> {
  return {
    ...denialHeaders(status, reason),
    "X-Keyward-Message": headerSafe(message),
    "Content-Type": "application/json",
  };
}

/** Header values travel through nginx variables and HTTP/1: one line, printable ASCII. */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, "?").slice(0, 512);
}

export function answerForDecision(d: Decision, required: readonly string[]): GatewayAnswer {
  if (d.allowed && d.key) {
    return {
      status: 200,
      headers: {
        "X-Keyward-Key-Id": d.key.id,
        "X-Keyward-Workspace": headerSafe(d.key.workspace),
        "X-Keyward-Scopes": d.key.scopes.join(","),
      },
      body: "",
    };
  }
  const status = d.httpStatus === 401 ? 401 : 403;
  const body = denialBody(status, d.reason, d.message, required, disclosedKey(d)?.scopes ?? []);
  return {
    status,
    headers: refusalHeaders(status, d.reason, d.message),
    body: JSON.stringify(body),
  };
}

/** keyward could not decide (database down and key not cached, a deadline passed): never an allow. */
export function answerForFailure(
  status: 400 | 503,
  reason: string,
  message: string,
  required: readonly string[],
): GatewayAnswer {
  return {
    status,
    headers: refusalHeaders(status, reason, message),
    body: JSON.stringify(denialBody(status, reason, message, required, [])),
  };
}
