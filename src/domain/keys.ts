import { createHmac, hash } from "node:crypto";
import type { Environment, KeyDigest, KeyHash, KeyId, RawKey } from "./types.js";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const BODY_BYTES = 32;
/** 32 bytes need 43 base62 digits (62^43 > 2^256); fixed width so the length alone rejects junk. */
export const BODY_WIDTH = 43;
/** 62^6 > 2^32, so any CRC32 fits in 6 digits. */
export const CHECKSUM_WIDTH = 6;
export const MAX_KEY_LENGTH = 512;
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,15}$/;

const KEY_HASH_PATTERN = /^[0-9a-f]{64}$/;
const KEY_ID_PATTERN = /^key_[0-9a-f]{24}$/;

export function toBase62(value: bigint, width: number): string {
  let out = "";
  let n = value;
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  if (out.length > width)
    throw new RangeError(`value needs ${out.length} base62 digits, more than ${width}`);
  return out.padStart(width, "0");
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/**
 * zlib's CRC-32 of an ASCII string, in JavaScript: for a 50-character key
 * this is cheaper than the call into zlib, which showed under load.
 */
export function crc32Ascii(text: string): number {
  let c = -1;
  for (let i = 0; i < text.length; i++) c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** On the hot path (every Authorize): a CRC32 fits a double exactly, so no BigInt here. */
function checksum(text: string): string {
  let n = crc32Ascii(text);
  let out = "";
  for (let i = 0; i < CHECKSUM_WIDTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** `random` is the source of secret bytes (crypto.randomBytes, from src/admin/key-material.ts): a parameter, so this stays a pure rule. */
export function generateKey(
  prefix: string,
  environment: Environment,
  random: (n: number) => Buffer,
): RawKey {
  const body = toBase62(BigInt(`0x${random(BODY_BYTES).toString("hex")}`), BODY_WIDTH);
  const head = `${prefix}_${environment}_${body}`;
  return (head + checksum(head)) as RawKey;
}

export type ParsedKey =
  | { ok: true; key: RawKey; environment: Environment }
  | { ok: false; problem: string };

/** Checks shape and checksum only: a key that fails here never reaches the store. */
export function parseKey(candidate: string, prefix: string): ParsedKey {
  if (candidate.length > MAX_KEY_LENGTH) return { ok: false, problem: "too long" };
  const start = `${prefix}_`;
  if (!candidate.startsWith(start)) return { ok: false, problem: "wrong prefix" };
  const envEnd = candidate.indexOf("_", start.length);
  const environment = candidate.slice(start.length, envEnd);
  if (envEnd < 0 || (environment !== "live" && environment !== "test"))
    return { ok: false, problem: "unknown environment" };
  const rest = candidate.slice(envEnd + 1);
  if (rest.length !== BODY_WIDTH + CHECKSUM_WIDTH || !/^[0-9A-Za-z]+$/.test(rest))
    return { ok: false, problem: "wrong length" };
  const head = candidate.slice(0, candidate.length - CHECKSUM_WIDTH);
  if (checksum(head) !== candidate.slice(-CHECKSUM_WIDTH))
    return { ok: false, problem: "bad checksum" };
  return { ok: true, key: candidate as RawKey, environment };
}

/**
 * HMAC-SHA256 keyed with the pepper: a stolen database alone cannot be used to
 * test guesses. The hot path computes the same with KeyHasher.
 */
export function hashKey(key: RawKey, pepper: string): KeyHash {
  return createHmac("sha256", pepper).update(key, "utf8").digest("hex") as KeyHash;
}

/** What is stored and looked up: SHA-256 of the hash's hex text. */
export function digestOfHash(keyHash: KeyHash): KeyDigest {
  return hash("sha256", keyHash, "hex") as KeyDigest;
}

export function isKeyHash(value: string): value is KeyHash {
  return KEY_HASH_PATTERN.test(value);
}

export function keyPreview(key: RawKey): string {
  return `${key.slice(0, 8)}…${key.slice(-4)}`;
}

export function newKeyId(random: (n: number) => Buffer): KeyId {
  return `key_${random(12).toString("hex")}` as KeyId;
}

export function isKeyId(value: string): value is KeyId {
  return KEY_ID_PATTERN.test(value);
}
