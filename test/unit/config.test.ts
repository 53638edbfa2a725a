import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../../src/config.js";

describe("configuration", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

  it.each(CONFIG_VARIABLES.map((v) => [v.name, v]))("README's configuration table documents %s with its default", (name, v) => {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
    expect(row, `README has no row for ${name}`).toBeDefined();
    if (/^\d+$|^[a-z]+$/.test(v.default)) expect(row).toContain(`\`${v.default}\``);
  });

  it("every variable in the README table is one keyward knows", () => {
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(CONFIG_VARIABLES.map((v) => v.name).sort());
  });

  it("defaults match the table", () => {
    const c = loadConfig({});
    expect(c.port).toBe(50051);
    expect(c.cache.maxEntries).toBe(100_000);
    expect(c.invalidationPollMs).toBe(250);
    expect(c.mongodbUri).toBeNull();
  });

  it("names the variable of a bad value", () => {
    expect(() => loadConfig({ CACHE_MAX_ENTRIES: "-1" })).toThrow(ConfigError);
    expect(() => loadConfig({ CACHE_MAX_ENTRIES: "-1" })).toThrow("CACHE_MAX_ENTRIES");
  });
});
