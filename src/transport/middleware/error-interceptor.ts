import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  PermissionError,
  PreconditionError,
  StoreUnavailableError,
  UnauthenticatedError,
} from "../../domain/errors.js";
import { DuplicateKeyError } from "../../store/key-store.js";

/** The one place where application failures become gRPC status codes. */
export function toConnectError(err: unknown): ConnectError | null {
  if (err instanceof ConnectError) return err;
  if (err instanceof InvalidRequestError)
    return new ConnectError(`invalid request: ${err.message}`, Code.InvalidArgument);
  if (err instanceof NotFoundError) return new ConnectError(err.message, Code.NotFound);
  if (err instanceof PermissionError) return new ConnectError(err.message, Code.PermissionDenied);
  if (err instanceof UnauthenticatedError)
    return new ConnectError(err.message, Code.Unauthenticated);
  if (err instanceof PreconditionError)
    return new ConnectError(err.message, Code.FailedPrecondition);
  if (err instanceof ConflictError) return new ConnectError(err.message, Code.Aborted);
  if (err instanceof DuplicateKeyError)
    return new ConnectError("key generation collided with an existing key; retry", Code.Aborted);
  if (err instanceof StoreUnavailableError) return new ConnectError(err.message, Code.Unavailable);
  return null;
}

export function errorInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      const mapped = toConnectError(err);
      if (mapped) {
        if (mapped.code === Code.Unavailable)
          log.warn({ err, rpc: req.method.name }, "store unavailable");
        throw mapped;
      }
      log.error({ err, rpc: `${req.service.typeName}/${req.method.name}` }, "unexpected error");
      throw new ConnectError("internal error", Code.Internal);
    }
  };
}
