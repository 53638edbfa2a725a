import type { KeyRecord, KeyStatus } from "../domain/types.js";
import type { AdminContext } from "./admin-context.js";
import { listWorkspace, onePage, pageRequest } from "./listing.js";
import type { Principal } from "./principal.js";

export interface ListKeysRequest {
  workspace: string;
  status: KeyStatus | null;
  pageSize: number;
  pageToken: string;
}

export async function listKeys(
  ctx: AdminContext,
  principal: Principal,
  q: ListKeysRequest,
): Promise<{ keys: KeyRecord[]; nextPageToken: string }> {
  const workspace = listWorkspace(ctx, principal, q.workspace);
  const query = { kind: "keys", workspace, status: q.status };
  const { size, after } = pageRequest(q, query);
  const keys = await ctx.store.listKeys({
    workspace,
    status: q.status,
    now: ctx.now(),
    limit: size + 1,
    after,
  });
  const { page, nextPageToken } = onePage(keys, size, query, (k) => ({
    createdAt: k.createdAt,
    id: k.id,
  }));
  return { keys: page, nextPageToken };
}
