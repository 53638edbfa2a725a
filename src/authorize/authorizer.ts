import { decide, type Decision } from "../domain/decision.js";
import { digestOfHash, hashKey, isKeyHash, parseKey } from "../domain/keys.js";
import type { ScopeCatalog } from "../domain/scopes.js";
import type { KeyDigest, KeyHash, KeyRecord } from "../domain/types.js";
import { parseAuthorizeRequest, type AuthorizeRequestFields } from "../domain/validation.js";
import { InvalidRequestError } from "../errors.js";

/** Finds a key by digest; the store, or the cache in front of it. */
export type KeyLookup = (digest: KeyDigest) => Promise<KeyRecord | null>;

export interface AuthorizerDeps {
  lookup: KeyLookup;
  pepper: string;
  prefix: string;
  catalog: ScopeCatalog;
  now: () => Date;
  onAllowed: (key: KeyRecord, at: Date) => void;
}

/** The pipeline: validate → identify credential → look up → decide. */
export class Authorizer {
  constructor(private readonly deps: AuthorizerDeps) {}

  async authorize(req: AuthorizeRequestFields): Promise<Decision> {
    const parsed = parseAuthorizeRequest(req);
    if (!parsed.ok) throw new InvalidRequestError(parsed.violations);
    const input = { ...parsed.value, credential: "present" as const };
    const { catalog, now } = this.deps;

    const hash = this.hashOf(req);
    if (hash === "missing") return decide({ ...input, credential: "missing" }, null, now(), catalog);
    if (hash === "malformed") return decide({ ...input, credential: "malformed" }, null, now(), catalog);

    const record = await this.deps.lookup(digestOfHash(hash));
    const at = now();
    const decision = decide(input, record, at, catalog);
    if (decision.allowed && decision.key) this.deps.onAllowed(decision.key, at);
    return decision;
  }

  private hashOf(req: AuthorizeRequestFields): KeyHash | "missing" | "malformed" {
    const c = req.credential;
    if (c.kind === "missing" || c.value === "") return "missing";
    if (c.kind === "key_hash") return isKeyHash(c.value) ? c.value : "malformed";
    const key = parseKey(c.value, this.deps.prefix);
    return key.ok ? hashKey(key.key, this.deps.pepper) : "malformed";
  }
}
