import type { KeyDigest } from "../domain/types.js";

/** Called for each key inserted or changed, with the database's mark of the change when it has one. */
export type KeyChangeListener = (digest: KeyDigest, changedAt: Date | null) => void;

/**
 * Changes pushed by the database as they happen (MongoDB change streams).
 * Caches subscribe through this interface, never through a store class, so
 * the hot path does not depend on which database runs.
 */
export interface KeyChangeFeed {
  /** null when the database offers no change stream (FerretDB, a standalone mongod): poll instead. */
  watchKeyChanges(
    onChange: KeyChangeListener,
    onError: (err: unknown) => void,
  ): Promise<{ close(): Promise<void> } | null>;
}
