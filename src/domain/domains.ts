import { domainToASCII } from "node:url";

export const MAX_DOMAIN_LENGTH = 253;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Lower-cases, drops one trailing dot and converts IDN to punycode.
 * Returns null for anything that is not a host name (ports, paths, IPs with
 * brackets, empty labels), so a caller cannot smuggle a match through syntax.
 */
export function normalizeDomain(input: string): string | null {
  if (input.length === 0 || input.length > MAX_DOMAIN_LENGTH + 1) return null;
  const trimmed = input.endsWith(".") ? input.slice(0, -1) : input;
  if (/[^\p{L}\p{N}\p{M}.-]/u.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === "" || ascii.length > MAX_DOMAIN_LENGTH) return null;
  return ascii.split(".").every((label) => LABEL.test(label)) ? ascii : null;
}

/** A pattern is a host name or `*.` followed by one, which matches sub-domains only. */
export function normalizeDomainPattern(input: string): string | null {
  if (input.startsWith("*.")) {
    const base = normalizeDomain(input.slice(2));
    return base === null ? null : `*.${base}`;
  }
  return normalizeDomain(input);
}

/** Both arguments already normalised. */
export function domainAllowed(domain: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    pattern.startsWith("*.") ? domain.endsWith(pattern.slice(1)) : domain === pattern,
  );
}
