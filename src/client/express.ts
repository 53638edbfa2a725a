import type { NextFunction, Request, RequestHandler, Response } from "express";
import { createGuard, scopesAndOptions, type KeywardIdentity, type RequireScopesOptions } from "./middleware.js";

export type { Denial, KeywardIdentity, RequireScopesOptions } from "./middleware.js";

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
 * Allow → `req.keyward` and next(); deny → the decision's status and JSON body;
 * keyward unreachable → 503, never an allow.
 */
export function requireScopes(...scopes: string[]): RequestHandler;
export function requireScopes(scopes: string[], options?: RequireScopesOptions<Request>): RequestHandler;
export function requireScopes(...args: unknown[]): RequestHandler {
  const { scopes, options } = scopesAndOptions<Request>(args);
  const guard = createGuard<Request>(scopes, options, (req) => (name) => req.get(name) ?? undefined);
  return (req: Request, res: Response, next: NextFunction) => {
    guard(req).then(async (outcome) => {
      if (outcome.allowed) {
        req.keyward = outcome.identity;
        return next();
      }
      if (options.onDeny) return options.onDeny(outcome.denial, req);
      res.status(outcome.denial.status).set(outcome.denial.headers).json(outcome.denial.body);
    }, next);
  };
}
