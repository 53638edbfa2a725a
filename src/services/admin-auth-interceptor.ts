import { createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Authorizer } from "../authorizer.js";
import { UnauthenticatedError, PermissionError } from "../errors.js";
import type { Principal } from "../key-manager.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";

export const principalKey = createContextKey<Principal | null>(null);

const READ_METHODS = new Set(["GetKey", "ListKeys", "ListScopes", "ListAuditEvents"]);

/** Admin keys are keyward keys: the same decision pipeline, with `keys:read` or `keys:write` required. */
export function adminAuthInterceptor(authorizer: Authorizer): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== KeyAdminService.typeName) return next(req);
    const header = req.header.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError("missing admin credential: send metadata `authorization: Bearer <admin key>`");
    const scope = READ_METHODS.has(req.method.name) ? "keys:read" : "keys:write";
    const decision = await authorizer.authorize({
      credential: { kind: "api_key", value: match[1] ?? "" },
      requiredScopes: [scope],
      domain: "",
      workspace: "",
    });
    if (decision.httpStatus === 401) throw new UnauthenticatedError(`admin credential refused: ${decision.message}`);
    if (!decision.allowed || decision.key === null) throw new PermissionError(`admin key lacks permission for ${req.method.name}: ${decision.message}`);
    req.contextValues.set(principalKey, {
      keyId: decision.key.id,
      workspace: decision.key.workspace,
      root: decision.key.scopes.includes("*"),
    });
    return next(req);
  };
}
