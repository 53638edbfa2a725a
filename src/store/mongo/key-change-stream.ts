import type { ChangeStreamDocument, Collection } from "mongodb";
import type { KeyDigest } from "../../domain/types.js";
import type { KeyChangeListener } from "../change-feed.js";
import type { KeyDoc } from "./key-documents.js";

/**
 * Follows changes to keys (not last_used_at bumps) through a change stream.
 * Answers null when the server offers none (FerretDB, a standalone mongod).
 */
export async function watchKeyChanges(
  keys: Collection<KeyDoc>,
  onChange: KeyChangeListener,
  onError: (err: unknown) => void,
): Promise<{ close(): Promise<void> } | null> {
  const stream = keys.watch<KeyDoc, ChangeStreamDocument<KeyDoc>>(
    [
      {
        $match: {
          $or: [
            { operationType: { $ne: "update" } },
            { "updateDescription.updatedFields.revision": { $exists: true } },
          ],
        },
      },
    ],
    { fullDocument: "updateLookup" },
  );
  let first: ChangeStreamDocument<KeyDoc> | null;
  try {
    first = await stream.tryNext();
  } catch {
    await stream.close().catch(() => undefined);
    return null;
  }
  let closed = false;
  const deliver = (event: ChangeStreamDocument<KeyDoc>) => {
    const doc = "fullDocument" in event ? event.fullDocument : undefined;
    if (doc) onChange(doc.key_digest as KeyDigest, doc.changed_at ?? null);
  };
  void (async () => {
    try {
      if (first) deliver(first);
      for await (const event of stream) deliver(event);
    } catch (err) {
      if (!closed) onError(err);
    }
  })();
  return {
    async close() {
      closed = true;
      await stream.close();
    },
  };
}
