import { inject } from "vitest";
import { MongoWebhookStore } from "../../src/store/mongo/mongo-webhook-store.js";
import { uniqueDbName } from "../support/harness.js";
import { webhookStoreContract } from "./webhook-store.contract.js";

webhookStoreContract("mongodb", async () => {
  const store = MongoWebhookStore.create({
    uri: inject("mongoUri"),
    dbName: uniqueDbName(),
    timeoutMs: 2000,
  });
  await store.ensureIndexes();
  return store;
});
