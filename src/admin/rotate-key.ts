import { invalid, PreconditionError } from "../domain/errors.js";
import { digestOfHash, hashKey, keyPreview } from "../domain/keys.js";
import { type KeyId, type KeyRecord, keyStatus, type RawKey } from "../domain/types.js";
import type { KeyPatch } from "../store/key-store.js";
import { type AdminContext, appendAudit, auditValue, enforce } from "./admin-context.js";
import { compareAndSet } from "./compare-and-set.js";
import { refuseUnlessInService } from "./in-service.js";
import { generateKey, newKeyId } from "./key-material.js";
import type { Principal } from "./principal.js";

export const DEFAULT_GRACE_MS = 24 * 3600_000;
export const MAX_GRACE_MS = 30 * 24 * 3600_000;

/** The old key's settings under a new id and secret, as new. */
function successorOf(current: KeyRecord, key: RawKey, pepper: string, now: Date): KeyRecord {
  return {
    ...current,
    id: newKeyId(),
    keyDigest: digestOfHash(hashKey(key, pepper)),
    keyPreview: keyPreview(key),
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    revokedAt: null,
    revokeReason: "",
    retiresAt: null,
    successorId: null,
    revision: 0,
  };
}

/** The old key's mark: it names its successor and stops at the grace end. */
function retirement(successorId: KeyId, graceMs: number, now: Date): KeyPatch {
  const mark = { revokeReason: `rotated to ${successorId}`, successorId, updatedAt: now };
  // A grace of 0 revokes at once, which (unlike a grace end) no replica's clock can delay.
  return graceMs === 0
    ? { revokedAt: now, ...mark }
    : { retiresAt: new Date(now.getTime() + graceMs), ...mark };
}

/**
 * The successor is inserted first, then the old key is marked (compare-and-set:
 * at the revision the policy judged). Every way this can stop leaves the old
 * key unchanged or pointing at a successor that exists, never at a missing one
 * (which would refuse every later rotation): a failed insert changes nothing;
 * a mark that lost to another writer (a revoke, say) discards the successor and
 * decides again; a mark whose outcome is unknown (the store deadline) leaves the
 * successor, whose secret nobody has seen, so it is inert until the old key
 * names it.
 */
export async function rotateKey(
  ctx: AdminContext,
  principal: Principal,
  id: string,
  graceMs: number | null,
): Promise<{ key: RawKey; record: KeyRecord; previous: KeyRecord }> {
  const grace = graceMs ?? DEFAULT_GRACE_MS;
  if (grace < 0 || grace > MAX_GRACE_MS)
    throw invalid("grace_period", `must be from 0s to ${MAX_GRACE_MS / 1000}s (30 days)`);
  // What the decision of the last round made: the successor is judged and built from that round's read.
  let made: { key: RawKey; record: KeyRecord } | undefined;
  const decide = (current: KeyRecord, now: Date): KeyPatch => {
    enforce(ctx, principal, "rotate", { before: current, after: current }, id);
    refuseUnlessInService(current, "rotated");
    if (keyStatus(current, now) === "expired")
      throw new PreconditionError(`key ${id} has expired; create a new key instead`);
    const key = generateKey(ctx.prefix, current.environment);
    made = { key, record: successorOf(current, key, ctx.pepper, now) };
    return retirement(made.record.id, grace, now);
  };
  const { after: previous } = await compareAndSet(ctx, principal, id, decide, {
    beforeWrite: async () => ctx.store.insertKey(made!.record),
    // The old key moved on without naming this successor: nobody will ever hold its secret.
    afterLost: async () => void (await ctx.store.discardKey(made!.record.id).catch(() => false)),
  });
  const { key, record: successor } = made!;
  ctx.onKeyChanged(successor);
  await appendAudit(ctx, principal, "rotate", previous, [
    { field: "successorId", before: "null", after: auditValue(successor.id) },
    {
      field: previous.revokedAt ? "revokedAt" : "retiresAt",
      before: "null",
      after: auditValue(previous.revokedAt ?? previous.retiresAt),
    },
  ]);
  return { key, record: successor, previous };
}
