import { create, fromBinary, toBinary, type DescMessage, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  type Interceptor,
  type ServiceImpl,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
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

/** gRPC metadata as Connect sees it: binary (`-bin`) values base64-encoded, as connect-es does. */
function headersOf(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    headers.set(key, typeof value === "string" ? value : value.toString("base64"));
  }
  return headers;
}

function metadataOf(headers: Headers): grpc.Metadata {
  const md = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (key.endsWith("-bin")) for (const v of value.split(/,\s*/)) md.add(key, Buffer.from(v, "base64"));
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
    if (field) throw new ConnectError(`invalid request: ${field}: is not valid UTF-8`, Code.InvalidArgument);
    throw new ConnectError(`invalid request: the message is not a valid ${schema.typeName}: ${(err as Error).message}`, Code.InvalidArgument);
  }
}

function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  // Connect's codes are gRPC's codes, number for number.
  const e = err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal);
  return { code: e.code as number as grpc.status, details: e.rawMessage, metadata: metadataOf(e.metadata) };
}

/** What a call answers: the message, and the metadata a handler set (usually none). */
interface Answer {
  bytes: Buffer;
  header: Headers;
  trailer: Headers;
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
    const handler = (impl as Record<string, unknown>)[method.localName] as
      | ((req: unknown, ctx: ReturnType<typeof createHandlerContext>) => Promise<unknown>)
      | undefined;
    const call = chain(method as DescMethodUnary, handler, interceptors);
    handlers[method.localName] = (unary: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      inFlight.enter();
      call(unary).then(
        (answer) => {
          inFlight.leave();
          if (!isEmpty(answer.header)) unary.sendMetadata(metadataOf(answer.header));
          callback(null, answer.bytes, isEmpty(answer.trailer) ? undefined : metadataOf(answer.trailer));
        },
        (err: unknown) => {
          inFlight.leave();
          callback(toServiceError(err), null);
        },
      );
    };
  }
  server.addService(definition as grpc.ServiceDefinition, handlers);
}

/** Handlers that set none share this one: nothing here is sent as response metadata. */
const NO_HEADERS = new Headers();

function chain(
  method: DescMethodUnary,
  handler: ((req: unknown, ctx: ReturnType<typeof createHandlerContext>) => Promise<unknown>) | undefined,
  interceptors: readonly Interceptor[],
): (call: grpc.ServerUnaryCall<Buffer, Buffer>) => Promise<Answer> {
  const service = method.parent;
  const innermost = async (req: UnaryRequest): Promise<UnaryResponse> => {
    if (!handler) throw new ConnectError(`${service.typeName}/${method.name} is not implemented`, Code.Unimplemented);
    // Built on first use: Authorize's handler never touches its context, and a
    // HandlerContext costs two Headers and an AbortSignal per call.
    let real: ReturnType<typeof createHandlerContext> | undefined;
    const ctx = new Proxy({} as ReturnType<typeof createHandlerContext>, {
      get: (_, property) => {
        real ??= createHandlerContext({
          service,
          method,
          protocolName: "grpc",
          requestMethod: "POST",
          url: req.url,
          requestHeader: req.header,
          contextValues: req.contextValues,
          requestSignal: req.signal,
        });
        return Reflect.get(real, property);
      },
    });
    const out = await handler(req.message, ctx);
    return { stream: false, service, method, header: real?.responseHeader ?? NO_HEADERS, trailer: real?.responseTrailer ?? NO_HEADERS, message: create(method.output, out as never) };
  };
  // Applied once, at start: a call pays only for the interceptors attached to its service.
  const run = interceptors.reduceRight<(req: UnaryRequest) => Promise<UnaryResponse>>((next, interceptor) => interceptor(next as never) as never, innermost);
  const url = `/${service.typeName}/${method.name}`;
  return async (call) => {
    let abort: AbortController | undefined;
    const onCancel = () => abort!.abort(new ConnectError("the client cancelled the call", Code.Canceled));
    let header: Headers | undefined;
    let values: ReturnType<typeof createContextValues> | undefined;
    try {
      // What interceptors and handlers may read is made when they first read it.
      const req: UnaryRequest = {
        stream: false,
        service,
        method,
        requestMethod: "POST",
        url,
        get signal() {
          if (!abort) {
            abort = new AbortController();
            call.once("cancelled", onCancel);
          }
          return abort.signal;
        },
        get header() {
          return (header ??= headersOf(call.metadata));
        },
        get contextValues() {
          return (values ??= createContextValues());
        },
        message: decode(method.input, call.request),
      };
      const res = await run(req);
      return { bytes: Buffer.from(toBinary(method.output, res.message)), header: res.header, trailer: res.trailer };
    } finally {
      if (abort) call.off("cancelled", onCancel);
    }
  };
}
