import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type AdminAction,
  type AdminIdentity,
  decideAdmin,
  type PolicyTarget,
} from "../../src/domain/admin-policy.js";
import { catalogFromJson } from "../../src/domain/scopes.js";

const catalog = catalogFromJson(
  JSON.parse(readFileSync(new URL("../../config/scopes.json", import.meta.url), "utf8")),
);

const admins = {
  root: { workspace: "*", scopes: ["keyward:all"] },
  rootReader: { workspace: "*", scopes: ["keyward:read"] },
  acmeAll: { workspace: "acme", scopes: ["keyward:all"] },
  acmeReadWrite: { workspace: "acme", scopes: ["keyward:read", "keyward:write"] },
  acmeWrite: { workspace: "acme", scopes: ["keyward:write"] },
  acmeRead: { workspace: "acme", scopes: ["keyward:read"] },
  acmeProductStar: { workspace: "acme", scopes: ["*"] },
  acmeProduct: { workspace: "acme", scopes: ["campaigns:all"] },
} satisfies Record<string, AdminIdentity>;

const targets = {
  ownProduct: { workspace: "acme", scopes: ["campaigns:read"] },
  ownStar: { workspace: "acme", scopes: ["*"] },
  ownReader: { workspace: "acme", scopes: ["keyward:read"] },
  ownWriter: { workspace: "acme", scopes: ["keyward:write", "campaigns:read"] },
  ownAdminAll: { workspace: "acme", scopes: ["keyward:all"] },
  otherProduct: { workspace: "globex", scopes: ["campaigns:read"] },
  otherAdmin: { workspace: "globex", scopes: ["keyward:all"] },
  rootKey: { workspace: "*", scopes: ["keyward:all"] },
} satisfies Record<string, PolicyTarget>;

type Admin = keyof typeof admins;
type Target = keyof typeof targets;
type Expected = "allow" | "not_found" | "denied";

const on = (t: Target): [Target, Target] => [t, t];

