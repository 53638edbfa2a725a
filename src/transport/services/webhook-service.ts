import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { KeyAdminService } from "../../../gen/keyward/v1/key_admin_pb.js";
import {
  type Webhook,
  type WebhookDelivery,
  WebhookDeliverySchema,
  WebhookDeliveryStatus,
  WebhookSchema,
} from "../../../gen/keyward/v1/webhooks_pb.js";
import type { Principal } from "../../admin/key-manager.js";
import { createWebhook, type WebhookDeps } from "../../admin/webhooks/create-webhook.js";
import { deleteWebhook } from "../../admin/webhooks/delete-webhook.js";
import { listWebhooks } from "../../admin/webhooks/list-webhooks.js";
import type { DeliveryState, DeliveryView, WebhookRecord } from "../../store/webhook-store.js";
import { principalKey } from "../middleware/admin-auth-interceptor.js";
import { optionalTimestamp } from "./messages.js";

export type WebhookMethods = "createWebhook" | "listWebhooks" | "deleteWebhook";

function principal(ctx: HandlerContext): Principal {
  const p = ctx.values.get(principalKey);
  if (p === null) throw new Error("KeyAdmin handler reached without an authenticated principal");
  return p;
}

/** Never the secret: it is shown once, by CreateWebhook. */
function webhookMessage(
  w: WebhookRecord,
  state: DeliveryState | null,
  recent: readonly DeliveryView[] = [],
): Webhook {
  return create(WebhookSchema, {
    id: w.id,
    workspace: w.workspace,
    url: w.url,
    events: w.events,
    createdAt: timestampFromDate(w.createdAt),
    lastSuccessAt: optionalTimestamp(state?.lastSuccessAt ?? null),
    lastFailureAt: optionalTimestamp(state?.lastFailureAt ?? null),
    lastFailure: state?.lastFailure ?? "",
    pending: BigInt(state?.pending ?? 0),
    recentDeliveries: recent.map(deliveryMessage),
  });
}

const STATUS = {
  pending: WebhookDeliveryStatus.PENDING,
  delivered: WebhookDeliveryStatus.DELIVERED,
  failed: WebhookDeliveryStatus.FAILED,
} as const;

function deliveryMessage(d: DeliveryView): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    eventId: d.eventId,
    type: d.type,
    createdAt: timestampFromDate(d.createdAt),
    status: STATUS[d.status],
    attempts: d.attempts,
    deliveredAt: optionalTimestamp(d.deliveredAt),
    lastError: d.lastError,
  });
}

/** The webhook RPCs of KeyAdminService (the admin interceptor authenticates them as it does the key RPCs). */
export function webhookService(
  deps: WebhookDeps,
): Pick<ServiceImpl<typeof KeyAdminService>, WebhookMethods> {
  return {
    async createWebhook(req, ctx) {
      const { webhook, secret } = await createWebhook(deps, principal(ctx), {
        workspace: req.workspace,
        url: req.url,
        events: req.events,
      });
      return { webhook: webhookMessage(webhook, null), secret };
    },
    async listWebhooks(req, ctx) {
      const webhooks = await listWebhooks(deps, principal(ctx), {
        workspace: req.workspace,
        id: req.id,
        recentDeliveries: req.recentDeliveries,
      });
      return { webhooks: webhooks.map((w) => webhookMessage(w, w, w.recent)) };
    },
    async deleteWebhook(req, ctx) {
      await deleteWebhook(deps, principal(ctx), { id: req.id });
      return {};
    },
  };
}
