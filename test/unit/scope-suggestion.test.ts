import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { grantedBy, suggestedScopes, unusedScopes } from "../../src/domain/scope-suggestion.js";
import { catalogFromJson, isSatisfied } from "../../src/domain/scopes.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);
const WRITE_MEMBERS = [
  "campaigns:create",
  "campaigns:update",
  "campaigns:delete",
  "campaigns:pause",
  "campaigns:activate",
];

/** Composites that overlap, which the shipped catalog has not: the cover must still be smallest. */
const overlapping = catalogFromJson({
  resources: {
    docs: {
      actions: { a: "", b: "", c: "", d: "" },
      composites: {
        ab: { description: "", includes: ["a", "b"] },
        bc: { description: "", includes: ["b", "c"] },
        cd: { description: "", includes: ["c", "d"] },
        one: { description: "", includes: ["a"] },
      },
    },
  },
});

describe("grantedBy: the held scope that satisfied a required one", () => {
  it.each([
    ["itself first", "campaigns:read", ["campaigns:all", "*", "campaigns:read"], "campaigns:read"],
    [
      "then a held composite containing it",
      "campaigns:pause",
      ["*", "campaigns:all", "campaigns:write"],
      "campaigns:write",
    ],
    ["then resource:all", "campaigns:pause", ["*", "campaigns:all"], "campaigns:all"],
    ["then *", "campaigns:pause", ["leads:all", "*"], "*"],
    ["* for an action the catalog does not list", "invoices:read", ["*"], "*"],
    [
      "resource:all for a required composite",
      "campaigns:write",
      ["campaigns:all"],
      "campaigns:all",
    ],
    [
      "the members for a composite satisfied by all of them",
      "campaigns:write",
      WRITE_MEMBERS,
      WRITE_MEMBERS.join(" + "),
    ],
    ["none when only some members are held", "campaigns:write", WRITE_MEMBERS.slice(1), ""],
    ["none for a missing scope", "campaigns:read", ["leads:read"], ""],
    ["* never grants an admin scope", "keyward:read", ["*"], ""],
    ["keyward:all grants an admin scope", "keyward:read", ["keyward:all"], "keyward:all"],
    ["* for any non-admin string, as isSatisfied", "Campaigns:read", ["*"], "*"],
    ["none for a malformed scope otherwise", "Campaigns:read", ["campaigns:all"], ""],
  ])("%s", (_, required, held, expected) => {
    expect(grantedBy(required, held, catalog)).toBe(expected);
    // The same rules as the authorizer: granted exactly when isSatisfied says so.
    expect(grantedBy(required, held, catalog) !== "").toBe(
      isSatisfied(required, new Set(held), catalog),
    );
  });
});

describe("unusedScopes: held scopes no used scope needed", () => {
  it.each([
    [
      "nothing used: every held scope, sorted",
      ["leads:read", "campaigns:read"],
      [],
      ["campaigns:read", "leads:read"],
    ],
    [
      "the scope used itself is not unused",
      ["campaigns:read", "leads:read"],
      ["campaigns:read"],
      ["leads:read"],
    ],
    [
      "a composite is used when one member was",
      ["campaigns:write", "campaigns:read"],
      ["campaigns:pause"],
      ["campaigns:read"],
    ],
    [
      "a member is used when a required composite was",
      ["campaigns:create", "campaigns:read"],
      ["campaigns:write"],
      ["campaigns:read"],
    ],
    [
      "resource:all is used when anything under it was",
      ["campaigns:all", "leads:all"],
      ["campaigns:pause"],
      ["leads:all"],
    ],
    [
      "* is used when any product scope was",
      ["*", "keyward:read"],
      ["leads:read"],
      ["keyward:read"],
    ],
    ["* is not used by an admin scope", ["*", "keyward:read"], ["keyward:read"], ["*"]],
    ["duplicates once", ["leads:read", "leads:read"], [], ["leads:read"]],
  ])("%s", (_, held, used, expected) =>
    expect(unusedScopes(held, used, catalog)).toEqual(expected),
  );
});

