import { inject } from "vitest";
import { MongoKeyStore } from "../../src/store/mongo/mongo-key-store.js";
import { uniqueDbName } from "../support/harness.js";
import { keyStoreContract } from "./key-store.contract.js";

keyStoreContract("mongodb", async () => {
  const store = MongoKeyStore.create({ uri: inject("mongoUri"), dbName: uniqueDbName() });
  await store.ensureIndexes();
  return store;
});
