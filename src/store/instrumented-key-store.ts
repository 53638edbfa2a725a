import { StoreUnavailableError } from "../domain/errors.js";
import type { KeyStore } from "./key-store.js";

export type StoreObserver = (operation: string, outcome: "ok" | "error", seconds: number) => void;

/** Every operation of the KeyStore interface; a decorator that misses one would let it run unbounded. */
export const STORE_OPERATIONS: readonly (keyof KeyStore)[] = [
  "insertKey",
  "insertKeys",
  "findKeyByDigest",
  "findKeyById",
  "listKeys",
  "updateKey",
  "discardKey",
  "recordUsage",
  "changesSince",
  "latestChange",
  "appendAudit",
  "listAudit",
  "ping",
];

function decorate(store: KeyStore, wrap: (operation: string, call: () => Promise<unknown>) => Promise<unknown>): KeyStore {
  const decorated = Object.create(store) as KeyStore;
  for (const operation of STORE_OPERATIONS) {
    const call = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (decorated as unknown as Record<string, unknown>)[operation] = (...args: unknown[]) => wrap(operation, () => call(...args));
  }
  return decorated;
}

/** The same store, with every call timed; the store itself stays free of metrics. */
export function instrumentStore(store: KeyStore, observe: StoreObserver): KeyStore {
  return decorate(store, async (operation, call) => {
    const start = performance.now();
    try {
      const result = await call();
      observe(operation, "ok", (performance.now() - start) / 1000);
      return result;
    } catch (err) {
      observe(operation, "error", (performance.now() - start) / 1000);
      throw err;
    }
  });
}

/**
 * The same store, with every call bounded by `timeoutMs`: a hung database turns
 * into UNAVAILABLE for the caller instead of a queue that grows without end.
 */
export function withDeadline(store: KeyStore, timeoutMs: number): KeyStore {
  return decorate(store, (operation, call) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`the key database did not answer ${operation} within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([call(), expired]).finally(() => clearTimeout(timer));
  });
}
