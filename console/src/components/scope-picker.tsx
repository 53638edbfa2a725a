import type { Scope } from "../../../gen/keyward/v1/key_admin_pb.js";
import { groupScopes, scopeNote } from "../format.js";

/** One checkbox per catalog scope, labelled with the scope name, grouped by resource with the descriptions. */
export function ScopePicker(props: {
  catalog: Scope[];
  selected: Set<string>;
  onChange: (next: Set<string>) => void;
  adminScopes: boolean;
}) {
  // The catalog lists the keyward: admin scopes too; only an admin who may grant them sees them.
  const entries = props.catalog.filter((s) => props.adminScopes || !s.name.startsWith("keyward:"));
  const toggle = (name: string, on: boolean) => {
    const next = new Set(props.selected);
    if (on) next.add(name);
    else next.delete(name);
    props.onChange(next);
  };
  return (
    <fieldset class="scopes">
      <legend>Scopes</legend>
      {groupScopes(entries).map((g) => (
        <fieldset key={g.resource} class="scope-group">
          <legend>
            {g.resource === "*"
              ? "Full access"
              : g.resource === "keyward"
                ? "keyward (admin authority)"
                : g.resource}
          </legend>
          {g.scopes.map((s) => {
            const id = `scope-${s.name}`;
            const note = scopeNote(s);
            return (
              <div class={s.name === "*" ? "scope wildcard" : "scope"} key={s.name}>
                <input
                  type="checkbox"
                  id={id}
                  checked={props.selected.has(s.name)}
                  onChange={(e) => toggle(s.name, e.currentTarget.checked)}
                  aria-describedby={`${id}-d`}
                />
                <label for={id}>{s.name}</label>
                <span id={`${id}-d`} class="desc">
                  {s.description}
                  {note && <em> {note}</em>}
                </span>
              </div>
            );
          })}
        </fieldset>
      ))}
    </fieldset>
  );
}
