import { randomBytes } from "node:crypto";
import { generateKey as formatKey, newKeyId as formatKeyId } from "../domain/keys.js";
import type { Environment, KeyId, RawKey } from "../domain/types.js";

/** A new secret key: 32 bytes from the operating system's CSPRNG, in the format of domain/keys.ts. */
export function generateKey(prefix: string, environment: Environment): RawKey {
  return formatKey(prefix, environment, randomBytes);
}

export function newKeyId(): KeyId {
  return formatKeyId(randomBytes);
}
