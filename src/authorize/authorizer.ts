import { type Decision, decide } from "../domain/decision.js";
import { InvalidRequestError } from "../domain/errors.js";
import { digestOfHash, isKeyHash, parseKey } from "../domain/keys.js";
import { compileGrants, type Grants, type ScopeCatalog } from "../domain/scopes.js";
import type { KeyDigest, KeyHash, KeyRecord } from "../domain/types.js";
import type { UsageSource } from "../domain/usage.js";
import { type AuthorizeRequestFields, parseAuthorizeRequest } from "../domain/validation.js";
import { KeyHasher } from "./key-hasher.js";

/** Finds a key by digest; the store, or the cache in front of it (judging freshness at `nowMs`). */
export type KeyLookup = (digest: KeyDigest, nowMs: number) => Promise<KeyRecord | null>;

export interface AuthorizerDeps {
  lookup: KeyLookup;
  pepper: string;
  prefix: string;
  catalog: ScopeCatalog;
  now: () => Date;
  /**
   * Every decision made on a key (decision.key set), with what was asked and
   * where from: usage and last_used_at. Called synchronously; must not wait.
   */
  onDecision: (
    decision: Decision,
    at: Date,
    requiredScopes: readonly string[],
    domain: string | null,
    source: UsageSource,
  ) => void;
}

/** The pipeline: validate → identify credential → look up → decide. */
export class Authorizer {
  /** Each record object the cache hands out is compiled once; a cache refill brings a new object. */
  private readonly grants = new WeakMap<KeyRecord, Grants>();
  private readonly hasher: KeyHasher;

  constructor(private readonly deps: AuthorizerDeps) {
    this.hasher = new KeyHasher(deps.pepper);
  }

  /** `source`: the entry point, for usage (admin credentials count under the port they came in on). */
  async authorize(req: AuthorizeRequestFields, source: UsageSource): Promise<Decision> {
    const parsed = parseAuthorizeRequest(req);
    if (!parsed.ok) throw new InvalidRequestError(parsed.violations);
    const { requiredScopes, domain, workspace } = parsed.value;
    const { catalog } = this.deps;
    // The one clock read of a call: the cache's freshness and the decision use the same instant.
    const at = this.deps.now();

    const hash = this.hashOf(req);
    if (hash === "missing")
      return decide(
        { credential: "missing", requiredScopes, domain, workspace },
        null,
        at,
        catalog,
      );
    if (hash === "malformed")
      return decide(
        { credential: "malformed", requiredScopes, domain, workspace },
        null,
        at,
        catalog,
      );

    const input = { credential: "present" as const, requiredScopes, domain, workspace };
    const record = await this.deps.lookup(digestOfHash(hash), at.getTime());
    const decision = decide(input, record, at, catalog, record ? this.grantsOf(record) : undefined);
    if (decision.key !== null) this.deps.onDecision(decision, at, requiredScopes, domain, source);
    return decision;
  }

  private grantsOf(record: KeyRecord): Grants {
    let g = this.grants.get(record);
    if (!g) this.grants.set(record, (g = compileGrants(record.scopes, this.deps.catalog)));
    return g;
  }

  private hashOf(req: AuthorizeRequestFields): KeyHash | "missing" | "malformed" {
    const c = req.credential;
    if (c.kind === "missing" || c.value === "") return "missing";
    if (c.kind === "key_hash") return isKeyHash(c.value) ? c.value : "malformed";
    const key = parseKey(c.value, this.deps.prefix);
    return key.ok ? this.hasher.hash(key.key) : "malformed";
  }
}
