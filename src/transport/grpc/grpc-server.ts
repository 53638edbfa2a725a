import { readFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Interceptor, ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { TlsConfig } from "../../config.js";
import type { HealthState } from "../../observability/health-state.js";
import type { ListeningServer } from "../connect-server.js";
import { boundListener, type ConnectionLimits } from "../connection-limits.js";
import { addUnaryService, InFlight } from "./unary-adapter.js";

/** Per-connection bounds: Node and grpc-js default to 2^32-1 streams and unbounded session memory. */
export const GRPC_LIMITS = { maxConcurrentStreams: 1000, maxSessionMemoryMiB: 32 };

/**
 * The server pings a connection every minute and drops it if the ping is not
 * answered in 20 s: a peer that vanished (no FIN, a dead load balancer) holding a
 * long call such as Health/Watch is found. Idle connections are closed sooner
 * or later by `grpc.max_connection_idle_ms` whatever the pings say.
 */
export const GRPC_KEEPALIVE = { timeMs: 60_000, timeoutMs: 20_000 };

/** A service ready for the gRPC port; made by `grpcService`, which keeps its implementation's type. */
export interface GrpcService {
  service: DescService;
  register(server: grpc.Server, inFlight: InFlight): void;
}

/** `interceptors` are attached to this service only: a call pays for no interceptor that does not apply to it. */
export function grpcService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  interceptors: readonly Interceptor[],
): GrpcService {
  return {
    service,
    register: (server, inFlight) => addUnaryService(server, service, impl, interceptors, inFlight),
  };
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  tls: TlsConfig | null;
  maxMessageBytes: number;
  limits: ConnectionLimits;
  services: readonly GrpcService[];
  health: HealthState;
  /** Services described by reflection besides `services` (health, reflection itself). */
  alsoReflect: readonly DescService[];
}

function credentials(tls: TlsConfig | null): grpc.ServerCredentials {
  if (tls === null) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.clientCaFile ? readFileSync(tls.clientCaFile) : null,
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    tls.clientCaFile !== null,
  );
}

/** Every file that declares the services, with the files they import, as @grpc/reflection reads them. */
function descriptorSet(services: readonly DescService[]): { fileDescriptorProtos: Buffer[] } {
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.name)) return;
    files.set(file.name, file);
    for (const dep of file.dependencies) visit(dep);
  };
  for (const s of services) visit(s.file);
  return {
    fileDescriptorProtos: [...files.values()].map((f) =>
      Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)),
    ),
  };
}

/** grpc.health.v1 from grpc-health-check, kept in step with keyward's health state. */
function bridgeHealth(state: HealthState, names: readonly string[]): HealthImplementation {
  const statusOf = (name: string) => (state.get(name) === "SERVING" ? "SERVING" : "NOT_SERVING");
  const impl = new HealthImplementation(Object.fromEntries(names.map((n) => [n, statusOf(n)])));
  state.onChange(() => {
    for (const n of names) impl.setStatus(n, statusOf(n));
  });
  return impl;
}

/**
 * The gRPC port, served by @grpc/grpc-js: keyward's services through the
 * ServiceImpl adapter, health from grpc-health-check, reflection (v1 and
 * v1alpha) from @grpc/reflection.
 */
export async function listenGrpc(
  options: GrpcServerOptions,
): Promise<ListeningServer & { health: HealthImplementation }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_concurrent_streams": GRPC_LIMITS.maxConcurrentStreams,
    "grpc-node.max_session_memory": GRPC_LIMITS.maxSessionMemoryMiB,
    // keyward serves no channelz service; tracking every call for it cost ~7% of Authorize throughput.
    "grpc.enable_channelz": 0,
    // No open call for this long: GOAWAY, then the connection closes (grpc-js counts streams, not frames).
    "grpc.max_connection_idle_ms": options.limits.idleTimeoutMs,
    "grpc.keepalive_time_ms": GRPC_KEEPALIVE.timeMs,
    "grpc.keepalive_timeout_ms": GRPC_KEEPALIVE.timeoutMs,
  });
  const inFlight = new InFlight();
  for (const s of options.services) s.register(server, inFlight);
  const health = bridgeHealth(options.health, [
    "",
    ...options.services.map((s) => s.service.typeName),
  ]);
  health.addToServer(server);
  new ReflectionService({
    keyward: descriptorSet([...options.services.map((s) => s.service), ...options.alsoReflect]),
  } as never).addToServer(server);

  // grpc-js has no connection limit and no hook on the sockets it accepts, so
  // keyward accepts them itself (MAX_CONNECTIONS, silent sockets) and hands each
  // one to grpc-js through its public connection injector. TLS, HTTP/2 and the
  // handlers are grpc-js's own, as with bindAsync.
  const injector = server.createConnectionInjector(credentials(options.tls));
  const listener = net.createServer((socket) => injector.injectConnection(socket));
  const sockets = boundListener(listener, options.limits);
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const port = (listener.address() as AddressInfo).port;

  return {
    port,
    health,
    close: (timeoutMs) => closeGracefully(server, listener, sockets, inFlight, timeoutMs),
  };
}

/** Stops the gRPC port: no new calls, unary calls in flight finish (up to timeoutMs), then every socket ends. */
async function closeGracefully(
  server: grpc.Server,
  listener: net.Server,
  sockets: Iterable<net.Socket>,
  inFlight: InFlight,
  timeoutMs: number,
): Promise<void> {
  const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
  // No new calls (GOAWAY); unary calls in flight run to completion, up to timeoutMs.
  // Streams that never end on their own (Health/Watch) are cut once those are done.
  server.tryShutdown(() => {});
  // A socket that has sent nothing has nothing in flight.
  for (const s of sockets) if (s.bytesRead === 0) s.destroy();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    inFlight.whenIdle(),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
  server.forceShutdown();
  // After the GOAWAY a session closes by itself once its last response is written;
  // destroying it at once could cut that response short. With channelz off
  // forceShutdown leaves sessions open, and a socket that never became one (a
  // stalled TLS handshake) is no session at all; the listener closes only when
  // every socket is gone, so what is still open a second later is ended.
  await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
  for (const s of sockets) s.destroy();
  await closed;
}
