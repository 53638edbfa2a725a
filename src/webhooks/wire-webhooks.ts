import type { Logger } from "pino";
import type { WebhookDeps } from "../admin/webhooks/create-webhook.js";
import type { Config } from "../config.js";
import type { KeyStore } from "../store/key-store.js";
import { MemoryEventSource, MemoryWebhookStore } from "../store/memory-webhook-store.js";
import { MongoWebhookStore } from "../store/mongo/mongo-webhook-store.js";
import { startDeliveryLoop } from "./delivery-loop.js";
import { WebhookSecretBox } from "./secret-box.js";

// size: one composition root for webhooks (store, event source, secrets, loop, shutdown); split, its pieces would be read apart.
/**
 * Webhooks beside the key store: in MongoDB they read the audit trail and keys
 * themselves; in dev mode the key store is wrapped so appended audit events are seen.
 */
export function openWebhooks(
  config: Config,
  keyStore: KeyStore,
  now: () => Date,
  log: Logger,
  pepper: string,
) {
  const mongo =
    config.mode === "dev" || config.mongodbUri === null
      ? null
      : MongoWebhookStore.create({
          uri: config.mongodbUri,
          dbName: config.mongodbDb,
          timeoutMs: config.mongodbTimeoutMs,
        });
  const memorySource = mongo ? null : new MemoryEventSource(keyStore);
  const store = mongo ?? new MemoryWebhookStore();
  const source = mongo?.eventSource() ?? memorySource!;
  const secrets = new WebhookSecretBox(pepper);
  const deps: WebhookDeps = {
    secrets,
    store,
    catalog: config.catalog,
    allowlist: config.webhookUrlAllowlist,
    now,
  };
  let loop: { stop(): Promise<void> } | null = null;
  return {
    keyStore: memorySource ? memorySource.tee() : keyStore,
    deps,
    start() {
      // Webhooks off (WEBHOOK_URL_ALLOWLIST unset): no loop polls the database.
      if (config.webhookUrlAllowlist === null)
        return log.info("webhooks are off: no delivery loop");
      let indexed = false;
      loop = startDeliveryLoop({
        store,
        source,
        now,
        pollMs: config.webhookPollMs,
        log,
        secrets,
        findings: { keys: keyStore, catalog: config.catalog, thresholds: config.findings },
        // At the first tick, not at start: the database may be down when keyward starts.
        prepare: async () => {
          if (mongo && !indexed) await mongo.ensureIndexes();
          indexed = true;
        },
      });
    },
    /** Bounded like the key store's close: a hung database must not hold shutdown. */
    async stop() {
      const bound = <T>(p: Promise<T>) =>
        Promise.race([
          p.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), config.mongodbTimeoutMs).unref()),
        ]);
      await bound(loop?.stop() ?? Promise.resolve());
      if (!(await bound(store.close()))) await mongo?.forceClose();
    },
  };
}
