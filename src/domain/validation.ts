import { MAX_DOMAIN_LENGTH, normalizeDomain, normalizeDomainPattern } from "./domains.js";
import { isScope, parseScope, type ScopeCatalog, unknownScopes } from "./scopes.js";

export interface FieldViolation {
  field: string;
  problem: string;
}

export const LIMITS = {
  requiredScopes: 100,
  keyScopes: 100,
  allowedDomains: 50,
  nameLength: 200,
  workspaceLength: 64,
  metadataEntries: 32,
  metadataKeyLength: 64,
  metadataValueLength: 512,
  revokeReasonLength: 500,
  defaultPageSize: 50,
  maxPageSize: 1000,
} as const;

const WORKSPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const METADATA_KEY_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Quotes user input in messages without letting it run on: long values are cut. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

export function workspaceViolation(value: string, field: string): FieldViolation | null {
  if (value.length > LIMITS.workspaceLength)
    return { field, problem: `must be at most ${LIMITS.workspaceLength} characters` };
  if (!WORKSPACE_PATTERN.test(value))
    return {
      field,
      problem: `${quote(value)} is not a workspace id (letters, digits and _ . : -, starting with a letter or digit)`,
    };
  return null;
}

const NO_VIOLATIONS: FieldViolation[] = [];

export function requiredScopeViolations(
  scopes: readonly string[],
  field: string,
): FieldViolation[] {
  if (scopes.length > LIMITS.requiredScopes)
    return [{ field, problem: `at most ${LIMITS.requiredScopes} scopes, got ${scopes.length}` }];
  if (scopes.every(isScope)) return NO_VIOLATIONS;
  const bad = scopes.flatMap((s, i) => (isScope(s) ? [] : [`[${i}] ${quote(s)}`]));
  return bad.length === 0
    ? []
    : [
        {
          field,
          problem: `not scopes of the form resource:action, resource:all or *: ${bad.join(", ")}`,
        },
      ];
}

/** For keys: grammar, then the catalog, then the count; lists every offender. */
export function keyScopeViolations(
  scopes: readonly string[],
  catalog: ScopeCatalog,
  field: string,
): FieldViolation[] {
  if (scopes.length === 0) return [{ field, problem: "must name at least one scope" }];
  if (scopes.length > LIMITS.keyScopes)
    return [{ field, problem: `at most ${LIMITS.keyScopes} scopes, got ${scopes.length}` }];
  const malformed = scopes.filter((s) => parseScope(s) === null);
  if (malformed.length > 0)
    return [
      {
        field,
        problem: `malformed scopes (expected resource:action, resource:all or *): ${malformed.map(quote).join(", ")}`,
      },
    ];
  const unknown = unknownScopes(scopes, catalog);
  if (unknown.length > 0)
    return [{ field, problem: `unknown scopes (see ListScopes): ${unknown.join(", ")}` }];
  return [];
}

/** Returns normalised, deduplicated patterns, or the violations. */
export function parseAllowedDomains(
  domains: readonly string[],
  field: string,
): { domains: string[]; violations: FieldViolation[] } {
  if (domains.length > LIMITS.allowedDomains)
    return {
      domains: [],
      violations: [
        { field, problem: `at most ${LIMITS.allowedDomains} domains, got ${domains.length}` },
      ],
    };
  const normalized: string[] = [];
  const bad: string[] = [];
  for (const d of domains) {
    const n = normalizeDomainPattern(d);
    if (n === null) bad.push(quote(d));
    else if (!normalized.includes(n)) normalized.push(n);
  }
  const violations =
    bad.length === 0
      ? []
      : [{ field, problem: `not host names or *.host patterns: ${bad.join(", ")}` }];
  return { domains: normalized, violations };
}

/** C0 controls, DEL and C1 controls: a terminal acts on them (ESC starts a colour or cursor sequence) instead of printing them. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
/** Bidi embeddings, overrides and isolates: they reorder what a terminal shows, so one key's name can be made to read as another's. */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Free text an operator will read (names, revoke reasons, metadata) reaches
 * the CLI's tables and terminals as it is: no control characters, no bidi
 * controls. Positions count characters from 0.
 */
