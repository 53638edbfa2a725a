import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { AddressInfo } from "node:net";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { TlsConfig } from "../config.js";
import { boundListener, type ConnectionLimits, closeWhenIdle } from "./connection-limits.js";
import { createProtocolSniffer } from "./protocol-sniffer.js";

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
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
    ),
  } satisfies http.ServerOptions;
}

export interface ConnectServerOptions {
  host: string;
  port: number;
  tls: TlsConfig | null;
  maxMessageBytes: number;
  limits: ConnectionLimits;
  routes: (router: ConnectRouter) => void;
  /** Plain HTTP endpoints served before the Connect router (forward auth, health); true when handled. */
  gateway?: (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => boolean;
}

export interface ListeningServer {
  port: number;
  /** Stops accepting, lets in-flight calls finish (up to timeoutMs), then drops what is left. */
  close(timeoutMs: number): Promise<void>;
}

type Handler = ReturnType<typeof connectNodeAdapter>;

/** The gateway's plain HTTP endpoints first, then the Connect router. */
function requestHandler(options: ConnectServerOptions): Handler {
  const connect = connectNodeAdapter({
    routes: options.routes,
    readMaxBytes: options.maxMessageBytes,
  });
  const gateway = options.gateway;
  return gateway ? (req, res) => void (gateway(req, res as never) || connect(req, res)) : connect;
}

/** The HTTP/2 sessions open now, each closed when idle, so close() can send each a GOAWAY. */
function sessionTracker(limits: ConnectionLimits) {
  const sessions = new Set<http2.ServerHttp2Session>();
  const track = (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    closeWhenIdle(session, limits.idleTimeoutMs);
  };
  return { sessions, track };
}

/** TLS: HTTP/2 or HTTP/1.1 by ALPN, on one server. */
function createTlsServer(
  tls: TlsConfig,
  limits: ConnectionLimits,
  handler: Handler,
  track: (s: http2.ServerHttp2Session) => void,
): net.Server {
  const secure = http2.createSecureServer(
    {
      ...HTTP2_LIMITS,
      allowHTTP1: true,
      // A TLS client that connects and never finishes its handshake is as silent as one that sends nothing.
      handshakeTimeout: limits.silentSocketTimeoutMs,
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
      ...(tls.clientCaFile
        ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: true }
        : {}),
    },
    handler,
  );
  // With allowHTTP1 this server also parses HTTP/1.1 and, as it listens, runs Node's deadline checks; its defaults are 60 s / 300 s.
  Object.assign(secure, http1Options(limits));
  secure.on("session", track);
  return secure;
}

/** Cleartext: an HTTP/1.1 and an h2c server behind the protocol sniffer. */
function createCleartextServer(
  limits: ConnectionLimits,
  handler: Handler,
  track: (s: http2.ServerHttp2Session) => void,
): { server: net.Server; h1: http.Server } {
  const h2 = http2.createServer(HTTP2_LIMITS, handler);
  h2.on("session", track);
  const h1 = http.createServer({ maxHeaderSize: 16 * 1024, ...http1Options(limits) }, handler);
  // Node starts enforcing headersTimeout/requestTimeout when an HTTP server
  // emits 'listening'. This one never listens (the sniffer hands it its
  // sockets), so without this a header trickle was never cut. Before any socket:
  // a connection is tracked only if the tracking exists when it arrives.
  h1.emit("listening");
  return { server: createProtocolSniffer(h1, h2), h1 };
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

interface OpenConnections {
  sessions: Set<http2.ServerHttp2Session>;
  sockets: Set<net.Socket>;
  h1: http.Server | null;
}

/** Stops accepting, lets in-flight calls finish (up to timeoutMs), then drops what is left. */
function closeGracefully(
  server: net.Server,
  open: OpenConnections,
  timeoutMs: number,
): Promise<void> {
  const { sessions, sockets, h1 } = open;
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
}

/**
 * The Connect port: the Connect protocol (JSON, so curl works), gRPC-web and
 * gRPC, over HTTP/1.1 and HTTP/2 (h2c in cleartext, ALPN with TLS), by
 * connect-node.
 */
export async function listenConnect(options: ConnectServerOptions): Promise<ListeningServer> {
  const { limits } = options;
  const handler = requestHandler(options);
  const { sessions, track } = sessionTracker(limits);
  const { server, h1 } = options.tls
    ? { server: createTlsServer(options.tls, limits, handler, track), h1: null }
    : createCleartextServer(limits, handler, track);
  // Every connection, whatever became of it (HTTP/1, HTTP/2, a TLS handshake, nothing):
  // close() waits for all of them, so past its timeout it must be able to end each one.
  const sockets = boundListener(server, limits);
  await listen(server, options.port, options.host);
  return {
    port: (server.address() as AddressInfo).port,
    close: (timeoutMs) => closeGracefully(server, { sessions, sockets, h1 }, timeoutMs),
  };
}
