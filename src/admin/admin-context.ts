import { randomBytes } from "node:crypto";
import { type AdminAction, decideAdmin, type PolicyTarget } from "../domain/admin-policy.js";
import { invalid, NotFoundError, PermissionError } from "../domain/errors.js";
import { isKeyId } from "../domain/keys.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import type { AuditAction, FieldChange, KeyId, KeyRecord } from "../domain/types.js";
import { quote } from "../domain/validation.js";
import type { KeyStore } from "../store/key-store.js";
import type { Principal } from "./principal.js";

/** What every KeyAdmin use case works with. */
export interface AdminContext {
  store: KeyStore;
  catalog: ScopeCatalog;
  pepper: string;
  prefix: string;
  now: () => Date;
  /** Called after every change to a key, so caches can drop it. */
  onKeyChanged: (record: KeyRecord) => void;
}

/** Applies the authority model; `reach` checks only whether the admin reaches the key (any admin scope). */
export function enforce(
  ctx: AdminContext,
  principal: Principal,
  action: AdminAction,
  target: { before: PolicyTarget | null; after: PolicyTarget | null },
  id: string,
  only?: "reach",
): void {
  const actor =
    only === "reach" ? { workspace: principal.workspace, scopes: ["keyward:read"] } : principal;
  const verdict = decideAdmin(actor, action, target.before, target.after, ctx.catalog);
  if (verdict.allowed) return;
  // Existence does not leak: out of reach reads exactly like missing.
  if (verdict.outcome === "not_found") throw new NotFoundError(`no key with id ${id}`);
  throw new PermissionError(verdict.message);
}

export function requireKeyId(id: string): asserts id is KeyId {
  if (!isKeyId(id))
    throw invalid("id", `${quote(id)} is not a key id (key_ followed by 24 hex digits)`);
}

/** Reads a key; one outside the admin's reach answers exactly like a missing one. */
export async function findKey(
  ctx: AdminContext,
  principal: Principal,
  id: string,
): Promise<KeyRecord> {
  requireKeyId(id);
  const record = await ctx.store.findKeyById(id);
  if (record === null) throw new NotFoundError(`no key with id ${id}`);
  enforce(
    ctx,
    principal,
    "read",
    { before: { workspace: record.workspace, scopes: [] }, after: null },
    id,
    "reach",
  );
  return record;
}

/** A field's value as the audit log shows it. */
export function auditValue(value: unknown): string {
  return JSON.stringify(value instanceof Date ? value.toISOString() : (value ?? null));
}

export async function appendAudit(
  ctx: AdminContext,
  principal: Principal,
  action: AuditAction,
  target: KeyRecord,
  changes: FieldChange[],
): Promise<void> {
  await ctx.store.appendAudit({
    id: `evt_${randomBytes(12).toString("hex")}`,
    workspace: target.workspace,
    action,
    actorKeyId: principal.keyId,
    targetKeyId: target.id as KeyId,
    occurredAt: ctx.now(),
    changes,
  });
}
