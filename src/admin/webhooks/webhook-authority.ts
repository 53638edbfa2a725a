import { type AdminAction, decideAdmin, type PolicyTarget } from "../../domain/admin-policy.js";
import { NotFoundError, PermissionError } from "../../domain/errors.js";
import type { ScopeCatalog } from "../../domain/scopes.js";
import type { Principal } from "../key-manager.js";

/**
 * Webhooks follow the keys' authority: keyward:read lists, keyward:write creates
 * and deletes, each within the admin's reach; one out of reach reads as missing.
 */
export function enforceWebhookAuthority(
  principal: Principal,
  action: AdminAction,
  target: PolicyTarget,
  catalog: ScopeCatalog,
  id = "",
): void {
  const isChange = action === "create";
  const verdict = decideAdmin(
    principal,
    action,
    isChange ? null : target,
    isChange ? target : null,
    catalog,
  );
  if (verdict.allowed) return;
  if (verdict.outcome === "not_found") throw new NotFoundError(`no webhook with id ${id}`);
  throw new PermissionError(verdict.message.replace(/\bkeys\b/, "webhooks"));
}
