import { createHmac } from "node:crypto";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/admin/key-material.js";
import { KeyHasher } from "../../src/authorize/key-hasher.js";
import { crc32Ascii, hashKey, MAX_KEY_LENGTH } from "../../src/domain/keys.js";
import type { RawKey } from "../../src/domain/types.js";

describe("KeyHasher (the hot path's HMAC)", () => {
  const peppers = [
    "",
    "p",
    "p".repeat(32),
    "x".repeat(64),
    "y".repeat(65),
    "a much longer pepper ".repeat(10),
    "pepper with ünïcödé ✓",
  ];
  it.each(peppers.map((p) => [p.length, p]))(
    "equals createHmac for a pepper of %i characters",
    (_, pepper) => {
      const hasher = new KeyHasher(pepper);
      for (const key of [
        generateKey("kw", "live"),
        generateKey("cs", "test"),
        "kw_live_short",
        "k".repeat(MAX_KEY_LENGTH),
      ] as RawKey[]) {
        expect(hasher.hash(key)).toBe(
          createHmac("sha256", pepper).update(key, "utf8").digest("hex"),
        );
        expect(hasher.hash(key)).toBe(hashKey(key, pepper));
      }
    },
  );

  it("a longer key after a shorter one, and a shorter after a longer, hash as if alone", () => {
    const hasher = new KeyHasher("pepper");
    const long = "k".repeat(300) as RawKey;
    const short = "kw_live_abc" as RawKey;
    hasher.hash(long);
    expect(hasher.hash(short)).toBe(hashKey(short, "pepper"));
    expect(hasher.hash(long)).toBe(hashKey(long, "pepper"));
  });

  it("keeps no trace of the key in its scratch buffers once it returns", () => {
    const hasher = new KeyHasher("pepper");
    const key = generateKey("kw", "live");
    hasher.hash(key);
    const buffers = Object.values(hasher as unknown as Record<string, Buffer>);
    expect(buffers).toHaveLength(2);
    for (const b of buffers) expect(b.includes(key.slice(8), 0, "latin1")).toBe(false);
  });

  it("refuses a key longer than parseKey lets through", () => {
    expect(() => new KeyHasher("p").hash("k".repeat(MAX_KEY_LENGTH + 1) as RawKey)).toThrow(
      /longer than 512/,
    );
  });
});

describe("crc32Ascii", () => {
  it("equals zlib's CRC-32", () => {
    for (const text of [
      "",
      "a",
      "kw_live_",
      generateKey("kw", "live"),
      "The quick brown fox jumps over the lazy dog",
    ]) {
      expect(crc32Ascii(text)).toBe(crc32(text));
    }
  });
});
