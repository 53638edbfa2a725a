import type http2 from "node:http2";
import type net from "node:net";
import type { Config } from "../config.js";

/** What one client can hold on either port (DESIGN "Connections"). */
export type ConnectionLimits = Config["connections"];

/**
 * Bounds the server that accepts a port's sockets: past MAX_CONNECTIONS Node
 * closes a new socket as soon as it is accepted, and a socket that has not sent
 * a byte by the silent-socket timeout is closed (no protocol timer covers it:
 * HTTP/1 deadlines start with the first byte of a request, HTTP/2 idle timers
 * are minutes). Returns the sockets still open, so close() can end what is left.
 */
export function boundListener(server: net.Server, limits: ConnectionLimits): Set<net.Socket> {
  server.maxConnections = limits.maxConnections;
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    // bytesRead is counted by the socket's handle, so it holds whoever reads it (TLS, HTTP/2, the HTTP/1 parser).
    const timer = setTimeout(
      () => socket.bytesRead === 0 && socket.destroy(),
      limits.silentSocketTimeoutMs,
    ).unref();
    socket.once("close", () => {
      clearTimeout(timer);
      sockets.delete(socket);
    });
  });
  return sockets;
}

/**
 * Closes an HTTP/2 session with a GOAWAY once it has had no open stream for
 * idleTimeoutMs. The session's own setTimeout would not do: any frame, a PING
 * included, restarts it, so a client could hold the session for ever without
 * a call. (grpc-js does the same for PORT with `grpc.max_connection_idle_ms`.)
 */
export function closeWhenIdle(session: http2.ServerHttp2Session, idleTimeoutMs: number): void {
  let open = 0;
  const timer = setTimeout(() => open === 0 && session.close(), idleTimeoutMs).unref();
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open += 1;
    stream.once("close", () => {
      open -= 1;
      // refresh() re-arms the timer even after it fired while a stream was open.
      if (open === 0) timer.refresh();
    });
  });
  session.once("close", () => clearTimeout(timer));
}
