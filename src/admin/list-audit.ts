import type { AuditEvent } from "../domain/types.js";
import type { AdminContext } from "./admin-context.js";
import { listWorkspace, onePage, pageRequest } from "./listing.js";
import type { Principal } from "./principal.js";

export interface ListAuditRequest {
  workspace: string;
  pageSize: number;
  pageToken: string;
}

export async function listAudit(
  ctx: AdminContext,
  principal: Principal,
  q: ListAuditRequest,
): Promise<{ events: AuditEvent[]; nextPageToken: string }> {
  const workspace = listWorkspace(ctx, principal, q.workspace) ?? principal.workspace;
  const query = { kind: "audit", workspace };
  const { size, after } = pageRequest(q, query);
  const events = await ctx.store.listAudit({ workspace, limit: size + 1, after });
  const { page, nextPageToken } = onePage(events, size, query, (e) => ({
    createdAt: e.occurredAt,
    id: e.id,
  }));
  return { events: page, nextPageToken };
}
