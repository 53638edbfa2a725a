import { PreconditionError } from "../domain/errors.js";
import type { KeyRecord } from "../domain/types.js";

/**
 * Update and rotate act only on a key in service: not revoked, and not rotated
 * out. Any retires_at, past or future, means the key is being or has been
 * rotated out, whether or not its successor is on record (a key rotated by 0.1
 * may have none): changing or rotating it again could set a new grace end and
 * bring a retired, possibly leaked, secret back.
 */
export function refuseUnlessInService(current: KeyRecord, verb: "changed" | "rotated"): void {
  const id = current.id;
  if (current.revokedAt !== null)
    throw new PreconditionError(
      `key ${id} is revoked and cannot be ${verb}; create a new key instead`,
    );
  if (current.successorId !== null)
    throw new PreconditionError(
      `key ${id} was rotated to ${current.successorId} and cannot be ${verb}; use its successor instead`,
    );
  if (current.retiresAt !== null)
    throw new PreconditionError(
      `key ${id} was rotated out (retires_at is set, no successor on record) and cannot be ${verb}; create a new key instead`,
    );
}
