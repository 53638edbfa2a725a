import type { KeyRecord, RawKey } from "../domain/types.js";
import type { AdminContext } from "./admin-context.js";
import { createKey } from "./create-key.js";
import { getKey } from "./get-key.js";
import type { KeySettings } from "./key-settings.js";
import { type ListAuditRequest, listAudit } from "./list-audit.js";
import { type ListKeysRequest, listKeys } from "./list-keys.js";
import type { Principal } from "./principal.js";
import { revokeKey } from "./revoke-key.js";
import { rotateKey } from "./rotate-key.js";
import { updateKey } from "./update-key.js";

export type { KeySettings } from "./key-settings.js";
export type { Principal } from "./principal.js";
export { BOOTSTRAP_PRINCIPAL } from "./principal.js";
export type KeyManagerDeps = AdminContext;

/**
 * The KeyAdmin use cases (one per file in src/admin/) bound to one context, so
 * the composition root and the transport hold one object. Validation errors
 * name the request field they concern.
 */
export class KeyManager {
  constructor(private readonly ctx: AdminContext) {}

  create(principal: Principal, settings: KeySettings): Promise<{ key: RawKey; record: KeyRecord }> {
    return createKey(this.ctx, principal, settings);
  }

  get(principal: Principal, id: string): Promise<KeyRecord> {
    return getKey(this.ctx, principal, id);
  }

  list(principal: Principal, q: ListKeysRequest) {
    return listKeys(this.ctx, principal, q);
  }

  update(
    principal: Principal,
    id: string,
    values: Partial<KeySettings>,
    paths: readonly string[],
  ): Promise<KeyRecord> {
    return updateKey(this.ctx, principal, id, values, paths);
  }

  revoke(principal: Principal, id: string, reason: string): Promise<KeyRecord> {
    return revokeKey(this.ctx, principal, id, reason);
  }

  rotate(principal: Principal, id: string, graceMs: number | null) {
    return rotateKey(this.ctx, principal, id, graceMs);
  }

  listAudit(principal: Principal, q: ListAuditRequest) {
    return listAudit(this.ctx, principal, q);
  }
}
