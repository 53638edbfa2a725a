import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificates } from "../support/certificates.js";
import { runCli } from "../support/cli.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { freePort } from "../support/mongo-provider.js";

/** The one CLI runner, with the connection variables (or their absence) a test gives. */
const keyward = (args: string[], env: Record<string, string>, stdin?: string) =>
  runCli(args, { env, stdin });

describe("the admin CLI against a running keyward", () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer();
    env = { KEYWARD_URL: server.baseUrl, KEYWARD_ADMIN_KEY: server.rootKey };
  });
  afterAll(async () => server?.stop());

  it("keys create prints the secret once with a warning; --json parses", async () => {
    const human = await keyward(
      [
        "keys",
        "create",
        "--workspace",
        "acme",
        "--name",
        "Production",
        "--scope",
        "campaigns:read",
        "--domain",
        "*.acme.com",
        "--expires-in",
        "30d",
      ],
      env,
    );
    expect(human.code, human.stderr).toBe(0);
    const secrets = human.stdout.match(/kw_live_[0-9A-Za-z]{49}/g) ?? [];
    expect(secrets).toHaveLength(1);
    expect(human.stdout).toContain("shown once");
    const json = await keyward(
      [
        "keys",
        "create",
        "--workspace",
        "acme",
        "--name",
        "Zapier",
        "--scope",
        "leads:read",
        "--json",
      ],
      env,
    );
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      key: string;
      apiKey: { id: string; scopes: string[] };
    };
    expect(parsed.key).toMatch(/^kw_live_/);
    expect(parsed.apiKey.scopes).toEqual(["leads:read"]);
  });

  it("list, get, update, rotate and revoke a key", async () => {
    const created = JSON.parse(
      (
        await keyward(
          [
            "keys",
            "create",
            "--workspace",
            "acme",
            "--name",
            "lifecycle",
            "--scope",
            "campaigns:read",
            "--json",
          ],
          env,
        )
      ).stdout,
    ) as {
      key: string;
      apiKey: { id: string; keyPreview: string };
    };
    const id = created.apiKey.id;
    const list = await keyward(["keys", "list", "--workspace", "acme"], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split("\n")[0]).toMatch(
      /^ID\s+NAME\s+KEY\s+WORKSPACE\s+SCOPES\s+DOMAINS\s+STATUS\s+CREATED\s+LAST USED\s+EXPIRES$/,
    );
    expect(list.stdout).toContain(created.apiKey.keyPreview);
    expect(list.stdout).not.toContain(created.key);

    const updated = await keyward(
      [
        "keys",
        "update",
        id,
        "--add-scope",
        "leads:read",
        "--remove-scope",
        "campaigns:read",
        "--json",
      ],
      env,
    );
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
    const revoked = await keyward(
      ["keys", "revoke", successor.apiKey.id, "--reason", "done", "--yes"],
      env,
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(
      JSON.parse((await keyward(["keys", "get", successor.apiKey.id, "--json"], env)).stdout).apiKey
        .status,
    ).toBe("KEY_STATUS_REVOKED");

    const audit = await keyward(["audit", "--workspace", "acme"], env);
    expect(audit.stdout).toMatch(/revoke/);
    expect((await keyward(["scopes"], env)).stdout).toContain("campaigns:write");
  });

  it.each([
    [
      "a wrong admin key",
      { KEYWARD_ADMIN_KEY: `kw_live_${"D".repeat(49)}` },
      3,
      /admin key was refused.*KEYWARD_ADMIN_KEY/,
    ],
    [
      "an unreachable server",
      { KEYWARD_URL: "http://127.0.0.1:PORT" },
      4,
      /unreachable.*KEYWARD_URL/,
    ],
    ["no admin key at all", { KEYWARD_ADMIN_KEY: "" }, 2, /KEYWARD_ADMIN_KEY/],
    ["a URL that is not one", { KEYWARD_URL: "localhost:50051" }, 2, /http:\/\//],
  ])("%s: one clear line and its exit code", async (_name, overrides, code, message) => {
    const port = String(await freePort());
    const e = {
      ...env,
      ...Object.fromEntries(
        Object.entries(overrides).map(([k, v]) => [k, v.replace("PORT", port)]),
      ),
    };
    const r = await keyward(["keys", "list"], e);
    expect(r.code).toBe(code);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    "keys",
    "keys create",
    "keys list",
    "keys get",
    "keys update",
    "keys revoke",
    "keys rotate",
    "scopes",
    "audit",
  ])("keyward %s --help", async (command) => {
    const r = await keyward([...command.split(" "), "--help"], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: keyward /);
  });

  describe("the admin key from a file or standard input, not the command line", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-cli-"));
    const file = (name: string, content: string) => {
      writeFileSync(join(dir, name), content, { mode: 0o600 });
      return join(dir, name);
    };
    const noEnvKey = () => ({ KEYWARD_URL: server.baseUrl });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("--admin-key-file PATH: the key read from the file, surrounding whitespace trimmed", async () => {
      const r = await keyward(
        ["scopes", "--admin-key-file", file("admin.key", `\n  ${server.rootKey}\n`)],
        noEnvKey(),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("campaigns:write");
    });

    it("--admin-key-file -: the key read from standard input", async () => {
      const r = await keyward(
        ["keys", "list", "--workspace", "acme", "--admin-key-file", "-"],
        noEnvKey(),
        `${server.rootKey}\n`,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ID\s+NAME/);
    });

    it("--admin-key-file wins over KEYWARD_ADMIN_KEY", async () => {
      const r = await keyward(
        ["scopes", "--admin-key-file", "-"],
        { ...noEnvKey(), KEYWARD_ADMIN_KEY: `kw_live_${"D".repeat(49)}` },
        server.rootKey,
      );
      expect(r.code, r.stderr).toBe(0);
    });

    it.each([
      [
        "a missing file",
        () => ["--admin-key-file", join(dir, "nope.key")],
        "",
        /--admin-key-file .*nope\.key: no such file; give the path of a readable file/,
      ],
      [
        "an empty file",
        () => ["--admin-key-file", file("empty.key", " \n")],
        "",
        /--admin-key-file: .*empty\.key is empty; put the admin key in it/,
      ],
      [
        "empty standard input",
        () => ["--admin-key-file", "-"],
        "",
        /--admin-key-file: standard input is empty/,
      ],
      [
        "a file holding more than the key",
        () => ["--admin-key-file", file("two.key", "kw_live_a kw_live_b\n")],
        "",
        /more than one word/,
      ],
      [
        "both --admin-key and --admin-key-file",
        () => ["--admin-key", "x", "--admin-key-file", "-"],
        "x",
        /--admin-key-file or --admin-key, not both/,
      ],
    ])("%s: exit 2 and one line saying how to fix it", async (_name, flags, stdin, message) => {
      const r = await keyward(["scopes", ...flags()], noEnvKey(), stdin);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });

    it("--help says that --admin-key shows in ps and offers --admin-key-file", async () => {
      const r = await keyward(["keys", "list", "--help"], {});
      expect(r.stdout).toMatch(/--admin-key-file PATH/);
      expect(r.stdout).toMatch(/--admin-key KEY[\s\S]*visible to other users in `ps`/);
    });
  });
});

