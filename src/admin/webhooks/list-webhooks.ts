import { isRoot, ROOT_WORKSPACE } from "../../domain/admin-policy.js";
import { throwIfViolations } from "../../domain/errors.js";
import { workspaceViolation } from "../../domain/validation.js";
import type { DeliveryState, WebhookRecord } from "../../store/webhook-store.js";
import type { Principal } from "../key-manager.js";
import type { WebhookDeps } from "./create-webhook.js";
import { enforceWebhookAuthority } from "./webhook-authority.js";

/** A root admin's empty workspace lists every webhook; others list their own workspace's. */
export async function listWebhooks(
  deps: Pick<WebhookDeps, "store" | "catalog">,
  principal: Principal,
  request: { workspace: string },
): Promise<Array<WebhookRecord & DeliveryState>> {
  const workspace =
    request.workspace === "" ? (isRoot(principal) ? null : principal.workspace) : request.workspace;
  if (workspace !== null && workspace !== ROOT_WORKSPACE)
    throwIfViolations([workspaceViolation(workspace, "workspace")]);
  enforceWebhookAuthority(principal, "list", { workspace, scopes: [] }, deps.catalog);
  return deps.store.listWebhooks(workspace);
}
