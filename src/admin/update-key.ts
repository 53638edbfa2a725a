import { invalid } from "../domain/errors.js";
import type { KeyRecord } from "../domain/types.js";
import { quote } from "../domain/validation.js";
import { type AdminContext, appendAudit, auditValue, enforce } from "./admin-context.js";
import { compareAndSet } from "./compare-and-set.js";
import { refuseUnlessInService } from "./in-service.js";
import { type KeySettings, UPDATABLE_FIELDS, type UpdatableField } from "./key-settings.js";
import type { Principal } from "./principal.js";
import { updatePatch } from "./update-patch.js";

const RECORD_FIELD: Record<UpdatableField, keyof KeyRecord> = {
  name: "name",
  scopes: "scopes",
  allowed_domains: "allowedDomains",
  expires_at: "expiresAt",
  metadata: "metadata",
};

function requireUpdatablePaths(paths: readonly string[]): void {
  if (paths.length === 0)
    throw invalid("update_mask", `must name at least one of ${UPDATABLE_FIELDS.join(", ")}`);
  const unknown = paths.filter((p) => !(UPDATABLE_FIELDS as readonly string[]).includes(p));
  if (unknown.length > 0)
    throw invalid(
      "update_mask",
      `cannot update ${unknown.map(quote).join(", ")}; updatable: ${UPDATABLE_FIELDS.join(", ")}`,
    );
}

export async function updateKey(
  ctx: AdminContext,
  principal: Principal,
  id: string,
  values: Partial<KeySettings>,
  paths: readonly string[],
): Promise<KeyRecord> {
  requireUpdatablePaths(paths);
  const { before, after } = await compareAndSet(ctx, principal, id, (current, now) => {
    const patch = updatePatch(values, paths, now, ctx.catalog);
    enforce(
      ctx,
      principal,
      "update",
      {
        before: current,
        after: { workspace: current.workspace, scopes: patch.scopes ?? current.scopes },
      },
      id,
    );
    refuseUnlessInService(current, "changed");
    return patch;
  });
  // In the order of UPDATABLE_FIELDS, whatever the order of the mask.
  const changes = UPDATABLE_FIELDS.filter((p) => paths.includes(p)).map((p) => {
    const field = RECORD_FIELD[p];
    return { field, before: auditValue(before[field]), after: auditValue(after[field]) };
  });
  await appendAudit(ctx, principal, "update", after, changes);
  return after;
}
