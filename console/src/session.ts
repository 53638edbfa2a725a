import { Reason } from "../../gen/keyward/v1/authorize_pb.js";
import type { Authorize } from "./api.js";

const STORAGE_KEY = "keyward.adminKey";

/** The admin key lives in sessionStorage only: gone when the tab closes, never a cookie, URL or localStorage. */
export const storedAdminKey = (): string | null => sessionStorage.getItem(STORAGE_KEY);
export const storeAdminKey = (key: string): void => sessionStorage.setItem(STORAGE_KEY, key);
export const forgetAdminKey = (): void => sessionStorage.removeItem(STORAGE_KEY);

export interface Identity {
  keyId: string;
  workspace: string;
  scopes: string[];
  isRoot: boolean;
  canRead: boolean;
  canWrite: boolean;
}

const REASON_TEXT: Record<string, string> = {
  KEY_MISSING: "type an admin key",
  KEY_MALFORMED: "that is not a keyward key (check for a missing or extra character)",
  KEY_NOT_FOUND: "no such key in this keyward",
  KEY_REVOKED: "that key was revoked",
  KEY_EXPIRED: "that key has expired",
};

/**
 * Who the admin key is, from Authorize (no scopes required): its workspace and
 * scopes. The console only shapes the page with this; every call is still
 * decided by keyward on the key itself.
 */
export async function identify(
  authorize: Authorize,
  adminKey: string,
): Promise<Identity | { refused: string }> {
  const res = await authorize.authorize({
    credential: { case: "apiKey", value: adminKey },
    requiredScopes: [],
  });
  if (!res.allowed) {
    const reason = Reason[res.reason] ?? "";
    return { refused: REASON_TEXT[reason] ?? res.message };
  }
  const has = (s: string) =>
    res.grantedScopes.includes(s) || res.grantedScopes.includes("keyward:all");
  if (!has("keyward:read") && !has("keyward:write")) {
    return {
      refused:
        "that key holds no admin scope (keyward:read, keyward:write or keyward:all); product scopes, * included, grant no admin authority",
    };
  }
  return {
    keyId: res.keyId,
    workspace: res.workspace,
    scopes: res.grantedScopes,
    isRoot: res.workspace === "*",
    canRead: has("keyward:read"),
    canWrite: has("keyward:write"),
  };
}
