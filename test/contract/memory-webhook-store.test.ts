import { MemoryWebhookStore } from "../../src/store/memory-webhook-store.js";
import { webhookStoreContract } from "./webhook-store.contract.js";

webhookStoreContract("memory", async () => new MemoryWebhookStore());
