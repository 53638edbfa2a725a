import type { KeyStore } from "./key-store.js";

export type StoreObserver = (operation: string, outcome: "ok" | "error", seconds: number) => void;

const TIMED: readonly (keyof KeyStore)[] = [
  "insertKey",
  "insertKeys",
  "findKeyByHash",
  "findKeyById",
  "listKeys",
  "updateKey",
  "revokeKey",
  "recordUsage",
  "keysUpdatedSince",
  "appendAudit",
  "listAudit",
  "ping",
];

/** The same store, with every call timed; the store itself stays free of metrics. */
export function instrumentStore(store: KeyStore, observe: StoreObserver): KeyStore {
  const timed = Object.create(store) as KeyStore;
  for (const operation of TIMED) {
    const call = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (timed as unknown as Record<string, unknown>)[operation] = async (...args: unknown[]) => {
      const start = performance.now();
      try {
        const result = await call(...args);
        observe(operation, "ok", (performance.now() - start) / 1000);
        return result;
      } catch (err) {
        observe(operation, "error", (performance.now() - start) / 1000);
        throw err;
      }
    };
  }
  return timed;
}
