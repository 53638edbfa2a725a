import { hash } from "node:crypto";
import { ROOT_WORKSPACE } from "../domain/admin-policy.js";
import { digestOfHash, hashKey, parseKey } from "../domain/keys.js";
import type { LeakedToken, LeakFeedback } from "../domain/leak-report.js";
import { leakRevokeReason } from "../domain/leak-report.js";
import { ADMIN_ALL } from "../domain/scopes.js";
import { type KeyRecord, keyStatus } from "../domain/types.js";
import type { KeyStore } from "../store/key-store.js";
import type { Principal } from "./key-manager.js";

/**
 * A leak report acts as root: a leaked key is revoked whatever it holds, an
 * admin key included. The audit trail names the actor `leak-report`.
 */
export const LEAK_REPORT_PRINCIPAL: Principal = {
  keyId: "leak-report",
  workspace: ROOT_WORKSPACE,
  scopes: [ADMIN_ALL],
};

export interface ReportLeaksDeps {
  store: Pick<KeyStore, "findKeyByDigest">;
  revoke: (principal: Principal, id: string, reason: string) => Promise<KeyRecord>;
  pepper: string;
  prefix: string;
  now: () => Date;
}

/**
 * Judges each token (format and checksum, then the digest lookup) and revokes
 * live keys at once. true_positive: a key of this deployment, live or not;
 * a token that is not one changes nothing.
 */
export async function reportLeaks(
  tokens: readonly LeakedToken[],
  deps: ReportLeaksDeps,
): Promise<LeakFeedback[]> {
  const feedback: LeakFeedback[] = [];
  for (const leaked of tokens) {
    const record = await findLeakedKey(leaked.token, deps);
    if (record !== null && keyStatus(record, deps.now()) !== "revoked") {
      // An expired key is revoked too: someone may extend its expiry later.
      await deps.revoke(LEAK_REPORT_PRINCIPAL, record.id, leakRevokeReason(leaked));
    }
    feedback.push({
      token_hash: hash("sha256", leaked.token, "hex"),
      token_type: leaked.type,
      label: record ? "true_positive" : "false_positive",
    });
  }
  return feedback;
}

async function findLeakedKey(token: string, deps: ReportLeaksDeps): Promise<KeyRecord | null> {
  const parsed = parseKey(token, deps.prefix);
  if (!parsed.ok) return null;
  return deps.store.findKeyByDigest(digestOfHash(hashKey(parsed.key, deps.pepper)));
}
