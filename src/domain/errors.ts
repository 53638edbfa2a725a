import type { FieldViolation } from "./validation.js";

/**
 * Failures the application raises on purpose. The transport maps each class
 * to one status code in one place (transport/middleware/error-interceptor.ts).
 */
export class InvalidRequestError extends Error {
  constructor(readonly violations: FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.problem}`).join("; "));
    this.name = "InvalidRequestError";
  }
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
}

export class PermissionError extends Error {
  override name = "PermissionError";
}

export class UnauthenticatedError extends Error {
  override name = "UnauthenticatedError";
}

export class PreconditionError extends Error {
  override name = "PreconditionError";
}

/** The database cannot be reached and the answer is not in the cache: never guess, say so. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(message = "the key database is unreachable and this key is not cached; retry later") {
    super(message);
  }
}

/** A compare-and-set lost to concurrent changes more times than it retries. */
export class ConflictError extends Error {
  override name = "ConflictError";
}

export function invalid(field: string, problem: string): InvalidRequestError {
  return new InvalidRequestError([{ field, problem }]);
}

export function throwIfViolations(violations: ReadonlyArray<FieldViolation | null>): void {
  const real = violations.filter((v): v is FieldViolation => v !== null);
  if (real.length > 0) throw new InvalidRequestError(real);
}
