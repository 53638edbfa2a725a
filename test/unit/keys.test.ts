import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BODY_WIDTH,
  CHECKSUM_WIDTH,
  generateKey,
  hashKey,
  isKeyHash,
  isKeyId,
  keyPreview,
  newKeyId,
  parseKey,
  toBase62,
} from "../../src/domain/keys.js";
import type { RawKey } from "../../src/domain/types.js";

const PEPPER = "p".repeat(32);

describe("keys", () => {
  it.each([
    ["kw", "live"],
    ["kw", "test"],
    ["cs", "live"],
    ["tsend", "test"],
  ] as const)("a generated %s_%s key parses back with its environment", (prefix, env) => {
    const key = generateKey(prefix, env, randomBytes);
    expect(key).toMatch(
      new RegExp(`^${prefix}_${env}_[0-9A-Za-z]{${BODY_WIDTH + CHECKSUM_WIDTH}}$`),
    );
    expect(parseKey(key, prefix)).toEqual({ ok: true, key, environment: env });
  });

  it("keys have a fixed length whatever the random bytes", () => {
    const zeros = generateKey("kw", "live", (n) => Buffer.alloc(n, 0));
    const ones = generateKey("kw", "live", (n) => Buffer.alloc(n, 0xff));
    expect(zeros.length).toBe(ones.length);
    expect(parseKey(zeros, "kw").ok).toBe(true);
    expect(parseKey(ones, "kw").ok).toBe(true);
  });

  it("two generated keys differ", () => {
    expect(generateKey("kw", "live", randomBytes)).not.toBe(generateKey("kw", "live", randomBytes));
  });

  const key = generateKey("kw", "live", randomBytes);
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const substitute = (s: string, i: number) => {
    const c = s[i]!;
    const other = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length]!;
    return s.slice(0, i) + other + s.slice(i + 1);
  };
  const corruptions: Array<[string, string, string]> = [
    ["empty", "", "wrong prefix"],
    ["other prefix", key.replace(/^kw_/, "cs_"), "wrong prefix"],
    ["unknown environment", key.replace("_live_", "_prod_"), "unknown environment"],
    ["one character short", key.slice(0, -1), "wrong length"],
    ["one character extra", `${key}a`, "wrong length"],
    ["non-base62 character", `${key.slice(0, -3)}-${key.slice(-2)}`, "wrong length"],
    ["too long", key + "a".repeat(600), "too long"],
    [
      "swapped adjacent body characters",
      key.slice(0, 10) + key[11] + key[10] + key.slice(12),
      "bad checksum",
    ],
    ["env changed to test", key.replace("_live_", "_test_"), "bad checksum"],
  ];
  for (let i = 8; i < key.length; i += 7)
    corruptions.push([`substitution at ${i}`, substitute(key, i), "bad checksum"]);

  it.each(corruptions)("refuses a key with %s", (_name, candidate, problem) => {
    if (candidate === key) return expect.unreachable("corruption did not change the key");
    expect(parseKey(candidate, "kw")).toEqual({ ok: false, problem });
  });

  it("every single-character substitution is caught by the checksum", () => {
    let caught = 0;
    for (let i = "kw_live_".length; i < key.length; i++) {
      const r = parseKey(substitute(key, i), "kw");
      expect(r.ok, `substitution at ${i}`).toBe(false);
      caught++;
    }
    expect(caught).toBe(BODY_WIDTH + CHECKSUM_WIDTH);
  });

  it("hashes with HMAC-SHA256 keyed by the pepper, as lower-case hex", async () => {
    const { createHmac } = await import("node:crypto");
    const h = hashKey(key, PEPPER);
    expect(h).toBe(createHmac("sha256", PEPPER).update(key).digest("hex"));
    expect(isKeyHash(h)).toBe(true);
    expect(hashKey(key, `${PEPPER}x`)).not.toBe(h);
  });

  it("previews show the first 8 and last 4 characters only", () => {
    expect(keyPreview("kw_live_ABCDEFGHIJKLMNOPwxyz" as RawKey)).toBe("kw_live_…wxyz");
  });

  it("ids have a fixed recognisable form", () => {
    expect(isKeyId(newKeyId(randomBytes))).toBe(true);
    expect(isKeyId("key_123")).toBe(false);
    expect(isKeyId('{"$ne":null}')).toBe(false);
  });

  it("base62 pads to the width and refuses values that do not fit", () => {
    expect(toBase62(61n, 3)).toBe("00z");
    expect(() => toBase62(62n ** 3n, 3)).toThrow(RangeError);
  });
});
