import { useEffect, useState } from "preact/hooks";
import { type Finding, FindingKind } from "../../../gen/keyward/v1/usage_pb.js";
import { Note } from "../components/dialog.js";
import { Pager } from "../components/pager.js";
import { useConsole } from "../context.js";
import { when } from "../format.js";
import { keyHref } from "../route.js";

const KINDS: Array<[FindingKind, string]> = [
  [FindingKind.NEVER_USED, "Never used"],
  [FindingKind.UNUSED, "Unused"],
  [FindingKind.UNUSED_SCOPES, "Unused scopes"],
  [FindingKind.WILDCARD, "Wildcard scope"],
  [FindingKind.NO_EXPIRY, "No expiry"],
  [FindingKind.EXPIRING_SOON, "Expiring soon"],
  [FindingKind.RETIRED_KEY_IN_USE, "Retired key in use"],
  [FindingKind.UNEXPECTED_DENIALS, "Unexpected denials"],
];
const kindLabel = (k: FindingKind) => KINDS.find(([v]) => v === k)?.[1] ?? "Other";

/** ListFindings: what an admin should look at, filtered by kind, paged. */
export function FindingsPage() {
  const { admin, workspace, problem } = useConsole();
  const [kind, setKind] = useState<FindingKind>(FindingKind.UNSPECIFIED);
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<{ findings: Finding[]; next: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const token = tokens[tokens.length - 1] ?? "";
  useEffect(() => setTokens([""]), [workspace, kind]);
  useEffect(() => {
    setError(null);
    admin
      .listFindings({
        workspace,
        kinds: kind === FindingKind.UNSPECIFIED ? [] : [kind],
        pageSize: 50,
        pageToken: token,
      })
      .then(
        (r) => setPage({ findings: r.findings, next: r.nextPageToken }),
        (e) => {
          setPage(null);
          setError(problem(e));
        },
      );
  }, [admin, workspace, kind, token]);
  return (
    <section>
      <h1>Findings</h1>
      <p class="hint">
        Keys worth a look: unused keys and scopes, wildcards, missing or near expiries, retired keys
        still presented, bursts of denials.
      </p>
      <div class="filters">
        <label for="finding-kind">Kind</label>
        <select
          id="finding-kind"
          value={kind}
          onChange={(e) => setKind(Number(e.currentTarget.value) as FindingKind)}
        >
          <option value={FindingKind.UNSPECIFIED}>All</option>
          {KINDS.map(([v, label]) => (
            <option key={v} value={v}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <Note text={error} />
      <div class="table-wrap">
        <table aria-label="Findings">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Workspace</th>
              <th scope="col">Kind</th>
              <th scope="col">Detail</th>
              <th scope="col">Suggested scopes</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {(page?.findings ?? []).map((f, i) => (
              <tr key={`${f.keyId}-${f.kind}-${i}`}>
                <td>
                  <a href={keyHref(f.keyId)}>{f.keyName || f.keyId}</a>
                </td>
                <td>{f.workspace}</td>
                <td>{kindLabel(f.kind)}</td>
                <td>{f.detail}</td>
                <td>{f.suggestedScopes.join(", ") || "—"}</td>
                <td>{when(f.since)}</td>
              </tr>
            ))}
            {page?.findings.length === 0 && (
              <tr>
                <td colSpan={6}>Nothing to look at.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager tokens={tokens} setTokens={setTokens} next={page?.next} />
    </section>
  );
}
