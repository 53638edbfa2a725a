/**
 * Scope grammar and satisfaction. A scope is `resource:action`, `resource:all`
 * (every action of the resource, current and future) or `*` (every product
 * scope). The `keyward` resource holds keyward's own admin authority: it is
 * built in, cannot be defined by a catalog file, and `*` never reaches it, so a
 * customer's full-access product key is not a keyward admin.
 */
const NAME = "[a-z][a-z0-9_]*";
const SCOPE_PATTERN = new RegExp(`^(${NAME}):(${NAME})$`);
export const MAX_SCOPE_LENGTH = 128;

export type ParsedScope =
  | { kind: "any" }
  | { kind: "all"; resource: string }
  | { kind: "action"; resource: string; action: string };

/** parseScope's answer to "is it one?", without building the parts (every Authorize asks). */
export function isScope(scope: string): boolean {
  return scope === "*" || (scope.length <= MAX_SCOPE_LENGTH && SCOPE_PATTERN.test(scope));
}

export function parseScope(scope: string): ParsedScope | null {
  if (scope === "*") return { kind: "any" };
  if (scope.length > MAX_SCOPE_LENGTH) return null;
  const m = SCOPE_PATTERN.exec(scope);
  if (!m) return null;
  const [, resource, action] = m as unknown as [string, string, string];
  return action === "all" ? { kind: "all", resource } : { kind: "action", resource, action };
}

export interface CatalogResource {
  description: string;
  actions: ReadonlyMap<string, string>;
  composites: ReadonlyMap<string, { description: string; includes: readonly string[] }>;
}

export interface ScopeCatalog {
  resources: ReadonlyMap<string, CatalogResource>;
}

export const ADMIN_RESOURCE = "keyward";
export const ADMIN_READ = "keyward:read";
export const ADMIN_WRITE = "keyward:write";
export const ADMIN_ALL = "keyward:all";

const ADMIN_CATALOG_RESOURCE: CatalogResource = {
  description: "keyward's own admin API (KeyAdminService); never granted by *",
  actions: new Map([
    [
      "read",
      "Read key records, the scope catalog and audit events (GetKey, ListKeys, ListScopes, ListAuditEvents)",
    ],
    [
      "write",
      "Create, update, revoke and rotate keys (only keys holding no more admin authority than the caller)",
    ],
  ]),
  composites: new Map(),
};

export function isAdminScope(scope: string): boolean {
  return scope.startsWith(`${ADMIN_RESOURCE}:`);
}

/** Builds a catalog from its JSON form; throws an Error naming the offending path. */
export function catalogFromJson(json: unknown): ScopeCatalog {
  const fail = (path: string, problem: string): never => {
    throw new Error(`${path}: ${problem}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const namePattern = new RegExp(`^${NAME}$`);
  if (!isObject(json) || !isObject(json.resources))
    return fail("resources", "expected an object of resources");
  const resources = new Map<string, CatalogResource>();
  for (const [name, raw] of Object.entries(json.resources)) {
    const path = `resources.${name}`;
    if (!namePattern.test(name)) fail(path, "resource names are lower case [a-z][a-z0-9_]*");
    if (name === ADMIN_RESOURCE)
      fail(
        path,
        `"${ADMIN_RESOURCE}" is reserved for keyward's admin scopes (keyward:read, keyward:write, keyward:all) and cannot be defined or overridden`,
      );
    if (!isObject(raw)) return fail(path, "expected an object");
    if (!isObject(raw.actions))
      return fail(`${path}.actions`, "expected an object of action: description");
    const actions = new Map<string, string>();
    for (const [action, description] of Object.entries(raw.actions)) {
      if (!namePattern.test(action) || action === "all")
        fail(`${path}.actions.${action}`, "action names are [a-z][a-z0-9_]* and not 'all'");
      if (typeof description !== "string")
        fail(`${path}.actions.${action}`, "expected a description string");
      actions.set(action, description as string);
    }
    const composites = new Map<string, { description: string; includes: string[] }>();
    const rawComposites = raw.composites ?? {};
    if (!isObject(rawComposites)) return fail(`${path}.composites`, "expected an object");
    for (const [composite, def] of Object.entries(rawComposites)) {
      const cpath = `${path}.composites.${composite}`;
      if (!namePattern.test(composite) || composite === "all" || actions.has(composite))
        fail(cpath, "composite names are [a-z][a-z0-9_]*, not 'all' and not an action");
      if (!isObject(def) || typeof def.description !== "string" || !Array.isArray(def.includes))
        return fail(cpath, "expected {description, includes: [actions]}");
      const includes = def.includes as unknown[];
      for (const member of includes) {
        if (typeof member !== "string" || !actions.has(member))
          fail(cpath, `includes ${JSON.stringify(member)}, which is not an action of ${name}`);
      }
      if (includes.length === 0) fail(cpath, "includes no action");
      composites.set(composite, { description: def.description, includes: includes as string[] });
    }
    resources.set(name, {
      description: typeof raw.description === "string" ? raw.description : "",
      actions,
      composites,
    });
  }
  resources.set(ADMIN_RESOURCE, ADMIN_CATALOG_RESOURCE);
  return { resources };
}

