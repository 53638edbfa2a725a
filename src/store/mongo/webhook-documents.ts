import type { Delivery, WebhookEvent, WebhookRecord } from "../webhook-store.js";

export interface WebhookDoc {
  _id: string;
  workspace: string;
  url: string;
  events: string[];
  secret: string;
  created_at: Date;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_failure: string;
}

export interface EventDoc {
  _id: string;
  type: string;
  workspace: string;
  occurred_at: Date;
  body: string;
  fanned_out: boolean;
}

export interface DeliveryDoc {
  _id: string;
  webhook_id: string;
  event_id: string;
  status: Delivery["status"];
  attempts: number;
  next_attempt_at: Date;
  last_error: string;
  created_at: Date;
  /** Set by a successful attempt; absent before (and in documents of older versions). */
  delivered_at?: Date;
}

export function fromWebhookDoc(d: WebhookDoc): WebhookRecord {
  return {
    id: d._id,
    workspace: d.workspace,
    url: d.url,
    events: d.events ?? [],
    secret: d.secret,
    createdAt: d.created_at,
  };
}

export function fromEventDoc(d: EventDoc): WebhookEvent {
  return {
    id: d._id,
    type: d.type,
    workspace: d.workspace,
    occurredAt: d.occurred_at,
    body: d.body,
  };
}

export function deliveryDoc(d: Delivery): DeliveryDoc {
  return {
    _id: d.id,
    webhook_id: d.webhookId,
    event_id: d.eventId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt,
    last_error: d.lastError,
    created_at: d.createdAt,
  };
}

export function fromDeliveryDoc(d: DeliveryDoc): Delivery {
  return {
    id: d._id,
    webhookId: d.webhook_id,
    eventId: d.event_id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.next_attempt_at,
    lastError: d.last_error ?? "",
    createdAt: d.created_at,
  };
}
