import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo, type Socket } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { TlsConfig } from "../config.js";

/**
 * Node's defaults allow 2^32-1 concurrent streams per connection and 64 KiB of
 * headers: one client could hold the whole process. These bound what one
 * connection can make the server keep.
 */
export const HTTP2_LIMITS = {
  settings: { maxConcurrentStreams: 1000, maxHeaderListSize: 16 * 1024 },
  maxHeaderListPairs: 128,
  maxSessionMemory: 32,
  maxSessionInvalidFrames: 100,
  maxSessionRejectedStreams: 100,
} satisfies http2.ServerOptions;

const HTTP1_LIMITS = { maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 } satisfies http.ServerOptions;

/** The client connection preface of HTTP/2 (RFC 9113 §3.4); no HTTP/1.1 request starts with it. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface ConnectServerOptions {
  host: string;
  port: number;
  tls: TlsConfig | null;
  maxMessageBytes: number;
  routes: (router: ConnectRouter) => void;
  /** Plain HTTP endpoints served before the Connect router (forward auth, health); true when handled. */
  gateway?: (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => boolean;
}

export interface ListeningServer {
  port: number;
  /** Stops accepting, lets in-flight calls finish (up to timeoutMs), then drops what is left. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * The Connect port: the Connect protocol (JSON, so curl works), gRPC-web and
 * gRPC, over HTTP/1.1 and HTTP/2 (h2c in cleartext, ALPN with TLS), by
 * connect-node.
 */
export async function listenConnect(options: ConnectServerOptions): Promise<ListeningServer> {
  const connect = connectNodeAdapter({ routes: options.routes, readMaxBytes: options.maxMessageBytes });
  const gateway = options.gateway;
  const handler: typeof connect = gateway ? (req, res) => void (gateway(req, res as never) || connect(req, res)) : connect;
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<Socket>();
  /** Cleartext connections that have not sent a byte: nothing is in flight on them. */
  const undecided = new Set<Socket>();
  const track = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  };

  let server: net.Server;
  let h1: http.Server | null = null;
  if (options.tls) {
    const secure = http2.createSecureServer(
      {
        ...HTTP2_LIMITS,
        allowHTTP1: true,
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        ...(options.tls.clientCaFile ? { ca: readFileSync(options.tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    );
    secure.on("session", track);
    server = secure;
  } else {
    const h2 = http2.createServer(HTTP2_LIMITS, handler);
    h2.on("session", track);
    h1 = http.createServer(HTTP1_LIMITS, handler);
    // One cleartext port for both: the first bytes say which protocol the client speaks.
    server = net.createServer((socket) => {
      undecided.add(socket);
      socket.once("close", () => undecided.delete(socket));
      socket.once("data", (first: Buffer) => {
        undecided.delete(socket);
        socket.pause();
        const n = Math.min(first.length, H2_PREFACE.length);
        if (first.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
          socket.unshift(first);
          h2.emit("connection", socket);
        } else {
          // Node's HTTP/1 parser reads the socket's handle directly once it has the
          // connection, so the first bytes go back only after it is attached.
          h1!.emit("connection", socket);
          socket.unshift(first);
          socket.resume();
        }
      });
    });
  }

  // Every connection, whatever became of it (HTTP/1, HTTP/2, a TLS handshake, nothing):
  // close() waits for all of them, so past its timeout it must be able to end each one.
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    close(timeoutMs) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
          h1?.closeAllConnections();
        }, timeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // GOAWAY: clients open no new streams here, streams in flight run to completion.
        for (const s of sessions) s.close();
        h1?.closeIdleConnections();
        for (const s of undecided) s.destroy();
      });
    },
  };
}
