import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { TlsConfig } from "../config.js";
import { boundListener, closeWhenIdle, type ConnectionLimits } from "./connection-limits.js";

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

/**
 * HTTP/1.1 deadlines. Node checks headersTimeout and requestTimeout on an
 * interval (default 30 s, which would let a header trickle run to 40 s), so the
 * interval is a fraction of the headers deadline. keepAliveTimeout is the idle
 * bound; long, so a proxy that reuses upstream connections (nginx keeps them
 * 60 s) does not race Node's close.
 */
function http1Options(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  } satisfies http.ServerOptions;
}

/** The client connection preface of HTTP/2 (RFC 9113 §3.4); no HTTP/1.1 request starts with it. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface ConnectServerOptions {
  host: string;
  port: number;
  tls: TlsConfig | null;
  maxMessageBytes: number;
  limits: ConnectionLimits;
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
  const { limits } = options;
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    closeWhenIdle(session, limits.idleTimeoutMs);
  };

  let server: net.Server;
  let h1: http.Server | null = null;
  if (options.tls) {
    const secure = http2.createSecureServer(
      {
        ...HTTP2_LIMITS,
        allowHTTP1: true,
        // A TLS client that connects and never finishes its handshake is as silent as one that sends nothing.
        handshakeTimeout: limits.silentSocketTimeoutMs,
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        ...(options.tls.clientCaFile ? { ca: readFileSync(options.tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    );
    // With allowHTTP1 this server also parses HTTP/1.1 and, as it listens, runs Node's deadline checks; its defaults are 60 s / 300 s.
    Object.assign(secure, http1Options(limits));
    secure.on("session", track);
    server = secure;
  } else {
    const h2 = http2.createServer(HTTP2_LIMITS, handler);
    h2.on("session", track);
    h1 = http.createServer({ maxHeaderSize: 16 * 1024, ...http1Options(limits) }, handler);
    // Node starts enforcing headersTimeout/requestTimeout when an HTTP server
    // emits 'listening'. This one never listens (the sniffer below hands it its
    // sockets), so without this a header trickle was never cut. Before any socket:
    // a connection is tracked only if the tracking exists when it arrives.
    h1.emit("listening");
    // One cleartext port for both: the first bytes say which protocol the client speaks.
    server = net.createServer((socket) => {
      socket.once("data", (first: Buffer) => {
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
  const sockets = boundListener(server, limits);

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
        // Also stops the HTTP/1 deadline checks started above.
        h1?.close();
        // A socket that has sent nothing (cleartext or TLS) has nothing in flight.
        for (const s of sockets) if (s.bytesRead === 0) s.destroy();
      });
    },
  };
}
