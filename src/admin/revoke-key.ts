import { throwIfViolations } from "../domain/errors.js";
import type { KeyRecord } from "../domain/types.js";
import { revokeReasonViolation } from "../domain/validation.js";
import { type AdminContext, appendAudit, auditValue, enforce } from "./admin-context.js";
import { compareAndSet } from "./compare-and-set.js";
import type { Principal } from "./principal.js";

export async function revokeKey(
  ctx: AdminContext,
  principal: Principal,
  id: string,
  reason: string,
): Promise<KeyRecord> {
  throwIfViolations([revokeReasonViolation(reason, "reason")]);
  const { before, after, changed } = await compareAndSet(ctx, principal, id, (current, now) => {
    // Authority first: an admin without it must not learn, from an answer, that the key is revoked.
    enforce(ctx, principal, "revoke", { before: current, after: current }, id);
    // Revoking twice is answered the same and recorded once.
    if (current.revokedAt !== null) return null;
    return { revokedAt: now, revokeReason: reason || "revoked", updatedAt: now };
  });
  if (changed) {
    await appendAudit(ctx, principal, "revoke", after, [
      {
        field: "revokedAt",
        before: auditValue(before.revokedAt),
        after: auditValue(after.revokedAt),
      },
      {
        field: "revokeReason",
        before: auditValue(before.revokeReason),
        after: auditValue(after.revokeReason),
      },
    ]);
  }
  return after;
}
