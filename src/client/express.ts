import type { NextFunction, Request, RequestHandler, Response } from "express";
import {
  answerDenial,
  createGuard,
  type Denial,
  type KeywardIdentity,
  type RequireScopesOptions,
  scopesAndOptions,
} from "./middleware.js";

export type { Denial, DenialBody, KeywardIdentity, RequireScopesOptions } from "./middleware.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by keyward's requireScopes on allow. */
      keyward?: KeywardIdentity;
    }
  }
}

/**
 * Express middleware: `app.get("/campaigns", requireScopes("campaigns:read"), handler)`.
 * Allow → `req.keyward` and next(); deny → `onDeny(denial, req, res)` if given, and the
 * decision's status and JSON body unless onDeny answered; keyward unreachable → 503.
 * A denied request never calls next().
 */
export function requireScopes(...scopes: string[]): RequestHandler;
export function requireScopes(
  scopes: string[],
  options?: RequireScopesOptions<Request, Response>,
): RequestHandler;
export function requireScopes(...args: unknown[]): RequestHandler {
  const { scopes, options } = scopesAndOptions<Request, Response>(args);
  const guard = createGuard<Request>(
    scopes,
    options,
    (req) => (name) => req.get(name) ?? undefined,
  );
  let warned = false;
  const report = (err: unknown) => {
    // Once per route: a broken onDeny fails on every denied request, and an attacker chooses how many those are.
    if (warned) return;
    warned = true;
    process.emitWarning(
      `keyward requireScopes: onDeny or the denial answer failed (${(err as Error)?.message ?? String(err)}); the default denial was sent if nothing had been answered yet, else the response was cut. Later failures of this route are not reported.`,
      { code: "KEYWARD_DENY_FAILED" },
    );
  };
  return (req: Request, res: Response, next: NextFunction) => {
    guard(req).then(
      (outcome) => {
        if (outcome.allowed) {
          req.keyward = outcome.identity;
          return next();
        }
        const onDeny = options.onDeny;
        return answerDenial(outcome.denial, onDeny && (() => onDeny(outcome.denial, req, res)), {
          answered: () => res.headersSent,
          complete: () => res.writableEnded,
          sendDefault: (d: Denial) => void res.status(d.status).set(d.headers).json(d.body),
          destroy: () => void res.destroy(),
          report,
        });
      },
      // The guard failed before any decision (the app's key/workspace function threw): Express's error handler, not the route.
      next,
    );
  };
}
