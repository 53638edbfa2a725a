import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../../gen/grpc/health/v1/health_pb.js";
import type { HealthState, ServingStatus } from "../../observability/health-state.js";

function toStatus(s: ServingStatus | undefined): Status {
  if (s === undefined) return Status.SERVICE_UNKNOWN;
  return s === "SERVING" ? Status.SERVING : Status.NOT_SERVING;
}

/** grpc.health.v1 as specified: Check answers NOT_FOUND for unknown services, Watch streams changes. */
export function healthService(
  state: HealthState,
  shutdown: AbortSignal,
): ServiceImpl<typeof Health> {
  return {
    async check(req) {
      const s = state.get(req.service);
      if (s === undefined)
        throw new ConnectError(`unknown service ${JSON.stringify(req.service)}`, Code.NotFound);
      return { status: toStatus(s) };
    },

    async *watch(req, ctx) {
      let wake: () => void = () => {};
      const unsubscribe = state.onChange(() => wake());
      // Watch streams never end on their own; the server's shutdown ends them so it can close.
      const ended = () => ctx.signal.aborted || shutdown.aborted;
      let stop: () => void = () => {};
      const aborted = new Promise<void>((resolve) => (stop = resolve));
      // The shutdown signal lives as long as the server: a listener left on it by each
      // ended Watch would pile up, so every one registered here is removed in finally.
      ctx.signal.addEventListener("abort", stop, { once: true });
      shutdown.addEventListener("abort", stop, { once: true });
      try {
        let last: Status | undefined;
        while (!ended()) {
          // Armed before yielding, so a change while the client reads is not missed.
          const changed = new Promise<void>((resolve) => (wake = resolve));
          const current = toStatus(state.get(req.service));
          if (current !== last) {
            last = current;
            yield { status: current };
          }
          await Promise.race([changed, aborted]);
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", stop);
        shutdown.removeEventListener("abort", stop);
      }
    },
  };
}
