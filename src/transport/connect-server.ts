import { readFileSync } from "node:fs";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
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

export interface ServerOptions {
  host: string;
  port: number;
  tls: TlsConfig | null;
  maxMessageBytes: number;
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
}

export interface ListeningServer {
  port: number;
  /** Stops accepting, lets in-flight calls finish (up to timeoutMs), then drops what is left. */
  close(timeoutMs: number): Promise<void>;
}

export async function listen(options: ServerOptions): Promise<ListeningServer> {
  const handler = connectNodeAdapter({
    routes: options.routes,
    interceptors: options.interceptors,
    readMaxBytes: options.maxMessageBytes,
  });
  const server = options.tls
    ? http2.createSecureServer(
        {
          ...HTTP2_LIMITS,
          cert: readFileSync(options.tls.certFile),
          key: readFileSync(options.tls.keyFile),
          ...(options.tls.clientCaFile ? { ca: readFileSync(options.tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
        },
        handler,
      )
    : http2.createServer(HTTP2_LIMITS, handler);

  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
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
        }, timeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // GOAWAY: clients open no new streams here, streams in flight run to completion.
        for (const s of sessions) s.close();
      });
    },
  };
}
