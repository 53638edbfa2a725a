import { describe, expect, it } from "vitest";
import { invalidUtf8Field } from "../../src/transport/middleware/utf8-guard.js";

describe("invalidUtf8Field names the field whose bytes were not UTF-8", () => {
  const bad = "\uDFFF\uFFFD(";
  it.each([
    [{ credential: { case: "apiKey", value: bad } }, "api_key"],
    [{ requiredScopes: ["leads:read", bad] }, "required_scopes[1]"],
    [{ apiKey: { name: "ok", metadata: { note: bad } } }, "api_key.metadata.note"],
    [{ apiKey: { metadata: { [bad]: "v" } } }, "api_key.metadata (a map key)"],
  ])("%j → %s", (message, field) => {
    expect(invalidUtf8Field(message, "")).toBe(field);
  });
  it("passes valid text, including a real U+FFFD", () => {
    expect(invalidUtf8Field({ name: "caf\u00e9 \uFFFD", scopes: ["a:b"], workspace: "" }, "")).toBeNull();
  });
});
