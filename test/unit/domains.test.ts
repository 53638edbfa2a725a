import { describe, expect, it } from "vitest";
import {
  domainAllowed,
  normalizeDomain,
  normalizeDomainPattern,
} from "../../src/domain/domains.js";

describe("domain normalisation", () => {
  it.each([
    ["example.com", "example.com"],
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["BÜCHER.example.", "xn--bcher-kva.example"],
    ["a-b.c-d.example", "a-b.c-d.example"],
  ])("%s → %s", (input, expected) => expect(normalizeDomain(input)).toBe(expected));

  it.each([
    "",
    ".",
    "example..com",
    "-example.com",
    "example-.com",
    "exa mple.com",
    "example.com:443",
    "https://example.com",
    "example.com/path",
    "*.example.com",
    `${"a".repeat(64)}.com`,
    `${(`${"a".repeat(60)}.`).repeat(5)}com`,
    '{"$ne":null}',
  ])("refuses %j", (input) => expect(normalizeDomain(input)).toBeNull());

  it("patterns allow one leading *. and normalise the rest", () => {
    expect(normalizeDomainPattern("*.Example.com.")).toBe("*.example.com");
    expect(normalizeDomainPattern("*.*.example.com")).toBeNull();
    expect(normalizeDomainPattern("a.*.example.com")).toBeNull();
  });
});

describe("domain matching", () => {
  it.each([
    ["example.com", ["example.com"], true],
    ["api.example.com", ["example.com"], false],
    ["api.example.com", ["*.example.com"], true],
    ["a.b.example.com", ["*.example.com"], true],
    ["example.com", ["*.example.com"], false],
    ["badexample.com", ["*.example.com"], false],
    ["example.org", ["example.com", "*.example.com"], false],
    ["example.org", ["example.com", "example.org"], true],
  ])("%s against %j → %s", (domain, patterns, expected) =>
    expect(domainAllowed(domain, patterns)).toBe(expected),
  );
});
