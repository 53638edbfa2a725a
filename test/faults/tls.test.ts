import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { makeCertificates } from "../support/certificates.js";
import { startTestServer, type TestServer } from "../support/harness.js";

async function check(
  port: number,
  options: { ca?: Buffer; cert?: Buffer; key?: Buffer; plaintext?: boolean },
): Promise<string> {
  const transport = createGrpcTransport({
    baseUrl: `${options.plaintext ? "http" : "https"}://127.0.0.1:${port}`,
    nodeOptions: { ca: options.ca, cert: options.cert, key: options.key },
  });
  try {
    const r = await createClient(Health, transport).check({}, { timeoutMs: 3000 });
    return HealthCheckResponse_ServingStatus[r.status];
  } catch (err) {
    return `error:${Code[ConnectError.from(err).code]}`;
  }
}

describe("TLS from configured files", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyward-tls-"));
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(file(name));
  let tls: TestServer;
  let mtls: TestServer;

  beforeAll(async () => {
    makeCertificates(dir);
    tls = await startTestServer({
      store: "memory",
      env: { TLS_CERT_FILE: file("server.pem"), TLS_KEY_FILE: file("server.key") },
    });
    mtls = await startTestServer({
      store: "memory",
      env: {
        TLS_CERT_FILE: file("server.pem"),
        TLS_KEY_FILE: file("server.key"),
        TLS_CLIENT_CA_FILE: file("ca.pem"),
      },
    });
  }, 30_000);
  afterAll(async () => {
    await tls?.stop();
    await mtls?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves TLS to a client that trusts the CA, and nothing in cleartext", async () => {
    expect(await check(tls.port, { ca: read("ca.pem") })).toBe("SERVING");
    expect(await check(tls.port, {})).toMatch(/^error:/); // self-made CA, not trusted by default
    expect(await check(tls.port, { plaintext: true })).toMatch(/^error:/);
  });

  it("with TLS_CLIENT_CA_FILE, refuses a client without a certificate and serves one with a certificate from that CA", async () => {
    expect(await check(mtls.port, { ca: read("ca.pem") })).toMatch(/^error:/);
    expect(
      await check(mtls.port, {
        ca: read("ca.pem"),
        cert: read("client.pem"),
        key: read("client.key"),
      }),
    ).toBe("SERVING");
    // A certificate this CA did not sign is refused like none at all.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=stranger",
        "-keyout",
        "stranger.key",
        "-out",
        "stranger.pem",
      ],
      { cwd: dir, stdio: "pipe" },
    );
    expect(
      await check(mtls.port, {
        ca: read("ca.pem"),
        cert: read("stranger.pem"),
        key: read("stranger.key"),
      }),
    ).toMatch(/^error:/);
  });
});
