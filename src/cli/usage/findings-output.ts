import { type Finding, FindingKind } from "../../../gen/keyward/v1/usage_pb.js";
import { date, table, UsageError } from "../admin-cli.js";
import { wrappedRows } from "../wrap-table.js";

/** --kind names and the findings table of `keyward findings`. */

/** "never-used" → FindingKind.NEVER_USED, for every kind but UNSPECIFIED, in proto order. */
export const KIND_NAMES: ReadonlyMap<string, FindingKind> = new Map(
  Object.entries(FindingKind)
    .filter((e): e is [string, FindingKind] => typeof e[1] === "number" && e[1] !== 0)
    .map(([name, kind]) => [name.toLowerCase().replaceAll("_", "-"), kind]),
);

export function kindName(kind: FindingKind): string {
  return FindingKind[kind]?.toLowerCase().replaceAll("_", "-") ?? String(kind);
}

/** --kind, repeatable or comma-separated; also as the proto spells it (FINDING_KIND_NEVER_USED). */
export function kindsFlag(values: string[] | undefined): FindingKind[] {
  const names = (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim());
  return names
    .filter((n) => n !== "")
    .map((n) => {
      const name = n
        .toLowerCase()
        .replace(/^finding_kind_/, "")
        .replaceAll("_", "-");
      const kind = KIND_NAMES.get(name);
      if (kind === undefined)
        throw new UsageError(
          `unknown --kind ${JSON.stringify(n)}; the kinds are ${[...KIND_NAMES.keys()].join(", ")}`,
        );
      return kind;
    });
}

/** What to do about a finding, as a command to run where there is one. */
export function action(f: Finding): string {
  switch (f.kind) {
    case FindingKind.UNUSED_SCOPES:
    case FindingKind.WILDCARD:
      return f.suggestedScopes.length > 0
        ? `keyward keys update ${f.keyId} ${f.suggestedScopes.map((s) => `--scope ${s}`).join(" ")}`
        : `keyward keys usage ${f.keyId}`;
    case FindingKind.NEVER_USED:
    case FindingKind.UNUSED:
      return `keyward keys revoke ${f.keyId} --reason unused`;
    case FindingKind.NO_EXPIRY:
      return `keyward keys update ${f.keyId} --expires-in 90d`;
    case FindingKind.EXPIRING_SOON:
      return `keyward keys update ${f.keyId} --expires-in 90d, or let it expire`;
    default:
      return `keyward keys usage ${f.keyId} --since 24h`;
  }
}

const HEADERS = ["KEY", "NAME", "KIND", "SINCE", "DETAIL", "SUGGESTION"];

/**
 * One line per finding; on a terminal too narrow for that (`width`), the detail is
 * wrapped and the suggestion, a command to copy whole, goes on its own line below.
 */
export function findingRows(findings: Finding[], more: boolean, width?: number): string {
  if (findings.length === 0) return "no findings\n";
  const rows = findings.map((f) => [
    f.keyId,
    f.keyName,
    kindName(f.kind),
    date(f.since),
    f.detail,
    action(f),
  ]);
  const note = more ? "more findings than --limit: raise --limit to see them\n" : "";
  const flat = table(HEADERS, rows, 1000);
  if (width === undefined || flat.split("\n")[0]!.length <= width) return `${flat}${note}`;
  const [header, ...wrapped] = wrappedRows(
    HEADERS.slice(0, 5),
    rows.map((r) => r.slice(0, 5)),
    [4],
    width,
  );
  const blocks = wrapped.map((lines, i) => [...lines, `  → ${rows[i]![5]}`]);
  return `${[header!, ...blocks].flat().join("\n")}\n${note}`;
}
