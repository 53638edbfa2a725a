import { randomBytes } from "node:crypto";
import { ROOT_WORKSPACE } from "../../domain/admin-policy.js";
import { PreconditionError, throwIfViolations } from "../../domain/errors.js";
import type { ScopeCatalog } from "../../domain/scopes.js";
import { quote, workspaceViolation } from "../../domain/validation.js";
import { EVENT_TYPES, urlViolation } from "../../domain/webhooks.js";
import type { WebhookRecord, WebhookStore } from "../../store/webhook-store.js";
import type { WebhookSecretBox } from "../../webhooks/secret-box.js";
import { newWebhookSecret } from "../../webhooks/signing.js";
import type { Principal } from "../key-manager.js";
import { enforceWebhookAuthority } from "./webhook-authority.js";

export interface WebhookDeps {
  store: WebhookStore;
  catalog: ScopeCatalog;
  /** WEBHOOK_URL_ALLOWLIST; null = webhooks are off. */
  allowlist: readonly string[] | null;
  now: () => Date;
  /** Seals the secret before it is stored. */
  secrets: WebhookSecretBox;
}

/** Returns the webhook and its signing secret, shown this once. */
export async function createWebhook(
  deps: WebhookDeps,
  principal: Principal,
  request: { workspace: string; url: string; events: string[] },
): Promise<{ webhook: WebhookRecord; secret: string }> {
  if (deps.allowlist === null)
    throw new PreconditionError(
      "webhooks are off: set WEBHOOK_URL_ALLOWLIST to the URL prefixes webhooks may call",
    );
  const workspace = request.workspace || principal.workspace;
  const events = [...new Set(request.events)];
  const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  throwIfViolations([
    workspace === ROOT_WORKSPACE ? null : workspaceViolation(workspace, "workspace"),
    unknown.length > 0
      ? {
          field: "events",
          problem: `unknown ${unknown.map(quote).join(", ")}; known: ${EVENT_TYPES.join(", ")}`,
        }
      : null,
  ]);
  enforceWebhookAuthority(principal, "create", { workspace, scopes: [] }, deps.catalog);
  // Checked after authority, so only an admin who may create learns the allowlist.
  const problem = urlViolation(request.url, deps.allowlist);
  if (problem !== null) throw new PreconditionError(`url ${quote(request.url)} ${problem}`);
  const secret = newWebhookSecret();
  const id = `wh_${randomBytes(12).toString("hex")}`;
  const webhook: WebhookRecord = {
    id,
    workspace,
    url: request.url,
    events,
    secret: deps.secrets.seal(secret, id),
    createdAt: deps.now(),
  };
  await deps.store.insertWebhook(webhook);
  return { webhook, secret };
}
