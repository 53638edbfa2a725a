import { randomBytes } from "node:crypto";
import { generateKey, hashKey, isKeyId, keyPreview, newKeyId } from "./domain/keys.js";
import type { ScopeCatalog } from "./domain/scopes.js";
import { keyStatus, type AuditAction, type Environment, type FieldChange, type KeyId, type KeyRecord, type KeyStatus, type RawKey } from "./domain/types.js";
import {
  keyScopeViolations,
  LIMITS,
  metadataViolations,
  nameViolation,
  pageSize,
  parseAllowedDomains,
  quote,
  workspaceViolation,
} from "./domain/validation.js";
import { invalid, NotFoundError, PermissionError, PreconditionError, throwIfViolations } from "./errors.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { KeyPatch, KeyStore } from "./store/key-store.js";

/** Who is acting: an admin key, or the bootstrap command. */
export interface Principal {
  keyId: string;
  workspace: string;
  /** Holds `*`: acts in every workspace. */
  root: boolean;
}

export interface KeySettings {
  name: string;
  workspace: string;
  scopes: string[];
  allowedDomains: string[];
  expiresAt: Date | null;
  environment: Environment | null;
  metadata: Record<string, string>;
}

export const UPDATABLE_FIELDS = ["name", "scopes", "allowed_domains", "expires_at", "metadata"] as const;
export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];

export const DEFAULT_GRACE_MS = 24 * 3600_000;
export const MAX_GRACE_MS = 30 * 24 * 3600_000;

export interface KeyManagerDeps {
  store: KeyStore;
  catalog: ScopeCatalog;
  pepper: string;
  prefix: string;
  now: () => Date;
  /** Called after every change to a key, so caches can drop it. */
  onKeyChanged: (record: KeyRecord) => void;
}

function json(value: unknown): string {
  return JSON.stringify(value instanceof Date ? value.toISOString() : value ?? null);
}

/** The admin operations. Validation errors name the request field they concern. */
export class KeyManager {
  constructor(private readonly deps: KeyManagerDeps) {}

  async create(principal: Principal, settings: KeySettings): Promise<{ key: RawKey; record: KeyRecord }> {
    const workspace = settings.workspace || principal.workspace;
    const domains = parseAllowedDomains(settings.allowedDomains, "allowed_domains");
    const now = this.deps.now();
    throwIfViolations([
      nameViolation(settings.name, "name"),
      workspaceViolation(workspace, "workspace"),
      ...keyScopeViolations(settings.scopes, this.deps.catalog, "scopes"),
      ...domains.violations,
      settings.expiresAt !== null && settings.expiresAt <= now ? { field: "expires_at", problem: "must be in the future" } : null,
      ...metadataViolations(settings.metadata, "metadata"),
    ]);
    this.checkWorkspace(principal, workspace);
    this.checkGrantable(principal, settings.scopes);
    const environment = settings.environment ?? "live";
    const key = generateKey(this.deps.prefix, environment);
    const record: KeyRecord = {
      id: newKeyId(),
      keyHash: hashKey(key, this.deps.pepper),
      name: settings.name,
      workspace,
      scopes: [...new Set(settings.scopes)],
      allowedDomains: domains.domains,
      environment,
      keyPreview: keyPreview(key),
      metadata: { ...settings.metadata },
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
      expiresAt: settings.expiresAt,
      revokedAt: null,
      revokeReason: "",
    };
    await this.deps.store.insertKey(record);
    // A negative cache entry for this hash could only come from a guess, but drop it anyway.
    this.deps.onKeyChanged(record);
    const changes: FieldChange[] = (["name", "workspace", "scopes", "allowedDomains", "environment", "expiresAt", "metadata"] as const).map((f) => ({
      field: f,
      before: "null",
      after: json(record[f]),
    }));
    await this.audit(principal, "create", record, changes);
    return { key, record };
  }

  async get(principal: Principal, id: string): Promise<KeyRecord> {
    if (!isKeyId(id)) throw invalid("id", `${quote(id)} is not a key id (key_ followed by 24 hex digits)`);
    const record = await this.deps.store.findKeyById(id);
    // A key in another workspace answers exactly like a missing one, so existence does not leak.
    if (record === null || (!principal.root && record.workspace !== principal.workspace)) throw new NotFoundError(`no key with id ${id}`);
    return record;
  }

