import type { OpenFinding } from "../domain/finding-events.js";
import type { AuditEvent, KeyRecord } from "../domain/types.js";

/**
 * A webhook as stored. Every delivery is signed with its secret, so it is kept,
 * sealed (src/webhooks/secret-box.ts); one stored by an older version is plain `whsec_…`.
 */
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

/** One line of a webhook's recent events: what ListWebhooks shows when asked. */
export interface DeliveryView {
  eventId: string;
  /** "" when the event itself was pruned first. */
  type: string;
  /** When the delivery was made (the event fanned out to the webhook). */
  createdAt: Date;
  status: DeliveryStatus;
  attempts: number;
  deliveredAt: Date | null;
  lastError: string;
}

/** What one pruning round deleted, per collection. */
export interface PruneCounts {
  deliveries: number;
  events: number;
  attempts: number;
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
  /** Newest first: the webhook's deliveries with their event's type. */
  recentDeliveries(webhookId: string, limit: number): Promise<DeliveryView[]>;
  /**
   * Deletes up to `limit` of each: deliveries delivered or given up, made before
   * `before`; fanned-out events that occurred before it; attempt claims made before it.
   */
  prune(before: Date, limit: number): Promise<PruneCounts>;
  /** The open findings of these keys (finding.opened's memory). */
  openFindings(keyIds: readonly string[]): Promise<OpenFinding[]>;
  /** Insert only: false when this key and kind is open already (another replica opened it). */
  insertOpenFinding(finding: OpenFinding): Promise<boolean>;
  markFindingAnnounced(id: string): Promise<void>;
  closeFindings(ids: readonly string[]): Promise<void>;
  /** Takes or renews the named lease for `holder` until now + ttl; false while another holds it. */
  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** A mark kept beside the lease (where the audit scan got to); null before the first. */
  readMark(name: string): Promise<Date | null>;
  writeMark(name: string, mark: Date): Promise<void>;
  /** A position kept beside the lease (where a pass over the keys got to); null when none. */
  readCursor(name: string): Promise<string | null>;
  writeCursor(name: string, cursor: string | null): Promise<void>;
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
