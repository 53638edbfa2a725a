import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/** Marks the stored form; never `whsec_`, so a stolen document holds nothing a receiver accepts. */
const SEALED = "sealed:v1:";
/** HKDF's info label: this key is for webhook secrets only, whatever else KEY_PEPPER keys. */
const INFO = "keyward/webhook-secret/v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Webhook secrets at rest: AES-256-GCM under a key derived from KEY_PEPPER
 * (HKDF-SHA256), a random nonce per seal, the webhook's id as associated data (a
 * sealed secret copied onto another webhook does not open). A stolen database then
 * lets no one sign a webhook; the pepper, never stored, is what opens them.
 */
export class WebhookSecretBox {
  private readonly key: Buffer;

  constructor(pepper: string) {
    this.key = Buffer.from(
      hkdfSync("sha256", Buffer.from(pepper, "utf8"), Buffer.alloc(0), INFO, 32),
    );
  }

  seal(secret: string, webhookId: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(webhookId, "utf8"));
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return SEALED + Buffer.concat([nonce, sealed, cipher.getAuthTag()]).toString("base64url");
  }

  /** The signing secret; a plain `whsec_…` stored by an older version is taken as it is. */
  open(stored: string, webhookId: string): string {
    if (stored.startsWith("whsec_")) return stored;
    const raw = stored.startsWith(SEALED)
      ? Buffer.from(stored.slice(SEALED.length), "base64url")
      : Buffer.alloc(0);
    if (raw.length <= NONCE_BYTES + TAG_BYTES)
      throw new Error(`webhook ${webhookId}: its stored secret is neither sealed nor whsec_`);
    const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(webhookId, "utf8"));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    try {
      const body = raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch {
      throw new Error(
        `webhook ${webhookId}: its secret does not open: KEY_PEPPER is not the one it was sealed under, or the stored value was changed`,
      );
    }
  }
}
