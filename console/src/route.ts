import { useEffect, useState } from "preact/hooks";

export type Route =
  | { page: "keys" }
  | { page: "key"; id: string }
  | { page: "findings" }
  | { page: "audit" };

/** Hash routes: the static handler serves one page, and no route carries a secret. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  const key = /^keys\/([A-Za-z0-9_-]+)$/.exec(path);
  if (key?.[1]) return { page: "key", id: key[1] };
  if (path === "findings") return { page: "findings" };
  if (path === "audit") return { page: "audit" };
  return { page: "keys" };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () =>
      setRoute((was) => {
        const now = parseRoute(location.hash);
        return JSON.stringify(now) === JSON.stringify(was) ? was : now;
      });
    addEventListener("hashchange", changed);
    // Effects run after paint: a hash changed between the first render and now fired no event we heard.
    changed();
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

export const keyHref = (id: string) => `#/keys/${encodeURIComponent(id)}`;