describe("the admin CLI against a keyward that requires client certificates (TLS_CLIENT_CA_FILE)", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyward-cli-tls-"));
  const pem = (name: string) => join(dir, name);
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    makeCertificates(dir);
    server = await startTestServer({
      store: "memory",
      env: {
        TLS_CERT_FILE: pem("server.pem"),
        TLS_KEY_FILE: pem("server.key"),
        TLS_CLIENT_CA_FILE: pem("ca.pem"),
      },
    });
    env = { KEYWARD_URL: `https://127.0.0.1:${server.port}`, KEYWARD_ADMIN_KEY: server.rootKey };
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("succeeds with the client certificate, from flags or from KEYWARD_CA_FILE, KEYWARD_CERT_FILE, KEYWARD_KEY_FILE", async () => {
    const flags = await keyward(
      [
        "scopes",
        "--ca-file",
        pem("ca.pem"),
        "--cert-file",
        pem("client.pem"),
        "--key-file",
        pem("client.key"),
      ],
      env,
    );
    expect(flags.code, flags.stderr).toBe(0);
    expect(flags.stdout).toContain("campaigns:write");
    const fromEnv = await keyward(["scopes"], {
      ...env,
      KEYWARD_CA_FILE: pem("ca.pem"),
      KEYWARD_CERT_FILE: pem("client.pem"),
      KEYWARD_KEY_FILE: pem("client.key"),
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
  });

  it.each([
    [
      "no client certificate",
      () => ["--ca-file", pem("ca.pem")],
      3,
      /client certificate.*--cert-file and --key-file/,
    ],
    [
      "the server's CA not trusted",
      () => ["--cert-file", pem("client.pem"), "--key-file", pem("client.key")],
      4,
      /certificate.*not trusted.*--ca-file/,
    ],
    [
      "--cert-file without --key-file",
      () => ["--ca-file", pem("ca.pem"), "--cert-file", pem("client.pem")],
      2,
      /--cert-file given without --key-file/,
    ],
    [
      "a file that is not PEM",
      () => ["--ca-file", pem("server.ext")],
      2,
      /--ca-file .*server\.ext: not a PEM file/,
    ],
    [
      "a key that does not match the certificate",
      () => [
        "--ca-file",
        pem("ca.pem"),
        "--cert-file",
        pem("client.pem"),
        "--key-file",
        pem("server.key"),
      ],
      2,
      /cannot be used/,
    ],
  ])("%s: one line saying what to fix", async (_name, flags, code, message) => {
    const r = await keyward(["scopes", ...flags()], env);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it("TLS files with an http:// URL: refused, naming the fix", async () => {
    const r = await keyward(
      ["scopes", "--url", `http://127.0.0.1:${server.port}`, "--ca-file", pem("ca.pem")],
      env,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ca-file given but the URL .* is not https:\/\//);
  });
});
