import { createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Principal } from "../../admin/key-manager.js";
import type { Authorizer } from "../../authorize/authorizer.js";
import { type AdminAction, requiredAdminScope } from "../../domain/admin-policy.js";
import { PermissionError, UnauthenticatedError } from "../../domain/errors.js";
import type { UsageSource } from "../../domain/usage.js";

export const principalKey = createContextKey<Principal | null>(null);

const ACTION_OF_METHOD: Record<string, AdminAction> = {
  GetKey: "read",
  ListKeys: "list",
  ListScopes: "list",
  ListAuditEvents: "list",
  GetKeyUsage: "read",
  ListFindings: "list",
  CreateKey: "create",
  UpdateKey: "update",
  RevokeKey: "revoke",
  RotateKey: "rotate",
  ListWebhooks: "list",
  CreateWebhook: "create",
  DeleteWebhook: "revoke",
};

/**
 * Admin keys are keyward keys: the same decision pipeline, requiring
 * keyward:read or keyward:write (which `*` never grants). What the key may do
 * to which key is decided later, by the admin policy, on the records involved.
 * Attached to KeyAdminService only.
 */
export function adminAuthInterceptor(authorizer: Authorizer, source: UsageSource): Interceptor {
  return (next) => async (req) => {
    const header = req.header.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      throw new UnauthenticatedError(
        "missing admin credential: send metadata `authorization: Bearer <admin key>`",
      );
    // A method missing from the table needs keyward:write: fail closed.
    const scope = requiredAdminScope(ACTION_OF_METHOD[req.method.name] ?? "create");
    const decision = await authorizer.authorize(
      {
        credential: { kind: "api_key", value: match[1] ?? "" },
        requiredScopes: [scope],
        domain: "",
        workspace: "",
      },
      source,
    );
    if (decision.httpStatus === 401)
      throw new UnauthenticatedError(`admin credential refused: ${decision.message}`);
    if (!decision.allowed || decision.key === null) {
      throw new PermissionError(
        `this key is not allowed to call ${req.method.name}: it needs ${scope} (or keyward:all); product scopes, * included, grant no admin authority`,
      );
    }
    req.contextValues.set(principalKey, {
      keyId: decision.key.id,
      workspace: decision.key.workspace,
      scopes: decision.key.scopes,
    });
    return next(req);
  };
}
