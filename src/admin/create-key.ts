import { isRoot, ROOT_WORKSPACE } from "../domain/admin-policy.js";
import { invalid, throwIfViolations } from "../domain/errors.js";
import { digestOfHash, hashKey, keyPreview } from "../domain/keys.js";
import type { FieldChange, KeyRecord, RawKey } from "../domain/types.js";
import {
  keyScopeViolations,
  metadataViolations,
  nameViolation,
  parseAllowedDomains,
  workspaceViolation,
} from "../domain/validation.js";
import { type AdminContext, appendAudit, auditValue, enforce } from "./admin-context.js";
import { generateKey, newKeyId } from "./key-material.js";
import type { KeySettings } from "./key-settings.js";
import type { Principal } from "./principal.js";

const AUDITED_FIELDS = [
  "name",
  "workspace",
  "scopes",
  "allowedDomains",
  "environment",
  "expiresAt",
  "metadata",
] as const;

/** The key's workspace: the admin's own by default; a root admin must name one. */
function targetWorkspace(principal: Principal, requested: string): string {
  if (requested === "" && isRoot(principal)) {
    throw invalid(
      "workspace",
      "is required for a root admin: name the workspace the key belongs to (* makes another root admin key)",
    );
  }
  return requested || principal.workspace;
}

function newRecord(
  settings: KeySettings,
  workspace: string,
  allowedDomains: string[],
  key: RawKey,
  pepper: string,
  now: Date,
): KeyRecord {
  return {
    id: newKeyId(),
    keyDigest: digestOfHash(hashKey(key, pepper)),
    name: settings.name,
    workspace,
    scopes: [...new Set(settings.scopes)],
    allowedDomains,
    environment: settings.environment ?? "live",
    keyPreview: keyPreview(key),
    metadata: { ...settings.metadata },
    createdAt: now,
    updatedAt: now,
    lastUsedAt: null,
    expiresAt: settings.expiresAt,
    revokedAt: null,
    revokeReason: "",
    retiresAt: null,
    successorId: null,
    revision: 0,
  };
}

export async function createKey(
  ctx: AdminContext,
  principal: Principal,
  settings: KeySettings,
): Promise<{ key: RawKey; record: KeyRecord }> {
  const workspace = targetWorkspace(principal, settings.workspace);
  const domains = parseAllowedDomains(settings.allowedDomains, "allowed_domains");
  const now = ctx.now();
  throwIfViolations([
    nameViolation(settings.name, "name"),
    workspace === ROOT_WORKSPACE ? null : workspaceViolation(workspace, "workspace"),
    ...keyScopeViolations(settings.scopes, ctx.catalog, "scopes"),
    ...domains.violations,
    settings.expiresAt !== null && settings.expiresAt <= now
      ? { field: "expires_at", problem: "must be in the future" }
      : null,
    ...metadataViolations(settings.metadata, "metadata"),
  ]);
  enforce(
    ctx,
    principal,
    "create",
    { before: null, after: { workspace, scopes: settings.scopes } },
    "",
  );
  const key = generateKey(ctx.prefix, settings.environment ?? "live");
  const record = newRecord(settings, workspace, domains.domains, key, ctx.pepper, now);
  await ctx.store.insertKey(record);
  // A negative cache entry for this digest could only come from a guess, but drop it anyway.
  ctx.onKeyChanged(record);
  const changes: FieldChange[] = AUDITED_FIELDS.map((f) => ({
    field: f,
    before: "null",
    after: auditValue(record[f]),
  }));
  await appendAudit(ctx, principal, "create", record, changes);
  return { key, record };
}
