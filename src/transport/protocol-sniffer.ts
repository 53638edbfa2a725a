import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";

/** The client connection preface of HTTP/2 (RFC 9113 §3.4); no HTTP/1.1 request starts with it. */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Whether the first bytes of a connection are (the start of) the HTTP/2 preface. */
export function startsHttp2(first: Buffer): boolean {
  const n = Math.min(first.length, H2_PREFACE.length);
  return first.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
}

/**
 * One cleartext port for HTTP/1.1 and h2c: the first bytes say which protocol
 * the client speaks, and the socket goes to that server. Neither server
 * listens itself.
 */
export function createProtocolSniffer(h1: http.Server, h2: http2.Http2Server): net.Server {
  return net.createServer((socket) => {
    socket.once("data", (first: Buffer) => {
      socket.pause();
      if (startsHttp2(first)) {
        socket.unshift(first);
        h2.emit("connection", socket);
        return;
      }
      // Node's HTTP/1 parser reads the socket's handle directly once it has the
      // connection, so the first bytes go back only after it is attached.
      h1.emit("connection", socket);
      socket.unshift(first);
      socket.resume();
    });
  });
}
