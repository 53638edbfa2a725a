import { Code } from "@connectrpc/connect";
import { toConnectError } from "../middleware/error-interceptor.js";
import { answerForFailure, type GatewayAnswer } from "./gateway-mapping.js";

/**
 * What a gateway answers when keyward could not decide. A request keyward cannot
 * read is the gateway's configuration at fault (400, naming `scopesSource`, the
 * config line to fix); anything else is keyward's (503). Never a 200.
 */
export function gatewayFailure(
  error: unknown,
  scopesSource: string,
  requiredScopes: readonly string[],
): GatewayAnswer {
  const mapped = toConnectError(error);
  if (mapped?.code === Code.InvalidArgument) {
    return answerForFailure(
      400,
      "INVALID_ARGUMENT",
      mapped.rawMessage.replace("required_scopes", scopesSource),
      requiredScopes,
    );
  }
  return answerForFailure(
    503,
    "UNAVAILABLE",
    "keyward could not decide; retry later",
    requiredScopes,
  );
}
