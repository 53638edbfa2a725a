import { NotFoundError } from "../../domain/errors.js";
import type { Principal } from "../key-manager.js";
import type { WebhookDeps } from "./create-webhook.js";
import { enforceWebhookAuthority } from "./webhook-authority.js";

/** Stops its deliveries at once (undelivered ones are dropped). */
export async function deleteWebhook(
  deps: Pick<WebhookDeps, "store" | "catalog">,
  principal: Principal,
  request: { id: string },
): Promise<void> {
  const webhook = await deps.store.findWebhook(request.id);
  if (webhook === null) throw new NotFoundError(`no webhook with id ${request.id}`);
  enforceWebhookAuthority(
    principal,
    "revoke",
    { workspace: webhook.workspace, scopes: [] },
    deps.catalog,
    request.id,
  );
  await deps.store.deleteWebhook(request.id);
}
