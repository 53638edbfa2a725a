import type { WebhookStore } from "../store/webhook-store.js";

/** Delivered deliveries, fanned-out events and attempt claims are kept this long. */
export const HISTORY_RETENTION_MS = 7 * 24 * 3600_000;
/** How often a sweep starts (on the injected clock). */
export const PRUNE_EVERY_MS = 10 * 60_000;
/** Documents deleted per collection per tick. */
export const PRUNE_BATCH = 500;

/**
 * The lease holder's sweep (FerretDB has no TTL index). Bounded per tick: when a
 * batch comes back full, the sweep is not marked done and the next tick goes on.
 * Pending deliveries are never swept: retries give up after 24 h, well inside.
 */
export async function pruneWebhookHistory(store: WebhookStore, now: Date): Promise<void> {
  const last = await store.readMark("prune");
  if (last !== null && now.getTime() - last.getTime() < PRUNE_EVERY_MS) return;
  const n = await store.prune(new Date(now.getTime() - HISTORY_RETENTION_MS), PRUNE_BATCH);
  if (Math.max(n.deliveries, n.events, n.attempts) < PRUNE_BATCH)
    await store.writeMark("prune", now);
}
