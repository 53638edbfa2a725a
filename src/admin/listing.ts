import { isRoot, ROOT_WORKSPACE } from "../domain/admin-policy.js";
import { throwIfViolations } from "../domain/errors.js";
import { pageSize, workspaceViolation } from "../domain/validation.js";
import type { Cursor } from "../store/key-store.js";
import { type AdminContext, enforce } from "./admin-context.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import type { Principal } from "./principal.js";

/** A root admin may list every workspace (empty) or any one; others only their own. */
export function listWorkspace(
  ctx: AdminContext,
  principal: Principal,
  requested: string,
): string | null {
  const workspace = requested === "" ? (isRoot(principal) ? null : principal.workspace) : requested;
  if (workspace !== null && workspace !== ROOT_WORKSPACE)
    throwIfViolations([workspaceViolation(workspace, "workspace")]);
  enforce(ctx, principal, "list", { before: { workspace, scopes: [] }, after: null }, "");
  return workspace;
}

/** A list request's page: its size, and where it continues (its token is bound to `query`). */
export function pageRequest(
  q: { pageSize: number; pageToken: string },
  query: unknown,
): { size: number; after: Cursor | null } {
  const size = pageSize(q.pageSize, "page_size");
  throwIfViolations([size.violation]);
  const after = q.pageToken === "" ? null : decodePageToken(q.pageToken, query, "page_token");
  return { size: size.size, after };
}

/** One page from `size + 1` rows read: the extra row says whether there is a next page. */
export function onePage<T>(
  rows: T[],
  size: number,
  query: unknown,
  cursorOf: (row: T) => Cursor,
): { page: T[]; nextPageToken: string } {
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  const nextPageToken = rows.length > size && last ? encodePageToken(cursorOf(last), query) : "";
  return { page, nextPageToken };
}
