import type { Decision, Reason } from "../domain/decision.js";
import type { UsageSource } from "../domain/usage.js";
import type { AuthorizeRequestFields } from "../domain/validation.js";
import type { Authorizer } from "./authorizer.js";

/** The entry points a decision can come through; usage and metrics are kept per source. */
export type AuthorizeSource = UsageSource;

/** Sees every Authorize outcome: a decision's reason, or the error that replaced it. */
export type AuthorizeObserver = (
  outcome: { reason: Reason } | { error: unknown },
  seconds: number,
) => void;

/**
 * Authorize as every entry point runs it: timed, observed, and turned into that
 * entry point's answer by `answer`. A failure is observed and rethrown for the
 * transport to map; it is never an answer.
 */
export type ObservedAuthorize = <T>(
  fields: AuthorizeRequestFields,
  answer: (decision: Decision) => T,
) => Promise<T>;

export function observedAuthorize(
  authorizer: Authorizer,
  source: AuthorizeSource,
  observe: AuthorizeObserver,
): ObservedAuthorize {
  // One async layer, as the handlers had before: the answer is made inside it.
  return async (fields, answer) => {
    const start = performance.now();
    let decision: Decision;
    try {
      decision = await authorizer.authorize(fields, source);
    } catch (error) {
      observe({ error }, (performance.now() - start) / 1000);
      throw error;
    }
    observe({ reason: decision.reason }, (performance.now() - start) / 1000);
    return answer(decision);
  };
}
