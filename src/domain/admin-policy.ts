import { ADMIN_READ, ADMIN_WRITE, isAdminScope, isSatisfied, type ScopeCatalog } from "./scopes.js";

/**
 * Who may manage which keys. Authority comes only from the reserved admin
 * scopes; reach from the admin key's workspace (`*` = root, every workspace);
 * and no admin may hand out, change, rotate or revoke authority it does not
 * hold itself, so no sequence of calls climbs above the caller.
 */
export const ROOT_WORKSPACE = "*";

export type AdminAction = "read" | "list" | "create" | "update" | "revoke" | "rotate";

export interface AdminIdentity {
  workspace: string;
  scopes: readonly string[];
}

/** A key as the policy sees it; for "list", the workspace asked for (null = every workspace). */
export interface PolicyTarget {
  workspace: string | null;
  scopes: readonly string[];
}

export type AdminVerdict =
  | { allowed: true }
  /** not_found: the target is outside the admin's reach, and its existence must not leak. */
  | { allowed: false; outcome: "not_found" | "permission_denied"; message: string };

const ALLOWED: AdminVerdict = { allowed: true };

export function requiredAdminScope(action: AdminAction): typeof ADMIN_READ | typeof ADMIN_WRITE {
  return action === "read" || action === "list" ? ADMIN_READ : ADMIN_WRITE;
}

export function isRoot(admin: AdminIdentity): boolean {
  return admin.workspace === ROOT_WORKSPACE;
}

export function reaches(admin: AdminIdentity, workspace: string | null): boolean {
  return isRoot(admin) || workspace === admin.workspace;
}

/** Admin scopes of `scopes` the admin does not hold (`keyward:all` needs `keyward:all`). */
export function amplifiedScopes(
  admin: AdminIdentity,
  scopes: readonly string[],
  catalog: ScopeCatalog,
): string[] {
  const held = new Set(admin.scopes);
  return [...new Set(scopes.filter(isAdminScope))].filter(
    (scope) => !isSatisfied(scope, held, catalog),
  );
}

function denied(outcome: "not_found" | "permission_denied", message: string): AdminVerdict {
  return { allowed: false, outcome, message };
}

/**
 * The whole authority model as one function. `before` is the key as stored
 * (read, update, revoke, rotate) or the listed workspace (list); `after` is the
 * key as it would be (create, update). Rotation hands out a new secret with the
 * target's settings, so it is judged like creating that key.
 */
export function decideAdmin(
  admin: AdminIdentity,
  action: AdminAction,
  before: PolicyTarget | null,
  after: PolicyTarget | null,
  catalog: ScopeCatalog,
): AdminVerdict {
  const scope = requiredAdminScope(action);
  if (!isSatisfied(scope, new Set(admin.scopes), catalog)) {
    return denied(
      "permission_denied",
      `${action === "read" || action === "list" ? "reading" : "changing"} keys needs ${scope} (or keyward:all); this key holds ${admin.scopes.filter(isAdminScope).join(", ") || "no admin scope"}`,
    );
  }
  if (action === "list") {
    return reaches(admin, before?.workspace ?? null)
      ? ALLOWED
      : denied(
          "permission_denied",
          before?.workspace == null
            ? "only a root admin (workspace *) lists every workspace"
            : `this admin key acts only in workspace ${admin.workspace}`,
        );
  }
  if (before !== null && !reaches(admin, before.workspace))
    return denied("not_found", "no such key");
  if (after !== null && !reaches(admin, after.workspace)) {
    return denied(
      "permission_denied",
      after.workspace === ROOT_WORKSPACE
        ? "only a root admin (workspace *) can create keys in workspace *"
        : `this admin key acts only in workspace ${admin.workspace}`,
    );
  }
  if (action === "read") return ALLOWED;
  const amplified = amplifiedScopes(
    admin,
    [...(before?.scopes ?? []), ...(after?.scopes ?? [])],
    catalog,
  );
  if (amplified.length > 0) {
    const verb =
      action === "create"
        ? "grant"
        : action === "update"
          ? "change a key holding or granting"
          : `${action} a key holding`;
    return denied(
      "permission_denied",
      `an admin cannot ${verb} authority it does not hold itself: ${amplified.join(", ")}`,
    );
  }
  return ALLOWED;
}
