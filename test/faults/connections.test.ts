import type { EventEmitter } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeService, Reason } from "../../gen/keyward/v1/authorize_pb.js";
import { startTestServer, type TestServer, waitFor } from "../support/harness.js";

/**
 * DESIGN "Connections": what a slow, idle or hostile client can hold on either
 * port. The fixed 10 s / 30 s bounds are shrunk through the harness so the
 * whole file runs in seconds; IDLE_TIMEOUT_MS goes through the environment.
 */
const LIMITS = { silentSocketTimeoutMs: 300, headersTimeoutMs: 1000, requestTimeoutMs: 2000 };
const IDLE_MS = 1000;
/**
 * Upper bounds allow for Node's 1 s margin over the advertised keep-alive
 * timeout, the interval at which header deadlines are checked, and a machine
 * shared with other test runs. Lower bounds are exact: nothing is cut early.
 */
const SLACK_MS = 1800;
/** How long a test waits for a close that should have come, before failing. */
const GIVE_UP_MS = 6000;

const ANONYMOUS_CHECK = JSON.stringify({
  api_key: "kw_live_nope",
  required_scopes: ["campaigns:read"],
});

function connectRaw(port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  }).then((socket) => {
    // Writes that race the server's close fail with EPIPE/ECONNRESET; the close is what is measured.
    socket.on("error", () => {});
    // Flowing, so the server's FIN is read (and 'close' emitted) even when nobody reads what came before it.
    socket.resume();
    return socket;
  });
}

/** Milliseconds from `since` until `target` closes; Infinity if it is still open after GIVE_UP_MS. */
function closedAfter(
  target: EventEmitter & { destroyed: boolean },
  since: number,
): Promise<number> {
  if (target.destroyed) return Promise.resolve(Date.now() - since);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(Infinity), GIVE_UP_MS);
    target.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - since);
    });
  });
}

function expectWithin(elapsed: number, bound: number, what: string): void {
  expect(elapsed, `${what}: closed after ${elapsed} ms, bound ${bound} ms`).toBeGreaterThanOrEqual(
    bound,
  );
  expect(elapsed, `${what}: closed after ${elapsed} ms, bound ${bound} ms`).toBeLessThan(
    bound + SLACK_MS,
  );
}

/** Reads one HTTP/1.1 response (Content-Length or chunked) off a raw socket. */
function readResponse(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      const complete = length
        ? text.length >= end + 4 + Number(length[1])
        : text.endsWith("0\r\n\r\n");
      if (complete) {
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve(text);
      }
    };
    const onClose = () =>
      reject(new Error(`connection closed before a whole response: ${JSON.stringify(text)}`));
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

/** One request on an HTTP/2 session; resolves with the status and the body. */
function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer | string,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    stream.on("response", (h) => (status = Number(h[":status"])));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve({ status, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
    stream.end(body);
  });
}

/** An empty protobuf message in a gRPC length-prefixed frame: a valid HealthCheckRequest for the default service. */
const EMPTY_GRPC_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);
const GRPC_HEADERS = { "content-type": "application/grpc", te: "trailers" };

