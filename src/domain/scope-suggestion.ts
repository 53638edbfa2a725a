/**
 * What a key's usage says about its scopes: which held scope satisfied a
 * required one, which held scopes nothing needed, and the least a key needs
 * for what it actually did. Same rules as scopes.ts `isSatisfied`.
 */
import { isAdminScope, isSatisfied, parseScope, type ScopeCatalog } from "./scopes.js";
import { OTHER_SCOPES } from "./usage.js";

/** Shown as granted_by when a required composite was satisfied by holding all of its members. */
export const MEMBER_SEPARATOR = " + ";

/**
 * The held scope that satisfied `required`: itself, then a held composite that
 * contains it, then `resource:all`, then `*`; "" when none does. A required
 * composite satisfied only by holding each member answers the members joined by
 * MEMBER_SEPARATOR, since no single held scope did it.
 */
export function grantedBy(
  required: string,
  held: readonly string[],
  catalog: ScopeCatalog,
): string {
  const set = new Set(held);
  if (set.has(required)) return required;
  const parsed = parseScope(required);
  if (parsed?.kind === "action") {
    const viaComposite = composedBy(parsed.resource, parsed.action, set, catalog);
    if (viaComposite !== "") return viaComposite;
  }
  if ((parsed?.kind === "action" || parsed?.kind === "all") && set.has(`${parsed.resource}:all`))
    return `${parsed.resource}:all`;
  // As isSatisfied: `*` answers for any required string outside keyward's own resource.
  return set.has("*") && !isAdminScope(required) ? "*" : "";
}

function composedBy(
  resource: string,
  action: string,
  held: ReadonlySet<string>,
  catalog: ScopeCatalog,
): string {
  const def = catalog.resources.get(resource);
  if (!def) return "";
  for (const [name, composite] of def.composites) {
    if (composite.includes.includes(action) && held.has(`${resource}:${name}`))
      return `${resource}:${name}`;
  }
  const asComposite = def.composites.get(action);
  if (!asComposite) return "";
  const members = asComposite.includes.map((member) => `${resource}:${member}`);
  return members.every((m) => held.has(m)) ? members.join(MEMBER_SEPARATOR) : "";
}

/**
 * Whether holding `held` contributes to satisfying `used`: it satisfies it on its
 * own, or it is one member of a required composite. A broad scope (`*`,
 * `resource:all`) therefore counts as used as soon as anything under it was.
 */
function contributes(held: string, used: string, catalog: ScopeCatalog): boolean {
  if (isSatisfied(used, new Set([held]), catalog)) return true;
  const h = parseScope(held);
  const u = parseScope(used);
  if (h?.kind !== "action" || u?.kind !== "action" || h.resource !== u.resource) return false;
  return (
    catalog.resources.get(u.resource)?.composites.get(u.action)?.includes.includes(h.action) ??
    false
  );
}

/** Held scopes that no used scope needed, deduplicated and sorted. */
export function unusedScopes(
  held: readonly string[],
  used: readonly string[],
  catalog: ScopeCatalog,
): string[] {
  // Scopes folded past the hourly cap are unknown: nothing can be called unused.
  if (used.includes(OTHER_SCOPES)) return [];
  const distinct = [...new Set(held)];
  return distinct.filter((h) => !used.some((u) => contributes(h, u, catalog))).sort();
}

/**
 * The smallest set of catalog scopes covering every used scope, sorted: an action
 * stays itself unless a composite whose members were all used replaces it; a used
 * action the catalog does not list (granted by `resource:all` or `*`) needs
 * `resource:all`, or `*` when the resource is not in the catalog either. Never
 * broader than held: used scopes the held ones do not satisfy are dropped, and a
 * composite is proposed only when the held scopes satisfy it. Admin scopes
 * (`keyward:`) stay as they were used. Composites are chosen greedily, largest
 * first, then any made redundant by the others is dropped: the smallest set for
 * catalogs whose composites do not overlap (the shipped one), near it otherwise.
 */
