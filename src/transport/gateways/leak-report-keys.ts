import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../config.js";

/** Public keys trusted to sign leak reports, by GitHub's `key_identifier`. */
export type LeakReportKeys = ReadonlyMap<string, KeyObject>;

const VARIABLE = "LEAK_REPORT_KEYS_FILE";

/**
 * Reads a key list in the shape GitHub serves at
 * /meta/public_keys/secret_scanning: `{"public_keys":[{"key_identifier","key","is_current"}]}`.
 * Every key must be ECDSA P-256, the only kind GitHub signs with.
 */
export function loadLeakReportKeys(path: string): LeakReportKeys {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(VARIABLE, `(${path}) cannot be read as JSON: ${(err as Error).message}`);
  }
  const list = (json as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigError(
      VARIABLE,
      `(${path}) must hold {"public_keys":[{"key_identifier","key"}]} with at least one key`,
    );
  const keys = new Map<string, KeyObject>();
  for (const [i, entry] of list.entries()) {
    const { key_identifier: id, key: pem } = (entry ?? {}) as {
      key_identifier?: unknown;
      key?: unknown;
    };
    if (typeof id !== "string" || id === "")
      throw new ConfigError(
        VARIABLE,
        `(${path}) public_keys[${i}].key_identifier must be a non-empty string`,
      );
    keys.set(id, p256Key(pem, `public_keys[${i}].key`, path));
  }
  return keys;
}

function p256Key(pem: unknown, field: string, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(String(pem));
  } catch (err) {
    throw new ConfigError(
      VARIABLE,
      `(${path}) ${field} is not a PEM public key: ${(err as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new ConfigError(
      VARIABLE,
      `(${path}) ${field} must be an ECDSA P-256 key (openssl ecparam -name prime256v1)`,
    );
  }
  return key;
}
