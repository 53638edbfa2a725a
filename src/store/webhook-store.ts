import type { AuditEvent, KeyRecord } from "../domain/types.js";

/** A webhook as stored; the secret is kept because every delivery is signed with it. */
export interface WebhookRecord {
  id: string;
  workspace: string;
  url: string;
  /** Empty receives every event type. */
  events: string[];
  secret: string;
  createdAt: Date;
}

/** What ListWebhooks shows of a webhook's deliveries. */
export interface DeliveryState {
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastFailure: string;
  pending: number;
}

/** One event, its body fixed when it is recorded, so every webhook and every retry sends the same bytes. */
export interface WebhookEvent {
  /** The webhook-id: stable, so a receiver can de-duplicate. */
  id: string;
  type: string;
  workspace: string;
  occurredAt: Date;
  body: string;
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

/** One per webhook and event. */
export interface Delivery {
  /** `<event id>|<webhook id>`: inserting it twice is a no-op. */
  id: string;
  webhookId: string;
  eventId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string;
  createdAt: Date;
}

export function deliveryId(eventId: string, webhookId: string): string {
  return `${eventId}|${webhookId}`;
}

/** How an attempt ended; `nextAttemptAt` only for a retry. */
export type AttemptOutcome =
  | { status: "delivered"; at: Date }
  | { status: "pending"; at: Date; error: string; nextAttemptAt: Date }
  | { status: "failed"; at: Date; error: string };

/** The webhook persistence boundary; every implementation passes test/contract/webhook-store.contract.ts. */
export interface WebhookStore {
  insertWebhook(webhook: WebhookRecord): Promise<void>;
  findWebhook(id: string): Promise<WebhookRecord | null>;
  /** null lists every workspace. Oldest first. */
  listWebhooks(workspace: string | null): Promise<Array<WebhookRecord & DeliveryState>>;
  /** Removes the webhook and its undelivered deliveries; false when it did not exist. */
  deleteWebhook(id: string): Promise<boolean>;
  /** Insert only: false when an event with this id exists (it is never overwritten). */
  insertEvent(event: WebhookEvent): Promise<boolean>;
  findEvent(id: string): Promise<WebhookEvent | null>;
  /** Events whose deliveries were not yet made, oldest first. */
  eventsToFanOut(limit: number): Promise<WebhookEvent[]>;
  /** Inserts the deliveries not already there, then marks the event fanned out. */
  fanOut(eventId: string, deliveries: readonly Delivery[]): Promise<void>;
  /** Pending deliveries due at `now`, oldest attempt time first. */
  dueDeliveries(now: Date, limit: number): Promise<Delivery[]>;
  /**
   * Claims one attempt: only if the delivery is still pending at `attempts`; moves
   * next_attempt_at to `until` so no other replica takes it meanwhile. True when claimed.
   */
  claimDelivery(id: string, attempts: number, until: Date): Promise<boolean>;
  /** Records the attempt's outcome on the delivery and on its webhook's state. */
  finishAttempt(delivery: Delivery, outcome: AttemptOutcome): Promise<void>;
  /** Takes or renews the named lease for `holder` until now + ttl; false while another holds it. */
  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** A mark kept beside the lease (where the audit scan got to); null before the first. */
  readMark(name: string): Promise<Date | null>;
  writeMark(name: string, mark: Date): Promise<void>;
  close(): Promise<void>;
}

/** Where events come from: the audit trail (the outbox) and the keys' expiry dates. */
export interface EventSource {
  /** Audit events that occurred at or after `since`, oldest first. */
  auditSince(since: Date, limit: number): Promise<AuditEvent[]>;
  /** Keys not revoked nor rotated out whose expires_at is in (from, to]. */
  keysExpiringBetween(from: Date, to: Date): Promise<KeyRecord[]>;
  findKey(id: string): Promise<KeyRecord | null>;
}
