import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";
import {
  answerDenial,
  createGuard,
  type Denial,
  type KeywardIdentity,
  type RequireScopesOptions,
  scopesAndOptions,
} from "./middleware.js";

export type { Denial, DenialBody, KeywardIdentity, RequireScopesOptions } from "./middleware.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by keyward's requireScopes on allow. */
    keyward?: KeywardIdentity;
  }
}

/** A Fastify preHandler in callback style: a denied request never calls `done`, so the route cannot run. */
export type KeywardPreHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

/**
 * A Fastify preHandler: `app.get("/campaigns", { preHandler: requireScopes("campaigns:read") }, handler)`.
 * Allow → `request.keyward`; deny → `onDeny(denial, request, reply)` if given, and the
 * decision's status and JSON body unless onDeny sent a reply; keyward unreachable → 503.
 */
export function requireScopes(...scopes: string[]): KeywardPreHandler;
export function requireScopes(
  scopes: string[],
  options?: RequireScopesOptions<FastifyRequest, FastifyReply>,
): KeywardPreHandler;
export function requireScopes(...args: unknown[]): KeywardPreHandler {
  const { scopes, options } = scopesAndOptions<FastifyRequest, FastifyReply>(args);
  const guard = createGuard<FastifyRequest>(scopes, options, (request) => (name) => {
    const v = request.headers[name];
    return Array.isArray(v) ? v[0] : v;
  });
  return function keywardPreHandler(
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) {
    guard(request).then(
      (outcome) => {
        if (outcome.allowed) {
          request.keyward = outcome.identity;
          return done();
        }
        // An async preHandler that returns lets Fastify run the route unless the reply has already
        // ended, which a send through async onSend hooks has not; so a denial answers and never calls
        // done. Whether onDeny sent is seen by watching reply.send, for the same reason.
        let sent = false;
        const send = reply.send;
        const ownSend = Object.hasOwn(reply, "send");
        reply.send = function (this: FastifyReply, payload?: unknown) {
          const r = send.call(this, payload);
          // Only a send that returned owns the answer; one that threw (an unserializable body) did not answer.
          sent = true;
          return r;
        };
        const onDeny = options.onDeny;
        return answerDenial(
          outcome.denial,
          onDeny && (() => onDeny(outcome.denial, request, reply)),
          {
            answered: () => sent || reply.sent || reply.raw.headersSent,
            complete: () => sent || reply.sent,
            sendDefault: (d: Denial) => void reply.code(d.status).headers(d.headers).send(d.body),
            destroy: () => void reply.raw.destroy(),
            report: (err) =>
              request.log.error(
                { err },
                "keyward requireScopes: onDeny or the denial answer failed; the default denial was sent if nothing had been answered yet, else the response was cut",
              ),
          },
          reply,
        ).finally(() => {
          if (ownSend) reply.send = send;
          else delete (reply as { send?: unknown }).send;
        });
      },
      // The guard failed before any decision (the app's key/workspace function threw): Fastify's error handler, not the route.
      (err: unknown) => done(err as Error),
    );
  };
}
