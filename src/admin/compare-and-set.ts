import { ConflictError } from "../domain/errors.js";
import type { KeyRecord } from "../domain/types.js";
import type { KeyPatch } from "../store/key-store.js";
import { type AdminContext, findKey } from "./admin-context.js";
import type { Principal } from "./principal.js";

/** With the backoff below, about 2.5 s of retrying before ABORTED. */
const CAS_ATTEMPTS = 9;

export interface CasHooks {
  /** Runs once a round's patch is decided, before its write. */
  beforeWrite?: () => Promise<void>;
  /** Runs when that round's write found the key changed (so it did not land). */
  afterLost?: () => Promise<void>;
}

export interface CasResult {
  before: KeyRecord;
  after: KeyRecord;
  changed: boolean;
}

/** Another writer won the last round; a read right after its write can still return the old document on some servers (FerretDB), so wait a little longer each time. */
function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 640)));
}

/**
 * Read, decide, write only if nothing changed in between (the revision), and
 * decide again if something did: checks never act on a record that is no
 * longer there. `change` returns the patch, or null for "nothing to do".
 */
export async function compareAndSet(
  ctx: AdminContext,
  principal: Principal,
  id: string,
  change: (current: KeyRecord, now: Date) => KeyPatch | null,
  hooks: CasHooks = {},
): Promise<CasResult> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const current = await findKey(ctx, principal, id);
    const patch = change(current, ctx.now());
    if (patch === null) return { before: current, after: current, changed: false };
    await hooks.beforeWrite?.();
    const written = await ctx.store.updateKey(current.id, current.revision, patch);
    if (written !== null) {
      ctx.onKeyChanged(written);
      return { before: current, after: written, changed: true };
    }
    await hooks.afterLost?.();
  }
  throw new ConflictError(`key ${id} kept changing while this call tried to change it; retry`);
}