describe("connections one client can hold (DESIGN Connections)", () => {
  let server: TestServer;
  let httpPort: number;
  beforeAll(async () => {
    server = await startTestServer({
      store: "memory",
      env: { IDLE_TIMEOUT_MS: String(IDLE_MS) },
      connections: LIMITS,
    });
    httpPort = Number(new URL(server.httpUrl).port);
  });
  afterAll(async () => server?.stop());

  /** A well-behaved client on both ports: the gRPC client on PORT and Connect JSON over fetch (keep-alive) on HTTP_PORT. */
  async function normalClientWorks(): Promise<void> {
    const res = await server.client(AuthorizeService).authorize({
      credential: { case: "apiKey", value: "kw_live_nope" },
      requiredScopes: ["campaigns:read"],
    });
    expect(res.reason).toBe(Reason.KEY_MALFORMED);
    const http = await fetch(`${server.httpUrl}/keyward.v1.AuthorizeService/Authorize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ANONYMOUS_CHECK,
    });
    expect(await http.json()).toMatchObject({ reason: "REASON_KEY_MALFORMED" });
  }

  it("closes a connection that sends nothing after the silent-socket timeout, on both ports", async () => {
    const start = Date.now();
    const [grpcSilent, httpSilent] = await Promise.all([
      connectRaw(server.port),
      connectRaw(httpPort),
    ]);
    const closed = Promise.all([closedAfter(grpcSilent, start), closedAfter(httpSilent, start)]);
    await normalClientWorks();
    const [grpcElapsed, httpElapsed] = await closed;
    expectWithin(grpcElapsed, LIMITS.silentSocketTimeoutMs, "silent socket on PORT");
    expectWithin(httpElapsed, LIMITS.silentSocketTimeoutMs, "silent socket on HTTP_PORT");
    await normalClientWorks();
  });

  it("cuts an HTTP/1.1 client that trickles a header line at a time once headersTimeout has passed", async () => {
    const socket = await connectRaw(httpPort);
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    const start = Date.now();
    socket.write("GET /v1/check HTTP/1.1\r\nHost: x\r\n");
    let n = 0;
    const trickle = setInterval(() => socket.write(`X-Trickle-${n++}: 1\r\n`), 300);
    try {
      const closed = closedAfter(socket, start);
      await normalClientWorks();
      expectWithin(await closed, LIMITS.headersTimeoutMs, "header trickle");
    } finally {
      clearInterval(trickle);
    }
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    await normalClientWorks();
  });

  it("cuts an HTTP/1.1 request whose body trickles once requestTimeout has passed", async () => {
    const socket = await connectRaw(httpPort);
    const start = Date.now();
    socket.write(
      `POST /keyward.v1.AuthorizeService/Authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
    );
    const trickle = setInterval(() => socket.write(" "), 300);
    try {
      expectWithin(await closedAfter(socket, start), LIMITS.requestTimeoutMs, "body trickle");
    } finally {
      clearInterval(trickle);
    }
  });

  it("keeps an HTTP/1.1 connection alive for a client that reuses it, and closes it once idle for IDLE_TIMEOUT_MS", async () => {
    const socket = await connectRaw(httpPort);
    const request = `POST /keyward.v1.AuthorizeService/Authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${ANONYMOUS_CHECK.length}\r\n\r\n${ANONYMOUS_CHECK}`;
    // Well within the idle timeout, as nginx reuses an upstream connection.
    for (let i = 0; i < 3; i++) {
      const response = readResponse(socket);
      socket.write(request);
      const text = await response;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text).toMatch(/\r\nkeep-alive: timeout=1\r\n/i);
    }
    const idleSince = Date.now();
    const elapsed = await closedAfter(socket, idleSince);
    expectWithin(elapsed, IDLE_MS, "idle keep-alive connection");
  });

  it("sends GOAWAY to an idle h2c session on HTTP_PORT and closes it after IDLE_TIMEOUT_MS", async () => {
    const session = http2.connect(server.httpUrl);
    session.on("error", () => {});
    let goaway = false;
    session.on("goaway", () => (goaway = true));
    const res = await h2Request(
      session,
      { ":path": "/keyward.v1.AuthorizeService/Authorize", "content-type": "application/json" },
      ANONYMOUS_CHECK,
    );
    expect(res.status).toBe(200);
    const idleSince = Date.now();
    const closed = closedAfter(session, idleSince);
    await normalClientWorks();
    expectWithin(await closed, IDLE_MS, "idle h2c session");
    expect(goaway).toBe(true);
  });

  it("sends GOAWAY to an idle gRPC connection on PORT after IDLE_TIMEOUT_MS, but keeps one with a call open", async () => {
    const watching = http2.connect(server.baseUrl);
    watching.on("error", () => {});
    const watch = watching.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      ...GRPC_HEADERS,
    });
    watch.on("error", () => {});
    const firstStatus = new Promise((resolve) => watch.once("data", resolve));
    watch.end(EMPTY_GRPC_MESSAGE);
    await firstStatus;

    const idle = http2.connect(server.baseUrl);
    idle.on("error", () => {});
    let goaway = false;
    idle.on("goaway", () => (goaway = true));
    const res = await h2Request(
      idle,
      { ":path": "/grpc.health.v1.Health/Check", ...GRPC_HEADERS },
      EMPTY_GRPC_MESSAGE,
    );
    expect(res.status).toBe(200);
    const idleSince = Date.now();
    expectWithin(await closedAfter(idle, idleSince), IDLE_MS, "idle gRPC connection");
    expect(goaway).toBe(true);
    // Opened before the idle one, so had it been counted as idle it would be gone by now.
    expect(watching.destroyed).toBe(false);

    watch.close();
    const watchEnded = Date.now();
    expectWithin(
      await closedAfter(watching, watchEnded),
      IDLE_MS,
      "gRPC connection after its last call ended",
    );
  });
});

