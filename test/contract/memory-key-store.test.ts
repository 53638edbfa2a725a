import { MemoryKeyStore } from "../../src/store/memory-key-store.js";
import { MemoryPeriodCollection } from "../../src/store/memory-usage.js";
import { keyStoreContract } from "./key-store.contract.js";
import { usageStoreContract } from "./usage-store.contract.js";

keyStoreContract("memory", async () => new MemoryKeyStore());

usageStoreContract("memory", async () => {
  const periods = new MemoryPeriodCollection();
  return { store: new MemoryKeyStore(periods), periods, close: async () => {} };
});
