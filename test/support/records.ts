import { generateKey, newKeyId } from "../../src/admin/key-material.js";
import { digestOfHash, hashKey, keyPreview } from "../../src/domain/keys.js";
import type { KeyRecord } from "../../src/domain/types.js";

export const T0 = new Date("2026-01-01T00:00:00.000Z");

/** A plausible active record; override what the test is about. */
export function keyRecord(overrides: Partial<KeyRecord> = {}): KeyRecord {
  const key = generateKey("kw", "live");
  return {
    id: newKeyId(),
    keyDigest: digestOfHash(hashKey(key, "p".repeat(32))),
    name: "test key",
    workspace: "acme",
    scopes: ["campaigns:read"],
    allowedDomains: [],
    environment: "live",
    keyPreview: keyPreview(key),
    metadata: {},
    createdAt: T0,
    updatedAt: T0,
    lastUsedAt: null,
    expiresAt: null,
    revokedAt: null,
    revokeReason: "",
    retiresAt: null,
    successorId: null,
    revision: 0,
    ...overrides,
  };
}