/** Scopes of valid grammar that the catalog does not know, e.g. for CreateKey to refuse. */
export function unknownScopes(scopes: readonly string[], catalog: ScopeCatalog): string[] {
  return scopes.filter((scope) => {
    const parsed = parseScope(scope);
    if (parsed === null || parsed.kind === "any") return false;
    const resource = catalog.resources.get(parsed.resource);
    if (!resource) return true;
    if (parsed.kind === "all") return false;
    return !resource.actions.has(parsed.action) && !resource.composites.has(parsed.action);
  });
}

export function isSatisfied(
  required: string,
  granted: ReadonlySet<string>,
  catalog: ScopeCatalog,
): boolean {
  if (granted.has(required)) return true;
  if (granted.has("*") && !isAdminScope(required)) return true;
  const parsed = parseScope(required);
  if (parsed === null || parsed.kind === "any") return false;
  if (granted.has(`${parsed.resource}:all`)) return true;
  if (parsed.kind === "all") return false;
  const resource = catalog.resources.get(parsed.resource);
  if (!resource) return false;
  const composite = resource.composites.get(parsed.action);
  if (composite)
    return composite.includes.every((member) => granted.has(`${parsed.resource}:${member}`));
  for (const [name, def] of resource.composites) {
    if (def.includes.includes(parsed.action) && granted.has(`${parsed.resource}:${name}`))
      return true;
  }
  return false;
}

/** A key's scopes made ready to answer "which of these are missing?" many times. */
export interface Grants {
  /** Required scopes not satisfied, deduplicated, in request order. */
  missing(required: readonly string[]): string[];
}

const NONE: string[] = [];
/** Distinct required scopes remembered per key; callers ask for a handful, attackers for anything. */
const MEMO_LIMIT = 256;

/** Compiled once per cached key, so a repeated Authorize re-parses nothing. */
export function compileGrants(granted: readonly string[], catalog: ScopeCatalog): Grants {
  const set = new Set(granted);
  const memo = new Map<string, boolean>();
  const satisfied = (scope: string): boolean => {
    let ok = memo.get(scope);
    if (ok === undefined) {
      ok = isSatisfied(scope, set, catalog);
      if (memo.size < MEMO_LIMIT) memo.set(scope, ok);
    }
    return ok;
  };
  return {
    missing(required) {
      if (required.length === 0) return NONE;
      if (required.length === 1) return satisfied(required[0]!) ? NONE : [required[0]!];
      return [...new Set(required)].filter((scope) => !satisfied(scope));
    },
  };
}

/** Required scopes the granted set does not satisfy, deduplicated, in request order. */
export function missingScopes(
  required: readonly string[],
  granted: readonly string[],
  catalog: ScopeCatalog,
): string[] {
  return compileGrants(granted, catalog).missing(required);
}

export interface CatalogEntry {
  name: string;
  description: string;
  includes: string[];
}

export function catalogEntries(catalog: ScopeCatalog): CatalogEntry[] {
  const entries: CatalogEntry[] = [
    {
      name: "*",
      description: "Every product scope, current and future (never the keyward: admin scopes)",
      includes: [],
    },
  ];
  for (const [resource, def] of catalog.resources) {
    entries.push({
      name: `${resource}:all`,
      description: `Every action on ${resource}, current and future`,
      includes: [],
    });
    for (const [action, description] of def.actions)
      entries.push({ name: `${resource}:${action}`, description, includes: [] });
    for (const [composite, c] of def.composites) {
      entries.push({
        name: `${resource}:${composite}`,
        description: c.description,
        includes: c.includes.map((a) => `${resource}:${a}`),
      });
    }
  }
  return entries;
}
