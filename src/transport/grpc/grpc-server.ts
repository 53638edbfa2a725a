import { readFileSync } from "node:fs";
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Interceptor, ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { TlsConfig } from "../../config.js";
import type { HealthState } from "../../observability/health-state.js";
import type { ListeningServer } from "../connect-server.js";
import { addUnaryService, InFlight } from "./unary-adapter.js";

/** Per-connection bounds: Node and grpc-js default to 2^32-1 streams and unbounded session memory. */
export const GRPC_LIMITS = { maxConcurrentStreams: 1000, maxSessionMemoryMiB: 32 };

export interface GrpcService<S extends DescService = DescService> {
  service: S;
  impl: Partial<ServiceImpl<S>>;
  /** Attached to this service only: a call pays for no interceptor that does not apply to it. */
  interceptors: readonly Interceptor[];
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  tls: TlsConfig | null;
  maxMessageBytes: number;
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
  return { fileDescriptorProtos: [...files.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto))) };
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
export async function listenGrpc(options: GrpcServerOptions): Promise<ListeningServer & { health: HealthImplementation }> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_concurrent_streams": GRPC_LIMITS.maxConcurrentStreams,
    "grpc-node.max_session_memory": GRPC_LIMITS.maxSessionMemoryMiB,
    // keyward serves no channelz service; tracking every call for it cost ~7% of Authorize throughput.
    "grpc.enable_channelz": 0,
  });
  const inFlight = new InFlight();
  for (const s of options.services) addUnaryService(server, s.service, s.impl, s.interceptors, inFlight);
  const health = bridgeHealth(options.health, ["", ...options.services.map((s) => s.service.typeName)]);
  health.addToServer(server);
  new ReflectionService({ keyward: descriptorSet([...options.services.map((s) => s.service), ...options.alsoReflect]) } as never).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`, credentials(options.tls), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );

  return {
    port,
    health,
    async close(timeoutMs) {
      // No new calls (GOAWAY); unary calls in flight run to completion, up to timeoutMs.
      // Streams that never end on their own (Health/Watch) are cut once those are done.
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      server.forceShutdown();
      // forceShutdown destroys HTTP/2 sessions, not sockets that never became one (a
      // client that connected and sent nothing, or garbage): the listener's close can
      // wait on those for ever. Shutdown must finish, so that wait is bounded.
      await Promise.race([drained, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    },
  };
}
