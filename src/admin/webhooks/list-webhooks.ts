import { isRoot, ROOT_WORKSPACE } from "../../domain/admin-policy.js";
import { NotFoundError, throwIfViolations } from "../../domain/errors.js";
import { workspaceViolation } from "../../domain/validation.js";
import type { DeliveryState, DeliveryView, WebhookRecord } from "../../store/webhook-store.js";
import type { Principal } from "../key-manager.js";
import type { WebhookDeps } from "./create-webhook.js";
import { enforceWebhookAuthority } from "./webhook-authority.js";

export const MAX_RECENT_DELIVERIES = 100;

export type ListedWebhook = WebhookRecord & DeliveryState & { recent: DeliveryView[] };

export interface ListWebhooksQuery {
  workspace: string;
  /** "" lists the workspace's; an id lists that webhook alone. */
  id?: string;
  /** Recent deliveries to show per webhook; 0 shows none. */
  recentDeliveries?: number;
}

/** A root admin's empty workspace lists every webhook; others list their own workspace's. */
export async function listWebhooks(
  deps: Pick<WebhookDeps, "store" | "catalog">,
  principal: Principal,
  request: ListWebhooksQuery,
): Promise<ListedWebhook[]> {
  const recent = request.recentDeliveries ?? 0;
  if (!Number.isInteger(recent) || recent < 0 || recent > MAX_RECENT_DELIVERIES)
    throwIfViolations([
      {
        field: "recent_deliveries",
        problem: `must be 0 to ${MAX_RECENT_DELIVERIES}, got ${recent}`,
      },
    ]);
  const listed = request.id
    ? await oneWebhook(deps, principal, request.id)
    : await inWorkspace(deps, principal, request.workspace);
  return Promise.all(
    listed.map(async (w) => ({
      ...w,
      recent: recent === 0 ? [] : await deps.store.recentDeliveries(w.id, recent),
    })),
  );
}

async function inWorkspace(
  deps: Pick<WebhookDeps, "store" | "catalog">,
  principal: Principal,
  requested: string,
): Promise<Array<WebhookRecord & DeliveryState>> {
  const workspace = requested === "" ? (isRoot(principal) ? null : principal.workspace) : requested;
  if (workspace !== null && workspace !== ROOT_WORKSPACE)
    throwIfViolations([workspaceViolation(workspace, "workspace")]);
  enforceWebhookAuthority(principal, "list", { workspace, scopes: [] }, deps.catalog);
  return deps.store.listWebhooks(workspace);
}

/** One out of reach answers as one that does not exist. */
async function oneWebhook(
  deps: Pick<WebhookDeps, "store" | "catalog">,
  principal: Principal,
  id: string,
): Promise<Array<WebhookRecord & DeliveryState>> {
  const webhook = await deps.store.findWebhook(id);
  if (webhook === null) throw new NotFoundError(`no webhook with id ${id}`);
  const target = { workspace: webhook.workspace, scopes: [] };
  enforceWebhookAuthority(principal, "read", target, deps.catalog, id);
  const listed = (await deps.store.listWebhooks(webhook.workspace)).filter((w) => w.id === id);
  if (listed.length === 0) throw new NotFoundError(`no webhook with id ${id}`);
  return listed;
}