export function textViolation(value: string, field: string): FieldViolation | null {
  if (!CONTROL.test(value) && !BIDI_CONTROL.test(value)) return null;
  let position = 0;
  for (const ch of value) {
    if (CONTROL.test(ch))
      return {
        field,
        problem: `contains a control character (${codePoint(ch)}) at position ${position}`,
      };
    if (BIDI_CONTROL.test(ch))
      return {
        field,
        problem: `contains a bidirectional control character (${codePoint(ch)}) at position ${position}`,
      };
    position++;
  }
  return null;
}

export function nameViolation(name: string, field: string): FieldViolation | null {
  if (name.trim().length === 0) return { field, problem: "must not be empty" };
  if (name.length > LIMITS.nameLength)
    return {
      field,
      problem: `must be at most ${LIMITS.nameLength} characters, got ${name.length}`,
    };
  return textViolation(name, field);
}

export function revokeReasonViolation(reason: string, field: string): FieldViolation | null {
  if (reason.length > LIMITS.revokeReasonLength)
    return { field, problem: `must be at most ${LIMITS.revokeReasonLength} characters` };
  return textViolation(reason, field);
}

export function metadataViolations(
  metadata: Record<string, string>,
  field: string,
): FieldViolation[] {
  const entries = Object.entries(metadata);
  if (entries.length > LIMITS.metadataEntries)
    return [{ field, problem: `at most ${LIMITS.metadataEntries} entries, got ${entries.length}` }];
  return entries.flatMap(([k, v]): FieldViolation[] => {
    if (k.length > LIMITS.metadataKeyLength || !METADATA_KEY_PATTERN.test(k))
      return [
        {
          field: `${field}[${quote(k)}]`,
          problem: `keys are 1-${LIMITS.metadataKeyLength} characters of [A-Za-z0-9_-]`,
        },
      ];
    if (v.length > LIMITS.metadataValueLength)
      return [
        {
          field: `${field}[${quote(k)}]`,
          problem: `values are at most ${LIMITS.metadataValueLength} characters`,
        },
      ];
    const text = textViolation(v, `${field}[${quote(k)}]`);
    return text ? [text] : [];
  });
}

export function pageSize(
  value: number,
  field: string,
): { size: number; violation: FieldViolation | null } {
  if (value < 0) return { size: 0, violation: { field, problem: "must not be negative" } };
  if (value > LIMITS.maxPageSize)
    return {
      size: 0,
      violation: { field, problem: `must be at most ${LIMITS.maxPageSize}, got ${value}` },
    };
  return { size: value === 0 ? LIMITS.defaultPageSize : value, violation: null };
}

export type Credential =
  | { kind: "missing" }
  | { kind: "api_key"; value: string }
  | { kind: "key_hash"; value: string };

export interface AuthorizeRequestFields {
  credential: Credential;
  requiredScopes: readonly string[];
  domain: string;
  workspace: string;
}

export interface ParsedAuthorizeRequest {
  requiredScopes: readonly string[];
  domain: string | null;
  workspace: string | null;
}

/**
 * A request is invalid when its own fields are (scopes off the grammar, a
 * domain that is not a host name); a bad credential is not invalid, it is a deny.
 */
export function parseAuthorizeRequest(
  req: AuthorizeRequestFields,
): { ok: true; value: ParsedAuthorizeRequest } | { ok: false; violations: FieldViolation[] } {
  // A copy: the valid case shares one empty list, which must stay empty.
  const violations = [...requiredScopeViolations(req.requiredScopes, "required_scopes")];
  let domain: string | null = null;
  if (req.domain !== "") {
    domain = normalizeDomain(req.domain);
    if (domain === null) {
      violations.push({
        field: "domain",
        problem:
          req.domain.length > MAX_DOMAIN_LENGTH
            ? `must be at most ${MAX_DOMAIN_LENGTH} characters`
            : `${quote(req.domain)} is not a host name`,
      });
    }
  }
  if (req.workspace !== "") {
    const v = workspaceViolation(req.workspace, "workspace");
    if (v) violations.push(v);
  }
  if (violations.length > 0) return { ok: false, violations };
  return {
    ok: true,
    value: {
      requiredScopes: req.requiredScopes,
      domain,
      workspace: req.workspace === "" ? null : req.workspace,
    },
  };
}
