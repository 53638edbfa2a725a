/**
 * keyward's HTTP contract, the part that both sides of it speak: where a key is
 * read from a request, and what a refusal looks like. The server's gateways
 * (forward auth, ext_authz) and the client's middleware (@keyward/client/express,
 * /fastify) both import it, so their answers cannot drift apart.
 *
 * It is shipped inside @keyward/client: it imports nothing but the language, and
 * nothing of the server.
 */

/** Reads one request header, case-insensitively; undefined when absent. */
export type HeaderReader = (lowerCaseName: string) => string | undefined;

/** Header names, as lower case for reading and as gateways copy them for writing. */
export const HEADER = {
  apiKey: "x-api-key",
  authorization: "authorization",
  reason: "X-Keyward-Reason",
  wwwAuthenticate: "WWW-Authenticate",
} as const;

/** The seeds send keys both ways: `X-API-Key: …` and `Authorization: Bearer …`. Undefined when neither holds one. */
export function apiKeyFromHeaders(header: HeaderReader): string | undefined {
  const apiKey = header(HEADER.apiKey)?.trim();
  if (apiKey) return apiKey;
  return /^Bearer\s+(\S+)\s*$/i.exec(header(HEADER.authorization) ?? "")?.[1];
}

export type DenialStatus = 400 | 401 | 403 | 503;

const STATUS_TEXT: Record<DenialStatus, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  503: "Service Unavailable",
};

/**
 * The JSON body of every refusal: a superset of the seeds' two shapes,
 * SendPilot's {statusCode, message, error} and ColdSend's {detail, required, granted}.
 */
export interface DenialBody {
  statusCode: DenialStatus;
  error: string;
  message: string;
  detail: string;
  reason: string;
  required: string[];
  granted: string[];
}

export function denialBody(
  status: DenialStatus,
  reason: string,
  message: string,
  required: readonly string[],
  granted: readonly string[],
): DenialBody {
  return {
    statusCode: status,
    error: STATUS_TEXT[status],
    message,
    detail: message,
    reason,
    required: [...required],
    granted: [...granted],
  };
}

/** The headers every refusal carries: the reason, and the challenge a 401 owes (RFC 9110 §11.6.1). */
export function denialHeaders(status: DenialStatus, reason: string): Record<string, string> {
  const headers: Record<string, string> = { [HEADER.reason]: reason };
  if (status === 401) headers[HEADER.wwwAuthenticate] = "Bearer";
  return headers;
}
