import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  eventTypeOfAudit,
  expiryEventId,
  expiryThreshold,
  receives,
  retryDelayMs,
  urlViolation,
} from "../../src/domain/webhooks.js";
import { newWebhookSecret, signWebhook } from "../../src/webhooks/signing.js";

const day = 24 * 3600_000;
const t = new Date("2026-01-01T00:00:00Z");
const fromNow = (ms: number) => new Date(t.getTime() + ms);

describe("webhook rules", () => {
  it("maps each audited change to one event; a leak report's revoke is key.leaked", () => {
    expect(eventTypeOfAudit({ action: "create", actorKeyId: "key_1" })).toBe("key.created");
    expect(eventTypeOfAudit({ action: "rotate", actorKeyId: "key_1" })).toBe("key.rotated");
    expect(eventTypeOfAudit({ action: "revoke", actorKeyId: "key_1" })).toBe("key.revoked");
    expect(eventTypeOfAudit({ action: "revoke", actorKeyId: "leak-report" })).toBe("key.leaked");
  });

  it("warns at the nearest threshold crossed: 7 days, then 1 day; not past expiry", () => {
    expect(expiryThreshold(fromNow(8 * day), t)).toBeNull();
    expect(expiryThreshold(fromNow(6 * day), t)).toBe("7d");
    expect(expiryThreshold(fromNow(7 * day), t)).toBe("7d");
    expect(expiryThreshold(fromNow(12 * 3600_000), t)).toBe("1d");
    expect(expiryThreshold(fromNow(0), t)).toBeNull();
    // A changed expiry is a new warning.
    expect(expiryEventId("key_a", fromNow(day), "1d")).not.toBe(
      expiryEventId("key_a", fromNow(2 * day), "1d"),
    );
  });

  it("backs off exponentially, at most an hour apart", () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 1000))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(40, 1000)).toBe(3600_000);
  });

  it("allows only URLs under an allowlisted prefix, compared in normal form", () => {
    const allow = ["https://hooks.example.com/"];
    expect(urlViolation("https://hooks.example.com/keyward", allow)).toBeNull();
    expect(urlViolation("https://hooks.example.com.evil.net/", allow)).toContain(
      "WEBHOOK_URL_ALLOWLIST",
    );
    expect(urlViolation("https://hooks.example.com@10.0.0.1/", ["https://hooks.example.com"])).toBe(
      "must not carry credentials",
    );
    expect(urlViolation("file:///etc/passwd", allow)).toBe("must be http:// or https://");
    expect(urlViolation("not a url", allow)).toBe("is not an absolute URL");
  });

  it("matches a prefix without a path only on the whole origin: no longer host, no other port", () => {
    const allow = ["https://hooks.example.com"];
    expect(urlViolation("https://hooks.example.com/keyward", allow)).toBeNull();
    expect(urlViolation("https://hooks.example.com/keyward?a=1", allow)).toBeNull();
    for (const url of [
      "https://hooks.example.com.evil.net/",
      "https://hooks.example.comevil.net/",
      "https://hooks.example.com:8443/",
      "https://hooks.example.com-evil.net/",
    ])
      expect(urlViolation(url, allow), url).toContain("WEBHOOK_URL_ALLOWLIST");
    // A prefix ending inside a path segment still keeps to its origin.
    expect(
      urlViolation("https://hooks.example.com/in/x", ["https://hooks.example.com/in"]),
    ).toBeNull();
    expect(
      urlViolation("https://hooks.example.com.evil.net/in", ["https://hooks.example.com/in"]),
    ).toContain("WEBHOOK_URL_ALLOWLIST");
    // A prefix must name the whole host; one that ends in the port's colon admits any port.
    expect(urlViolation("https://hooks.example.com/", ["https://"])).toContain(
      "WEBHOOK_URL_ALLOWLIST",
    );
    expect(urlViolation("http://127.0.0.10/", ["http://127.0.0.1"])).toContain(
      "WEBHOOK_URL_ALLOWLIST",
    );
    expect(urlViolation("http://127.0.0.1:4321/hook", ["http://127.0.0.1:"])).toBeNull();
  });

  it("sends a workspace's events to its webhooks, every event to a * webhook, filtered by type", () => {
    const created = { workspace: "acme", type: "key.created" };
    expect(receives({ workspace: "acme", events: [] }, created)).toBe(true);
    expect(receives({ workspace: "other", events: [] }, created)).toBe(false);
    expect(receives({ workspace: "*", events: [] }, created)).toBe(true);
    expect(receives({ workspace: "acme", events: ["key.revoked"] }, created)).toBe(false);
  });

  it("signs as the Standard Webhooks library does", () => {
    const secret = newWebhookSecret();
    const body = '{"type":"key.created"}';
    expect(signWebhook(secret, "evt_1", 1674087231, body)).toBe(
      new Webhook(secret).sign("evt_1", new Date(1674087231_000), body),
    );
  });
});
