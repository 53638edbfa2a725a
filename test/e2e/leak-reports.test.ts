import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { AuditAction, KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import { generateKey } from "../../src/admin/key-material.js";
import {
  bearer,
  startTestServer,
  type TestServer,
  uniqueDbName,
  waitFor,
} from "../support/harness.js";

/** A scanner's key pair, as `keyward leak-reports keygen` or openssl makes one, and the key list keyward trusts. */
function scanner(id: string) {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { id, privateKey, entry: { key_identifier: id, key: pem, is_current: true } };
}

const trusted = scanner("github-current");
const stranger = scanner("not-trusted");
const dir = mkdtempSync(join(tmpdir(), "keyward-leaks-"));
const keysFile = join(dir, "keys.json");
writeFileSync(keysFile, JSON.stringify({ public_keys: [trusted.entry] }));

function signed(body: Buffer | string, who = trusted, id = who.id): Record<string, string> {
  const signature = sign("sha256", Buffer.from(body), {
    key: who.privateKey,
    dsaEncoding: "der",
  }).toString("base64");
  return {
    "content-type": "application/json",
    "Github-Public-Key-Identifier": id,
    "Github-Public-Key-Signature": signature,
  };
}

describe("leak reports: POST /v1/leak-reports in GitHub's partner format", () => {
  const db = uniqueDbName();
  let a: TestServer;
  let b: TestServer;
  const post = (body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${a.httpUrl}/v1/leak-reports`, { method: "POST", body, headers });
  const decide = (server: TestServer, key: string) =>
    server
      .client(AuthorizeService)
      .authorize({ credential: { case: "apiKey", value: key }, requiredScopes: [] })
      .then((r) => r.reason);

  beforeAll(async () => {
    const env = { MONGODB_DB: db, LEAK_REPORT_KEYS_FILE: keysFile, INVALIDATION_POLL_MS: "100" };
    a = await startTestServer({ env });
    b = await startTestServer({ env });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  const newKey = async (name: string) => {
    const r = await a
      .client(KeyAdminService)
      .createKey({ name, workspace: "acme", scopes: ["campaigns:read"] }, bearer(a.rootKey));
    return { key: r.key, id: r.apiKey!.id };
  };

  it("revokes a live key on every replica within 1 s, labels live, revoked and random tokens, and audits once", async () => {
    const live = await newKey("leaky");
    const old = await newKey("already revoked");
    await a
      .client(KeyAdminService)
      .revokeKey({ id: old.id, reason: "rotated out" }, bearer(a.rootKey));
    expect(await decide(b, live.key)).toBe(Reason.OK); // cached on b before the report
    const random = generateKey("kw", "live");
    const report = JSON.stringify([
      {
        token: live.key,
        type: "keyward_api_key",
        url: "https://github.com/acme/app/blob/abc/.env",
        source: "content",
      },
      { token: old.key, type: "keyward_api_key", url: "https://gist.github.com/x", source: "gist" },
      {
        token: random,
        type: "keyward_api_key",
        url: "https://github.com/acme/app/blob/abc/x",
        source: "content",
      },
    ]);
    const sent = Date.now();
    const res = await post(report, signed(report));
    expect(res.status).toBe(200);
    const sha = (t: string) => createHash("sha256").update(t).digest("hex");
    expect(await res.json()).toEqual([
      { token_hash: sha(live.key), token_type: "keyward_api_key", label: "true_positive" },
      { token_hash: sha(old.key), token_type: "keyward_api_key", label: "true_positive" },
      { token_hash: sha(random), token_type: "keyward_api_key", label: "false_positive" },
    ]);
    await waitFor(
      async () =>
        (await decide(a, live.key)) === Reason.KEY_REVOKED &&
        (await decide(b, live.key)) === Reason.KEY_REVOKED,
      1000,
      "the leaked key refused on both replicas",
    );
    expect(Date.now() - sent).toBeLessThan(1000 + 500);

    const record = await a.client(KeyAdminService).getKey({ id: live.id }, bearer(a.rootKey));
    expect(record.apiKey?.status).toBe(2); // KEY_STATUS_REVOKED
    const audit = await a
      .client(KeyAdminService)
      .listAuditEvents({ workspace: "acme", pageSize: 100 }, bearer(a.rootKey));
    const leakEvents = audit.events.filter((e) => e.actorKeyId === "leak-report");
    expect(leakEvents).toHaveLength(1);
    expect(leakEvents[0]).toMatchObject({ action: AuditAction.REVOKE, targetKeyId: live.id });
    expect(JSON.stringify(leakEvents[0]!.changes)).toContain(
      "leaked (content): https://github.com/acme/app/blob/abc/.env",
    );
  });

  it("refuses a report with one byte changed, signed by an unknown key, or unsigned (401), and revokes nothing", async () => {
    const live = await newKey("safe");
    const report = JSON.stringify([
      { token: live.key, type: "keyward_api_key", url: "https://x", source: "content" },
    ]);
    const headers = signed(report);
    const tampered = Buffer.from(report);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 3) ^ 1, tampered.length - 3);
    expect((await post(tampered, headers)).status).toBe(401);
    expect((await post(report, signed(report, stranger))).status).toBe(401);
    expect((await post(report, signed(report, stranger, trusted.id))).status).toBe(401);
    expect((await post(report, { "content-type": "application/json" })).status).toBe(401);
    expect(await decide(a, live.key)).toBe(Reason.OK);
  });

  it("refuses an unsigned report before reading its body, so junk costs no memory", async () => {
    const { connect } = await import("node:net");
    const url = new URL(a.httpUrl);
    const socket = connect(Number(url.port), url.hostname);
    const answer = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
        if (text.includes("\r\n\r\n")) resolve(text);
      });
    });
    // Headers announce 1,000,000 bytes; none are sent.
    socket.write(
      "POST /v1/leak-reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
    );
    expect((await answer).split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
    socket.destroy();
  });

  it("answers 413 to a 2 MiB body and 400 to a signed body that is not a report", async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    expect((await post(big, signed(big))).status).toBe(413);
    const notArray = JSON.stringify({ token: "x" });
    const res = await post(notArray, signed(notArray));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toContain("body");
    const noToken = JSON.stringify([{ type: "x" }]);
    expect(
      ((await (await post(noToken, signed(noToken))).json()) as { message: string }).message,
    ).toContain("[0].token");
  });

  it("is not there (404) when LEAK_REPORT_KEYS_FILE is unset", async () => {
    const plain = await startTestServer({ store: "memory" });
    try {
      const res = await fetch(`${plain.httpUrl}/v1/leak-reports`, {
        method: "POST",
        body: "[]",
        headers: signed("[]"),
      });
      expect(res.status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

describe("an internal scanner, with keys from `keyward leak-reports keygen` and signatures from `sign`", () => {
  it("is trusted by keyward and gets its key revoked", async () => {
    const { execFileSync } = await import("node:child_process");
    const work = mkdtempSync(join(tmpdir(), "keyward-scanner-"));
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, ["bin/keyward.js", "leak-reports", ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    const privateKey = join(work, "scanner.pem");
    writeFileSync(
      join(work, "keys.json"),
      cli("keygen", "--out", privateKey, "--id", "ci-scanner"),
    );
    const server = await startTestServer({
      store: "memory",
      env: { LEAK_REPORT_KEYS_FILE: join(work, "keys.json") },
    });
    try {
      const { key } = await server
        .client(KeyAdminService)
        .createKey(
          { name: "pushed", workspace: "acme", scopes: ["leads:read"] },
          bearer(server.rootKey),
        );
      const reportFile = join(work, "report.json");
      writeFileSync(
        reportFile,
        JSON.stringify([
          { token: key, type: "keyward_api_key", url: "https://ci.internal/job/42", source: "ci" },
        ]),
      );
      const signature = cli("sign", "--key", privateKey, reportFile).trim();
      const { readFileSync } = await import("node:fs");
      const res = await fetch(`${server.httpUrl}/v1/leak-reports`, {
        method: "POST",
        body: readFileSync(reportFile),
        headers: {
          "Github-Public-Key-Identifier": "ci-scanner",
          "Github-Public-Key-Signature": signature,
        },
      });
      expect(res.status).toBe(200);
      const reason = await server
        .client(AuthorizeService)
        .authorize({ credential: { case: "apiKey", value: key }, requiredScopes: [] })
        .then((r) => r.reason);
      expect(reason).toBe(Reason.KEY_REVOKED);
    } finally {
      await server.stop();
    }
  });

  it("a key file that is not P-256 stops the start with one line naming LEAK_REPORT_KEYS_FILE", async () => {
    const { generateKeyPairSync: gen } = await import("node:crypto");
    const rsa = gen("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    const file = join(mkdtempSync(join(tmpdir(), "keyward-badkeys-")), "keys.json");
    writeFileSync(file, JSON.stringify({ public_keys: [{ key_identifier: "x", key: rsa }] }));
    await expect(
      startTestServer({ store: "memory", env: { LEAK_REPORT_KEYS_FILE: file } }),
    ).rejects.toThrow(/LEAK_REPORT_KEYS_FILE.*P-256/);
  });
});
