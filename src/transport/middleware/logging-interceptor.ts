import { ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";

/** One debug line per RPC, with its outcome and duration; never the request body (it holds keys). */
export function loggingInterceptor(log: Logger): Interceptor {
  return (next) => async (req) => {
    if (!log.isLevelEnabled("debug")) return next(req);
    const start = process.hrtime.bigint();
    const rpc = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      log.debug({ rpc, code: "ok", ms: Number(process.hrtime.bigint() - start) / 1e6 }, "rpc");
      return res;
    } catch (err) {
      log.debug(
        {
          rpc,
          code: ConnectError.from(err).code,
          ms: Number(process.hrtime.bigint() - start) / 1e6,
        },
        "rpc",
      );
      throw err;
    }
  };
}
