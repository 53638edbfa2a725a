import { randomBytes } from "node:crypto";
import { digestOfHash, hashKey, isKeyId, keyPreview } from "../domain/keys.js";
import { generateKey, newKeyId } from "./key-material.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import { keyStatus, type AuditAction, type Environment, type FieldChange, type KeyId, type KeyRecord, type KeyStatus, type RawKey } from "../domain/types.js";
import {
  keyScopeViolations,
  metadataViolations,
  nameViolation,
  pageSize,
  parseAllowedDomains,
  quote,
  revokeReasonViolation,
  workspaceViolation,
} from "../domain/validation.js";
import { decideAdmin, isRoot, ROOT_WORKSPACE, type AdminAction, type AdminIdentity, type PolicyTarget } from "../domain/admin-policy.js";
import { ADMIN_ALL } from "../domain/scopes.js";
import { ConflictError, invalid, NotFoundError, PermissionError, PreconditionError, throwIfViolations } from "../domain/errors.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { KeyPatch, KeyStore } from "../store/key-store.js";
import { updatePatch } from "./update-patch.js";

/** Who is acting: an admin key (or the bootstrap command), as the policy sees it. */
export interface Principal extends AdminIdentity {
  keyId: string;
}

/** The bootstrap command acts as root: it makes the first admin keys. */
export const BOOTSTRAP_PRINCIPAL: Principal = { keyId: "bootstrap", workspace: ROOT_WORKSPACE, scopes: [ADMIN_ALL] };

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

const UPDATABLE_FIELD_KEYS: ReadonlyArray<[UpdatableField, keyof KeyRecord]> = [
  ["name", "name"],
  ["scopes", "scopes"],
  ["allowed_domains", "allowedDomains"],
  ["expires_at", "expiresAt"],
  ["metadata", "metadata"],
];

/** With the backoff below, about 2.5 s of retrying before ABORTED. */
const CAS_ATTEMPTS = 9;

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

/**
 * Update and rotate act only on a key in service: not revoked, and not rotated
 * out. Any retires_at, past or future, means the key is being or has been
 * rotated out, whether or not its successor is on record (a key rotated by 0.1
 * may have none): changing or rotating it again could set a new grace end and
 * bring a retired, possibly leaked, secret back.
 */
function refuseUnlessInService(current: KeyRecord, verb: "changed" | "rotated"): void {
  const id = current.id;
  if (current.revokedAt !== null) throw new PreconditionError(`key ${id} is revoked and cannot be ${verb}; create a new key instead`);
  if (current.successorId !== null) throw new PreconditionError(`key ${id} was rotated to ${current.successorId} and cannot be ${verb}; use its successor instead`);
  if (current.retiresAt !== null) throw new PreconditionError(`key ${id} was rotated out (retires_at is set, no successor on record) and cannot be ${verb}; create a new key instead`);
}

/** The admin operations. Validation errors name the request field they concern. */
export class KeyManager {
  constructor(private readonly deps: KeyManagerDeps) {}

  async create(principal: Principal, settings: KeySettings): Promise<{ key: RawKey; record: KeyRecord }> {
    if (settings.workspace === "" && isRoot(principal)) {
      throw invalid("workspace", "is required for a root admin: name the workspace the key belongs to (* makes another root admin key)");
    }
    const workspace = settings.workspace || principal.workspace;
    const domains = parseAllowedDomains(settings.allowedDomains, "allowed_domains");
    const now = this.deps.now();
    throwIfViolations([
      nameViolation(settings.name, "name"),
      workspace === ROOT_WORKSPACE ? null : workspaceViolation(workspace, "workspace"),
      ...keyScopeViolations(settings.scopes, this.deps.catalog, "scopes"),
      ...domains.violations,
      settings.expiresAt !== null && settings.expiresAt <= now ? { field: "expires_at", problem: "must be in the future" } : null,
      ...metadataViolations(settings.metadata, "metadata"),
    ]);
    this.enforce(principal, "create", null, { workspace, scopes: settings.scopes }, "");
    const environment = settings.environment ?? "live";
    const key = generateKey(this.deps.prefix, environment);
    const record: KeyRecord = {
      id: newKeyId(),
      keyDigest: digestOfHash(hashKey(key, this.deps.pepper)),
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
      retiresAt: null,
      successorId: null,
      revision: 0,
    };
    await this.deps.store.insertKey(record);
    // A negative cache entry for this digest could only come from a guess, but drop it anyway.
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
    const record = await this.find(principal, id);
    this.enforce(principal, "read", record, null, id);
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
    const { before, after } = await this.compareAndSet(principal, id, (current, now) => {
      const patch = updatePatch(values, paths, now, this.deps.catalog);
      this.enforce(principal, "update", current, { workspace: current.workspace, scopes: patch.scopes ?? current.scopes }, id);
      refuseUnlessInService(current, "changed");
      return patch;
    });
    const changes = (UPDATABLE_FIELD_KEYS.filter((f) => paths.includes(f[0])) as [UpdatableField, keyof KeyRecord][]).map(([, f]) => ({
      field: f,
      before: json(before[f]),
      after: json(after[f]),
    }));
    await this.audit(principal, "update", after, changes);
    return after;
  }

