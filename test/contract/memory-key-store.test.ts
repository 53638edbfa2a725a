import { MemoryKeyStore } from "../../src/store/memory-key-store.js";
import { keyStoreContract } from "./key-store.contract.js";

keyStoreContract("memory", async () => new MemoryKeyStore());
