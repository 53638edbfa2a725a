import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { ObservedAuthorize } from "../../authorize/observed-authorize.js";
import type { HealthState } from "../../observability/health-state.js";
import { gatewayFailure } from "./gateway-failure.js";
import {
  answerForDecision,
  answerForFailure,
  authorizeFieldsOf,
  checkUrlInputs,
  type GatewayAnswer,
  ignoredRequirementHeader,
} from "./gateway-mapping.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export interface ForwardAuthDeps {
  authorize: ObservedAuthorize;
  health: HealthState;
  /** FORWARD_AUTH_TRUST_HEADERS: read X-Keyward-Scopes/-Workspace/-Domain where the URL is silent. */
  trustHeaders: boolean;
}

function write(res: Response, answer: GatewayAnswer): void {
  (res as ServerResponse).writeHead(answer.status, {
    "Cache-Control": "no-store",
    ...answer.headers,
  });
  res.end(answer.body);
}

/**
 * `/v1/check` for nginx auth_request, Caddy forward_auth and Traefik
 * ForwardAuth, `/v1/check/<client path>` for Envoy's HTTP ext_authz (any
 * method), and `/healthz` for load balancers. Returns false for every other
 * path, which the Connect router then serves.
 */
export function forwardAuth(deps: ForwardAuthDeps): (req: Request, res: Response) => boolean {
  return (req, res) => {
    const url = req.url ?? "";
    if (url === "/healthz" || url.startsWith("/healthz?")) {
      const serving = deps.health.get("") === "SERVING";
      res.writeHead(serving ? 200 : 503, {
        "Content-Type": "application/json",
        "Cache-Control": "no-store",
      });
      res.end(JSON.stringify({ status: serving ? "SERVING" : "NOT_SERVING" }));
      return true;
    }
    const settings = checkUrlInputs(url);
    if (settings === null) return false;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const ignored = ignoredRequirementHeader(header, settings, deps.trustHeaders);
    if (ignored !== null) {
      const field = ignored.slice("x-keyward-".length);
      const message = `${ignored} is set, but FORWARD_AUTH_TRUST_HEADERS is off and the auth URL names no ${field}: put the requirement in the auth URL's query (?${field}=…), or set FORWARD_AUTH_TRUST_HEADERS=true if the gateway sets or clears this header`;
      write(res, answerForFailure(400, "INVALID_ARGUMENT", message, []));
      return true;
    }
    const fields = authorizeFieldsOf(header, settings, deps.trustHeaders);
    // Name where the bad scopes came from, so the operator knows which config line to fix.
    const scopesSource = settings.scopes !== undefined ? "?scopes=" : "X-Keyward-Scopes";
    deps
      .authorize(fields, (decision) => answerForDecision(decision, fields.requiredScopes))
      .then(
        (answer) => write(res, answer),
        (error: unknown) => write(res, gatewayFailure(error, scopesSource, fields.requiredScopes)),
      );
    return true;
  };
}
