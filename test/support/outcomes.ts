import { Code, ConnectError } from "@connectrpc/connect";
import { Reason } from "../../gen/keyward/v1/authorize_pb.js";

/**
 * An Authorize answer as one comparable string: "ALLOW", "DENY:<Reason name>",
 * or the gRPC code's name of a failed call ("Unavailable"), so a run of answers
 * is checked in one assertion and a wrong one reads plainly in the failure.
 */
export type Outcome =
  | "ALLOW"
  | `DENY:${keyof typeof Reason}`
  | keyof typeof Code
  | `${keyof typeof Code}: ${string}`;

export function decisionOutcome(answer: { allowed: boolean; reason: Reason }): Outcome {
  return answer.allowed ? "ALLOW" : `DENY:${Reason[answer.reason] as keyof typeof Reason}`;
}

/** A failed call's code name, from Connect or from @grpc/grpc-js; `withMessage` adds what the server said. */
export function failureOutcome(err: unknown, options: { withMessage?: boolean } = {}): Outcome {
  // A grpc-js ServiceError carries the status number in `code` and the server's message in `details`.
  const grpcJs =
    !(err instanceof ConnectError) && typeof (err as { code?: unknown }).code === "number";
  const [code, message]: [Code, string] = grpcJs
    ? [(err as { code: Code }).code, (err as { details?: string }).details ?? ""]
    : [ConnectError.from(err).code, ConnectError.from(err).rawMessage];
  const name = Code[code] as keyof typeof Code;
  return options.withMessage ? `${name}: ${message}` : name;
}

/** The outcome of one Authorize call, whichever way it ended. */
export function outcomeOf(
  call: Promise<{ allowed: boolean; reason: Reason }>,
  options: { withMessage?: boolean } = {},
): Promise<Outcome> {
  return call.then(decisionOutcome, (err: unknown) => failureOutcome(err, options));
}
