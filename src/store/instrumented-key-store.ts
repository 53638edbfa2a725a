import { StoreUnavailableError } from "../domain/errors.js";
import type { KeyStore } from "./key-store.js";

export type StoreObserver = (operation: string, outcome: "ok" | "error", seconds: number) => void;

/**
 * Every operation of the KeyStore interface; a decorator that misses one would
 * let it run unbounded, so tsc fails when one is missing (close is left out: it
 * must run however long it takes).
 */
const OPERATIONS = {
  insertKey: true,
  insertKeys: true,
  findKeyByDigest: true,
  findKeyById: true,
  listKeys: true,
  updateKey: true,
  discardKey: true,
  recordUsage: true,
  recentlyUsedKeys: true,
  changesSince: true,
  latestChange: true,
  appendAudit: true,
  listAudit: true,
  ping: true,
  appendUsage: true,
  readUsage: true,
  usageSummaries: true,
  compactUsage: true,
} satisfies Record<Exclude<keyof KeyStore, "close">, true>;

export const STORE_OPERATIONS = Object.keys(OPERATIONS) as (keyof KeyStore)[];

function decorate(
  store: KeyStore,
  wrap: (operation: string, call: () => Promise<unknown>) => Promise<unknown>,
): KeyStore {
  const decorated = Object.create(store) as KeyStore;
  for (const operation of STORE_OPERATIONS) {
    const call = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (decorated as unknown as Record<string, unknown>)[operation] = (...args: unknown[]) =>
      wrap(operation, () => call(...args));
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
 * Background work that is many commands by design, single-flight, and off every
 * request's path: a usage flush of every active key (1000 documents per insert)
 * and a compaction pass (which stops starting steps after 20 s). A request's
 * deadline would fail them while they progress.
 */
const BACKGROUND_DEADLINE_MS = {
  appendUsage: 60_000,
  compactUsage: 60_000,
  // 100,000 keys are 2,000 bulk writes of 50 (FerretDB hangs on 100+): 12 s measured there.
  recordUsage: 60_000,
} as const;

/**
 * The same store, with every call bounded by `timeoutMs`: a hung database turns
 * into UNAVAILABLE for the caller instead of a queue that grows without end.
 */
export function withDeadline(store: KeyStore, timeoutMs: number): KeyStore {
  return decorate(store, (operation, call) => {
    const ms = Object.hasOwn(BACKGROUND_DEADLINE_MS, operation)
      ? Math.max(
          timeoutMs,
          BACKGROUND_DEADLINE_MS[operation as keyof typeof BACKGROUND_DEADLINE_MS],
        )
      : timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StoreUnavailableError(
              `the key database did not answer ${operation} within ${ms} ms`,
            ),
          ),
        ms,
      );
    });
    return Promise.race([call(), expired]).finally(() => clearTimeout(timer));
  });
}
