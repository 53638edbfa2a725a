import { type AdminIdentity, decideAdmin } from "../domain/admin-policy.js";
import { invalid, NotFoundError, PermissionError } from "../domain/errors.js";
import { isKeyId } from "../domain/keys.js";
import { ADMIN_READ, type ScopeCatalog } from "../domain/scopes.js";
import type { KeyRecord } from "../domain/types.js";
import {
  resolveUsageRange,
  summarizeUsage,
  type UsageGranularity,
  type UsageReport,
} from "../domain/usage-report.js";
import { quote } from "../domain/validation.js";
import type { KeyStore } from "../store/key-store.js";

export interface GetKeyUsageDeps {
  store: KeyStore;
  catalog: ScopeCatalog;
  now: () => Date;
}

export interface GetKeyUsageQuery {
  id: string;
  /** null: the defaults of DESIGN "Usage" (30 days before end; end = now). */
  start: Date | null;
  end: Date | null;
  granularity: UsageGranularity | "unspecified";
}

export interface KeyUsage {
  keyId: string;
  report: UsageReport;
}

/**
 * GetKeyUsage: one key's usage over a range, under GetKey's rules: a key
 * outside the admin's reach answers NOT_FOUND exactly as a missing one, and
 * reading needs keyward:read.
 */
export async function getKeyUsage(
  deps: GetKeyUsageDeps,
  admin: AdminIdentity,
  q: GetKeyUsageQuery,
): Promise<KeyUsage> {
  if (!isKeyId(q.id))
    throw invalid("id", `${quote(q.id)} is not a key id (key_ followed by 24 hex digits)`);
  const resolved = resolveUsageRange(q.start, q.end, q.granularity, deps.now());
  if (!resolved.ok) throw invalid(resolved.violation.field, resolved.violation.problem);
  const record = await readableKey(deps, admin, q.id);
  const { range } = resolved;
  const periods = await deps.store.readUsage(record.id, range.start, range.end);
  return {
    keyId: record.id,
    report: summarizeUsage({ ...range, periods, heldScopes: record.scopes, catalog: deps.catalog }),
  };
}

/** As GetKey: reach first (out of reach reads like missing, whatever the admin's scopes), then authority. */
async function readableKey(
  deps: GetKeyUsageDeps,
  admin: AdminIdentity,
  id: KeyRecord["id"],
): Promise<KeyRecord> {
  const record = await deps.store.findKeyById(id);
  const target = record === null ? null : { workspace: record.workspace, scopes: [] };
  const reach =
    target === null
      ? null
      : decideAdmin(
          { workspace: admin.workspace, scopes: [ADMIN_READ] },
          "read",
          target,
          null,
          deps.catalog,
        );
  if (record === null || (reach !== null && !reach.allowed))
    throw new NotFoundError(`no key with id ${id}`);
  const verdict = decideAdmin(admin, "read", record, null, deps.catalog);
  if (!verdict.allowed)
    throw verdict.outcome === "not_found"
      ? new NotFoundError(`no key with id ${id}`)
      : new PermissionError(verdict.message);
  return record;
}
