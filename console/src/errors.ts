import { Code, ConnectError } from "@connectrpc/connect";

export type Problem =
  /** The admin key no longer works (revoked, expired, unknown): the console signs out. */
  | { kind: "signed-out"; message: string }
  | { kind: "denied"; message: string }
  | { kind: "unreachable"; message: string }
  | { kind: "other"; message: string };

const UNREACHABLE =
  "keyward is unreachable: check that it is running and that this page's address is its HTTP_PORT, then try again.";

/** A sentence a person can act on, from any failure: never raw JSON or a stack trace. */
export function describeProblem(err: unknown): Problem {
  const e = ConnectError.from(err);
  const said = e.rawMessage.trim();
  switch (e.code) {
    case Code.Unauthenticated:
      return {
        kind: "signed-out",
        message: `You were signed out: ${said || "the admin key was refused"}.`,
      };
    case Code.PermissionDenied:
      return { kind: "denied", message: `Not allowed: ${said}` };
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return {
        kind: "unreachable",
        message:
          /fetch|network|load failed/i.test(said) || !said
            ? UNREACHABLE
            : `keyward is unavailable: ${said}`,
      };
    case Code.Unknown:
      // fetch() failing (server down, connection refused) surfaces as Unknown with the browser's TypeError text.
      if (/fetch|network|load failed/i.test(said))
        return { kind: "unreachable", message: UNREACHABLE };
      return {
        kind: "other",
        message:
          "keyward answered with something the console did not understand; try again, and see keyward's log if it persists.",
      };
    case Code.Unimplemented:
      return {
        kind: "other",
        message: "This keyward does not offer that call yet (an older version?).",
      };
    default:
      return { kind: "other", message: said || "Something went wrong; try again." };
  }
}
