import type { OpenFinding } from "../domain/finding-events.js";
import type { AuditEvent, KeyId, KeyRecord } from "../domain/types.js";
import type { KeyStore } from "./key-store.js";
import type {
  AttemptOutcome,
  Delivery,
  DeliveryState,
  DeliveryView,
  EventSource,
  PruneCounts,
  WebhookEvent,
  WebhookRecord,
  WebhookStore,
} from "./webhook-store.js";

const copy = <T>(value: T): T => structuredClone(value);

/** Dev mode only: one process, nothing kept. */
export class MemoryWebhookStore implements WebhookStore {
  private readonly webhooks = new Map<string, WebhookRecord & DeliveryState>();
  private readonly events = new Map<string, WebhookEvent & { fannedOut: boolean }>();
  private readonly deliveries = new Map<string, Delivery & { deliveredAt?: Date }>();
  private readonly findings = new Map<string, OpenFinding>();
  private readonly cursors = new Map<string, string>();
  private readonly leases = new Map<
    string,
    { holder: string; expiresAt: number; mark: Date | null }
  >();

  async insertWebhook(webhook: WebhookRecord): Promise<void> {
    if (this.webhooks.has(webhook.id)) throw new Error(`webhook ${webhook.id} exists`);
    this.webhooks.set(webhook.id, {
      ...copy(webhook),
      lastSuccessAt: null,
      lastFailureAt: null,
      lastFailure: "",
      pending: 0,
    });
  }

  async findWebhook(id: string): Promise<WebhookRecord | null> {
    const w = this.webhooks.get(id);
    if (!w) return null;
    const { lastSuccessAt: _s, lastFailureAt: _f, lastFailure: _l, pending: _p, ...record } = w;
    return copy(record);
  }

  async listWebhooks(workspace: string | null): Promise<Array<WebhookRecord & DeliveryState>> {
    return [...this.webhooks.values()]
      .filter((w) => workspace === null || w.workspace === workspace)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .map((w) => ({
        ...copy(w),
        pending: [...this.deliveries.values()].filter(
          (d) => d.webhookId === w.id && d.status === "pending",
        ).length,
      }));
  }

  async deleteWebhook(id: string): Promise<boolean> {
    for (const [key, d] of this.deliveries)
      if (d.webhookId === id && d.status === "pending") this.deliveries.delete(key);
    return this.webhooks.delete(id);
  }

  async insertEvent(event: WebhookEvent): Promise<boolean> {
    if (this.events.has(event.id)) return false;
    this.events.set(event.id, { ...copy(event), fannedOut: false });
    return true;
  }

  async findEvent(id: string): Promise<WebhookEvent | null> {
    const e = this.events.get(id);
    if (!e) return null;
    const { fannedOut: _, ...event } = e;
    return copy(event);
  }

