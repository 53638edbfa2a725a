import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ApiKey,
  ApiKeySchema,
  AuditAction,
  type AuditEvent as AuditEventMessage,
  AuditEventSchema,
  Environment,
  KeyStatus,
} from "../../../gen/keyward/v1/key_admin_pb.js";
import {
  FindingKind,
  type Finding as FindingMessage,
  FindingSchema,
  type GetKeyUsageResponse,
  GetKeyUsageResponseSchema,
  UsageGranularity,
} from "../../../gen/keyward/v1/usage_pb.js";
import { invalid } from "../../domain/errors.js";
import type {
  Finding as DomainFinding,
  FindingKind as DomainFindingKind,
} from "../../domain/findings.js";
import {
  type AuditEvent,
  type Environment as Env,
  type KeyRecord,
  keyStatus,
  type KeyStatus as Status,
} from "../../domain/types.js";
import type {
  UsageGranularity as ReportGranularity,
  UsageReport,
} from "../../domain/usage-report.js";

const STATUS: Record<Status, KeyStatus> = {
  active: KeyStatus.ACTIVE,
  revoked: KeyStatus.REVOKED,
  expired: KeyStatus.EXPIRED,
};

export function statusFromMessage(status: KeyStatus): Status | null {
  if (status === KeyStatus.ACTIVE) return "active";
  if (status === KeyStatus.REVOKED) return "revoked";
  if (status === KeyStatus.EXPIRED) return "expired";
  return null;
}

export function environmentFromMessage(env: Environment): Env | null {
  if (env === Environment.LIVE) return "live";
  if (env === Environment.TEST) return "test";
  return null;
}

export function optionalTimestamp(date: Date | null): Timestamp | undefined {
  return date === null ? undefined : timestampFromDate(date);
}

/** google.protobuf.Timestamp's own range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

/** A timestamp from a request, refused at the boundary when outside the range every MongoDB and client can hold. */
export function dateOrNull(ts: Timestamp | undefined, field: string): Date | null {
  if (ts === undefined) return null;
  if (
    ts.seconds < MIN_SECONDS ||
    ts.seconds > MAX_SECONDS ||
    ts.nanos < 0 ||
    ts.nanos > 999_999_999
  ) {
    throw invalid(field, "must be a timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z");
  }
  return timestampDate(ts);
}

/** The record as clients see it: never the hash. */
export function apiKeyMessage(r: KeyRecord, now: Date): ApiKey {
  return create(ApiKeySchema, {
    id: r.id,
    name: r.name,
    workspace: r.workspace,
    scopes: r.scopes,
    allowedDomains: r.allowedDomains,
    status: STATUS[keyStatus(r, now)],
    environment: r.environment === "test" ? Environment.TEST : Environment.LIVE,
    keyPreview: r.keyPreview,
    createdAt: timestampFromDate(r.createdAt),
    updatedAt: timestampFromDate(r.updatedAt),
    lastUsedAt: optionalTimestamp(r.lastUsedAt),
    expiresAt: optionalTimestamp(r.expiresAt),
    metadata: r.metadata,
    revokedAt: optionalTimestamp(r.revokedAt ?? r.retiresAt),
    revokeReason: r.revokeReason,
    successorId: r.successorId ?? "",
  });
}

const ACTION: Record<AuditEvent["action"], AuditAction> = {
  create: AuditAction.CREATE,
  update: AuditAction.UPDATE,
  revoke: AuditAction.REVOKE,
  rotate: AuditAction.ROTATE,
};

export function auditEventMessage(e: AuditEvent): AuditEventMessage {
  return create(AuditEventSchema, {
    id: e.id,
    workspace: e.workspace,
    action: ACTION[e.action],
    actorKeyId: e.actorKeyId,
    targetKeyId: e.targetKeyId,
    occurredAt: timestampFromDate(e.occurredAt),
    changes: e.changes,
  });
}

const counts = (d: Record<string, number>): Record<string, bigint> =>
  Object.fromEntries(Object.entries(d).map(([name, n]) => [name, BigInt(n)]));

export function granularityFromMessage(g: UsageGranularity): ReportGranularity | "unspecified" {
  if (g === UsageGranularity.UNSPECIFIED) return "unspecified";
  if (g === UsageGranularity.HOUR) return "hour";
  if (g === UsageGranularity.DAY) return "day";
  throw invalid(
    "granularity",
    `${g} is not a UsageGranularity (USAGE_GRANULARITY_HOUR or USAGE_GRANULARITY_DAY)`,
  );
}

/** Counts are int64 on the wire; reason and source names are map keys as in X-Keyward-Reason. */
export function keyUsageMessage(keyId: string, r: UsageReport): GetKeyUsageResponse {
  return create(GetKeyUsageResponseSchema, {
    keyId,
    buckets: r.buckets.map((b) => ({
      startTime: timestampFromDate(b.start),
      allowed: BigInt(b.allowed),
      denied: BigInt(b.denied),
      deniedByReason: counts(b.deniedByReason),
    })),
    allowed: BigInt(r.allowed),
    denied: BigInt(r.denied),
    deniedByReason: counts(r.deniedByReason),
    bySource: counts(r.bySource),
    scopes: r.scopes.map((s) => ({
      scope: s.scope,
      allowed: BigInt(s.allowed),
      denied: BigInt(s.denied),
      lastUsedAt: optionalTimestamp(s.lastUsedAt),
      grantedBy: s.grantedBy,
    })),
    domains: r.domains.map((d) => ({
      domain: d.domain,
      calls: BigInt(d.calls),
      lastSeenAt: timestampFromDate(d.lastSeenAt),
    })),
    unusedScopes: r.unusedScopes,
    suggestedScopes: r.suggestedScopes,
  });
}

/** FindingKind numbers to the domain's names; UNSPECIFIED or an unknown number names the field. */
export function findingKindsFromMessage(kinds: readonly FindingKind[]): DomainFindingKind[] {
  return kinds.map((k, i) => {
    const name = FindingKind[k] as DomainFindingKind | "UNSPECIFIED" | undefined;
    if (name === undefined || name === "UNSPECIFIED")
      throw invalid(
        `kinds[${i}]`,
        `${k} is not a FindingKind (FINDING_KIND_NEVER_USED … FINDING_KIND_UNEXPECTED_DENIALS)`,
      );
    return name;
  });
}

export function findingMessage(f: DomainFinding): FindingMessage {
  return create(FindingSchema, {
    keyId: f.keyId,
    keyName: f.keyName,
    workspace: f.workspace,
    kind: FindingKind[f.kind],
    detail: f.detail,
    suggestedScopes: f.suggestedScopes,
    since: timestampFromDate(f.since),
  });
}