export function suggestedScopes(
  catalog: ScopeCatalog,
  held: readonly string[],
  used: readonly string[],
): string[] {
  // Some scopes used were folded past the hourly cap: suggest nothing narrower than held.
  if (used.includes(OTHER_SCOPES)) return [...new Set(held)].sort();
  const heldSet = new Set(held);
  const needed = new Set<string>();
  for (const scope of new Set(used)) {
    if (isSatisfied(scope, heldSet, catalog))
      needed.add(isAdminScope(scope) ? scope : inCatalog(scope, catalog));
  }
  if (needed.has("*")) return [...needed].filter((s) => s === "*" || isAdminScope(s)).sort();
  const byResource = new Map<string, Set<string>>();
  for (const scope of needed) {
    const [resource, action] = scope.split(":") as [string, string];
    const actions = byResource.get(resource) ?? new Set<string>();
    byResource.set(resource, actions.add(action));
  }
  const out: string[] = [];
  for (const [resource, actions] of byResource)
    out.push(...coverResource(resource, actions, heldSet, catalog));
  return out.sort();
}

/** The catalog scope that names a satisfied used scope: itself, else `resource:all`, else `*`. */
function inCatalog(scope: string, catalog: ScopeCatalog): string {
  const parsed = parseScope(scope);
  if (parsed === null || parsed.kind === "any") return "*";
  const def = catalog.resources.get(parsed.resource);
  if (!def) return "*";
  if (parsed.kind === "all" || def.actions.has(parsed.action) || def.composites.has(parsed.action))
    return scope;
  return `${parsed.resource}:all`;
}

/** `actions`: the used action and composite names of one resource (`all` among them when it was used). */
function coverResource(
  resource: string,
  actions: ReadonlySet<string>,
  held: ReadonlySet<string>,
  catalog: ScopeCatalog,
): string[] {
  if (actions.has("all")) return [`${resource}:all`];
  if (isAdminScope(`${resource}:`)) return [...actions].map((a) => `${resource}:${a}`);
  const composites: Composite[] = [...(catalog.resources.get(resource)?.composites ?? [])];
  // A required composite stays itself: its members alone satisfy it only when each is held by name.
  const required = composites.filter(([name]) => actions.has(name));
  const usedActions = new Set([...actions].filter((a) => !required.some(([name]) => name === a)));
  for (const [, c] of required) for (const m of c.includes) usedActions.add(m);
  const candidates = composites
    .filter(([name, c]) => !actions.has(name) && c.includes.every((m) => usedActions.has(m)))
    .filter(([name]) => isSatisfied(`${resource}:${name}`, held, catalog))
    .sort(([an, a], [bn, b]) => b.includes.length - a.includes.length || (an < bn ? -1 : 1));
  const chosen = chooseComposites(required, candidates);
  const covered = new Set(chosen.flatMap(([, c]) => c.includes));
  const rest = [...usedActions].filter((a) => !covered.has(a));
  return [...chosen.map(([name]) => name), ...rest].map((a) => `${resource}:${a}`);
}

type Composite = readonly [name: string, def: { readonly includes: readonly string[] }];

/**
 * Greedy, largest first, taking a composite only when it replaces at least two
 * actions not yet covered (one would save nothing); then drops, smallest first,
 * any taken one whose members the others cover. Required composites always stay.
 */
function chooseComposites(
  required: readonly Composite[],
  candidates: readonly Composite[],
): Composite[] {
  const chosen = [...required];
  const covered = new Set(required.flatMap(([, c]) => c.includes));
  for (const candidate of candidates) {
    if (candidate[1].includes.filter((m) => !covered.has(m)).length < 2) continue;
    chosen.push(candidate);
    for (const m of candidate[1].includes) covered.add(m);
  }
  const kept = [...chosen];
  for (const c of chosen.slice(required.length).reverse()) {
    const others = kept.filter((o) => o !== c);
    if (c[1].includes.every((m) => others.some(([, o]) => o.includes.includes(m))))
      kept.splice(kept.indexOf(c), 1);
  }
  return kept;
}
