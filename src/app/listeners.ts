import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AuthorizeService } from "../../gen/keyward/v1/authorize_pb.js";
import { KeyAdminService } from "../../gen/keyward/v1/key_admin_pb.js";
import type { KeyManager } from "../admin/key-manager.js";
import type { WebhookDeps } from "../admin/webhooks/create-webhook.js";
import type { Authorizer } from "../authorize/authorizer.js";
import { observedAuthorize } from "../authorize/observed-authorize.js";
import type { Config } from "../config.js";
import type { HealthState } from "../observability/health-state.js";
import type { Metrics } from "../observability/metrics.js";
import type { KeyStore } from "../store/key-store.js";
import { listenConnect } from "../transport/connect-server.js";
import { consoleStatic, defaultConsoleDir } from "../transport/console-static.js";
import { extAuthzService } from "../transport/gateways/ext-authz.js";
import { forwardAuth } from "../transport/gateways/forward-auth.js";
import { grpcService, listenGrpc } from "../transport/grpc/grpc-server.js";
import { adminAuthInterceptor } from "../transport/middleware/admin-auth-interceptor.js";
import { errorInterceptor } from "../transport/middleware/error-interceptor.js";
import { loggingInterceptor } from "../transport/middleware/logging-interceptor.js";
import { authorizeService } from "../transport/services/authorize-service.js";
import { healthService } from "../transport/services/health-service.js";
import { keyAdminService } from "../transport/services/key-admin-service.js";
import { webhookService } from "../transport/services/webhook-service.js";
import { authorizeObserver, forwardAuthObserver } from "./observers.js";

export type HttpGateway = (
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
) => boolean;

export interface ServeDeps {
  authorizer: Authorizer;
  /** POST /v1/leak-reports, when LEAK_REPORT_KEYS_FILE is set. */
  leaks: HttpGateway | null;
  manager: KeyManager;
  store: KeyStore;
  webhooks: WebhookDeps;
  metrics: Metrics;
  health: HealthState;
  shutdown: AbortSignal;
  now: () => Date;
}

/** What both ports serve: the services' implementations and their interceptors. */
interface Services {
  keyAdmin: ReturnType<typeof keyAdminService> & ReturnType<typeof webhookService>;
  common: Interceptor[];
  /** Admin credentials count in usage under the port they came in on. */
  adminInterceptors: (source: "grpc" | "connect") => Interceptor[];
}

/**
 * One set of ServiceImpls on two ports: gRPC by grpc-js (the hot path) and
 * Connect by connect-node. Interceptors are attached per service, so Authorize
 * pays only for error mapping (and logging when LOG_LEVEL=debug).
 */
export async function serve(config: Config, log: Logger, deps: ServeDeps) {
  const common: Interceptor[] = [
    ...(log.isLevelEnabled("debug") ? [loggingInterceptor(log)] : []),
    errorInterceptor(log),
  ];
  const services: Services = {
    keyAdmin: {
      ...keyAdminService(deps.manager, config.catalog, deps.now, {
        store: deps.store,
        thresholds: config.findings,
      }),
      ...webhookService(deps.webhooks),
    },
    common,
    adminInterceptors: (source) => [...common, adminAuthInterceptor(deps.authorizer, source)],
  };
  const grpc = await serveGrpc(config, deps, services);
  const http = await serveHttp(config, log, deps, services);
  return { grpc, http };
}

/** PORT: Authorize, KeyAdmin and Envoy's ext_authz over grpc-js, with health and reflection. */
function serveGrpc(config: Config, deps: ServeDeps, services: Services) {
  const { authorizer, metrics } = deps;
  return listenGrpc({
    host: config.host,
    port: config.port,
    tls: config.tls,
    maxMessageBytes: config.maxMessageBytes,
    limits: config.connections,
    services: [
      grpcService(
        AuthorizeService,
        authorizeService(observedAuthorize(authorizer, "grpc", authorizeObserver(metrics, "grpc"))),
        services.common,
      ),
      grpcService(KeyAdminService, services.keyAdmin, services.adminInterceptors("grpc")),
      grpcService(
        Authorization,
        extAuthzService(
          observedAuthorize(authorizer, "ext_authz", authorizeObserver(metrics, "ext_authz")),
        ),
        services.common,
      ),
    ],
    health: deps.health,
    alsoReflect: [Health, ReflectionV1, ReflectionV1alpha],
  });
}

/** HTTP_PORT: the plain HTTP endpoints (leak reports, console, forward auth), then Connect. */
function serveHttp(config: Config, log: Logger, deps: ServeDeps, services: Services) {
  const { authorizer, metrics } = deps;
  return listenConnect({
    host: config.host,
    port: config.httpPort,
    tls: config.tls,
    maxMessageBytes: config.maxMessageBytes,
    limits: config.connections,
    gateway: firstOf(
      deps.leaks,
      config.consoleEnabled ? consoleStatic(defaultConsoleDir()) : null,
      forwardAuth({
        authorize: observedAuthorize(authorizer, "forward_auth", forwardAuthObserver(metrics, log)),
        health: deps.health,
        trustHeaders: config.forwardAuthTrustHeaders,
      }),
    ),
    routes: (router) => {
      router.service(
        AuthorizeService,
        authorizeService(
          observedAuthorize(authorizer, "connect", authorizeObserver(metrics, "connect")),
        ),
        { interceptors: services.common },
      );
      router.service(KeyAdminService, services.keyAdmin, {
        interceptors: services.adminInterceptors("connect"),
      });
      router.service(Health, healthService(deps.health, deps.shutdown));
    },
  });
}

/** HTTP endpoints outside Connect, asked in order; the first that takes a request answers it. */
function firstOf(...gateways: Array<HttpGateway | null>): HttpGateway {
  const present = gateways.filter((g): g is HttpGateway => g !== null);
  return (req, res) => present.some((g) => g(req, res));
}
