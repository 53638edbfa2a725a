import { toJson } from "@bufbuild/protobuf";
import { ApiKeySchema } from "../../gen/keyward/v1/key_admin_pb.js";
import type { AuditEvent, KeyRecord } from "../domain/types.js";
import {
  EXPIRY_HORIZON_MS,
  eventTypeOfAudit,
  expiryEventId,
  expiryThreshold,
} from "../domain/webhooks.js";
import type { EventSource, WebhookStore } from "../store/webhook-store.js";
import { apiKeyMessage } from "../transport/services/messages.js";

/**
 * How far behind the last seen audit event each scan starts again. An audit
 * event is stamped by its replica's clock before it is written, so one can land
 * with a time a little older than events already seen (clock skew, a slow write);
 * re-reading is harmless, because events are inserted by id.
 */
export const AUDIT_LOOKBACK_MS = 5 * 60_000;
const PAGE = 200;
const SEEN_LIMIT = 50_000;

/** The payload of DESIGN "Events": never a secret or a hash (the ApiKey record has neither). */
export function eventBody(type: string, at: Date, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data });
}

export function keyJson(record: KeyRecord, now: Date): unknown {
  return toJson(ApiKeySchema, apiKeyMessage(record, now));
}

/** Ids this process already wrote, so a re-scan does not insert them again; bounded. */
export class SeenIds {
  private readonly ids = new Set<string>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    if (this.ids.size >= SEEN_LIMIT) this.ids.clear();
    this.ids.add(id);
  }
}

/** The audit trail is the outbox: each new audit event becomes one webhook event. */
export async function collectAuditEvents(
  source: EventSource,
  store: WebhookStore,
  now: Date,
  seen: SeenIds,
): Promise<void> {
  const mark = (await store.readMark("audit")) ?? now;
  let since = new Date(mark.getTime() - AUDIT_LOOKBACK_MS);
  let newest = mark;
  for (;;) {
    const page = await source.auditSince(since, PAGE);
    const fresh = page.filter((e) => !seen.has(e.id));
    for (const audit of fresh) {
      await store.insertEvent({
        id: audit.id,
        type: eventTypeOfAudit(audit),
        workspace: audit.workspace,
        occurredAt: audit.occurredAt,
        body: await auditBody(audit, source, now),
      });
      seen.add(audit.id);
      if (audit.occurredAt > newest) newest = audit.occurredAt;
    }
    const last = page[page.length - 1];
    // A full page that ends where it began (one instant) cannot be paged further by time.
    if (page.length < PAGE || !last || last.occurredAt.getTime() === since.getTime()) break;
    since = last.occurredAt;
  }
  await store.writeMark("audit", newest);
}

async function auditBody(audit: AuditEvent, source: EventSource, now: Date): Promise<string> {
  const type = eventTypeOfAudit(audit);
  const record = await source.findKey(audit.targetKeyId);
  // A key can be gone (a rotation's discarded successor): say which it was.
  const key = record ? keyJson(record, now) : { id: audit.targetKeyId, workspace: audit.workspace };
  const data: Record<string, unknown> = { key };
  if (type === "key.rotated" && record?.successorId) {
    const successor = await source.findKey(record.successorId);
    if (successor) data.successor = keyJson(successor, now);
  }
  if (type === "key.leaked" || type === "key.revoked") data.reason = record?.revokeReason ?? "";
  return eventBody(type, audit.occurredAt, data);
}

/** key.expiring, 7 days and 1 day ahead: ids every replica computes alike, so each is made once. */
export async function collectExpiryEvents(
  source: EventSource,
  store: WebhookStore,
  now: Date,
  seen: SeenIds,
): Promise<void> {
  const keys = await source.keysExpiringBetween(now, new Date(now.getTime() + EXPIRY_HORIZON_MS));
  for (const key of keys) {
    const threshold = key.expiresAt && expiryThreshold(key.expiresAt, now);
    if (!threshold || !key.expiresAt) continue;
    const id = expiryEventId(key.id, key.expiresAt, threshold);
    if (seen.has(id)) continue;
    const data = { key: keyJson(key, now), threshold, expires_at: key.expiresAt.toISOString() };
    await store.insertEvent({
      id,
      type: "key.expiring",
      workspace: key.workspace,
      occurredAt: now,
      body: eventBody("key.expiring", now, data),
    });
    seen.add(id);
  }
}
