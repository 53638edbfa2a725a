import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * A lone surrogate can never come out of decoding UTF-8, so it marks a string
 * whose bytes were not valid UTF-8.
 */
const INVALID = "\uDFFF";

/**
 * protobuf-es rejects invalid UTF-8 while decoding, and connect-es reports that
 * as INTERNAL before any interceptor runs. Decoding such strings to a marked
 * value instead lets the guard below answer INVALID_ARGUMENT naming the field.
 */
export function markInvalidUtf8(): void {
  const base = getTextEncoding();
  const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
  configureTextEncoding({
    ...base,
    decodeUtf8(bytes: Uint8Array, strict?: boolean) {
      if (!strict) return base.decodeUtf8(bytes);
      try {
        return base.decodeUtf8(bytes, true);
      } catch {
        return INVALID + lenient.decode(bytes);
      }
    },
  });
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The path of the first string field marked invalid, or null. */
export function invalidUtf8Field(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.startsWith(INVALID) ? path : null;
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = invalidUtf8Field(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key === "$typeName") continue;
    // A oneof is { case, value }: name it by its case.
    const name = key === "value" && "case" in value ? snake(String((value as { case: unknown }).case)) : key === "case" ? null : snake(key);
    if (name === null) continue;
    if (key.startsWith(INVALID)) return `${path} (a map key)`;
    const found = invalidUtf8Field(inner, path && !(key === "value" && "case" in value) ? `${path}.${name}` : name);
    if (found) return found;
  }
  return null;
}

export function utf8GuardInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const field = invalidUtf8Field(req.message, "");
    if (field) throw new ConnectError(`invalid request: ${field}: is not valid UTF-8`, Code.InvalidArgument);
    return next(req);
  };
}
