import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code } from "@connectrpc/connect";
import type { Authorizer } from "../../authorize/authorizer.js";
import { answerForDecision, answerForFailure, authorizeFieldsOf, checkUrlInputs, type GatewayAnswer } from "../../domain/gateway.js";
import type { HealthState } from "../../observability/health-state.js";
import type { AuthorizeObserver } from "../services/authorize-service.js";
import { toConnectError } from "../middleware/error-interceptor.js";

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export interface ForwardAuthDeps {
  authorizer: Authorizer;
  health: HealthState;
  observe: AuthorizeObserver;
  /** FORWARD_AUTH_TRUST_HEADERS: read X-Keyward-Scopes/-Workspace/-Domain where the URL is silent. */
  trustHeaders: boolean;
}

function write(res: Response, answer: GatewayAnswer): void {
  (res as ServerResponse).writeHead(answer.status, { "Cache-Control": "no-store", ...answer.headers });
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
      res.writeHead(serving ? 200 : 503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(JSON.stringify({ status: serving ? "SERVING" : "NOT_SERVING" }));
      return true;
    }
    const settings = checkUrlInputs(url);
    if (settings === null) return false;
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const fields = authorizeFieldsOf(header, settings, deps.trustHeaders);
    // Name where the bad scopes came from, so the operator knows which config line to fix.
    const scopesSource = settings.scopes !== undefined ? "?scopes=" : "X-Keyward-Scopes";
    const start = performance.now();
    deps.authorizer.authorize(fields).then(
      (decision) => {
        deps.observe({ reason: decision.reason }, (performance.now() - start) / 1000);
        write(res, answerForDecision(decision, fields.requiredScopes));
      },
      (error: unknown) => {
        deps.observe({ error }, (performance.now() - start) / 1000);
        const mapped = toConnectError(error);
        // A request keyward cannot read is the gateway's configuration at fault (400); anything else, keyward's (503). Never a 200.
        if (mapped?.code === Code.InvalidArgument) write(res, answerForFailure(400, "INVALID_ARGUMENT", mapped.rawMessage.replace("required_scopes", scopesSource), fields.requiredScopes));
        else write(res, answerForFailure(503, "UNAVAILABLE", "keyward could not decide; retry later", fields.requiredScopes));
      },
    );
    return true;
  };
}