  async revoke(principal: Principal, id: string, reason: string): Promise<KeyRecord> {
    throwIfViolations([revokeReasonViolation(reason, "reason")]);
    const result = await this.compareAndSet(principal, id, (current, now) => {
      // Authority first: an admin without it must not learn, from an answer, that the key is revoked.
      this.enforce(principal, "revoke", current, current, id);
      // Revoking twice is answered the same and recorded once.
      if (current.revokedAt !== null) return null;
      return { revokedAt: now, revokeReason: reason || "revoked", updatedAt: now };
    });
    if (result.changed) {
      await this.audit(principal, "revoke", result.after, [
        { field: "revokedAt", before: json(result.before.revokedAt), after: json(result.after.revokedAt) },
        { field: "revokeReason", before: json(result.before.revokeReason), after: json(result.after.revokeReason) },
      ]);
    }
    return result.after;
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
  async rotate(principal: Principal, id: string, graceMs: number | null): Promise<{ key: RawKey; record: KeyRecord; previous: KeyRecord }> {
    const grace = graceMs ?? DEFAULT_GRACE_MS;
    if (grace < 0 || grace > MAX_GRACE_MS) throw invalid("grace_period", `must be from 0s to ${MAX_GRACE_MS / 1000}s (30 days)`);
    // What the decision of the last round made: the successor is judged and built from that round's read.
    const made: { key?: RawKey; record?: KeyRecord } = {};
    const claim = await this.compareAndSet(
      principal,
      id,
      (current, now) => {
        this.enforce(principal, "rotate", current, current, id);
        refuseUnlessInService(current, "rotated");
        if (keyStatus(current, now) === "expired") throw new PreconditionError(`key ${id} has expired; create a new key instead`);
        const key = generateKey(this.deps.prefix, current.environment);
        const record: KeyRecord = {
          ...current,
          id: newKeyId(),
          keyDigest: digestOfHash(hashKey(key, this.deps.pepper)),
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
        Object.assign(made, { key, record });
        const successorId = record.id;
        // A grace of 0 revokes at once, which (unlike a grace end) no replica's clock can delay.
        return grace === 0
          ? { revokedAt: now, revokeReason: `rotated to ${successorId}`, successorId, updatedAt: now }
          : { retiresAt: new Date(now.getTime() + grace), revokeReason: `rotated to ${successorId}`, successorId, updatedAt: now };
      },
      {
        beforeWrite: async () => this.deps.store.insertKey(made.record!),
        // The old key moved on without naming this successor: nobody will ever hold its secret.
        afterLost: async () => void (await this.deps.store.discardKey(made.record!.id).catch(() => false)),
      },
    );
    const previous = claim.after;
    const successor = made.record!;
    this.deps.onKeyChanged(successor);
    await this.audit(principal, "rotate", previous, [
      { field: "successorId", before: "null", after: json(successor.id) },
      { field: previous.revokedAt ? "revokedAt" : "retiresAt", before: "null", after: json(previous.revokedAt ?? previous.retiresAt) },
    ]);
    return { key: made.key!, record: successor, previous };
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

  /** A root admin may list every workspace (empty) or any one; others only their own. */
  private listWorkspace(principal: Principal, requested: string): string | null {
    const workspace = requested === "" ? (isRoot(principal) ? null : principal.workspace) : requested;
    if (workspace !== null && workspace !== ROOT_WORKSPACE) throwIfViolations([workspaceViolation(workspace, "workspace")]);
    this.enforce(principal, "list", { workspace, scopes: [] }, null, "");
    return workspace;
  }

  /** Reads a key; one outside the admin's reach answers exactly like a missing one. */
  private async find(principal: Principal, id: string): Promise<KeyRecord> {
    if (!isKeyId(id)) throw invalid("id", `${quote(id)} is not a key id (key_ followed by 24 hex digits)`);
    const record = await this.deps.store.findKeyById(id);
    if (record === null) throw new NotFoundError(`no key with id ${id}`);
    this.enforce(principal, "read", { workspace: record.workspace, scopes: [] }, null, id, "reach");
    return record;
  }

  /** Applies the authority model; `reach` checks only whether the admin reaches the key (any admin scope). */
  private enforce(principal: Principal, action: AdminAction, before: PolicyTarget | null, after: PolicyTarget | null, id: string, only?: "reach"): void {
    const verdict = decideAdmin(only === "reach" ? { workspace: principal.workspace, scopes: ["keyward:read"] } : principal, action, before, after, this.deps.catalog);
    if (verdict.allowed) return;
    // Existence does not leak: out of reach reads exactly like missing.
    if (verdict.outcome === "not_found") throw new NotFoundError(`no key with id ${id}`);
    throw new PermissionError(verdict.message);
  }

  /**
   * Read, decide, write only if nothing changed in between (the revision), and
   * decide again if something did: checks never act on a record that is no
   * longer there. `change` returns the patch, or null for "nothing to do";
   * `beforeWrite` runs once a round's patch is decided, `afterLost` when that
   * round's write found the key changed (so it did not land).
   */
  private async compareAndSet(
    principal: Principal,
    id: string,
    change: (current: KeyRecord, now: Date) => KeyPatch | null,
    hooks: { beforeWrite?: () => Promise<void>; afterLost?: () => Promise<void> } = {},
  ): Promise<{ before: KeyRecord; after: KeyRecord; changed: boolean }> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      // Another writer won the last round; a read right after its write can still return the
      // old document on some servers (FerretDB), so wait a little longer each time.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** attempt, 640)));
      const current = await this.find(principal, id);
      const patch = change(current, this.deps.now());
      if (patch === null) return { before: current, after: current, changed: false };
      await hooks.beforeWrite?.();
      const written = await this.deps.store.updateKey(current.id, current.revision, patch);
      if (written !== null) {
        this.deps.onKeyChanged(written);
        return { before: current, after: written, changed: true };
      }
      await hooks.afterLost?.();
    }
    throw new ConflictError(`key ${id} kept changing while this call tried to change it; retry`);
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
