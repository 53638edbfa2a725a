import { throwIfViolations } from "../domain/errors.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import {
  type FieldViolation,
  keyScopeViolations,
  metadataViolations,
  nameViolation,
  parseAllowedDomains,
} from "../domain/validation.js";
import type { KeyPatch } from "../store/key-store.js";
import type { KeySettings, UpdatableField } from "./key-settings.js";

/** UpdateKey's masked fields as a validated patch; violations name the request field (api_key.…). */
export function updatePatch(
  values: Partial<KeySettings>,
  paths: readonly string[],
  now: Date,
  catalog: ScopeCatalog,
): KeyPatch {
  const patch: KeyPatch = { updatedAt: now };
  const violations: Array<FieldViolation | null> = [];
  const has = (p: UpdatableField) => paths.includes(p);
  if (has("name")) {
    violations.push(nameViolation(values.name ?? "", "api_key.name"));
    patch.name = values.name ?? "";
  }
  if (has("scopes")) {
    violations.push(...keyScopeViolations(values.scopes ?? [], catalog, "api_key.scopes"));
    patch.scopes = [...new Set(values.scopes ?? [])];
  }
  if (has("allowed_domains")) {
    const d = parseAllowedDomains(values.allowedDomains ?? [], "api_key.allowed_domains");
    violations.push(...d.violations);
    patch.allowedDomains = d.domains;
  }
  if (has("expires_at")) {
    const at = values.expiresAt ?? null;
    if (at !== null && at <= now)
      violations.push({
        field: "api_key.expires_at",
        problem: "must be in the future (clear it to never expire)",
      });
    patch.expiresAt = at;
  }
  if (has("metadata")) {
    violations.push(...metadataViolations(values.metadata ?? {}, "api_key.metadata"));
    patch.metadata = { ...(values.metadata ?? {}) };
  }
  throwIfViolations(violations);
  return patch;
}
