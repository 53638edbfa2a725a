import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  catalogEntries,
  catalogFromJson,
  isSatisfied,
  missingScopes,
  parseScope,
  unknownScopes,
} from "../../src/domain/scopes.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);

describe("scope grammar", () => {
  it.each([
    ["*", { kind: "any" }],
    ["campaigns:read", { kind: "action", resource: "campaigns", action: "read" }],
    ["sender_accounts:create", { kind: "action", resource: "sender_accounts", action: "create" }],
    ["campaigns:all", { kind: "all", resource: "campaigns" }],
  ])("parses %s", (scope, parsed) => expect(parseScope(scope)).toEqual(parsed));

  it.each([
    "",
    "campaigns",
    "Campaigns:read",
    "campaigns:Read",
    "campaigns:",
    ":read",
    "campaigns:read:x",
    "1campaigns:read",
    "campaigns:*",
    "* ",
    "campaigns :read",
    '{"$ne":null}',
    `${"a".repeat(200)}:read`,
  ])("refuses %j", (scope) => expect(parseScope(scope)).toBeNull());
});

describe("scope satisfaction", () => {
  const ok = (required: string, granted: string[]) =>
    isSatisfied(required, new Set(granted), catalog);
  it.each([
    ["itself", "campaigns:read", ["campaigns:read"], true],
    ["another action of the resource does not", "campaigns:read", ["campaigns:create"], false],
    ["the same action of another resource does not", "campaigns:read", ["leads:read"], false],
    ["resource:all", "campaigns:read", ["campaigns:all"], true],
    [
      "resource:all grants an action the catalog does not list yet",
      "campaigns:export",
      ["campaigns:all"],
      true,
    ],
    ["resource:all of another resource does not", "campaigns:read", ["leads:all"], false],
    ["* grants any action", "campaigns:read", ["*"], true],
    ["* grants a resource that does not exist yet", "invoices:read", ["*"], true],
    ["a held composite grants its members", "campaigns:pause", ["campaigns:write"], true],
    ["a held composite does not grant non-members", "campaigns:read", ["campaigns:write"], false],
    ["a required composite is satisfied by itself", "campaigns:write", ["campaigns:write"], true],
    [
      "a required composite is satisfied by all its members",
      "campaigns:write",
      [
        "campaigns:create",
        "campaigns:update",
        "campaigns:delete",
        "campaigns:pause",
        "campaigns:activate",
      ],
      true,
    ],
    [
      "a required composite is not satisfied by some members",
      "campaigns:write",
      ["campaigns:create", "campaigns:update", "campaigns:delete", "campaigns:pause"],
      false,
    ],
    [
      "a required composite is satisfied by resource:all",
      "campaigns:write",
      ["campaigns:all"],
      true,
    ],
    ["a required composite is satisfied by *", "campaigns:write", ["*"], true],
    ["a required resource:all is satisfied by itself", "campaigns:all", ["campaigns:all"], true],
    [
      "a required resource:all is not satisfied by every listed action",
      "campaigns:all",
      ["campaigns:write", "campaigns:read"],
      false,
    ],
    ["a required * is only satisfied by *", "*", ["campaigns:all", "leads:all"], false],
    ["a required * is satisfied by *", "*", ["*"], true],
    ["nothing granted", "campaigns:read", [], false],
    ["* grants no admin scope: keyward:read", "keyward:read", ["*"], false],
    ["* grants no admin scope: keyward:write", "keyward:write", ["*"], false],
    ["* grants no admin scope: keyward:all", "keyward:all", ["*"], false],
    ["keyward:all grants keyward:write", "keyward:write", ["keyward:all"], true],
    [
      "keyward:read and keyward:write do not make keyward:all",
      "keyward:all",
      ["keyward:read", "keyward:write"],
      false,
    ],
    ["product resource:all grants no admin scope", "keyward:read", ["campaigns:all"], false],
  ])("%s", (_name, required, granted, expected) =>
    expect(ok(required as string, granted as string[])).toBe(expected),
  );

  it("lists every missing scope once, in request order", () => {
    expect(
      missingScopes(
        ["leads:read", "campaigns:write", "leads:read", "campaigns:read"],
        ["campaigns:read"],
        catalog,
      ),
    ).toEqual(["leads:read", "campaigns:write"]);
  });
});

describe("scope catalog", () => {
  it("knows actions, composites and resource:all of catalog resources, and *", () => {
    expect(
      unknownScopes(
        ["campaigns:read", "campaigns:write", "campaigns:all", "*", "keyward:write", "keyward:all"],
        catalog,
      ),
    ).toEqual([]);
  });

  it("accepts every scope the seeds name, including their recommended composites", () => {
    const seeds = [
      "campaigns:create",
      "campaigns:read",
      "campaigns:update",
      "campaigns:delete",
      "campaigns:pause",
      "campaigns:activate",
      "campaigns:write",
      "campaigns:all",
      "sender_accounts:create",
      "sender_accounts:read",
      "sender_accounts:delete",
      "sender_accounts:write",
      "leads:create",
      "leads:read",
      "leads:delete",
      "leads:write",
      "*",
    ];
    expect(unknownScopes(seeds, catalog)).toEqual([]);
    expect(isSatisfied("sender_accounts:delete", new Set(["sender_accounts:write"]), catalog)).toBe(
      true,
    );
    expect(isSatisfied("leads:write", new Set(["leads:create", "leads:delete"]), catalog)).toBe(
      true,
    );
  });

  it("reserves the keyward resource: a catalog file cannot define or override it", () => {
    expect(() =>
      catalogFromJson({ resources: { keyward: { actions: { read: "mine now" } } } }),
    ).toThrow(/resources\.keyward.*reserved/);
    expect(
      catalogEntries(catalog)
        .filter((e) => e.name.startsWith("keyward:"))
        .map((e) => e.name),
    ).toEqual(["keyward:all", "keyward:read", "keyward:write"]);
  });

  it("names scopes it does not know", () => {
    expect(
      unknownScopes(
        ["campaigns:export", "invoices:read", "invoices:all", "campaigns:read"],
        catalog,
      ),
    ).toEqual(["campaigns:export", "invoices:read", "invoices:all"]);
  });

  it("lists composites with their members", () => {
    const write = catalogEntries(catalog).find((e) => e.name === "campaigns:write");
    expect(write?.includes).toEqual([
      "campaigns:create",
      "campaigns:update",
      "campaigns:delete",
      "campaigns:pause",
      "campaigns:activate",
    ]);
  });

  it.each([
    [{}, "resources"],
    [{ resources: { Bad: { actions: {} } } }, "resources.Bad"],
    [{ resources: { a: { actions: { all: "x" } } } }, "resources.a.actions.all"],
    [
      {
        resources: {
          a: {
            actions: { read: "x" },
            composites: { w: { description: "d", includes: ["write"] } },
          },
        },
      },
      "resources.a.composites.w",
    ],
  ])("refuses a bad catalog and names the path (%#)", (json, path) => {
    expect(() => catalogFromJson(json)).toThrow(path);
  });
});
