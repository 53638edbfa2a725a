import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AuthorizeRequest,
  type AuthorizeResponse,
  AuthorizeResponseSchema,
  type AuthorizeService,
  Reason,
} from "../../../gen/keyward/v1/authorize_pb.js";
import type { ObservedAuthorize } from "../../authorize/observed-authorize.js";
import { TtlLru } from "../../authorize/ttl-lru.js";
import { type Decision, type Reason as DomainReason, disclosedKey } from "../../domain/decision.js";
import type { KeyRecord } from "../../domain/types.js";
import type { Credential } from "../../domain/validation.js";
import { type StableAnswer, stableAnswer } from "../stable-answer.js";
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

/** Key versions whose answers are kept, and answers kept per version: a few MiB at most. */
export const ANSWERS_KEPT = { keys: 4096, perKey: 16 };

/**
 * The same decision on the same version of a key gets the same answer, so
 * answers are made once and frozen: the gRPC port then encodes each only once.
 * A cached record object is one version of a key (a change or a refill brings a
 * new object); the reason and the message (which names the missing scopes and
 * the domain) tell its decisions apart.
 */
export function answerMemo(kept = ANSWERS_KEPT): (d: Decision) => StableAnswer<AuthorizeResponse> {
  // Per key version: reason → message → answer. Two lookups by strings V8 has already hashed
  // (reasons and most messages are constants) instead of joining them into a new string per call.
  type Answers = {
    count: number;
    byReason: Map<DomainReason, Map<string, StableAnswer<AuthorizeResponse>>>;
  };
  const byKey = new TtlLru<KeyRecord, Answers>({
    maxEntries: kept.keys,
    ttlMs: Infinity,
    now: () => 0,
  });
  const keyless: Answers = { count: 0, byReason: new Map() };
  return (d) => {
    let answers = d.key ? byKey.get(d.key, 0) : keyless;
    if (answers === undefined) byKey.set(d.key!, (answers = { count: 0, byReason: new Map() }));
    let byMessage = answers.byReason.get(d.reason);
    let answer = byMessage?.get(d.message);
    if (answer === undefined) {
      // Messages can carry a caller's domain: the variety per key is bounded, not trusted.
      if (answers.count >= kept.perKey) {
        answers.byReason.clear();
        answers.count = 0;
        byMessage = undefined;
      }
      if (byMessage === undefined) answers.byReason.set(d.reason, (byMessage = new Map()));
      byMessage.set(d.message, (answer = stableAnswer(responseOf(d))));
      answers.count++;
    }
    return answer;
  };
}

function responseOf(d: Decision): AuthorizeResponse {
  const key = disclosedKey(d);
  return create(AuthorizeResponseSchema, {
    allowed: d.allowed,
    reason: REASON[d.reason],
    httpStatus: d.httpStatus,
    message: d.message,
    missingScopes: [...d.missingScopes],
    grantedScopes: [...(key?.scopes ?? [])],
    keyId: key?.id ?? "",
    workspace: key?.workspace ?? "",
    expiresAt: optionalTimestamp(key?.expiresAt ?? null),
  });
}

export function authorizeService(
  authorize: ObservedAuthorize,
): ServiceImpl<typeof AuthorizeService> {
  const answer = answerMemo();
  return {
    authorize(req) {
      const fields = {
        credential: credentialOf(req),
        requiredScopes: req.requiredScopes,
        domain: req.domain,
        workspace: req.workspace,
      };
      return authorize(fields, answer);
    },
  };
}