/** [admin, action, before, after, expected] — before/after as DESIGN.md defines them for each action. */
const table: Array<[Admin, AdminAction, Target | null, Target | null, Expected]> = [
  // read: reach only; out of reach is NOT_FOUND so existence does not leak
  ["acmeRead", "read", "ownProduct", null, "allow"],
  ["acmeRead", "read", "ownAdminAll", null, "allow"],
  ["acmeRead", "read", "otherProduct", null, "not_found"],
  ["acmeRead", "read", "rootKey", null, "not_found"],
  ["acmeWrite", "read", "ownProduct", null, "denied"],
  ["acmeProductStar", "read", "ownProduct", null, "denied"],
  ["acmeProduct", "read", "ownProduct", null, "denied"],
  ["rootReader", "read", "otherAdmin", null, "allow"],
  ["root", "read", "rootKey", null, "allow"],

  // create: reach on the new key's workspace, no amplification
  ["acmeWrite", "create", null, "ownProduct", "allow"],
  ["acmeWrite", "create", null, "ownStar", "allow"],
  ["acmeWrite", "create", null, "ownWriter", "allow"],
  ["acmeWrite", "create", null, "ownReader", "denied"],
  ["acmeWrite", "create", null, "ownAdminAll", "denied"],
  ["acmeReadWrite", "create", null, "ownReader", "allow"],
  ["acmeReadWrite", "create", null, "ownAdminAll", "denied"],
  ["acmeAll", "create", null, "ownAdminAll", "allow"],
  ["acmeAll", "create", null, "otherProduct", "denied"],
  ["acmeAll", "create", null, "rootKey", "denied"],
  ["acmeRead", "create", null, "ownProduct", "denied"],
  ["acmeProductStar", "create", null, "ownProduct", "denied"],
  ["root", "create", null, "otherAdmin", "allow"],
  ["root", "create", null, "rootKey", "allow"],
  ["rootReader", "create", null, "otherProduct", "denied"],

  // update: reach on the stored key, no amplification before or after
  ["acmeWrite", "update", "ownProduct", "ownStar", "allow"],
  ["acmeWrite", "update", "ownProduct", "ownReader", "denied"],
  ["acmeWrite", "update", "ownReader", "ownProduct", "denied"],
  ["acmeWrite", "update", "ownWriter", "ownProduct", "allow"],
  ["acmeReadWrite", "update", "ownProduct", "ownAdminAll", "denied"],
  ["acmeAll", "update", "ownProduct", "ownAdminAll", "allow"],
  ["acmeAll", "update", "otherProduct", "otherProduct", "not_found"],
  ["acmeAll", "update", "rootKey", "rootKey", "not_found"],
  ["acmeProductStar", "update", "ownProduct", "ownProduct", "denied"],
  ["root", "update", "rootKey", "rootKey", "allow"],

  // revoke: the stored key; holding authority the admin lacks protects it
  ["acmeWrite", "revoke", ...on("ownProduct"), "allow"],
  ["acmeWrite", "revoke", ...on("ownStar"), "allow"],
  ["acmeWrite", "revoke", ...on("ownAdminAll"), "denied"],
  ["acmeAll", "revoke", ...on("ownAdminAll"), "allow"],
  ["acmeAll", "revoke", ...on("otherProduct"), "not_found"],
  ["acmeAll", "revoke", ...on("rootKey"), "not_found"],
  ["acmeRead", "revoke", ...on("ownProduct"), "denied"],
  ["root", "revoke", ...on("otherAdmin"), "allow"],

  // rotate: a new secret with the same settings counts as creating that key
  ["acmeWrite", "rotate", ...on("ownProduct"), "allow"],
  ["acmeWrite", "rotate", ...on("ownStar"), "allow"],
  ["acmeWrite", "rotate", ...on("ownReader"), "denied"],
  ["acmeWrite", "rotate", ...on("ownAdminAll"), "denied"],
  ["acmeReadWrite", "rotate", ...on("ownAdminAll"), "denied"],
  ["acmeAll", "rotate", ...on("ownAdminAll"), "allow"],
  ["acmeAll", "rotate", ...on("rootKey"), "not_found"],
  ["acmeAll", "rotate", ...on("otherAdmin"), "not_found"],
  ["acmeProductStar", "rotate", ...on("ownStar"), "denied"],
  ["root", "rotate", ...on("rootKey"), "allow"],
];

describe("admin policy", () => {
  it.each(table)("%s %s before=%s after=%s → %s", (admin, action, before, after, expected) => {
    const verdict = decideAdmin(
      admins[admin],
      action,
      before ? targets[before] : null,
      after ? targets[after] : null,
      catalog,
    );
    const got: Expected = verdict.allowed
      ? "allow"
      : verdict.outcome === "not_found"
        ? "not_found"
        : "denied";
    expect(got).toBe(expected);
  });

  it.each([
    ["acmeRead", "acme", "allow"],
    ["acmeRead", "globex", "denied"],
    ["acmeRead", null, "denied"],
    ["acmeWrite", "acme", "denied"],
    ["acmeProductStar", "acme", "denied"],
    ["rootReader", null, "allow"],
    ["rootReader", "globex", "allow"],
  ] as Array<[Admin, string | null, Expected]>)(
    "%s lists workspace %s → %s",
    (admin, workspace, expected) => {
      const verdict = decideAdmin(admins[admin], "list", { workspace, scopes: [] }, null, catalog);
      expect(
        verdict.allowed ? "allow" : verdict.outcome === "not_found" ? "not_found" : "denied",
      ).toBe(expected);
    },
  );

  it("names the scopes an amplification would hand out", () => {
    const verdict = decideAdmin(admins.acmeWrite, "create", null, targets.ownAdminAll, catalog);
    expect(verdict).toMatchObject({ allowed: false, outcome: "permission_denied" });
    expect(!verdict.allowed && verdict.message).toContain("keyward:all");
  });
});
