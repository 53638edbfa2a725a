import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/mongo-provider.js";
import { startTestServer, type TestServer } from "../support/harness.js";

const ROOT = new URL("../../", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it, from source; async, since the server answers from this same process. */
function keyward(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.split("\n").filter((l) => l && !l.startsWith("npm warn")).join("\n") }),
    );
  });
}

describe("the admin CLI against a running keyward", () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer();
    env = { KEYWARD_URL: server.baseUrl, KEYWARD_ADMIN_KEY: server.rootKey };
  });
  afterAll(async () => server?.stop());

  it("keys create prints the secret once with a warning; --json parses", async () => {
    const human = await keyward(["keys", "create", "--workspace", "acme", "--name", "Production", "--scope", "campaigns:read", "--domain", "*.acme.com", "--expires-in", "30d"], env);
    expect(human.code, human.stderr).toBe(0);
    const secrets = human.stdout.match(/kw_live_[0-9A-Za-z]{49}/g) ?? [];
    expect(secrets).toHaveLength(1);
    expect(human.stdout).toContain("shown once");
    const json = await keyward(["keys", "create", "--workspace", "acme", "--name", "Zapier", "--scope", "leads:read", "--json"], env);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { key: string; apiKey: { id: string; scopes: string[] } };
    expect(parsed.key).toMatch(/^kw_live_/);
    expect(parsed.apiKey.scopes).toEqual(["leads:read"]);
  });

  it("list, get, update, rotate and revoke a key", async () => {
    const created = JSON.parse((await keyward(["keys", "create", "--workspace", "acme", "--name", "lifecycle", "--scope", "campaigns:read", "--json"], env)).stdout) as {
      key: string;
      apiKey: { id: string; keyPreview: string };
    };
    const id = created.apiKey.id;
    const list = await keyward(["keys", "list", "--workspace", "acme"], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+KEY\s+WORKSPACE\s+SCOPES\s+DOMAINS\s+STATUS\s+CREATED\s+LAST USED\s+EXPIRES$/);
    expect(list.stdout).toContain(created.apiKey.keyPreview);
    expect(list.stdout).not.toContain(created.key);

    const updated = await keyward(["keys", "update", id, "--add-scope", "leads:read", "--remove-scope", "campaigns:read", "--json"], env);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout).apiKey.scopes).toEqual(["leads:read"]);
    expect((await keyward(["keys", "get", id], env)).stdout).toMatch(/scopes\s+leads:read/);

    const rotated = await keyward(["keys", "rotate", id, "--grace", "1h", "--json"], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const successor = JSON.parse(rotated.stdout) as { key: string; apiKey: { id: string } };
    expect(successor.key).not.toBe(created.key);

    const refused = await keyward(["keys", "revoke", successor.apiKey.id], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    const revoked = await keyward(["keys", "revoke", successor.apiKey.id, "--reason", "done", "--yes"], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse((await keyward(["keys", "get", successor.apiKey.id, "--json"], env)).stdout).apiKey.status).toBe("KEY_STATUS_REVOKED");

    const audit = await keyward(["audit", "--workspace", "acme"], env);
    expect(audit.stdout).toMatch(/revoke/);
    expect((await keyward(["scopes"], env)).stdout).toContain("campaigns:write");
  });

  it.each([
    ["a wrong admin key", { KEYWARD_ADMIN_KEY: "kw_live_" + "D".repeat(49) }, 3, /admin key was refused.*KEYWARD_ADMIN_KEY/],
    ["an unreachable server", { KEYWARD_URL: "http://127.0.0.1:PORT" }, 4, /unreachable.*KEYWARD_URL/],
    ["no admin key at all", { KEYWARD_ADMIN_KEY: "" }, 2, /KEYWARD_ADMIN_KEY/],
    ["a URL that is not one", { KEYWARD_URL: "localhost:50051" }, 2, /http:\/\//],
  ])("%s: one clear line and its exit code", async (_name, overrides, code, message) => {
    const port = String(await freePort());
    const e = { ...env, ...Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, v.replace("PORT", port)])) };
    const r = await keyward(["keys", "list"], e);
    expect(r.code).toBe(code);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it.each(["keys", "keys create", "keys list", "keys get", "keys update", "keys revoke", "keys rotate", "scopes", "audit"])("keyward %s --help", async (command) => {
    const r = await keyward([...command.split(" "), "--help"], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: keyward /);
  });
});
