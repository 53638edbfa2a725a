import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { redactedConfig } from "../../src/config/redaction.js";
import { CONFIG_VARIABLES } from "../../src/config/variables.js";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("configuration", () => {
  const readme = readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8");

  it.each(CONFIG_VARIABLES.map((v) => [v.name, v]))(
    "docs/operations.md's configuration table documents %s with its default",
    (name, v) => {
      const row = readme.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, `docs/operations.md has no row for ${name}`).toBeDefined();
      if (/^\d+$|^[a-z]+$/.test(v.default)) expect(row).toContain(`\`${v.default}\``);
    },
  );

  it("every variable in the docs/operations.md table is one keyward knows", () => {
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(CONFIG_VARIABLES.map((v) => v.name).sort());
  });

  it("defaults match the table", () => {
    const c = loadConfig({}, { devRequested: true });
    expect(c.port).toBe(50051);
    expect(c.cache.maxEntries).toBe(100_000);
    expect(c.invalidationPollMs).toBe(250);
    expect(c.mongodbUri).toBeNull();
  });

  it("USAGE_RECORDING is on unless set to off, and nothing else", () => {
    const dev = { devRequested: true };
    expect(loadConfig({}, dev).usage.recording).toBe(true);
    expect(loadConfig({ USAGE_RECORDING: "on" }, dev).usage.recording).toBe(true);
    expect(loadConfig({ USAGE_RECORDING: "off" }, dev).usage.recording).toBe(false);
    expect(() => loadConfig({ USAGE_RECORDING: "false" }, dev)).toThrow(
      'USAGE_RECORDING must be on or off, got "false"',
    );
  });

  it("names the variable of a bad value", () => {
    expect(() => loadConfig({ CACHE_MAX_ENTRIES: "-1" }, { devRequested: true })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ CACHE_MAX_ENTRIES: "-1" }, { devRequested: true })).toThrow(
      "CACHE_MAX_ENTRIES",
    );
  });

  const pepper = "p".repeat(32);
  it.each([
    ["nothing asked, no MONGODB_URI", {}, {}, "MONGODB_URI is required"],
    [
      "KEYWARD_DEV=1 under NODE_ENV=production",
      { KEYWARD_DEV: "1", NODE_ENV: "production" },
      {},
      "NODE_ENV=production",
    ],
    [
      "--dev under NODE_ENV=production",
      { NODE_ENV: "production" },
      { devRequested: true },
      "NODE_ENV=production",
    ],
    [
      "MONGODB_URI without KEY_PEPPER",
      { MONGODB_URI: "mongodb://db" },
      {},
      "KEY_PEPPER is required",
    ],
    ["KEYWARD_DEV=yes", { KEYWARD_DEV: "yes" }, {}, "KEYWARD_DEV must be true or false"],
  ])("operating mode: %s is refused", (_what, env, options, message) => {
    expect(() => loadConfig(env, options)).toThrow(message);
  });

  it.each([
    ["--dev", {}, { devRequested: true }, "dev", "127.0.0.1"],
    ["KEYWARD_DEV=1", { KEYWARD_DEV: "1" }, {}, "dev", "127.0.0.1"],
    ["--dev with HOST", { HOST: "0.0.0.0" }, { devRequested: true }, "dev", "0.0.0.0"],
    [
      "--dev with MONGODB_URI",
      { MONGODB_URI: "mongodb://db", KEY_PEPPER: pepper },
      { devRequested: true },
      "mongodb",
      "0.0.0.0",
    ],
    ["MONGODB_URI", { MONGODB_URI: "mongodb://db", KEY_PEPPER: pepper }, {}, "mongodb", "0.0.0.0"],
  ])("operating mode: %s runs %s on %s", (_what, env, options, mode, host) => {
    const c = loadConfig(env, options);
    expect(c.mode).toBe(mode);
    expect(c.host).toBe(host);
  });

  it("the logged config masks the URI's password and secret query options", () => {
    const uri =
      "mongodb://u:hunter2@db:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok123&tlsCertificateKeyFilePassword=pw456&replicaSet=rs0";
    const shown = JSON.stringify(
      redactedConfig(loadConfig({ MONGODB_URI: uri, KEY_PEPPER: pepper })),
    );
    for (const secret of ["hunter2", "tok123", "pw456", pepper])
      expect(shown).not.toContain(secret);
    expect(shown).toContain("replicaSet=rs0");
    expect(shown).toContain("authMechanism=MONGODB-AWS");
  });
});