describe("suggestedScopes: the least a key needs for what it did", () => {
  it.each([
    [
      "held campaigns:all, used read and pause: those two",
      ["campaigns:all"],
      ["campaigns:read", "campaigns:pause"],
      ["campaigns:pause", "campaigns:read"],
    ],
    [
      "held *, used every member of campaigns:write: the composite",
      ["*"],
      WRITE_MEMBERS,
      ["campaigns:write"],
    ],
    ["used nothing: nothing", ["campaigns:all", "*"], [], []],
    [
      "used a composite itself: that composite",
      ["campaigns:all"],
      ["campaigns:write"],
      ["campaigns:write"],
    ],
    [
      "a used composite absorbs its used members",
      ["*"],
      ["campaigns:write", "campaigns:pause", "campaigns:read"],
      ["campaigns:read", "campaigns:write"],
    ],
    [
      "some members only: the members",
      ["*"],
      WRITE_MEMBERS.slice(1),
      WRITE_MEMBERS.slice(1).sort(),
    ],
    [
      "two resources",
      ["campaigns:all", "leads:all"],
      ["campaigns:read", "leads:create", "leads:delete"],
      ["campaigns:read", "leads:write"],
    ],
    [
      "held members one by one: the composite, which they satisfy",
      ["leads:create", "leads:delete", "leads:read"],
      ["leads:create", "leads:delete"],
      ["leads:write"],
    ],
    [
      "never invents a scope held ones do not satisfy",
      ["campaigns:read"],
      ["campaigns:read", "campaigns:pause", "leads:read"],
      ["campaigns:read"],
    ],
    ["nothing held satisfies: nothing", ["leads:read"], WRITE_MEMBERS, []],
    [
      "an action the catalog does not list needs resource:all",
      ["campaigns:all"],
      ["campaigns:export", "campaigns:read"],
      ["campaigns:all"],
    ],
    [
      "a resource the catalog does not list needs *",
      ["*"],
      ["invoices:read", "campaigns:read"],
      ["*"],
    ],
    [
      "a used resource:all stays",
      ["campaigns:all"],
      ["campaigns:all", "campaigns:read"],
      ["campaigns:all"],
    ],
    [
      "admin scopes stay as they were used",
      ["keyward:all", "*"],
      ["keyward:read", "keyward:write", "leads:read"],
      ["keyward:read", "keyward:write", "leads:read"],
    ],
    [
      "* does not absorb admin scopes",
      ["*", "keyward:read"],
      ["invoices:read", "keyward:read"],
      ["*", "keyward:read"],
    ],
    ["duplicates once", ["*"], ["leads:read", "leads:read"], ["leads:read"]],
  ])("%s", (_, held, used, expected) =>
    expect(suggestedScopes(catalog, held, used)).toEqual(expected),
  );

  it.each([
    ["a,b,c,d: two composites, not three", ["a", "b", "c", "d"], ["docs:ab", "docs:cd"]],
    ["a,b,c: one composite and the rest", ["a", "b", "c"], ["docs:ab", "docs:c"]],
    ["a alone: the action, not its one-member composite", ["a"], ["docs:a"]],
    [
      "bc required itself stays, though ab and cd would cover it",
      ["bc", "a", "d"],
      ["docs:a", "docs:bc", "docs:d"],
    ],
  ])("overlapping composites, %s", (_, actions, expected) => {
    const suggested = suggestedScopes(
      overlapping,
      ["docs:all"],
      actions.map((a) => `docs:${a}`),
    );
    expect(suggested).toEqual(expected);
  });

  it("covers every used scope it keeps, and each suggestion is satisfied by the held scopes", () => {
    const held = ["campaigns:all", "leads:write", "leads:read"];
    const used = [...WRITE_MEMBERS, "campaigns:read", "leads:create", "leads:read"];
    const suggested = suggestedScopes(catalog, held, used);
    expect(suggested).toEqual(["campaigns:read", "campaigns:write", "leads:create", "leads:read"]);
    for (const u of used) expect(isSatisfied(u, new Set(suggested), catalog)).toBe(true);
    for (const s of suggested) expect(isSatisfied(s, new Set(held), catalog)).toBe(true);
  });
});

describe("when some used scopes were folded past the hourly cap", () => {
  it("suggests nothing narrower than held, and calls nothing unused", () => {
    const used = ["campaigns:read", "(other)"];
    expect(suggestedScopes(catalog, ["*"], used)).toEqual(["*"]);
    expect(unusedScopes(["*", "leads:all"], used, catalog)).toEqual([]);
  });
});
