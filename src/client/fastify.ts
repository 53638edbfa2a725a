import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { createGuard, scopesAndOptions, type KeywardIdentity, type RequireScopesOptions } from "./middleware.js";

export type { Denial, KeywardIdentity, RequireScopesOptions } from "./middleware.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by keyward's requireScopes on allow. */
    keyward?: KeywardIdentity;
  }
}

/**
 * A Fastify preHandler: `app.get("/campaigns", { preHandler: requireScopes("campaigns:read") }, handler)`.
 * Allow → `request.keyward`; deny → the decision's status and JSON body;
 * keyward unreachable → 503, never an allow.
 */
export function requireScopes(...scopes: string[]): preHandlerAsyncHookHandler;
export function requireScopes(scopes: string[], options?: RequireScopesOptions<FastifyRequest>): preHandlerAsyncHookHandler;
export function requireScopes(...args: unknown[]): preHandlerAsyncHookHandler {
  const { scopes, options } = scopesAndOptions<FastifyRequest>(args);
  const guard = createGuard<FastifyRequest>(scopes, options, (request) => (name) => {
    const v = request.headers[name];
    return Array.isArray(v) ? v[0] : v;
  });
  return async function keywardPreHandler(request: FastifyRequest, reply: FastifyReply) {
    const outcome = await guard(request);
    if (outcome.allowed) {
      request.keyward = outcome.identity;
      return;
    }
    if (options.onDeny) return options.onDeny(outcome.denial, request);
    return reply.code(outcome.denial.status).headers(outcome.denial.headers).send(outcome.denial.body);
  };
}
