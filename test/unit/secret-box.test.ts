import { describe, expect, it } from "vitest";
import { WebhookSecretBox } from "../../src/webhooks/secret-box.js";
import { newWebhookSecret } from "../../src/webhooks/signing.js";

const PEPPER = "a-pepper-of-at-least-thirty-two-bytes-long";

describe("webhook secrets at rest", () => {
  const box = new WebhookSecretBox(PEPPER);
  const secret = newWebhookSecret();

  it("seals to a form holding neither whsec_ nor the secret, and opens back", () => {
    const sealed = box.seal(secret, "wh_1");
    expect(sealed).toMatch(/^sealed:v1:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("whsec_");
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, "wh_1")).toBe(secret);
  });

  it("a random nonce each time: the same secret seals differently", () => {
    expect(box.seal(secret, "wh_1")).not.toBe(box.seal(secret, "wh_1"));
  });

  it("a plain whsec_ stored by an older version opens as it is", () => {
    expect(box.open(secret, "wh_1")).toBe(secret);
  });

  it("another pepper, another webhook's id, or a changed byte: refused, naming the webhook", () => {
    const sealed = box.seal(secret, "wh_1");
    expect(() => new WebhookSecretBox(`${PEPPER}!`).open(sealed, "wh_1")).toThrow(
      /wh_1: its secret does not open: KEY_PEPPER/,
    );
    expect(() => box.open(sealed, "wh_2")).toThrow(/does not open/);
    const raw = Buffer.from(sealed.slice("sealed:v1:".length), "base64url");
    raw[20]! ^= 1;
    expect(() => box.open(`sealed:v1:${raw.toString("base64url")}`, "wh_1")).toThrow(
      /does not open/,
    );
    expect(() => box.open("c2VjcmV0", "wh_1")).toThrow(/neither sealed nor whsec_/);
  });
});
