import { create } from "@bufbuild/protobuf";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import {
  HeaderValueOption_HeaderAppendAction as AppendAction,
  HeaderValueOptionSchema,
} from "../../../gen/envoy/config/core/v3/base_pb.js";
import {
  type Authorization,
  type CheckResponse,
  CheckResponseSchema,
} from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { ObservedAuthorize } from "../../authorize/observed-authorize.js";
import { gatewayFailure } from "./gateway-failure.js";
import { answerForDecision, authorizeFieldsOf, type GatewayAnswer } from "./gateway-mapping.js";

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
  return Object.entries(headers).map(([key, value]) =>
    create(HeaderValueOptionSchema, {
      header: { key, value },
      appendAction: AppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    }),
  );
}

function checkResponse(answer: GatewayAnswer): CheckResponse {
  const code = GRPC_CODE[answer.status];
  if (answer.status === 200) {
    return create(CheckResponseSchema, {
      status: { code },
      httpResponse: { case: "okResponse", value: { headers: headerOptions(answer.headers) } },
    });
  }
  const message = answer.headers["X-Keyward-Message"] ?? "";
  return create(CheckResponseSchema, {
    status: { code, message },
    httpResponse: {
      case: "deniedResponse",
      value: {
        status: { code: answer.status },
        headers: headerOptions(answer.headers),
        body: answer.body,
      },
    },
  });
}

/**
 * envoy.service.auth.v3.Authorization/Check: Envoy's ext_authz filter asks it
 * for every request of a route. The key from the same headers as /v1/check;
 * required scopes, workspace and domain only from the route's context_extensions
 * (keyward.scopes, keyward.workspace, keyward.domain), never from the client's headers. Denies are answers, not
 * gRPC errors, so Envoy returns the 401/403 (or 503) and body as given.
 */
export function extAuthzService(authorize: ObservedAuthorize): ServiceImpl<typeof Authorization> {
  return {
    async check(req) {
      const http = req.attributes?.request?.http;
      const headers = http?.headers ?? {};
      const ext = req.attributes?.contextExtensions ?? {};
      const fields = authorizeFieldsOf(
        (name) => headers[name],
        {
          scopes: ext["keyward.scopes"],
          workspace: ext["keyward.workspace"],
          domain: ext["keyward.domain"],
        },
        false,
      );
      try {
        return await authorize(fields, (decision) =>
          checkResponse(answerForDecision(decision, fields.requiredScopes)),
        );
      } catch (error) {
        return checkResponse(gatewayFailure(error, "keyward.scopes", fields.requiredScopes));
      }
    },
  };
}
