import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BOOTSTRAP_PRINCIPAL, KeyManager } from "../../src/admin/key-manager.js";
import { generateKey } from "../../src/admin/key-material.js";
import { Authorizer } from "../../src/authorize/authorizer.js";
import { CachedKeyLookup } from "../../src/authorize/cached-key-lookup.js";
import { KeyCache } from "../../src/authorize/key-cache.js";
import { catalogFromJson } from "../../src/domain/scopes.js";
import { MemoryKeyStore } from "../../src/store/memory-key-store.js";
import { countingStore } from "../support/counting-store.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);
const PEPPER = "flood-pepper-0123456789-abcdefghijklmnop";
const FLOOD = 100_000;
const NEGATIVE_MAX = 10_000;

/**
 * The authorizer, caches and store exactly as the server wires them, in-process
 * so 100,000 distinct keys take seconds: the rule under test is the cache's,
 * not the transport's (test/faults/hostile-input.test.ts floods over gRPC).
 */
function pipeline() {
  const { store, calls } = countingStore(new MemoryKeyStore());
  const cache = new KeyCache({
    maxEntries: 1000,
    positiveTtlMs: 600_000,
    negativeMaxEntries: NEGATIVE_MAX,
    negativeTtlMs: 600_000,
    now: Date.now,
  });
  const lookup = new CachedKeyLookup(store, cache);
  const now = () => new Date();
  const authorizer = new Authorizer({
    lookup: lookup.lookup,
    pepper: PEPPER,
    prefix: "kw",
    catalog,
    now,
    onDecision: () => {},
  });
  const manager = new KeyManager({
    store,
    catalog,
    pepper: PEPPER,
    prefix: "kw",
    now,
    onKeyChanged: (r) => lookup.replace(r),
  });
  const ask = (key: string) =>
    authorizer.authorize(
      {
        credential: { kind: "api_key", value: key },
        requiredScopes: ["leads:read"],
        domain: "",
        workspace: "",
      },
      "grpc",
    );
  return { calls, lookup, manager, ask, lookups: () => calls.get("findKeyByDigest") ?? 0 };
}

describe(`a flood of ${FLOOD.toLocaleString("en")} distinct well-formed unknown keys`, () => {
  it("never evicts a known key, and costs the store at most one call per unknown key", {
    timeout: 120_000,
  }, async () => {
    const p = pipeline();
    const known = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        p.manager.create(BOOTSTRAP_PRINCIPAL, {
          name: `known ${i}`,
          workspace: "acme",
          scopes: ["leads:read"],
          allowedDomains: [],
          expiresAt: null,
          environment: "live",
          metadata: {},
        }),
      ),
    );
    for (const k of known) expect((await p.ask(k.key)).allowed).toBe(true);

    const flood = Array.from({ length: FLOOD }, () => generateKey("kw", "live"));
    const before = p.lookups();
    for (let i = 0; i < flood.length; i += 1000) {
      const answers = await Promise.all(flood.slice(i, i + 1000).map(p.ask));
      expect(answers.every((a) => a.reason === "KEY_NOT_FOUND")).toBe(true);
    }
    const floodCalls = p.lookups() - before;
    expect(floodCalls).toBe(FLOOD);
    expect(p.lookup.negativeSize).toBe(NEGATIVE_MAX);

    // The most recent unknown keys are remembered: asking again costs nothing.
    const recent = flood.slice(-NEGATIVE_MAX);
    const beforeRepeat = p.lookups();
    await Promise.all(recent.map(p.ask));
    expect(p.lookups() - beforeRepeat).toBe(0);

    // Every known key is still served from the cache.
    const beforeKnown = p.lookups();
    for (const k of known) expect((await p.ask(k.key)).allowed).toBe(true);
    expect(p.lookups() - beforeKnown).toBe(0);
    process.stderr.write(
      `[flood] ${FLOOD} unknown keys: ${floodCalls} store calls; repeat of the last ${NEGATIVE_MAX}: 0; known keys after the flood: 0\n`,
    );
  });
});
