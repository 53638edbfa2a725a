import { webhookHeaders } from "./signing.js";

export const DELIVERY_TIMEOUT_MS = 5000;

export type SendResult = { ok: true } | { ok: false; error: string };

/** One POST: 2xx is delivered; a redirect is not followed (it could point inside the network). */
export async function sendWebhook(
  url: string,
  secret: string,
  eventId: string,
  body: string,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<SendResult> {
  // The send instant, from the real clock: receivers compare it with theirs.
  const headers = webhookHeaders(secret, eventId, new Date(), body);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true };
    if (res.status >= 300 && res.status < 400)
      return { ok: false, error: `HTTP ${res.status}: redirect not followed` };
    return { ok: false, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & {
      cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> };
    };
    if (e.name === "TimeoutError")
      return { ok: false, error: `timeout after ${timeoutMs / 1000}s` };
    return {
      ok: false,
      error: `connection failed: ${e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message}`,
    };
  }
}