describe("MAX_CONNECTIONS", () => {
  const MAX = 3;
  let server: TestServer;
  let httpPort: number;
  const held: net.Socket[] = [];
  beforeAll(async () => {
    server = await startTestServer({ store: "memory", env: { MAX_CONNECTIONS: String(MAX) } });
    httpPort = Number(new URL(server.httpUrl).port);
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await server?.stop();
  });

  /** A connection the server accepted and keeps: it answers a request on it. */
  async function holdHttp(): Promise<net.Socket> {
    const socket = await connectRaw(httpPort);
    const response = readResponse(socket);
    socket.write(
      `POST /keyward.v1.AuthorizeService/Authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${ANONYMOUS_CHECK.length}\r\n\r\n${ANONYMOUS_CHECK}`,
    );
    expect(await response).toMatch(/^HTTP\/1\.1 200 /);
    held.push(socket);
    return socket;
  }

  async function holdGrpc(): Promise<http2.ClientHttp2Session> {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    const res = await h2Request(
      session,
      { ":path": "/grpc.health.v1.Health/Check", ...GRPC_HEADERS },
      EMPTY_GRPC_MESSAGE,
    );
    expect(res.status).toBe(200);
    return session;
  }

  /** A connection past the limit is closed at once, before it could send anything. */
  async function expectRefused(port: number): Promise<void> {
    const start = Date.now();
    const socket = await connectRaw(port).catch(() => null);
    if (socket === null) return; // refused before the handshake completed: refused all the same
    let received = 0;
    socket.on("data", (d: Buffer) => (received += d.length));
    expect(await closedAfter(socket, start)).toBeLessThan(1000);
    expect(received).toBe(0);
  }

  it("refuses connections past MAX_CONNECTIONS at once on each port, and serves again when one is released", async () => {
    const httpHeld = [];
    for (let i = 0; i < MAX; i++) httpHeld.push(await holdHttp());
    await expectRefused(httpPort);

    // The limit is per port: PORT still serves while HTTP_PORT is full.
    const grpcHeld = [];
    for (let i = 0; i < MAX; i++) grpcHeld.push(await holdGrpc());
    await expectRefused(server.port);

    httpHeld[0]!.destroy();
    grpcHeld[0]!.destroy();
    await waitFor(
      async () => {
        try {
          const res = await fetch(`${server.httpUrl}/keyward.v1.AuthorizeService/Authorize`, {
            method: "POST",
            headers: { "content-type": "application/json", connection: "close" },
            body: ANONYMOUS_CHECK,
          });
          return res.status === 200;
        } catch {
          return false;
        }
      },
      5000,
      "HTTP_PORT serving again",
    );
    const session = await holdGrpc();
    session.destroy();
    for (const s of grpcHeld) s.destroy();
  });
});
