import {
  create,
  type DescMessage,
  type DescMethodUnary,
  type DescService,
  fromBinary,
  type Message,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { isStableAnswer } from "../stable-answer.js";
import { GrpcUnaryRequest, LazyHandlerContext } from "./call-context.js";
import { invalidUtf8Field } from "./invalid-utf8.js";

/** Counts unary calls in flight, so shutdown can wait for exactly those. */
export class InFlight {
  count = 0;
  private idle: Array<() => void> = [];

  enter(): void {
    this.count++;
  }

  leave(): void {
    if (--this.count === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  whenIdle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }
}

const passthrough = (b: Buffer) => b;

function metadataOf(headers: Headers): grpc.Metadata {
  const md = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith("-bin"))
      for (const v of value.split(/,\s*/)) md.add(key, Buffer.from(v, "base64"));
    else md.set(key, value);
  });
  return md;
}

const isEmpty = (h: Headers) => h.keys().next().done === true;

function decode<I extends DescMessage>(schema: I, bytes: Buffer) {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    // protobuf-es refuses invalid UTF-8 here; name the field instead of answering a bare decode failure.
    const field = invalidUtf8Field(schema, bytes);
    if (field)
      throw new ConnectError(`invalid request: ${field}: is not valid UTF-8`, Code.InvalidArgument);
    throw new ConnectError(
      `invalid request: the message is not a valid ${schema.typeName}: ${(err as Error).message}`,
      Code.InvalidArgument,
    );
  }
}

function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  // Connect's codes are gRPC's codes, number for number.
  const e = err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal);
  return {
    code: e.code as number as grpc.status,
    details: e.rawMessage,
    metadata: metadataOf(e.metadata),
  };
}

/**
 * Serves a connect-es ServiceImpl on a grpc-js server: the same handlers and
 * the same interceptors as on the Connect port, with grpc-js doing HTTP/2,
 * framing, deadlines and status codes. Unary methods only: keyward's streaming
 * (Health/Watch, reflection) comes from the gRPC team's own packages.
 */
export function addUnaryService<S extends DescService>(
  server: grpc.Server,
  service: S,
  impl: Partial<ServiceImpl<S>>,
  interceptors: readonly Interceptor[],
  inFlight: InFlight,
): void {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const path = `/${service.typeName}/${method.name}`;
    definition[method.localName] = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: passthrough,
      requestDeserialize: passthrough,
      responseSerialize: passthrough,
      responseDeserialize: passthrough,
      originalName: method.name,
    };
    const handler = (impl as Record<string, unknown>)[method.localName] as Handler | undefined;
    handlers[method.localName] = unaryHandler(
      method as DescMethodUnary,
      handler,
      interceptors,
      inFlight,
    );
  }
  server.addService(definition as grpc.ServiceDefinition, handlers);
}

type Handler = (req: Message, ctx: HandlerContext) => Promise<MessageInitShape<DescMessage>>;

/** Encodes answers; a StableAnswer (Authorize hands out one per decision it has seen before) only once. */
class AnswerEncoder {
  private readonly encoded = new WeakMap<object, Buffer>();

  encode(schema: DescMessage, message: Message): Buffer {
    const stable = isStableAnswer(message);
    let bytes = stable ? this.encoded.get(message) : undefined;
    if (bytes === undefined) {
      const u8 = toBinary(schema, message);
      bytes = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
      if (stable) this.encoded.set(message, bytes);
    }
    return bytes;
  }
}

type UnaryNext = (req: UnaryRequest) => Promise<UnaryResponse>;

/**
 * The handler behind its service's interceptors, composed once at start: a
 * call pays only for the interceptors attached to its service.
 */
function chainOf(
  method: DescMethodUnary,
  handler: Handler | undefined,
  interceptors: readonly Interceptor[],
): UnaryNext {
  const service = method.parent;
  const innermost = async (req: UnaryRequest): Promise<UnaryResponse> => {
    if (!handler)
      throw new ConnectError(
        `${service.typeName}/${method.name} is not implemented`,
        Code.Unimplemented,
      );
    const ctx = new LazyHandlerContext(req as GrpcUnaryRequest);
    const out = await handler(req.message, ctx);
    return {
      stream: false,
      service,
      method,
      header: ctx.responseHeaderIfMade,
      trailer: ctx.responseTrailerIfMade,
      message: create(method.output, out),
    };
  };
  // Interceptors are typed for streams too; on this port they only ever wrap (and return) unary calls.
  return interceptors.reduceRight<UnaryNext>(
    (next, interceptor) => interceptor(next as Parameters<Interceptor>[0]) as UnaryNext,
    innermost,
  );
}

function unaryHandler(
  method: DescMethodUnary,
  handler: Handler | undefined,
  interceptors: readonly Interceptor[],
  inFlight: InFlight,
): grpc.handleUnaryCall<Buffer, Buffer> {
  const service = method.parent;
  const run = chainOf(method, handler, interceptors);
  const url = `/${service.typeName}/${method.name}`;
  const encoder = new AnswerEncoder();
  return (call, callback) => {
    let req: GrpcUnaryRequest;
    try {
      req = new GrpcUnaryRequest(service, method, url, decode(method.input, call.request), call);
    } catch (err) {
      callback(toServiceError(err), null);
      return;
    }
    inFlight.enter();
    const fail = (err: unknown) => {
      inFlight.leave();
      req.done();
      callback(toServiceError(err), null);
    };
    run(req).then((res) => {
      let bytes: Buffer;
      try {
        bytes = encoder.encode(method.output, res.message);
      } catch (err) {
        return fail(err);
      }
      inFlight.leave();
      req.done();
      if (!isEmpty(res.header)) call.sendMetadata(metadataOf(res.header));
      callback(null, bytes, isEmpty(res.trailer) ? undefined : metadataOf(res.trailer));
    }, fail);
  };
}
