import { MongoError } from "mongodb";
import { StoreUnavailableError } from "../../domain/errors.js";
import { STORE_OPERATIONS } from "../instrumented-key-store.js";
import type { KeyStore } from "../key-store.js";

/**
 * A driver failure (network, server selection, a timeout, a server error) as
 * the store's own StoreUnavailableError, so nothing above the store knows the
 * driver. The message is the store's, not the driver's (which can name hosts);
 * the driver's error stays as the cause, for the log. DuplicateKeyError and
 * anything else that is not the driver's pass as they are.
 */
export function asStoreError(err: unknown): unknown {
  if (!(err instanceof MongoError)) return err;
  return Object.assign(new StoreUnavailableError("the key database is unavailable; retry later"), {
    cause: err,
  });
}

/** The same store, its driver failures turned into StoreUnavailableError. */
export function withStoreErrors(store: KeyStore): KeyStore {
  const mapped = Object.create(store) as KeyStore;
  const rethrow = (err: unknown) => Promise.reject(asStoreError(err));
  for (const operation of STORE_OPERATIONS) {
    const call = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (mapped as unknown as Record<string, unknown>)[operation] = (...args: unknown[]) =>
      call(...args).catch(rethrow);
  }
  return mapped;
}
