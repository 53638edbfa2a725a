import { Code } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { AuthorizeObserver, AuthorizeSource } from "../authorize/observed-authorize.js";
import type { HotCount } from "../observability/hot-metrics.js";
import type { Metrics } from "../observability/metrics.js";
import { toConnectError } from "../transport/middleware/error-interceptor.js";

/** The metrics of one Authorize entry point: latency, decisions by reason and source, errors by code. */
export function authorizeObserver(metrics: Metrics, source: AuthorizeSource): AuthorizeObserver {
  // Label children bound once per value, not looked up by hashing labels on every call.
  const decisionsBy = new Map<string, HotCount>();
  return (outcome, seconds) => {
    metrics.authorizeSeconds.observe(seconds);
    if (!("reason" in outcome))
      return metrics.authorizeErrors.inc({ code: codeName(outcome.error) });
    let child = decisionsBy.get(outcome.reason);
    if (!child)
      decisionsBy.set(
        outcome.reason,
        (child = metrics.decisions.labels({ reason: outcome.reason, source })),
      );
    child.inc();
  };
}

/** Forward auth's observer: the metrics, and at debug level a log line (never the key). */
export function forwardAuthObserver(metrics: Metrics, log: Logger): AuthorizeObserver {
  const observed = authorizeObserver(metrics, "forward_auth");
  return (outcome, seconds) => {
    observed(outcome, seconds);
    // gRPC calls are logged by the logging interceptor; /v1/check is plain HTTP, so here.
    if (log.isLevelEnabled("debug"))
      log.debug(
        {
          rpc: "/v1/check",
          outcome: "reason" in outcome ? outcome.reason : codeName(outcome.error),
          ms: seconds * 1000,
        },
        "forward auth",
      );
  };
}

function codeName(err: unknown): string {
  const mapped = toConnectError(err);
  return mapped ? Code[mapped.code] : "Internal";
}
