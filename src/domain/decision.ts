import { domainAllowed } from "./domains.js";
import { compileGrants, type Grants, type ScopeCatalog } from "./scopes.js";
import { type KeyRecord, keyStatus } from "./types.js";

/** In the order they are checked: the first that applies is the answer. */
export type Reason =
  | "KEY_MISSING"
  | "KEY_MALFORMED"
  | "KEY_NOT_FOUND"
  | "KEY_REVOKED"
  | "KEY_EXPIRED"
  | "WORKSPACE_MISMATCH"
  | "DOMAIN_NOT_ALLOWED"
  | "SCOPE_MISSING"
  | "OK";

export type CredentialState = "missing" | "malformed" | "present";

export interface AuthorizeInput {
  credential: CredentialState;
  requiredScopes: readonly string[];
  /** Normalised host name, or null when the request names none. */
  domain: string | null;
  /** null when the request names none. */
  workspace: string | null;
}

export interface Decision {
  allowed: boolean;
  reason: Reason;
  httpStatus: 200 | 401 | 403;
  message: string;
  missingScopes: string[];
  /** The record the decision was made on; null before a key was found. */
  key: KeyRecord | null;
}

const INVALID = "Invalid API key";

function deny(
  reason: Reason,
  httpStatus: 401 | 403,
  message: string,
  key: KeyRecord | null,
  missing: string[] = [],
): Decision {
  return { allowed: false, reason, httpStatus, message, missingScopes: missing, key };
}

/**
 * `record` is the stored key for a present credential (null when none matched);
 * `grants` its scopes compiled (the hot path passes ones compiled once per cache fill).
 */
export function decide(
  input: AuthorizeInput,
  record: KeyRecord | null,
  now: Date,
  catalog: ScopeCatalog,
  grants?: Grants,
): Decision {
  if (input.credential === "missing") return deny("KEY_MISSING", 401, "API key is missing", null);
  if (input.credential === "malformed") return deny("KEY_MALFORMED", 401, INVALID, null);
  if (record === null) return deny("KEY_NOT_FOUND", 401, INVALID, null);
  const status = keyStatus(record, now);
  if (status === "revoked") return deny("KEY_REVOKED", 401, "API key has been revoked", record);
  if (status === "expired") return deny("KEY_EXPIRED", 401, "API key has expired", record);
  if (input.workspace !== null && input.workspace !== record.workspace) {
    return deny(
      "WORKSPACE_MISMATCH",
      403,
      "API key does not have permission to access this workspace",
      record,
    );
  }
  if (record.allowedDomains.length > 0) {
    if (input.domain === null)
      return deny(
        "DOMAIN_NOT_ALLOWED",
        403,
        "API key is restricted to specific domains and the request names none",
        record,
      );
    if (!domainAllowed(input.domain, record.allowedDomains)) {
      return deny(
        "DOMAIN_NOT_ALLOWED",
        403,
        `API key is not allowed for domain ${input.domain}`,
        record,
      );
    }
  }
  const missing = (grants ?? compileGrants(record.scopes, catalog)).missing(input.requiredScopes);
  if (missing.length > 0)
    return deny(
      "SCOPE_MISSING",
      403,
      `Missing required scopes: ${missing.join(", ")}`,
      record,
      missing,
    );
  return {
    allowed: true,
    reason: "OK",
    httpStatus: 200,
    message: "OK",
    missingScopes: [],
    key: record,
  };
}

/**
 * What an answer may tell about the key it was made on. A 401 goes to whoever
 * presents a credential that no longer works (a leaked key after its revoke,
 * an old key after its expiry): it says the reason and nothing about the key,
 * neither its id, workspace, scopes nor expiry. The decision keeps the record
 * for usage and metrics; only answers pass through here.
 */
export function disclosedKey(d: Decision): KeyRecord | null {
  return d.httpStatus === 401 ? null : d.key;
}