  async list(principal: Principal, q: { workspace: string; status: KeyStatus | null; pageSize: number; pageToken: string }): Promise<{ keys: KeyRecord[]; nextPageToken: string }> {
    const workspace = this.listWorkspace(principal, q.workspace);
    const size = pageSize(q.pageSize, "page_size");
    throwIfViolations([size.violation]);
    const query = { kind: "keys", workspace, status: q.status };
    const cursor = q.pageToken === "" ? null : decodePageToken(q.pageToken, query, "page_token");
    const now = this.deps.now();
    const keys = await this.deps.store.listKeys({ workspace, status: q.status, now, limit: size.size + 1, after: cursor });
    const page = keys.slice(0, size.size);
    const last = page[page.length - 1];
    const nextPageToken = keys.length > size.size && last ? encodePageToken({ createdAt: last.createdAt, id: last.id }, query) : "";
    return { keys: page, nextPageToken };
  }

  async update(principal: Principal, id: string, values: Partial<KeySettings>, paths: readonly string[]): Promise<KeyRecord> {
    if (paths.length === 0) throw invalid("update_mask", `must name at least one of ${UPDATABLE_FIELDS.join(", ")}`);
    const unknown = paths.filter((p) => !(UPDATABLE_FIELDS as readonly string[]).includes(p));
    if (unknown.length > 0) throw invalid("update_mask", `cannot update ${unknown.map(quote).join(", ")}; updatable: ${UPDATABLE_FIELDS.join(", ")}`);
    const current = await this.get(principal, id);
    const now = this.deps.now();
    if (keyStatus(current, now) === "revoked" || current.revokedAt !== null) throw new PreconditionError(`key ${id} is revoked or rotated; it cannot be changed`);

    const patch: KeyPatch = { updatedAt: now };
    const violations = [];
    const has = (p: UpdatableField) => paths.includes(p);
    if (has("name")) {
      violations.push(nameViolation(values.name ?? "", "api_key.name"));
      patch.name = values.name ?? "";
    }
    if (has("scopes")) {
      violations.push(...keyScopeViolations(values.scopes ?? [], this.deps.catalog, "api_key.scopes"));
      patch.scopes = [...new Set(values.scopes ?? [])];
    }
    if (has("allowed_domains")) {
      const d = parseAllowedDomains(values.allowedDomains ?? [], "api_key.allowed_domains");
      violations.push(...d.violations);
      patch.allowedDomains = d.domains;
    }
    if (has("expires_at")) {
      const at = values.expiresAt ?? null;
      if (at !== null && at <= now) violations.push({ field: "api_key.expires_at", problem: "must be in the future (clear it to never expire)" });
      patch.expiresAt = at;
    }
    if (has("metadata")) {
      violations.push(...metadataViolations(values.metadata ?? {}, "api_key.metadata"));
      patch.metadata = { ...(values.metadata ?? {}) };
    }
    throwIfViolations(violations);
    if (patch.scopes) this.checkGrantable(principal, patch.scopes);

    const updated = await this.deps.store.updateKey(current.id, patch);
    if (updated === null) throw new NotFoundError(`no key with id ${id}`);
    this.deps.onKeyChanged(updated);
    const changes = (Object.keys(patch) as (keyof KeyPatch)[])
      .filter((f) => f !== "updatedAt")
      .map((f) => ({ field: f, before: json(current[f]), after: json(updated[f]) }));
    await this.audit(principal, "update", updated, changes);
    return updated;
  }

