import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { AuthorizeResponseSchema, AuthorizeService, Reason, type AuthorizeRequest, type AuthorizeResponse } from "../../../gen/keyward/v1/authorize_pb.js";
import type { Authorizer } from "../../authorize/authorizer.js";
import { TtlLru } from "../../authorize/ttl-lru.js";
import type { Decision, Reason as DomainReason } from "../../domain/decision.js";
import type { Credential } from "../../domain/validation.js";
import { optionalTimestamp } from "./messages.js";

const REASON: Record<DomainReason, Reason> = {
  OK: Reason.OK,
  KEY_MISSING: Reason.KEY_MISSING,
  KEY_MALFORMED: Reason.KEY_MALFORMED,
  KEY_NOT_FOUND: Reason.KEY_NOT_FOUND,
  KEY_REVOKED: Reason.KEY_REVOKED,
  KEY_EXPIRED: Reason.KEY_EXPIRED,
  WORKSPACE_MISMATCH: Reason.WORKSPACE_MISMATCH,
  DOMAIN_NOT_ALLOWED: Reason.DOMAIN_NOT_ALLOWED,
  SCOPE_MISSING: Reason.SCOPE_MISSING,
};

export function credentialOf(req: AuthorizeRequest): Credential {
  switch (req.credential.case) {
    case "apiKey":
      return { kind: "api_key", value: req.credential.value };
    case "keyHash":
      return { kind: "key_hash", value: req.credential.value };
    default:
      return { kind: "missing" };
  }
}

/** Distinct answers kept: enough for every hot key's usual outcomes, a few MiB at most. */
export const ANSWERS_KEPT = 4096;

/**
 * The same decision on the same version of a key gets the same answer, so
 * answers are made once and frozen: the gRPC port then encodes each only once.
 * A key's digest and revision name its version; the reason and the message (which
 * names the missing scopes and the domain) name the decision.
 */
export function answerMemo(kept = ANSWERS_KEPT): (d: Decision) => AuthorizeResponse {
  const answers = new TtlLru<string, AuthorizeResponse>({ maxEntries: kept, ttlMs: Infinity, now: () => 0 });
  return (d) => {
    const id = d.key ? `${d.key.keyDigest}/${d.key.revision}/${d.reason}/${d.message}` : `/${d.reason}/${d.message}`;
    let answer = answers.get(id, 0);
    if (answer === undefined) answers.set(id, (answer = Object.freeze(responseOf(d))));
    return answer;
  };
}

function responseOf(d: Decision): AuthorizeResponse {
  return create(AuthorizeResponseSchema, {
    allowed: d.allowed,
    reason: REASON[d.reason],
    httpStatus: d.httpStatus,
    message: d.message,
    missingScopes: [...d.missingScopes],
    grantedScopes: [...(d.key?.scopes ?? [])],
    keyId: d.key?.id ?? "",
    workspace: d.key?.workspace ?? "",
    expiresAt: optionalTimestamp(d.key?.expiresAt ?? null),
  });
}

/** Sees every Authorize outcome: a decision's reason, or the error that replaced it. */
export type AuthorizeObserver = (outcome: { reason: DomainReason } | { error: unknown }, seconds: number) => void;

export function authorizeService(authorizer: Authorizer, observe: AuthorizeObserver = () => {}): ServiceImpl<typeof AuthorizeService> {
  const answer = answerMemo();
  return {
    async authorize(req) {
      const start = performance.now();
      let d;
      try {
        d = await authorizer.authorize({
          credential: credentialOf(req),
          requiredScopes: req.requiredScopes,
          domain: req.domain,
          workspace: req.workspace,
        });
      } catch (error) {
        observe({ error }, (performance.now() - start) / 1000);
        throw error;
      }
      observe({ reason: d.reason }, (performance.now() - start) / 1000);
      return answer(d);
    },
  };
}
