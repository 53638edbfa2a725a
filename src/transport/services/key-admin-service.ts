import { create } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { type KeyAdminService, ScopeSchema } from "../../../gen/keyward/v1/key_admin_pb.js";
import { type GetKeyUsageDeps, getKeyUsage } from "../../admin/get-key-usage.js";
import type { KeyManager, Principal } from "../../admin/key-manager.js";
import { type ListFindingsDeps, listFindings } from "../../admin/list-findings.js";
import { invalid } from "../../domain/errors.js";
import { catalogEntries, type ScopeCatalog } from "../../domain/scopes.js";
import { principalKey } from "../middleware/admin-auth-interceptor.js";
import {
  apiKeyMessage,
  auditEventMessage,
  dateOrNull,
  environmentFromMessage,
  findingKindsFromMessage,
  findingMessage,
  granularityFromMessage,
  keyUsageMessage,
  statusFromMessage,
} from "./messages.js";
import type { WebhookMethods } from "./webhook-service.js";

/** What the usage RPCs read: the store, and the findings' thresholds. */
export type UsageDeps = Omit<GetKeyUsageDeps & ListFindingsDeps, "catalog" | "now">;

function principal(ctx: HandlerContext): Principal {
  const p = ctx.values.get(principalKey);
  // The auth interceptor runs before every KeyAdmin handler; reaching here without one is a wiring bug.
  if (p === null) throw new Error("KeyAdmin handler reached without an authenticated principal");
  return p;
}

// size: one ServiceImpl object, as connect-es writes them: a short handler per RPC (message in,
// use case, message out), read as a table; splitting it would scatter the RPCs of one service.
/** The key and usage RPCs; the webhook RPCs are in webhook-service.ts. */
export function keyAdminService(
  manager: KeyManager,
  catalog: ScopeCatalog,
  now: () => Date,
  usage: UsageDeps,
): Omit<ServiceImpl<typeof KeyAdminService>, WebhookMethods> {
  const scopes = catalogEntries(catalog).map((e) => create(ScopeSchema, e));
  const usageDeps = { ...usage, catalog, now };
  return {
    async createKey(req, ctx) {
      const { key, record } = await manager.create(principal(ctx), {
        name: req.name,
        workspace: req.workspace,
        scopes: req.scopes,
        allowedDomains: req.allowedDomains,
        expiresAt: dateOrNull(req.expiresAt, "expires_at"),
        environment: environmentFromMessage(req.environment),
        metadata: req.metadata,
      });
      return { key, apiKey: apiKeyMessage(record, now()) };
    },

    async getKey(req, ctx) {
      return { apiKey: apiKeyMessage(await manager.get(principal(ctx), req.id), now()) };
    },

    async listKeys(req, ctx) {
      const { keys, nextPageToken } = await manager.list(principal(ctx), {
        workspace: req.workspace,
        status: statusFromMessage(req.status),
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      const at = now();
      return { keys: keys.map((k) => apiKeyMessage(k, at)), nextPageToken };
    },

    async updateKey(req, ctx) {
      if (!req.apiKey) throw invalid("api_key", "is required, with api_key.id naming the key");
      const k = req.apiKey;
      const updated = await manager.update(
        principal(ctx),
        k.id,
        {
          name: k.name,
          scopes: k.scopes,
          allowedDomains: k.allowedDomains,
          expiresAt: dateOrNull(k.expiresAt, "api_key.expires_at"),
          metadata: k.metadata,
        },
        req.updateMask?.paths ?? [],
      );
      return { apiKey: apiKeyMessage(updated, now()) };
    },

    async revokeKey(req, ctx) {
      return {
        apiKey: apiKeyMessage(await manager.revoke(principal(ctx), req.id, req.reason), now()),
      };
    },

    async rotateKey(req, ctx) {
      const grace = req.gracePeriod === undefined ? null : durationMs(req.gracePeriod);
      const { key, record, previous } = await manager.rotate(principal(ctx), req.id, grace);
      const at = now();
      return {
        key,
        apiKey: apiKeyMessage(record, at),
        previousApiKey: apiKeyMessage(previous, at),
      };
    },

    async listScopes() {
      return { scopes };
    },

    async listAuditEvents(req, ctx) {
      const { events, nextPageToken } = await manager.listAudit(principal(ctx), {
        workspace: req.workspace,
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { events: events.map(auditEventMessage), nextPageToken };
    },

    async getKeyUsage(req, ctx) {
      const { keyId, report } = await getKeyUsage(usageDeps, principal(ctx), {
        id: req.id,
        start: dateOrNull(req.startTime, "start_time"),
        end: dateOrNull(req.endTime, "end_time"),
        granularity: granularityFromMessage(req.granularity),
      });
      return keyUsageMessage(keyId, report);
    },

    async listFindings(req, ctx) {
      const { findings, nextPageToken } = await listFindings(usageDeps, principal(ctx), {
        workspace: req.workspace,
        kinds: findingKindsFromMessage(req.kinds),
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return { findings: findings.map(findingMessage), nextPageToken };
    },
  };
}