  async revoke(principal: Principal, id: string, reason: string): Promise<KeyRecord> {
    if (reason.length > LIMITS.revokeReasonLength) throw invalid("reason", `must be at most ${LIMITS.revokeReasonLength} characters`);
    const current = await this.get(principal, id);
    const now = this.deps.now();
    const revoked = await this.deps.store.revokeKey(current.id, now, reason || "revoked", now);
    if (revoked === null) throw new NotFoundError(`no key with id ${id}`);
    // Revoking twice is answered the same and recorded once.
    if (current.revokedAt === null || current.revokedAt > now) {
      this.deps.onKeyChanged(revoked);
      await this.audit(principal, "revoke", revoked, [
        { field: "revokedAt", before: json(current.revokedAt), after: json(revoked.revokedAt) },
        { field: "revokeReason", before: json(current.revokeReason), after: json(revoked.revokeReason) },
      ]);
    }
    return revoked;
  }

  async rotate(principal: Principal, id: string, graceMs: number | null): Promise<{ key: RawKey; record: KeyRecord; previous: KeyRecord }> {
    const grace = graceMs ?? DEFAULT_GRACE_MS;
    if (grace < 0 || grace > MAX_GRACE_MS) throw invalid("grace_period", `must be from 0s to ${MAX_GRACE_MS / 1000}s (30 days)`);
    const current = await this.get(principal, id);
    const now = this.deps.now();
    if (current.revokedAt !== null) throw new PreconditionError(`key ${id} is already revoked or rotated; rotate its successor instead`);
    if (keyStatus(current, now) === "expired") throw new PreconditionError(`key ${id} has expired; create a new key instead`);

    const key = generateKey(this.deps.prefix, current.environment);
    const record: KeyRecord = {
      ...current,
      id: newKeyId(),
      keyHash: hashKey(key, this.deps.pepper),
      keyPreview: keyPreview(key),
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
    };
    // Insert first: if the second write fails, both keys work, which is safe to retry; never neither.
    await this.deps.store.insertKey(record);
    const previous = await this.deps.store.revokeKey(current.id, new Date(now.getTime() + grace), `rotated to ${record.id}`, now);
    if (previous === null) throw new NotFoundError(`no key with id ${id}`);
    this.deps.onKeyChanged(previous);
    await this.audit(principal, "rotate", previous, [
      { field: "successorId", before: "null", after: json(record.id) },
      { field: "revokedAt", before: "null", after: json(previous.revokedAt) },
    ]);
    return { key, record, previous };
  }

  async listAudit(principal: Principal, q: { workspace: string; pageSize: number; pageToken: string }) {
    const workspace = this.listWorkspace(principal, q.workspace) ?? principal.workspace;
    const size = pageSize(q.pageSize, "page_size");
    throwIfViolations([size.violation]);
    const query = { kind: "audit", workspace };
    const cursor = q.pageToken === "" ? null : decodePageToken(q.pageToken, query, "page_token");
    const events = await this.deps.store.listAudit({ workspace, limit: size.size + 1, after: cursor });
    const page = events.slice(0, size.size);
    const last = page[page.length - 1];
    const nextPageToken = events.length > size.size && last ? encodePageToken({ createdAt: last.occurredAt, id: last.id }, query) : "";
    return { events: page, nextPageToken };
  }

  /** A `*` admin may list every workspace (empty) or any one; others only their own. */
  private listWorkspace(principal: Principal, requested: string): string | null {
    if (requested === "") return principal.root ? null : principal.workspace;
    throwIfViolations([workspaceViolation(requested, "workspace")]);
    this.checkWorkspace(principal, requested);
    return requested;
  }

  private checkWorkspace(principal: Principal, workspace: string): void {
    if (!principal.root && workspace !== principal.workspace) {
      throw new PermissionError(`this admin key acts only in workspace ${principal.workspace}`);
    }
  }

  /** `*` reaches every workspace, so only an admin that holds it may hand it out. */
  private checkGrantable(principal: Principal, scopes: readonly string[]): void {
    if (!principal.root && scopes.includes("*")) throw new PermissionError("only an admin key holding * may grant *");
  }

  private async audit(principal: Principal, action: AuditAction, target: KeyRecord, changes: FieldChange[]): Promise<void> {
    await this.deps.store.appendAudit({
      id: `evt_${randomBytes(12).toString("hex")}`,
      workspace: target.workspace,
      action,
      actorKeyId: principal.keyId,
      targetKeyId: target.id as KeyId,
      occurredAt: this.deps.now(),
      changes,
    });
  }
}
