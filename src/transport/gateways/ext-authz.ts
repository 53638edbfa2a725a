import { create } from "@bufbuild/protobuf";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { HeaderValueOption_HeaderAppendAction as AppendAction, HeaderValueOptionSchema } from "../../../gen/envoy/config/core/v3/base_pb.js";
import { Authorization, CheckResponseSchema, type CheckResponse } from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { Authorizer } from "../../authorize/authorizer.js";
import { answerForDecision, answerForFailure, authorizeFieldsOf, type GatewayAnswer } from "../../domain/gateway.js";
import type { AuthorizeObserver } from "../services/authorize-service.js";
import { toConnectError } from "../middleware/error-interceptor.js";

/** The gRPC status Envoy reads first; the HTTP status is what the client then sees. */
const GRPC_CODE: Record<GatewayAnswer["status"], Code | 0> = {
  200: 0,
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  503: Code.Unavailable,
};

function headerOptions(headers: Record<string, string>) {
  // Overwrite: a client must not smuggle its own X-Keyward-Key-Id to the upstream.
  return Object.entries(headers).map(([key, value]) => create(HeaderValueOptionSchema, { header: { key, value }, appendAction: AppendAction.OVERWRITE_IF_EXISTS_OR_ADD }));
}

function checkResponse(answer: GatewayAnswer): CheckResponse {
  const code = GRPC_CODE[answer.status];
  if (answer.status === 200) {
    return create(CheckResponseSchema, { status: { code }, httpResponse: { case: "okResponse", value: { headers: headerOptions(answer.headers) } } });
  }
  const message = answer.headers["X-Keyward-Message"] ?? "";
  return create(CheckResponseSchema, {
    status: { code, message },
    httpResponse: { case: "deniedResponse", value: { status: { code: answer.status }, headers: headerOptions(answer.headers), body: answer.body } },
  });
}

/**
 * envoy.service.auth.v3.Authorization/Check: Envoy's ext_authz filter asks it
 * for every request of a route. The key from the same headers as /v1/check;
 * required scopes, workspace and domain only from the route's context_extensions
 * (keyward.scopes, keyward.workspace, keyward.domain), never from the client's headers. Denies are answers, not
 * gRPC errors, so Envoy returns the 401/403 (or 503) and body as given.
 */
export function extAuthzService(authorizer: Authorizer, observe: AuthorizeObserver): ServiceImpl<typeof Authorization> {
  return {
    async check(req) {
      const http = req.attributes?.request?.http;
      const headers = http?.headers ?? {};
      const ext = req.attributes?.contextExtensions ?? {};
      const fields = authorizeFieldsOf((name) => headers[name], { scopes: ext["keyward.scopes"], workspace: ext["keyward.workspace"], domain: ext["keyward.domain"] }, false);
      const start = performance.now();
      try {
        const decision = await authorizer.authorize(fields);
        observe({ reason: decision.reason }, (performance.now() - start) / 1000);
        return checkResponse(answerForDecision(decision, fields.requiredScopes));
      } catch (error) {
        observe({ error }, (performance.now() - start) / 1000);
        const mapped = toConnectError(error);
        if (mapped?.code === Code.InvalidArgument) return checkResponse(answerForFailure(400, "INVALID_ARGUMENT", mapped.rawMessage.replace("required_scopes", "keyward.scopes"), fields.requiredScopes));
        return checkResponse(answerForFailure(503, "UNAVAILABLE", "keyward could not decide; retry later", fields.requiredScopes));
      }
    },
  };
}
