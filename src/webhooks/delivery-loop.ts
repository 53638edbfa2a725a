import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { GIVE_UP_AFTER_MS, receives, retryDelayMs } from "../domain/webhooks.js";
import {
  type Delivery,
  deliveryId,
  type EventSource,
  type WebhookEvent,
  type WebhookRecord,
  type WebhookStore,
} from "../store/webhook-store.js";
import { collectAuditEvents, collectExpiryEvents, SeenIds } from "./collect-events.js";
import { collectFindingEvents, type FindingScanDeps } from "./collect-findings.js";
import { pruneWebhookHistory } from "./prune-history.js";
import type { WebhookSecretBox } from "./secret-box.js";
import { DELIVERY_TIMEOUT_MS, type SendResult, sendWebhook } from "./send-webhook.js";

const LEASE = "webhook-delivery";
const BATCH = 100;
const PARALLEL = 16;

export interface DeliveryLoopOptions {
  store: WebhookStore;
  source: EventSource;
  now: () => Date;
  /** Between ticks; also the first retry's delay, doubled each time. */
  pollMs: number;
  log: Logger;
  /** Opens each webhook's stored secret for signing. */
  secrets: WebhookSecretBox;
  /** finding.opened's scan; without it, no finding events. */
  findings?: FindingScanDeps;
  /** Run before each tick's work (idempotent): index creation. */
  prepare?: () => Promise<void>;
}

/**
 * One replica at a time (the lease) turns the audit trail and expiry dates into
 * events, fans each out to its webhooks and sends what is due. The lease expires
 * when its holder dies; each attempt is also claimed on its own, so a replica
 * that still thinks it holds a lapsed lease never sends an attempt twice.
 */
export function startDeliveryLoop(options: DeliveryLoopOptions): { stop(): Promise<void> } {
  const { store, log, pollMs } = options;
  const holder = `replica_${randomBytes(8).toString("hex")}`;
  const ttlMs = Math.max(10 * pollMs, 1000);
  const seen = new SeenIds();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = async () => {
    try {
      await options.prepare?.();
      if (!(await store.acquireLease(LEASE, holder, options.now(), ttlMs))) return;
      await collectAuditEvents(options.source, store, options.now(), seen);
      await collectExpiryEvents(options.source, store, options.now(), seen);
      if (options.findings) await collectFindingEvents(options.findings, store, options.now());
      const webhooks = await store.listWebhooks(null);
      await fanOut(store, webhooks, options.now());
      await deliverDue(store, new Map(webhooks.map((w) => [w.id, w])), options);
      await pruneWebhookHistory(store, options.now());
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        "webhook delivery: tick failed; retrying at the next",
      );
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, pollMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await store.releaseLease(LEASE, holder).catch(() => {});
    },
  };
}

/** A webhook receives the events of its reach and types that happened after it was made. */
async function fanOut(
  store: WebhookStore,
  webhooks: readonly WebhookRecord[],
  now: Date,
): Promise<void> {
  for (;;) {
    const events = await store.eventsToFanOut(BATCH);
    for (const event of events) {
      const deliveries: Delivery[] = webhooks
        .filter((w) => receives(w, event) && event.occurredAt >= w.createdAt)
        .map((w) => ({
          id: deliveryId(event.id, w.id),
          webhookId: w.id,
          eventId: event.id,
          status: "pending",
          attempts: 0,
          nextAttemptAt: now,
          lastError: "",
          createdAt: now,
        }));
      await store.fanOut(event.id, deliveries);
    }
    if (events.length < BATCH) return;
  }
}

async function deliverDue(
  store: WebhookStore,
  webhooks: ReadonlyMap<string, WebhookRecord>,
  options: DeliveryLoopOptions,
): Promise<void> {
  const due = await store.dueDeliveries(options.now(), BATCH);
  for (let i = 0; i < due.length; i += PARALLEL) {
    await Promise.all(
      due.slice(i, i + PARALLEL).map((d) => attempt(store, webhooks.get(d.webhookId), d, options)),
    );
  }
}

async function attempt(
  store: WebhookStore,
  webhook: WebhookRecord | undefined,
  delivery: Delivery,
  options: DeliveryLoopOptions,
): Promise<void> {
  const now = options.now();
  if (
    !(await store.claimDelivery(
      delivery.id,
      delivery.attempts,
      new Date(now.getTime() + DELIVERY_TIMEOUT_MS * 2),
    ))
  )
    return;
  const event = await store.findEvent(delivery.eventId);
  if (!webhook || !event)
    return store.finishAttempt(delivery, {
      status: "failed",
      at: now,
      error: webhook ? "event missing" : "webhook deleted",
    });
  const result = await send(webhook, event, options.secrets);
  const at = options.now();
  if (result.ok) return store.finishAttempt(delivery, { status: "delivered", at });
  const attempts = delivery.attempts + 1;
  const next = new Date(at.getTime() + retryDelayMs(attempts, options.pollMs));
  const givenUp = next.getTime() - delivery.createdAt.getTime() > GIVE_UP_AFTER_MS;
  options.log.info(
    { webhook: webhook.id, event: event.id, attempts, error: result.error, givenUp },
    "webhook delivery failed",
  );
  await store.finishAttempt(
    delivery,
    givenUp
      ? { status: "failed", at, error: `${result.error} (gave up after ${attempts} attempts)` }
      : { status: "pending", at, error: result.error, nextAttemptAt: next },
  );
}

/** A secret that does not open (KEY_PEPPER changed) is a failed attempt, retried: restoring the pepper heals it. */
async function send(
  webhook: WebhookRecord,
  event: WebhookEvent,
  secrets: WebhookSecretBox,
): Promise<SendResult> {
  let secret: string;
  try {
    secret = secrets.open(webhook.secret, webhook.id);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  return sendWebhook(webhook.url, secret, event.id, event.body);
}