  async eventsToFanOut(limit: number): Promise<WebhookEvent[]> {
    return [...this.events.values()]
      .filter((e) => !e.fannedOut)
      .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())
      .slice(0, limit)
      .map(({ fannedOut: _, ...e }) => copy(e));
  }

  async fanOut(eventId: string, deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) if (!this.deliveries.has(d.id)) this.deliveries.set(d.id, copy(d));
    const event = this.events.get(eventId);
    if (event) event.fannedOut = true;
  }

  async dueDeliveries(now: Date, limit: number): Promise<Delivery[]> {
    return [...this.deliveries.values()]
      .filter((d) => d.status === "pending" && d.nextAttemptAt.getTime() <= now.getTime())
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
      .slice(0, limit)
      .map(copy);
  }

  async claimDelivery(id: string, attempts: number, until: Date): Promise<boolean> {
    const d = this.deliveries.get(id);
    if (d?.status !== "pending" || d.attempts !== attempts) return false;
    Object.assign(d, { attempts: attempts + 1, nextAttemptAt: new Date(until) });
    return true;
  }

  async finishAttempt(delivery: Delivery, outcome: AttemptOutcome): Promise<void> {
    const d = this.deliveries.get(delivery.id);
    if (d) {
      d.status = outcome.status;
      if (outcome.status !== "delivered") d.lastError = outcome.error;
      else d.deliveredAt = new Date(outcome.at);
      if (outcome.status === "pending") d.nextAttemptAt = new Date(outcome.nextAttemptAt);
    }
    const w = this.webhooks.get(delivery.webhookId);
    if (!w) return;
    if (outcome.status === "delivered") w.lastSuccessAt = new Date(outcome.at);
    else Object.assign(w, { lastFailureAt: new Date(outcome.at), lastFailure: outcome.error });
  }

  async recentDeliveries(webhookId: string, limit: number): Promise<DeliveryView[]> {
    return [...this.deliveries.values()]
      .filter((d) => d.webhookId === webhookId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .slice(0, limit)
      .map((d) => ({
        eventId: d.eventId,
        type: this.events.get(d.eventId)?.type ?? "",
        createdAt: new Date(d.createdAt),
        status: d.status,
        attempts: d.attempts,
        deliveredAt: d.deliveredAt ? new Date(d.deliveredAt) : null,
        lastError: d.lastError,
      }));
  }

  async prune(before: Date, limit: number): Promise<PruneCounts> {
    const old = (at: Date) => at.getTime() < before.getTime();
    const drop = <T>(map: Map<string, T>, test: (v: T) => boolean) => {
      const ids = [...map].filter(([, v]) => test(v)).slice(0, limit);
      for (const [id] of ids) map.delete(id);
      return ids.length;
    };
    return {
      deliveries: drop(this.deliveries, (d) => d.status !== "pending" && old(d.createdAt)),
      events: drop(this.events, (e) => e.fannedOut && old(e.occurredAt)),
      attempts: 0, // claims here are the delivery's own attempts count: nothing kept apart
    };
  }

  async openFindings(keyIds: readonly string[]): Promise<OpenFinding[]> {
    const keys = new Set(keyIds);
    return [...this.findings.values()].filter((f) => keys.has(f.keyId)).map(copy);
  }

  async insertOpenFinding(finding: OpenFinding): Promise<boolean> {
    if (this.findings.has(finding.id)) return false;
    this.findings.set(finding.id, copy(finding));
    return true;
  }

  async markFindingAnnounced(id: string): Promise<void> {
    const f = this.findings.get(id);
    if (f) f.announced = true;
  }

  async closeFindings(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.findings.delete(id);
  }

  async readCursor(name: string): Promise<string | null> {
    return this.cursors.get(name) ?? null;
  }

  async writeCursor(name: string, cursor: string | null): Promise<void> {
    if (cursor === null) this.cursors.delete(name);
    else this.cursors.set(name, cursor);
  }

  async acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const lease = this.leases.get(name);
    if (lease && lease.holder !== holder && lease.expiresAt > now.getTime()) return false;
    this.leases.set(name, { holder, expiresAt: now.getTime() + ttlMs, mark: lease?.mark ?? null });
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    const lease = this.leases.get(name);
    if (lease?.holder === holder) lease.expiresAt = 0;
  }

  async readMark(name: string): Promise<Date | null> {
    return this.leases.get(name)?.mark ?? null;
  }

  async writeMark(name: string, mark: Date): Promise<void> {
    const lease = this.leases.get(name) ?? { holder: "", expiresAt: 0, mark: null };
    this.leases.set(name, { ...lease, mark: new Date(mark) });
  }

  async close(): Promise<void> {}
}

/**
 * Dev mode's event source: audit events are seen as they are appended (the
 * memory key store lists audit only per workspace), keys are read back from it.
 */
export class MemoryEventSource implements EventSource {
  private readonly audit: AuditEvent[] = [];

  constructor(private readonly keys: KeyStore) {}

  /** The key store with appendAudit teed into this source. */
  tee(): KeyStore {
    const audit = this.audit;
    const keys = this.keys;
    return new Proxy(keys, {
      get(target, prop, receiver) {
        if (prop === "appendAudit")
          return async (event: AuditEvent) => {
            await target.appendAudit(event);
            audit.push(copy(event));
          };
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  async auditSince(since: Date, limit: number): Promise<AuditEvent[]> {
    return this.audit
      .filter((e) => e.occurredAt.getTime() >= since.getTime())
      .slice(0, limit)
      .map(copy);
  }

  async keysExpiringBetween(from: Date, to: Date): Promise<KeyRecord[]> {
    const active = await this.keys.listKeys({
      workspace: null,
      status: "active",
      now: from,
      limit: 100_000,
      after: null,
    });
    return active.filter(
      (k) =>
        k.expiresAt !== null && k.expiresAt > from && k.expiresAt <= to && k.retiresAt === null,
    );
  }

  async findKey(id: string): Promise<KeyRecord | null> {
    return this.keys.findKeyById(id as KeyId);
  }
}
