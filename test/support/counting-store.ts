import type { KeyStore } from "../../src/store/key-store.js";

export interface CountingStore {
  store: KeyStore;
  calls: Map<string, number>;
  /**
   * Resolves once every call made so far has settled, background ones included; a
   * continuation the caller chained directly on a call's promise has run by then too
   * (it was registered first). A deterministic point to assert at, instead of a sleep.
   */
  settled(): Promise<void>;
}

/** Wraps a store and counts calls per method, so tests can prove what did (not) reach it. */
export function countingStore(inner: KeyStore): CountingStore {
  const calls = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        const result: unknown = value.apply(target, args);
        if (result instanceof Promise) {
          pending.add(result);
          const done = () => pending.delete(result);
          result.then(done, done);
        }
        return result;
      };
    },
  });
  return { store, calls, settled: async () => void (await Promise.allSettled([...pending])) };
}
