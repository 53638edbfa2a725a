import type { DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  createHandlerContext,
  type HandlerContext,
  type UnaryRequest,
} from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";

/** gRPC metadata as Connect sees it: binary (`-bin`) values base64-encoded, as connect-es does. */
function headersOf(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, value] of Object.entries(metadata.getMap())) {
    headers.set(key, typeof value === "string" ? value : value.toString("base64"));
  }
  return headers;
}

/** Response metadata of a call whose handler set none: one shared object, so it refuses to change. */
const NO_HEADERS: Headers = (() => {
  const headers = new Headers();
  const refuse = () => {
    throw new TypeError("the response metadata of a call whose handler set none cannot be changed");
  };
  for (const method of ["append", "set", "delete"])
    Object.defineProperty(headers, method, { value: refuse });
  return Object.freeze(headers);
})();

/**
 * What interceptors and handlers see of a call. Each part (the headers, the
 * abort signal, context values) is made when first read: Authorize reads none
 * of them, and each costs allocations on every call.
 */
export class GrpcUnaryRequest implements UnaryRequest {
  readonly stream = false;
  readonly requestMethod = "POST";
  private abort: AbortController | undefined;
  private headers: Headers | undefined;
  private values: ContextValues | undefined;
  private onCancel: (() => void) | undefined;

  constructor(
    readonly service: DescService,
    readonly method: DescMethodUnary,
    readonly url: string,
    readonly message: Message,
    private readonly call: grpc.ServerUnaryCall<Buffer, Buffer>,
  ) {}

  get signal(): AbortSignal {
    if (!this.abort) {
      const abort = (this.abort = new AbortController());
      this.onCancel = () =>
        abort.abort(new ConnectError("the client cancelled the call", Code.Canceled));
      this.call.once("cancelled", this.onCancel);
    }
    return this.abort.signal;
  }

  get header(): Headers {
    return (this.headers ??= headersOf(this.call.metadata));
  }

  get contextValues(): ContextValues {
    return (this.values ??= createContextValues());
  }

  /** The call is over: stop listening for its cancellation. */
  done(): void {
    if (this.onCancel) this.call.off("cancelled", this.onCancel);
  }
}

/** A HandlerContext built on first use: Authorize's handler never touches it, and one costs two Headers and an AbortSignal. */
export class LazyHandlerContext implements HandlerContext {
  private made: HandlerContext | undefined;

  constructor(private readonly req: GrpcUnaryRequest) {}

  private get real(): HandlerContext {
    const { req } = this;
    return (this.made ??= createHandlerContext({
      service: req.service,
      method: req.method,
      protocolName: "grpc",
      requestMethod: "POST",
      url: req.url,
      requestHeader: req.header,
      contextValues: req.contextValues,
      requestSignal: req.signal,
    }));
  }

  get method() {
    return this.req.method;
  }
  get service() {
    return this.req.service;
  }
  get requestMethod() {
    return "POST";
  }
  get protocolName() {
    return "grpc";
  }
  get url() {
    return this.req.url;
  }
  get signal() {
    return this.real.signal;
  }
  get timeoutMs() {
    return this.real.timeoutMs;
  }
  get requestHeader() {
    return this.real.requestHeader;
  }
  get values() {
    return this.real.values;
  }
  get responseHeader() {
    return this.real.responseHeader;
  }
  get responseTrailer() {
    return this.real.responseTrailer;
  }
  /** Metadata the handler set, without making a context just to find none. */
  get responseHeaderIfMade(): Headers {
    return this.made?.responseHeader ?? NO_HEADERS;
  }
  get responseTrailerIfMade(): Headers {
    return this.made?.responseTrailer ?? NO_HEADERS;
  }
}
